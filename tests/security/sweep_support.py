"""What the access sweep needs to know about the URL map, generated from the code.

Every URL pattern comes from the resolver and every API operation from drf-spectacular's schema,
so an endpoint added anywhere is swept without editing the tests. The one thing that cannot be
guessed is which model a URL's keyword argument names: ``URL_OBJECTS`` maps the route in front of
the argument to a model. A route it cannot fill makes the sweep fail, naming the entry to add.
"""

from __future__ import annotations

import copy
import re
from collections import deque
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from coop.models import OrgUnit, User

# The route in front of a keyword argument (its end, longest match wins) -> model label.
# Route keys end where the argument starts; a key with "<name>" matches that argument's name only.
URL_OBJECTS: dict[str, str] = {
    "customers/": "customers.Customer",
    "segments/": "customers.Segment",
    "segments/plans/": "customers.ContactPlan",
    "grades/": "customers.GradeChange",
    "grade-changes/": "customers.GradeChange",
    "visits/": "customers.Visit",
    "service-interactions/": "customers.ServiceInteraction",
    "complaints/": "customers.Complaint",
    "products/": "loans.Product",
    "applications/": "loans.LoanApplication",
    "loan-applications/": "loans.LoanApplication",
    "loans/loan/": "loans.Loan",
    "api/v1/loans/": "loans.Loan",
    "overrides/": "loans.ClassificationOverride",
    "credit-lines/": "loans.CreditLine",
    "contracts/": "loans.Contract",
    "notices/": "loans.DisbursementNotice",
    "disbursement-notices/": "loans.DisbursementNotice",
    "cases/": "risk.ApprovalCase",
    "approval-cases/": "risk.ApprovalCase",
    "<application_pk>": "loans.LoanApplication",
    "<case_pk>": "risk.ApprovalCase",
    "risk/committee/": "risk.CommitteeMeeting",
    "committee-meetings/": "risk.CommitteeMeeting",
    "grid/": "grid.Grid",
    "grid/grids/": "grid.Grid",
    "grid/officers/": "grid.GridOfficer",
    "grid/villages/": "grid.Village",
    "grid/blacklist/": "grid.BlacklistEntry",
    "grid/households/": "grid.Household",
    "grid/members/": "grid.HouseholdMember",
    "grid/campaigns/": "grid.VillageCreditCampaign",
    "grid/plan-days/": "grid.CampaignDayPlan",
    "grid/entries/": "grid.CampaignHousehold",
    "grid/campaign-households/": "grid.CampaignHousehold",
    "contacts/due/": "customers.DueContact",
    "inspections/": "risk.Inspection",
    "<attachment_pk>": "risk.InspectionAttachment",
    "early-warnings/": "risk.EarlyWarning",
    "risk/warnings/": "risk.EarlyWarning",
    "grid/follow-ups/": "grid.HouseholdFollowUp",
    "surveys/invitations/": "surveys.Invitation",
    "surveys/feedback/": "surveys.ProcessFeedback",
    "surveys/frameworks/": "surveys.Framework",
    "surveys/campaigns/": "surveys.Campaign",
    "surveys/improvements/": "surveys.ImprovementItem",
}

# Arguments that name no object: a value that the view accepts (route part + "<name>", or
# "<name>" alone), or "label.field" to take the field of the object the route's first argument
# names ("surveys/r/<token>" is an invitation's token).
URL_VALUES: dict[str, str] = {
    "<action>": "close",
    "risk/warnings/<action>": "acknowledge",
    "<fmt>": "csv",
    "dashboard/list/<kind>": "customers",
    "dashboard/export/<section>": "loans",
    "<table>": "loan_classes",
    "ops/tasks/<name>": "customers.segments_recompute_all",
    "surveys/r/<token>": "surveys.Invitation.token",
}

# Open to anybody (no sign-in): the sign-in flow, health, language switch, the schema and docs.
PUBLIC_URL_NAMES = frozenset(
    {
        "login",
        "logout",
        "healthz",
        "set_language",
        "javascript-catalog",
        "api-token",
        "schema",
        "swagger-ui",
        # A customer's personal survey link: the unguessable token is the credential.
        "surveys:public",
    }
)
# Signed-in pages every member of staff may open, whatever their roles.
# (The schedule preview is a calculator: it reads no data.)
EVERY_STAFF_URL_NAMES = frozenset(
    {"workbench", "password_change", "password_change_done", "api-root", "api-schedule-preview"}
)

BRANCHES = ("B01", "B02")
MARKER_FIELDS = ("name", "number", "head_name", "title")

_CONVERTER = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    route: str  # as written in the URLconf, without the leading slash
    name: str  # namespaced URL name
    module: str  # the view's module, for messages
    kwargs: tuple[str, ...]
    methods: tuple[str, ...] = field(default=())  # API: the schema's methods; pages: empty

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def app_label(self) -> str:
        return self.module.split(".")[0]

    def value_for(self, kwarg: str) -> str | None:
        head = self._head(kwarg)
        keys = [k for k in URL_VALUES if k.endswith(f"<{kwarg}>")]
        best = max(
            (k for k in keys if head.endswith(k[: -len(f"<{kwarg}>")])), key=len, default=None
        )
        return URL_VALUES[best] if best else None

    def _head(self, kwarg: str) -> str:
        found = re.search(rf"<(?:[^>:]+:)?{re.escape(kwarg)}>", self.route)
        return self.route[: found.start()] if found else ""

    def model_for(self, kwarg: str) -> str | None:
        value = self.value_for(kwarg)
        if value is not None:
            return value.rsplit(".", 1)[0] if value.count(".") == 2 else None
        if f"<{kwarg}>" in URL_OBJECTS:
            return URL_OBJECTS[f"<{kwarg}>"]
        head = self._head(kwarg)
        best = max((k for k in URL_OBJECTS if head.endswith(k)), key=len, default=None)
        return URL_OBJECTS[best] if best else None

    def path(self, values: dict[str, int]) -> str:
        return "/" + _CONVERTER.sub(lambda m: str(values[m.group("name")]), self.route)

    def __str__(self) -> str:
        return f"/{self.route} ({self.name})"


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or ""
            yield prefix + str(entry.pattern), name, entry.callback


def api_operations() -> dict[str, tuple[str, ...]]:
    """OpenAPI path ("/api/v1/customers/{id}/") -> its methods, from drf-spectacular."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    verbs = {"get", "post", "put", "patch", "delete"}
    return {
        path: tuple(sorted(m.upper() for m in ops if m in verbs))
        for path, ops in schema["paths"].items()
    }


def _schema_path(route: str) -> str:
    return "/" + _CONVERTER.sub("{}", route)


def routes() -> list[Route]:
    operations = {re.sub(r"\{[^}]+\}", "{}", p): m for p, m in api_operations().items()}
    found = []
    for route, name, callback in _walk(get_resolver()):
        if route.startswith("admin/") or route.startswith(settings.STATIC_URL.lstrip("/")):
            continue  # Django's admin has its own staff-only gate (checked on its index)
        kwargs = tuple(m.group("name") for m in _CONVERTER.finditer(route))
        if "(?P<" in route:
            kwargs = kwargs + tuple(re.findall(r"\(\?P<([^>]+)>", route))
        methods = operations.get(_schema_path(route), ()) if route.startswith("api/") else ()
        found.append(Route(route, name, callback.__module__, kwargs, methods))
    return found


def admin_index() -> Route:
    return Route("admin/", "admin:index", "django.contrib.admin", ())


# --- objects: which branch an object belongs to ------------------------------------------------


def branch_lookup(model: type[models.Model]) -> str | None:
    """The ORM path from ``model`` to the branch it belongs to, or None for bank-wide data.

    Breadth-first over foreign keys, never through a member of staff (a user's unit is not the
    object's branch); a path of required keys wins over one through an optional key (a signed
    entry's credit line), which would leave out the objects without it."""
    return _branch_path(model, required_only=True) or _branch_path(model, required_only=False)


def _branch_path(model: type[models.Model], *, required_only: bool) -> str | None:
    queue = deque([(model, "")])
    seen = {model}
    while queue:
        current, path = queue.popleft()
        fks = [
            f
            for f in current._meta.fields
            if isinstance(f, models.ForeignKey) and not (required_only and f.null)
        ]
        # The object's own branch first ("branch", "org_unit"), then its parents.
        fks.sort(key=lambda f: (f.related_model is not OrgUnit, f.name != "branch"))
        for fk in fks:
            target = fk.related_model
            lookup = f"{path}{fk.name}"
            if target is OrgUnit:
                return lookup
            if target is User or target in seen or path.count("__") >= 3:
                continue
            seen.add(target)
            queue.append((target, f"{lookup}__"))
    return None


def model(label: str) -> type[models.Model]:
    return apps.get_model(label)


def markers_by_branch(units: dict) -> dict[str, set[str]]:
    """Names and numbers that belong to one branch only (never to another, nor to staff, units
    or products, which every branch may see)."""
    found: dict[str, set[str]] = {b: set() for b in (*BRANCHES, "elsewhere")}
    for m in apps.get_models():
        if m._meta.app_label not in {"customers", "loans", "grid", "risk", "surveys"}:
            continue
        names = [f.name for f in m._meta.fields if f.name in MARKER_FIELDS]
        lookup = branch_lookup(m)
        if not names or not lookup:
            continue
        for row in m.objects.values(*names, f"{lookup}__path"):
            path = row.pop(f"{lookup}__path") or ""
            branch = next((b for b in BRANCHES if path.startswith(units[b].path)), "elsewhere")
            found[branch].update(str(v) for v in row.values() if v and len(str(v)) >= 3)
    shared = {u.name for u in User.objects.all()} | {u.name for u in OrgUnit.objects.all()}
    shared |= set(model("loans.Product").objects.values_list("name", flat=True))
    b01, b02 = found["B01"], found["B02"]
    return {
        "B01": b01 - b02 - found["elsewhere"] - shared,
        "B02": b02 - b01 - found["elsewhere"] - shared,
    }


# --- the dataset ------------------------------------------------------------------------------


@dataclass
class Sweep:
    units: dict[str, OrgUnit]
    clients: dict[tuple[str, str], Client]  # (role, unit code) -> signed-in client
    users: dict[tuple[str, str], User]
    no_role: Client
    no_role_user: User
    objects: dict[str, dict[str, object]] = field(default_factory=dict)  # label -> branch -> obj
    markers: dict[str, set[str]] = field(default_factory=dict)  # branch -> names/numbers
    cookies: dict = field(default_factory=dict)

    def reset_clients(self) -> None:
        """Every test starts with the sessions signed in once for the module."""
        for key, client in [*self.clients.items(), ("no_role", self.no_role)]:
            if key not in self.cookies:
                self.cookies[key] = copy.deepcopy(client.cookies)
            client.cookies = copy.deepcopy(self.cookies[key])

    def object_for(self, label: str, branch: str):
        """An object of ``label`` in ``branch`` (None: bank-wide data, any object will do)."""
        per_branch = self.objects.setdefault(label, {})
        if branch not in per_branch:
            m = model(label)
            lookup = branch_lookup(m)
            qs = m.objects.order_by("pk")
            if lookup:
                qs = qs.filter(**{f"{lookup}__path__startswith": self.units[branch].path})
            per_branch[branch] = qs.first()
        return per_branch[branch]


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client
