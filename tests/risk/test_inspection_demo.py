"""The inspection demo: on the demo loans, visits on time and late, inspections overdue at each
escalation level, a risk conclusion with its early warning and the visit record attached in each of
the first two branches; a second run adds nothing."""

from __future__ import annotations

from collections import Counter

from coop.demo import seed_all
from coop.models import AuditEvent, User
from customers.models import Customer
from loans.demo_lifecycle import seed as seed_loans
from risk import demo_inspections
from risk.models import EarlyWarning, Inspection, InspectionAttachment, InspectionNotice
from tests.risk.test_inspection_factories import staff_fixture  # noqa: F401 — roles synced


def _customers(branch: str, owner: str, count: int) -> None:
    from coop.models import OrgUnit

    unit = OrgUnit.objects.get(code=branch)
    manager = User.objects.get(username=owner)
    for n in range(count):
        Customer.objects.create(
            kind="individual",
            name=f"{branch}检查演示{n}",
            branch=unit,
            owner=manager,
            credit_rating=["general", "good", "excellent"][n % 3],
        )


def test_demo_covers_every_case_and_runs_twice(staff):
    seed_all()
    _customers("B01", "b1_am1", 10)
    _customers("B02", "b2_am1", 4)
    seed_loans()

    summary = demo_inspections.seed()
    snapshot = (
        Inspection.objects.count(),
        InspectionNotice.objects.count(),
        EarlyWarning.objects.count(),
        InspectionAttachment.objects.count(),
        AuditEvent.objects.count(),
    )
    second = demo_inspections.seed()

    completed = Counter(
        Inspection.objects.filter(status="completed").values_list("on_time", flat=True)
    )
    assert completed[True] >= 2 and completed[False] >= 2, summary
    levels = set(
        Inspection.objects.filter(status="overdue").values_list("escalation_level", flat=True)
    )
    assert {1, 2, 3} <= levels, summary
    warnings = {
        w.branch.code: (w.status, w.inspection.conclusion)
        for w in EarlyWarning.objects.select_related("branch", "inspection")
    }
    assert warnings == {"B01": ("open", "risk"), "B02": ("open", "risk")}, summary
    attachments = InspectionAttachment.objects.select_related("inspection__branch")
    assert sorted(a.inspection.branch.code for a in attachments) == ["B01", "B02"]
    for attachment in attachments:
        assert attachment.inspection.conclusion == "risk"
        assert attachment.original_name.endswith(".pdf")
        with attachment.file.open("rb") as stored:
            assert stored.read().startswith(b"%PDF-")
    assert second.startswith("0 inspections planned, 0 completed (none); 0 overdue")
    assert (
        Inspection.objects.count(),
        InspectionNotice.objects.count(),
        EarlyWarning.objects.count(),
        InspectionAttachment.objects.count(),
        AuditEvent.objects.count(),
    ) == snapshot
