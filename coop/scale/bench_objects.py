"""What ``scripts/bench_county.py`` measures: its users, the endpoints with an object of each
user's own scope, and the nightly sweeps. Endpoints whose URL name does not exist (an app not
installed yet) are left out of the run, not failed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.db import connection
from django.utils.module_loading import import_string

from coop.models import User

# (group, label, URL name, object kind or None). The group selects the target: dashboard
# p95 ≤ 300 ms; pages and API p95 ≤ 100 ms.
ENDPOINTS: tuple[tuple[str, str, str, str | None], ...] = (
    ("dashboard", "dashboard", "dashboard:index", None),
    ("dashboard", "dashboard: branch view", "dashboard:branch", None),
    ("dashboard", "dashboard API", "api-dashboard", None),
    ("dashboard", "dashboard API: summary", "api-dashboard-summary", None),
    ("page", "customers: list", "customers:list", None),
    ("page", "customers: detail", "customers:detail", "customer"),
    ("page", "loans: list", "loans:loans", None),
    ("page", "loans: detail", "loans:loan_detail", "loan"),
    ("page", "loan applications: list", "loans:applications", None),
    ("page", "credit lines: list", "loans:credit_lines", None),
    ("page", "approval cases: queue", "risk:queue", None),
    ("page", "approval cases: detail", "risk:case", "case"),
    ("page", "inspections: list", "risk:inspections", None),
    ("page", "inspections: detail", "risk:inspection", "inspection"),
    ("page", "complaints: list", "customers:complaints", None),
    ("page", "grid: coverage", "grid:coverage", None),
    ("api", "API customers", "api-customers", None),
    ("api", "API customer detail", "api-customer-detail", "customer"),
    ("api", "API loans", "api-loans", None),
    ("api", "API loan detail", "api-loan-detail", "loan"),
    ("api", "API loan schedule", "api-loan-schedule", "loan"),
    ("api", "API loan applications", "api-loan-applications", None),
    ("api", "API credit lines", "api-credit-lines", None),
    ("api", "API approval cases", "api-approval-cases", None),
    ("api", "API approval case detail", "api-approval-case", "case"),
    ("api", "API inspections", "api-inspections", None),
    ("api", "API service interactions", "api-service-interactions", None),
    ("api", "API complaints", "api-complaints", None),
    ("api", "API grid households", "api-grid-households", None),
)

USERNAMES = {
    "head_office": "k_director",
    "branch_manager": "k01_manager",
    "account_manager": "k01_am1",
}


def users() -> dict[str, User]:
    found = {u.username: u for u in User.objects.filter(username__in=USERNAMES.values())}
    return {key: found[name] for key, name in USERNAMES.items()}


def sample(user: User) -> dict[str, int | None]:
    """One object of each kind inside ``user``'s scope (their own, for an account manager): an
    overdue loan and a case still in a stage, the richest pages."""
    from customers.selectors import customers_visible
    from loans.models import Loan
    from risk.models import ApprovalCase

    customers = customers_visible(user)
    found: dict[str, int | None] = {
        "customer": customers.filter(kind="individual")
        .order_by("id")
        .values_list("pk", flat=True)
        .first(),
    }
    loans = Loan.objects.filter(customer__in=customers.values("pk"), state="overdue")
    found["loan"] = loans.order_by("id").values_list("pk", flat=True).first()
    cases = ApprovalCase.objects.filter(customer__in=customers.values("pk"), closed_at__isnull=True)
    found["case"] = cases.order_by("id").values_list("pk", flat=True).first()
    found["inspection"] = None
    if apps.is_installed("risk"):
        try:
            inspection = apps.get_model("risk", "Inspection")
        except LookupError:
            inspection = None
        if inspection is not None:
            found["inspection"] = (
                inspection.objects.filter(loan__customer__in=customers.values("pk"))
                .order_by("id")
                .values_list("pk", flat=True)
                .first()
            )
    return found


def _count(sql: str, params: list | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def sweeps(today: date) -> Iterator[tuple[str, Callable[[], tuple[int, str]]]]:
    """(name, run) for every nightly sweep in this tree; ``run`` returns (rows, note)."""
    from customers.services.relationship import segments_recompute_all
    from loans.services.classification import loans_classify_all

    def classify() -> tuple[int, str]:
        rows = _count("SELECT count(*) FROM loans_loan WHERE state IN ('active', 'overdue')")
        result = loans_classify_all(today=today)
        return rows, f"live loans scanned; changed: {result}"

    yield "loans_classify_all (DPD + 5 categories)", classify

    def classify_next_day() -> tuple[int, str]:
        # The real nightly work: one day later every overdue loan's days past due move on and
        # some cross a class threshold. The next step puts the dataset back on its own day.
        rows = _count("SELECT count(*) FROM loans_loan WHERE state IN ('active', 'overdue')")
        result = loans_classify_all(today=today + timedelta(days=1))
        return rows, f"live loans scanned; changed: {result}"

    yield "loans_classify_all, one day later", classify_next_day

    def classify_restore() -> tuple[int, str]:
        rows = _count("SELECT count(*) FROM loans_loan WHERE state IN ('active', 'overdue')")
        result = loans_classify_all(today=today)
        return rows, f"back to the dataset's day; changed: {result}"

    yield "loans_classify_all, back to the day", classify_restore

    def segments() -> tuple[int, str]:
        customers = _count("SELECT count(*) FROM customers_customer")
        result = segments_recompute_all()
        return customers * len(result), (
            f"customers x {len(result)} segments; {sum(result.values()):,} memberships"
        )

    yield "segments_recompute_all", segments

    def escalations() -> tuple[int, str]:
        from risk.services import escalations_sweep

        rows = _count("SELECT count(*) FROM risk_approvalcase WHERE closed_at IS NULL")
        created = escalations_sweep(now=datetime.combine(today, time(8)).astimezone())
        return rows, f"open cases scanned; {created} escalations recorded"

    yield "risk escalations_sweep", escalations

    def followups() -> tuple[int, str]:
        from grid.services.followups import followups_plan

        rows = _count("SELECT count(*) FROM grid_campaignhousehold")
        result = followups_plan(on=today)
        return rows, f"campaign households scanned; {result}"

    yield "grid followups_plan", followups

    for name, path, kwargs in LATER_SWEEPS:
        try:
            func = import_string(path)
        except ImportError:
            continue

        def run(func=func, kwargs=kwargs, name=name) -> tuple[int, str]:
            rows = _count("SELECT count(*) FROM loans_loan WHERE state IN ('active', 'overdue')")
            result = func(**{k: (today if v == "today" else v) for k, v in kwargs.items()})
            return rows, f"live loans scanned; result: {result}"

        yield name, run


# Sweeps of apps that arrive later, found by their service names when present.
LATER_SWEEPS: tuple[tuple[str, str, dict], ...] = (
    ("risk inspections_plan", "risk.inspections.inspections_plan", {"today": "today"}),
    ("risk inspections_sweep", "risk.inspections.inspections_sweep", {"today": "today"}),
)
