"""The demo seeds a few shared macros, once."""

import pytest
from django.core.management import call_command

from tickets.models import Macro
from tickets.workspace.macros import placeholder_errors

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_shared_macros_once_and_they_are_valid():
    call_command("seed_demo")
    call_command("seed_demo")

    macros = list(Macro.objects.all())
    assert len(macros) == 3
    assert all(macro.is_shared for macro in macros)
    assert all(placeholder_errors(macro.body) == [] for macro in macros)
