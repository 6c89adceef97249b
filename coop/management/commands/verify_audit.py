"""Recompute the hash chains of the transition log and the approval log (coop/audit_chain.py)."""

from django.core.management.base import BaseCommand, CommandError

from coop.audit_chain import verify_all


class Command(BaseCommand):
    help = (
        "Verify the hash chains of the audit logs: prints OK with the row count of each log, or "
        "the first broken row, and exits non-zero."
    )

    def handle(self, *args, **options):
        broken = []
        for report in verify_all():
            if report.ok:
                self.stdout.write(f"{report.table}: OK ({report.rows} rows)")
            else:
                broken.append(report)
                self.stdout.write(
                    f"{report.table}: BROKEN at id {report.broken_id} "
                    f"(chain position {report.broken_seq} of {report.rows} rows): {report.reason}"
                )
        if broken:
            first = broken[0]
            raise CommandError(
                f"audit chain broken: {first.table} id {first.broken_id}", returncode=1
            )
