"""factory-boy factories for the domain; build realistic objects with one call."""

import importlib
from datetime import UTC
from typing import Any

import factory
from django.apps import apps as django_apps
from django.db import transaction

from scalr_support.accounts.models import User
from tickets.choices import Category, Deployment, Priority, Status
from tickets.markdown import render_markdown
from tickets.models import Comment, Contact, Organization, SupportTier, Ticket
from tickets.numbering import ticket_number_next

PASSWORD = "correct-horse-battery-staple"


def reseed_policy_data() -> None:
    """Re-run the data migrations that seed tiers and targets.

    Transactional tests (live server, browser) truncate every table when they end.
    """
    for module in (
        "tickets.migrations.0002_seed_tiers",
        "sla.migrations.0002_seed_targets",
        "sla.migrations.0004_seed_default_calendar",
        "maintenance.migrations.0002_seed_schedule",
        "tickets.migrations.0007_customer_experience",
    ):
        importlib.import_module(module).seed(django_apps, None)


def tier(slug: str) -> SupportTier:
    """A tier seeded by migration (re-seeded if a transactional test removed it)."""
    found = SupportTier.objects.filter(slug=slug).first()
    if found is None:
        reseed_policy_data()
        found = SupportTier.objects.get(slug=slug)
    return found


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@customer{n}.example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save_password(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.save(update_fields=["password"])


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"engineer{n}@support.example.com")
    is_staff = True


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Customer {n} Inc")
    tier = factory.LazyFunction(lambda: tier("business"))
    deployment = Deployment.SAAS
    scalr_version = "9.5.0"
    timezone = "UTC"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    is_technical_contact = True
    training_completed = True


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    organization = factory.SubFactory(OrganizationFactory)
    requester = factory.LazyAttribute(
        lambda o: ContactFactory(organization=o.organization).user
    )
    subject = factory.Sequence(lambda n: f"Runs fail in workspace {n}")
    description = "Runs fail with *exit code 1* since this morning."
    description_html = factory.LazyAttribute(lambda o: render_markdown(o.description))
    priority = Priority.MAJOR
    status = Status.NEW
    category = Category.BUG
    deployment = Deployment.SAAS
    version_reported = "9.5.0"
    last_activity_at = factory.Faker("date_time_this_year", tzinfo=UTC)

    @classmethod
    def _create(cls, model_class: type[Ticket], *args: Any, **kwargs: Any) -> Ticket:
        with transaction.atomic():
            kwargs.setdefault("number", ticket_number_next())
            return super()._create(model_class, *args, **kwargs)


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    ticket = factory.SubFactory(TicketFactory)
    author = factory.LazyAttribute(lambda o: o.ticket.requester)
    body = factory.Sequence(lambda n: f"Update number {n}: still failing.")
    body_html = factory.LazyAttribute(lambda o: render_markdown(o.body))
    is_public = True
    source = "portal"
