"""The requester rates each solve once, from the email (signed link) or the page."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from notifications import services as notification_services
from tests.conftest import signed_in
from tests.factories import StaffFactory, TicketFactory
from tickets import satisfaction, services
from tickets.choices import Status
from tickets.customer_models import SatisfactionRating

pytestmark = pytest.mark.django_db


@pytest.fixture
def solved(alice, engineer):
    ticket = TicketFactory(
        organization=alice.organization, requester=alice.user, status=Status.OPEN
    )
    return services.ticket_status_change(
        ticket=ticket, actor=engineer, status=Status.SOLVED
    )


def rating_link(django_capture_on_commit_callbacks, alice, engineer) -> str:
    ticket = TicketFactory(
        organization=alice.organization, requester=alice.user, status=Status.OPEN
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_status_change(
            ticket=ticket, actor=engineer, status=Status.SOLVED
        )
    for delivery_id in notification_services.deliveries_sweep():
        notification_services.delivery_send(delivery_id=delivery_id)
    (message,) = mail.outbox
    assert "replying reopens it" in message.body
    good = re.search(r"Good: (\S+)", message.body)[1]
    return "/" + good.split("://", 1)[1].split("/", 1)[1]


def test_emailed_link_shows_a_confirm_page_and_only_the_post_rates(
    alice, engineer, django_capture_on_commit_callbacks
):
    path = rating_link(django_capture_on_commit_callbacks, alice, engineer)
    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get(path)  # what a mail scanner does
    assert page.status_code == 200
    assert not SatisfactionRating.objects.exists()
    html = page.content.decode()
    assert re.search(r'value="good"\s+checked', html)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    done = visitor.post(
        path,
        {"rating": "good", "comment": "Quick and clear.", "csrfmiddlewaretoken": token},
    )
    assert done.status_code == 200
    rating = SatisfactionRating.objects.get()
    assert (rating.rating, rating.comment, rating.rated_by) == (
        "good",
        "Quick and clear.",
        alice.user,
    )
    again = visitor.post(path, {"rating": "bad", "csrfmiddlewaretoken": token})
    assert again.status_code == 400
    assert "already rated" in again.content.decode()
    assert SatisfactionRating.objects.get().rating == "good"


def test_a_forged_or_tampered_link_rates_nothing(solved, alice):
    token = satisfaction.rating_token(solved, alice.user)
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    response = Client().post(f"/tickets/rate/{forged}/", {"rating": "bad"})
    assert response.status_code == 404
    assert not SatisfactionRating.objects.exists()


def test_a_reopened_ticket_is_rated_when_solved_again(solved, alice, engineer):
    token = satisfaction.rating_token(solved, alice.user)
    services.ticket_status_change(ticket=solved, actor=alice.user, status=Status.OPEN)
    response = Client().post(f"/tickets/rate/{token}/", {"rating": "bad"})
    assert response.status_code == 400
    assert "reopened" in response.content.decode()
    solved_again = services.ticket_status_change(
        ticket=solved, actor=engineer, status=Status.SOLVED
    )
    fresh = satisfaction.rating_token(solved_again, alice.user)
    assert (
        Client().post(f"/tickets/rate/{fresh}/", {"rating": "bad"}).status_code == 200
    )
    assert SatisfactionRating.objects.get().rating == "bad"


def test_requester_rates_from_the_ticket_page_once(solved, alice_client):
    page = alice_client.get(f"/tickets/{solved.number}/").content.decode()
    assert "How did we do?" in page
    alice_client.post(f"/tickets/{solved.number}/rate/", {"rating": "bad"})
    alice_client.post(f"/tickets/{solved.number}/rate/", {"rating": "good"})
    assert list(SatisfactionRating.objects.values_list("rating", flat=True)) == ["bad"]
    page = alice_client.get(f"/tickets/{solved.number}/").content.decode()
    assert "Rated: Bad" in page


def test_a_colleague_cannot_rate_the_requesters_ticket(solved, bob_client):
    page = bob_client.get(f"/tickets/{solved.number}/").content.decode()
    assert 'name="rating"' not in page
    bob_client.post(f"/tickets/{solved.number}/rate/", {"rating": "bad"})
    assert not SatisfactionRating.objects.exists()


def test_a_solved_ticket_says_when_and_that_replying_reopens_it(solved, alice_client):
    page = alice_client.get(f"/tickets/{solved.number}/").content.decode()
    assert "First response due by" not in page
    assert "Solved on" in page
    assert "replying reopens it" in page


def test_staff_see_ratings_in_the_admin(solved, alice):
    satisfaction.satisfaction_record(
        ticket=solved,
        solved_at=solved.solved_at,
        user=alice.user,
        rating="good",
        comment="Great help",
    )
    staff = StaffFactory(is_superuser=True)
    page = signed_in(staff).get("/admin/tickets/satisfactionrating/")
    assert "Great help" in page.content.decode()


def test_satisfaction_by_tier_and_priority_counts_each_rating(solved, alice):
    satisfaction.satisfaction_record(
        ticket=solved, solved_at=solved.solved_at, user=alice.user, rating="good"
    )
    now = timezone.now()
    summary = satisfaction.satisfaction_by_tier_priority(
        start=now - timezone.timedelta(days=1), end=now + timezone.timedelta(days=1)
    )
    assert summary == {
        ("Business", solved.priority): satisfaction.SatisfactionSummary(good=1, bad=0)
    }


def test_a_comment_over_the_limit_is_refused_and_kept_never_cut(solved, alice):
    link = "/tickets/rate/" + satisfaction.rating_token(solved, alice.user) + "/"
    too_long = "x" * (satisfaction.COMMENT_MAX_LENGTH + 1)
    response = Client().post(link, {"rating": "good", "comment": too_long})
    assert response.status_code == 400
    assert "the limit is 2000" in response.content.decode()
    assert too_long in response.content.decode()  # the form keeps it
    assert not SatisfactionRating.objects.exists()


def test_line_breaks_sent_as_crlf_count_once_as_the_textarea_counts_them(
    solved, alice_client
):
    # 1,000 lines: 1,999 characters in the browser's count, 2,998 as sent.
    comment = "\r\n".join(["y"] * 1000)
    alice_client.post(
        f"/tickets/{solved.number}/rate/", {"rating": "good", "comment": comment}
    )
    (rating,) = SatisfactionRating.objects.all()
    assert rating.comment == comment.replace("\r\n", "\n")
