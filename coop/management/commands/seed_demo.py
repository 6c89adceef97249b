from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

# Each step seeds one app's part of the demo; later apps append theirs. Every step is idempotent.
STEPS = [
    "coop.demo.seed_all",
    "customers.demo.seed_all",
    "loans.demo_origination.seed",
    "loans.demo_lifecycle.seed",
    "grid.demo.seed",
    "risk.demo.seed",
    "risk.demo_inspections.seed",
    "surveys.demo.seed",
    # Due work the nightly sweeps would create, so the demo workbench shows it at once.
    "grid.services.followups.followups_plan",
    "customers.services.due_contacts.contacts_plan",
    "coop.dashboard.rollups.seed",
]


class Command(BaseCommand):
    help = "Create (or complete) the demo cooperative. Safe to run again."

    def handle(self, *args, **options):
        for step in STEPS:
            summary = import_string(step)()
            self.stdout.write(f"{step}: {summary}")
        self.stdout.write(self.style.SUCCESS("demo data ready"))
