"""Properties of merging one action's notices: each person hears once per ticket,
and nothing that happened is left out of what they hear."""

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from notifications.services import Notice, merge_notices


@dataclass(frozen=True)
class Person:
    pk: int


@dataclass(frozen=True)
class FakeTicket:
    pk: int


EVENTS = ["support_replied", "priority_changed", "ticket_solved", "ticket_closed"]

notices = st.lists(
    st.tuples(
        st.sampled_from(EVENTS),
        st.integers(min_value=1, max_value=3),  # ticket
        st.sets(st.integers(min_value=1, max_value=6), max_size=6),  # recipients
    ),
    max_size=6,
)


def build(spec):
    return [
        Notice(
            event,
            f"{event}:{index}",
            [Person(pk) for pk in sorted(people)],
            ticket=FakeTicket(ticket),  # type: ignore[arg-type]
        )
        for index, (event, ticket, people) in enumerate(spec)
    ]


@given(notices)
def test_each_person_hears_once_per_ticket(spec):
    heard = [
        (notice.ticket.pk, person.pk)
        for notice in merge_notices(build(spec))
        for person in notice.recipients
    ]
    assert len(heard) == len(set(heard))
    assert set(heard) == {
        (ticket, pk) for _event, ticket, people in spec for pk in people
    }


@given(notices)
def test_every_event_a_person_had_is_in_their_one_email(spec):
    told: dict[tuple[int, int], list[str]] = {}
    for notice in merge_notices(build(spec)):
        also = (notice.context or {}).get("also", [])
        for person in notice.recipients:
            told[(notice.ticket.pk, person.pk)] = [notice.event, *also]
    for event, ticket, people in spec:
        for pk in people:
            assert event in told[(ticket, pk)]
