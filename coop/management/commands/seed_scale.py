from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from coop.scale.generate import AlreadySeeded, build


class Command(BaseCommand):
    help = (
        "Generate a county-scale bank (villages, households, customers, credit lines, loans with "
        "schedules and repayments, approval cases, service) with COPY. Refuses to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="the day the data is generated for (default: today in Asia/Shanghai)",
        )

    def handle(self, *args, households: int, seed: int, today: date | None, **options):
        if households < 10:
            raise CommandError("--households must be at least 10.")
        try:
            counts = build(
                households=households,
                seed=seed,
                today=today or timezone.localdate(),
                log=lambda line: self.stdout.write(f"  {line}"),
            )
        except AlreadySeeded as exc:
            info = exc.info
            raise CommandError(
                f"This database already holds a county dataset ({info.get('households')} "
                f"households, seed {info.get('seed')}, generated for {info.get('today')}); "
                "a second one would duplicate it. Use a fresh database."
            ) from None
        for name, value in counts.items():
            self.stdout.write(f"{name:>22}: {value:,}")
        self.stdout.write(self.style.SUCCESS("county dataset ready"))
