"""``manage.py create_api_token EMAIL``: print a new API token for that user."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scalr_support.accounts.models import User
from scalr_support.accounts.services import api_token_create
from scalr_support.common.errors import ServiceError


class Command(BaseCommand):
    help = (
        "Create a personal API token for the user with this email and print it. "
        "The key is shown only now; it is stored hashed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument(
            "--name", default="command line", help="A label to recognise the token."
        )

    def handle(self, *args: Any, email: str, name: str, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with the email {email!r}.")
        try:
            issued = api_token_create(user=user, name=name)
        except ServiceError as error:
            raise CommandError(error.message) from error
        # Only the key on stdout, so that scripts can capture it.
        self.stdout.write(issued.key)
