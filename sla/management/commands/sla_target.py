"""``manage.py sla_target TIER PRIORITY DURATION``: set one response target."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from sla import rules, services
from sla.models import Clock
from tickets.models import SupportTier


class Command(BaseCommand):
    help = (
        "Set a tier's response target for one priority, e.g. `sla_target business "
        "0 2h` or `sla_target business 3 1bd` (units m, h, bd). Running clocks of "
        "that tier and priority are recomputed from their start."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tier", help="tier slug or name, e.g. business")
        parser.add_argument("priority", type=int, help="0 (blocker) to 4 (trivial)")
        parser.add_argument("duration", help="e.g. 30m, 2h, 1bd (or eod)")
        parser.add_argument(
            "--clock",
            choices=Clock.values,
            help="24x7 or business (default: keep the current clock; bd is business)",
        )
        effort = parser.add_mutually_exclusive_group()
        effort.add_argument(
            "--guaranteed", dest="guaranteed", action="store_true", default=None
        )
        effort.add_argument("--best-effort", dest="guaranteed", action="store_false")

    def handle(self, *args: Any, **options: Any) -> None:
        tier = SupportTier.objects.filter(
            Q(slug__iexact=options["tier"]) | Q(name__iexact=options["tier"])
        ).first()
        if tier is None:
            known = ", ".join(SupportTier.objects.values_list("slug", flat=True))
            raise CommandError(f"No tier {options['tier']!r}; known: {known}.")
        priority = options["priority"]
        if not 0 <= priority <= 4:
            raise CommandError("PRIORITY must be 0 to 4.")
        try:
            amount, unit = rules.parse_duration(options["duration"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        if options["clock"] == Clock.CONTINUOUS and unit in ("bd", "eod"):
            raise CommandError("Business days always run on the business calendar.")
        change = services.response_target_set(
            tier=tier,
            priority=priority,
            amount=amount,
            unit=unit,
            clock=options["clock"],
            guaranteed=options["guaranteed"],
        )
        target = change.target
        self.stdout.write(
            self.style.SUCCESS(
                f"{tier.name} P{priority}: {target.label} "
                f"({target.get_clock_display()})"
                + (f", was {change.previous}" if change.previous else "")
                + f"; {change.recomputed} running clock(s) recomputed."
            )
        )
