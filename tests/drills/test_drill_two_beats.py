"""Drill: two ``celery beat`` processes run by mistake, each firing every sweep each second, with
two workers taking the messages. However often the sweeps run, and however they overlap, every
escalation, notice, classification and inspection exists once."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest
from django.conf import settings
from django.db.models import Count

from coop.audit_chain import AUDIT_EVENT, verify_chain
from coop.models import AuditEvent
from customers.models import Complaint, CustomerClass, DueContact
from customers.services.due_contacts import contacts_plan
from customers.services.relationship import contact_plan_create
from customers.services.service import complaints_escalate_overdue
from grid.models import HouseholdFollowUp
from grid.services.followups import followups_plan
from loans.models import Loan
from loans.services.classification import loans_classify_all
from risk.inspections import inspections_plan, inspections_sweep
from risk.models import Inspection, InspectionNotice
from tests.drills import drill_data
from tests.drills.conftest import celery, process_env
from tests.grid.test_followup_sweep import credit
from tests.loans import test_lifecycle_factories as factories

pytestmark = [pytest.mark.drill, pytest.mark.worker]

lifecycle_roles = factories.lifecycle_roles
staff = factories.staff

COMPLAINTS = 5
BEATING_SECONDS = 8
SWEEPS = [
    "customers.tasks_service.complaints_escalate_overdue",
    "loans.tasks.loans_classify_nightly",
    "risk.inspections_sweep",
    "risk.inspections_plan",
    "grid.followups_plan",
    "customers.contacts_plan",
]


def succeeded(workers) -> Counter:
    runs: Counter = Counter()
    for worker in workers:
        for line in worker.output().splitlines():
            if "] succeeded in" in line and "Task " in line:
                runs[line.split("Task ", 1)[1].split("[", 1)[0]] += 1
    return runs


def test_two_beats_create_nothing_twice(
    transactional_db,
    private_broker,
    drill_worker,
    processes,
    drill_log,
    tmp_path,
    org,
    staff,
    world,
):
    import redis

    log = drill_log
    complaints = drill_data.overdue_complaints(staff.teller, COMPLAINTS)
    # A loan disbursed long ago and never repaid: overdue, to be classified, its first inspection
    # long past due (escalating), and an ad-hoc inspection due for the overdue episode.
    line = factories.grant(
        staff.manager, factories.make_customer(org, staff.am), factories.make_product()
    )
    loan = factories.active_loan(staff, line, on=dt.date(2025, 1, 10))
    # A contact plan: every maintenance-class customer is to be contacted monthly.
    contact_plan_create(
        actor=staff.director,
        name="Drill monthly contact",
        interval_days=30,
        customer_class=CustomerClass.MAINTENANCE,
    )
    extra = [factories.make_customer(org, staff.am) for _ in range(3)]
    # Households pre-credited by a whole-village campaign, without a card: monthly follow-ups.
    households = list(credit(world, "甲户", "乙户", "丙户").values())
    log.say(
        f"prepared {COMPLAINTS} overdue complaints, loan {loan.number} disbursed 2025-01-10 and "
        f"never repaid ({Inspection.objects.filter(loan=loan).count()} inspection planned), a "
        f"monthly contact plan over {len(extra) + 1} customers, {len(households)} credited "
        "households without a card"
    )

    workers = [drill_worker("worker-a", wait=False), drill_worker("worker-b", wait=False)]
    beats = []
    for name in ("beat-a", "beat-b"):
        schedule = tmp_path / f"{name}-schedule"
        beats.append(
            processes(
                name,
                celery(
                    "beat",
                    "-l",
                    "info",
                    "-s",
                    str(schedule),
                    "--pidfile",
                    str(tmp_path / f"{name}.pid"),
                ),
                process_env(
                    REDIS_URL=private_broker.url,
                    COOP_DRILL_BEAT_TASKS=",".join(SWEEPS),
                    COOP_DRILL_BEAT_FILE=str(schedule),
                ),
            )
        )
    for process in [*workers, *beats]:
        process.wait_for("ready." if process in workers else "Sending due task")
    log.say(
        f"two beats (pids {beats[0].pid}, {beats[1].pid}) fire {len(SWEEPS)} sweeps each second"
    )
    time.sleep(BEATING_SECONDS)
    for beat in beats:
        beat.stop()
    sent = sum(beat.output().count("Sending due task") for beat in beats)
    log.say(f"beats stopped after {BEATING_SECONDS}s; they sent {sent} messages")

    queue = redis.Redis.from_url(private_broker.url)
    key = f"{settings.TEST_BROKER_PREFIX}celery"
    previous, stable_since = None, time.monotonic()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = sum(succeeded(workers).values())
        if runs != previous or queue.llen(key):
            previous, stable_since = runs, time.monotonic()
        elif time.monotonic() - stable_since > 2:
            break
        time.sleep(0.3)
    queue.close()
    runs = succeeded(workers)
    log.measure("sweep_runs_completed", dict(sorted(runs.items())))
    failures = [w.log.name for w in workers if "raised unexpected" in w.output()]
    assert failures == []
    for task in SWEEPS:
        assert runs[task] >= 2, f"{task} ran {runs[task]} times"

    # Each effect exists once, however many times the sweeps ran.
    levels = list(
        Complaint.objects.filter(pk__in=[c.pk for c in complaints]).values_list(
            "escalation_level", flat=True
        )
    )
    assert levels == [1] * COMPLAINTS
    assert AuditEvent.objects.filter(action="complaint.escalate").count() == COMPLAINTS
    stored = Loan.objects.get(pk=loan.pk)
    assert stored.state == Loan.State.OVERDUE
    loan_events = Counter(
        AuditEvent.objects.filter(object_type="loans.loan", object_id=str(loan.pk))
        .exclude(action__in=["loan.disburse", "loan.drawdown"])
        .values_list("action", flat=True)
    )
    log.measure("loan_audit_events", dict(loan_events))
    assert loan_events["loan.mark_overdue"] == 1
    assert loan_events["loan.classify"] == 1
    duplicates = (
        InspectionNotice.objects.values("inspection", "level")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    assert duplicates == 0
    notices = InspectionNotice.objects.filter(inspection__loan=loan).count()
    ad_hoc = Inspection.objects.filter(loan=loan, kind="ad_hoc").count()
    log.measure("inspection_notices", notices)
    log.measure("ad_hoc_inspections", ad_hoc)
    assert notices == 3  # account manager, branch manager, head office: once each
    assert ad_hoc == 1

    contacts = DueContact.objects.filter(customer__owner=staff.am)
    log.measure("due_contacts", contacts.count())
    assert contacts.count() == len(extra) + 1
    assert (
        contacts.values("customer", "reason", "due_on").annotate(n=Count("id")).filter(n__gt=1)
    ).count() == 0

    follow_ups = HouseholdFollowUp.objects.filter(household__in=households)
    log.measure("household_follow_ups", follow_ups.count())
    assert follow_ups.count() == len(households)
    assert (
        follow_ups.values("household", "kind", "period_start")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    ).count() == 0

    # And one more run of each sweep, now, finds nothing left to do.
    assert complaints_escalate_overdue() == 0
    assert loans_classify_all(today=drill_data.today())["reclassified"] == 0
    again = inspections_sweep()
    assert {k: v for k, v in again.items() if v} == {}
    assert inspections_plan() == {"first": 0, "routine": 0}
    assert contacts_plan()["created"] == 0
    assert followups_plan()["created"] == 0
    # Many overlapping sweeps wrote audit rows set-based: the transition log is one chain.
    chain = verify_chain(AUDIT_EVENT)
    log.measure("audit_chain", f"ok={chain.ok} rows={chain.rows}")
    assert chain.ok
