"""Every write of the surveys app. Each service is one transaction with its audit rows."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from coop.models import OrgUnit, User
from coop.roles import Role
from coop.scoping import can_see_unit, scope_root
from coop.services import ConflictError, DomainError, audit_record, audit_record_many
from customers.models import Customer
from surveys.defaults import FIXED_ASSET_PRODUCT_CODES
from surveys.models import (
    Answer,
    Campaign,
    CustomerType,
    Framework,
    ImprovementItem,
    Indicator,
    Invitation,
    LoanStage,
    ProcessFeedback,
    ProcessOwner,
    RespondentRole,
    Response,
)

CODE_RE = re.compile(r"^[A-Za-z0-9-]{1,20}$")
MAX_REMINDERS = 3


def _require(actor: User, perm: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(_("You may not do this."))


# --- frameworks ----------------------------------------------------------------------------------


@transaction.atomic
def framework_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    indicators: list[dict],
    name_en: str = "",
    description: str = "",
) -> Framework:
    """A new framework, or the next version of ``code``: campaigns keep the version they used.

    ``indicators`` lists ``{"code", "name", "name_en"?, "parent"}`` with ``parent`` the code of a
    first-level indicator (or empty for a first-level one). Every first-level indicator needs at
    least one second-level one, and only second-level indicators are asked.
    """
    if actor is not None:
        _require(actor, "surveys.add_framework")
    if not CODE_RE.match(code or ""):
        raise DomainError(_("Use letters, digits and hyphens for the code."), field="code")
    if not (name or "").strip():
        raise DomainError(_("Give the framework a name."), field="name")
    if len(name.strip()) > 100 or len((name_en or "").strip()) > 100:
        raise DomainError(_("A name has at most 100 characters."), field="name")
    firsts: dict[str, dict] = {}
    seconds: list[dict] = []
    seen: set[str] = set()
    for row in indicators:
        ind_code = str(row.get("code") or "")
        if not CODE_RE.match(ind_code):
            raise DomainError(
                _("Indicator code %(code)s: use letters, digits and hyphens.") % {"code": ind_code},
                field="indicators",
            )
        if ind_code in seen:
            raise DomainError(
                _("Indicator code %(code)s appears twice.") % {"code": ind_code},
                field="indicators",
            )
        seen.add(ind_code)
        if not str(row.get("name") or "").strip():
            raise DomainError(
                _("Indicator %(code)s has no name.") % {"code": ind_code}, field="indicators"
            )
        if (
            max(len(str(row.get("name") or "").strip()), len(str(row.get("name_en") or "").strip()))
            > 100
        ):
            raise DomainError(
                _("Indicator %(code)s: a name has at most 100 characters.") % {"code": ind_code},
                field="indicators",
            )
        if row.get("parent"):
            seconds.append(row)
        else:
            firsts[ind_code] = row
    for row in seconds:
        if row["parent"] not in firsts:
            raise DomainError(
                _("The parent %(parent)s of %(code)s is not a first-level indicator.")
                % {"parent": row["parent"], "code": row["code"]},
                field="indicators",
            )
    if not firsts or not seconds:
        raise DomainError(
            _("A framework needs first-level indicators with second-level ones under them."),
            field="indicators",
        )
    childless = sorted(set(firsts) - {row["parent"] for row in seconds})
    if childless:
        raise DomainError(
            _("First-level indicators without second-level ones: %(codes)s")
            % {"codes": ", ".join(childless)},
            field="indicators",
        )
    latest = (
        Framework.objects.select_for_update().filter(code=code).aggregate(v=Max("version"))["v"]
    )
    framework = Framework.objects.create(
        code=code,
        version=(latest or 0) + 1,
        name=name.strip(),
        name_en=name_en.strip(),
        description=description,
        created_by=actor,
    )
    parents = {}
    for position, row in enumerate(firsts.values()):
        parents[row["code"]] = Indicator.objects.create(
            framework=framework,
            code=row["code"],
            name=row["name"].strip(),
            name_en=str(row.get("name_en") or "").strip(),
            position=position,
        )
    Indicator.objects.bulk_create(
        Indicator(
            framework=framework,
            parent=parents[row["parent"]],
            code=row["code"],
            name=row["name"].strip(),
            name_en=str(row.get("name_en") or "").strip(),
            position=len(firsts) + position,
        )
        for position, row in enumerate(seconds)
    )
    audit_record(
        actor=actor,
        action="survey_framework.create",
        obj=framework,
        data={"code": code, "version": framework.version, "indicators": len(seconds)},
    )
    return framework


# --- campaigns ----------------------------------------------------------------------------------


@transaction.atomic
def campaign_create(
    *,
    actor: User,
    name: str,
    framework: Framework,
    period: str,
    starts_on: date,
    ends_on: date,
    org_unit: OrgUnit | None = None,
    target_branches: Iterable[OrgUnit] = (),
    target_grids: Iterable = (),
    loan_stages: Iterable[str] = (),
    customer_types: Iterable[str] = (),
    respondent_roles: Iterable[str] = (),
    exclude_straight_lining: bool = True,
    anonymity: str = "head_office",
    reminder_after_days: int = 7,
) -> Campaign:
    _require(actor, "surveys.manage_campaign")
    unit = org_unit or scope_root(actor)
    if unit is None or not can_see_unit(actor, unit):
        raise DomainError(_("You cannot run a campaign for this unit."), field="org_unit")
    if not (name or "").strip():
        raise DomainError(_("Give the campaign a name."), field="name")
    if ends_on < starts_on:
        raise DomainError(_("The campaign ends before it starts."), field="ends_on")
    if period not in Campaign.Period.values:
        raise DomainError(_("Unknown period."), field="period")
    if reminder_after_days < 1:
        raise DomainError(_("Remind after at least one day."), field="reminder_after_days")
    branches = list(target_branches)
    for branch in branches:
        if branch.kind != OrgUnit.Kind.BRANCH or not branch.path.startswith(unit.path):
            raise DomainError(
                _("%(unit)s is not a branch of this campaign's unit.") % {"unit": branch.name},
                field="target_branches",
            )
    grids = list(target_grids)
    for grid in grids:
        branch_ok = OrgUnit.objects.filter(pk=grid.branch_id, path__startswith=unit.path).exists()
        if not branch_ok:
            raise DomainError(
                _("The grid %(grid)s is outside this campaign's unit.") % {"grid": grid.name},
                field="target_grids",
            )
    for values, choices, field in (
        (loan_stages, LoanStage.values, "loan_stages"),
        (customer_types, CustomerType.values, "customer_types"),
        (respondent_roles, RespondentRole.values, "respondent_roles"),
    ):
        if set(values) - set(choices):
            raise DomainError(_("Unknown choice."), field=field)
    campaign = Campaign.objects.create(
        name=name.strip(),
        framework=framework,
        org_unit=unit,
        period=period,
        starts_on=starts_on,
        ends_on=ends_on,
        loan_stages=sorted(set(loan_stages)),
        customer_types=sorted(set(customer_types)),
        respondent_roles=sorted(set(respondent_roles)),
        exclude_straight_lining=exclude_straight_lining,
        anonymity=anonymity,
        reminder_after_days=reminder_after_days,
        created_by=actor,
    )
    campaign.target_branches.set(branches)
    campaign.target_grids.set(grids)
    audit_record(actor=actor, action="survey_campaign.create", obj=campaign, to_state="draft")
    return campaign


def _lock_campaign(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def _require_runner(actor: User, campaign: Campaign) -> None:
    # A bank-wide campaign is visible to branch staff, but only its own unit opens or closes it.
    if not can_see_unit(actor, campaign.org_unit):
        raise PermissionDenied(_("Only the unit that runs this campaign may do this."))


def _customer_profiles(customers) -> list[dict]:
    """Loan stage, customer type and grid of each customer, in one query."""
    from grid.models import Household, HouseholdMember
    from loans.models import Loan, LoanApplication

    live = [Loan.State.CONTRACTED, Loan.State.ACTIVE, Loan.State.OVERDUE]
    done = [Loan.State.SETTLED, Loan.State.WRITTEN_OFF]
    pending = [LoanApplication.State.SUBMITTED, LoanApplication.State.APPROVED]
    loans = Loan.objects.filter(customer=OuterRef("pk"))
    apps = LoanApplication.objects.filter(customer=OuterRef("pk"), state__in=pending)
    rows = customers.annotate(
        has_live=Exists(loans.filter(state__in=live)),
        has_done=Exists(loans.filter(state__in=done)),
        has_pending=Exists(apps),
        product_code=Coalesce(
            Subquery(loans.order_by("-id").values("product__code")[:1]),
            Subquery(apps.order_by("-id").values("product__code")[:1]),
        ),
        grid_id=Coalesce(
            Subquery(Household.objects.filter(head=OuterRef("pk")).values("village__grid_id")[:1]),
            Subquery(
                HouseholdMember.objects.filter(customer=OuterRef("pk")).values(
                    "household__village__grid_id"
                )[:1]
            ),
        ),
    ).values(
        "pk", "kind", "branch_id", "has_live", "has_done", "has_pending", "product_code", "grid_id"
    )
    profiles = []
    for row in rows:
        if row["has_live"]:
            stage = LoanStage.IN_LOAN
        elif row["has_pending"]:
            stage = LoanStage.PRE_LOAN
        elif row["has_done"]:
            stage = LoanStage.POST_LOAN
        else:
            stage = LoanStage.NONE
        if row["product_code"] is None:
            ctype = CustomerType.DEPOSITOR
        elif row["product_code"] in FIXED_ASSET_PRODUCT_CODES:
            ctype = CustomerType.FIXED_ASSET
        else:
            ctype = CustomerType.WORKING_CAPITAL
        profiles.append({**row, "loan_stage": stage, "customer_type": ctype})
    return profiles


def _new_invitation(campaign: Campaign, profile: dict, role: str, number: int, now) -> Invitation:
    return Invitation(
        campaign=campaign,
        customer_id=profile["pk"],
        respondent_role=role,
        reference=f"S{campaign.pk}-{number:05d}",
        token=secrets.token_urlsafe(32),
        branch_id=profile["branch_id"],
        grid_id=profile["grid_id"],
        loan_stage=profile["loan_stage"],
        customer_type=profile["customer_type"],
        sent_at=now,
    )


def _roles_for(campaign: Campaign, kind: str) -> list[str]:
    if kind == Customer.Kind.INDIVIDUAL:
        return [RespondentRole.INDIVIDUAL]
    return list(campaign.respondent_roles) or [RespondentRole.LEGAL_REPRESENTATIVE]


@transaction.atomic
def campaign_open(*, actor: User, campaign: Campaign) -> Campaign:
    """Draft → open: invite every targeted customer (one invitation, one personal link each)."""
    _require(actor, "surveys.manage_campaign")
    locked = _lock_campaign(campaign)
    _require_runner(actor, locked)
    if locked.state != Campaign.State.DRAFT:
        raise ConflictError(_("Only a draft campaign can be opened."))
    unit = locked.org_unit
    customers = Customer.objects.filter(branch__path__startswith=unit.path)
    branch_ids = list(locked.target_branches.values_list("pk", flat=True))
    if branch_ids:
        customers = customers.filter(branch_id__in=branch_ids)
    profiles = _customer_profiles(customers.order_by("branch_id", "pk"))
    grid_ids = set(locked.target_grids.values_list("pk", flat=True))
    now = timezone.now()
    invitations = []
    for profile in profiles:
        if grid_ids and profile["grid_id"] not in grid_ids:
            continue
        if locked.loan_stages and profile["loan_stage"] not in locked.loan_stages:
            continue
        if locked.customer_types and profile["customer_type"] not in locked.customer_types:
            continue
        for role in _roles_for(locked, profile["kind"]):
            invitations.append(_new_invitation(locked, profile, role, len(invitations) + 1, now))
    if not invitations:
        raise DomainError(_("No customer matches this campaign's targets."))
    Invitation.objects.bulk_create(invitations, batch_size=2000)
    locked.open()
    locked.opened_at = now
    locked.save(update_fields=["state", "opened_at"])
    audit_record(
        actor=actor,
        action="survey_campaign.open",
        obj=locked,
        from_state="draft",
        to_state="open",
        data={"invitations": len(invitations)},
    )
    return locked


@transaction.atomic
def campaign_close(*, actor: User, campaign: Campaign) -> Campaign:
    _require(actor, "surveys.manage_campaign")
    locked = _lock_campaign(campaign)
    _require_runner(actor, locked)
    if locked.state != Campaign.State.OPEN:
        raise ConflictError(_("Only an open campaign can be closed."))
    locked.close()
    locked.closed_at = timezone.now()
    locked.save(update_fields=["state", "closed_at"])
    audit_record(
        actor=actor,
        action="survey_campaign.close",
        obj=locked,
        from_state="open",
        to_state="closed",
    )
    return locked


@transaction.atomic
def invitation_add(
    *, actor: User, campaign: Campaign, customer: Customer, respondent_role: str = ""
) -> Invitation:
    """Invite one more customer to an open campaign, e.g. met on a visit."""
    _require(actor, "surveys.enter_response")
    locked = _lock_campaign(campaign)
    if locked.state != Campaign.State.OPEN:
        raise ConflictError(_("This survey is closed."))
    if not customer.branch.path.startswith(locked.org_unit.path):
        raise DomainError(_("The customer is outside this campaign's unit."), field="customer")
    role = respondent_role or _roles_for(locked, customer.kind)[0]
    if role not in _roles_for(locked, customer.kind) and role not in RespondentRole.values:
        raise DomainError(_("Unknown choice."), field="respondent_role")
    existing = Invitation.objects.filter(
        campaign=locked, customer=customer, respondent_role=role
    ).first()
    if existing:
        return existing
    profile = _customer_profiles(Customer.objects.filter(pk=customer.pk))[0]
    number = locked.invitations.count() + 1
    invitation = _new_invitation(locked, profile, role, number, timezone.now())
    invitation.save()
    audit_record(actor=actor, action="survey_invitation.create", obj=invitation)
    return invitation


# --- responses ----------------------------------------------------------------------------------


def _second_level(framework_id: int) -> dict[str, Indicator]:
    return {
        ind.code: ind
        for ind in Indicator.objects.filter(framework_id=framework_id, parent__isnull=False)
    }


def _scale_value(value) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or str(value).strip() not in {"1", "2", "3", "4", "5"}:
        raise ValueError
    return int(value)


def _check_answers(indicators: dict[str, Indicator], answers: list[dict]) -> dict:
    values: dict[str, tuple[int | None, int | None]] = {}
    for answer in answers:
        code = str(answer.get("indicator") or "")
        if code not in indicators:
            raise DomainError(
                _("%(code)s is not a question of this survey.") % {"code": code}, field="answers"
            )
        if code in values:
            raise DomainError(_("%(code)s is answered twice.") % {"code": code}, field="answers")
        try:
            values[code] = (
                _scale_value(answer.get("importance")),
                _scale_value(answer.get("satisfaction")),
            )
        except (TypeError, ValueError):
            raise DomainError(
                _("Answers are whole numbers from 1 to 5 (%(code)s).") % {"code": code},
                field="answers",
            ) from None
    return values


def _quality(campaign: Campaign, indicators: dict, values: dict) -> tuple[bool, bool, bool]:
    """(complete, straight-lining, valid): missing any answer makes a response invalid; every
    answer identical is straight-lining, invalid when the campaign excludes it."""
    given = [v for pair in values.values() for v in pair if v is not None]
    complete = len(given) == 2 * len(indicators)
    straight = complete and len(set(given)) == 1
    valid = complete and not (straight and campaign.exclude_straight_lining)
    return complete, straight, valid


def _response_rows(
    campaign: Campaign,
    invitation: Invitation,
    indicators: dict,
    values: dict,
    *,
    channel: str,
    actor: User | None,
    comment: str,
    now: datetime,
) -> tuple[Response, list[Answer]]:
    complete, straight, valid = _quality(campaign, indicators, values)
    response = Response(
        campaign=campaign,
        invitation=invitation,
        channel=channel,
        entered_by=actor,
        submitted_at=now,
        is_complete=complete,
        is_straight_line=straight,
        is_valid=valid,
        comment=(comment or "").strip(),
    )
    answers = [
        Answer(indicator=indicators[code], importance=imp, satisfaction=sat)
        for code, (imp, sat) in values.items()
        if imp is not None or sat is not None
    ]
    return response, answers


@transaction.atomic
def response_submit(
    *,
    invitation: Invitation,
    answers: list[dict],
    channel: str,
    actor: User | None = None,
    comment: str = "",
) -> Response:
    """Record the one response of an invitation. ``actor`` is None for the customer's own link.

    A response missing answers is kept (it counts as returned) but is invalid.
    """
    if actor is not None:
        from surveys.selectors import invitations_visible

        _require(actor, "surveys.enter_response")
        if not invitations_visible(actor).filter(pk=invitation.pk).exists():
            raise PermissionDenied(_("You may not do this."))
    locked = Invitation.objects.select_for_update().select_related("campaign").get(pk=invitation.pk)
    campaign = locked.campaign
    if campaign.state != Campaign.State.OPEN:
        raise ConflictError(_("This survey is closed."), code="closed")
    if locked.responded_at is not None:
        raise ConflictError(_("This questionnaire has already been answered."), code="answered")
    indicators = _second_level(campaign.framework_id)
    values = _check_answers(indicators, answers)
    if not any(v is not None for pair in values.values() for v in pair):
        raise DomainError(_("Answer at least one question."), field="answers")
    now = timezone.now()
    response, answer_rows = _response_rows(
        campaign, locked, indicators, values, channel=channel, actor=actor, comment=comment, now=now
    )
    try:
        with transaction.atomic():
            response.save()
    except IntegrityError:
        raise ConflictError(
            _("This questionnaire has already been answered."), code="answered"
        ) from None
    for answer in answer_rows:
        answer.response = response
    Answer.objects.bulk_create(answer_rows)
    locked.responded_at = now
    locked.save(update_fields=["responded_at"])
    audit_record(
        actor=actor,
        action="survey_response.submit",
        obj=response,
        to_state="valid" if response.is_valid else "invalid",
        data={"channel": channel, "campaign": campaign.pk},
    )
    return response


@dataclass
class ImportProblem:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


class ImportRejected(DomainError):
    """A paper import with errors: nothing was imported; ``problems`` name row and column."""

    def __init__(self, problems: list[ImportProblem]):
        super().__init__(
            _("The file has %(n)d problem(s); nothing was imported.") % {"n": len(problems)},
            field="file",
            code="import_rejected",
        )
        self.problems = problems


def import_columns(framework: Framework) -> list[str]:
    codes = Indicator.objects.filter(framework=framework, parent__isnull=False).order_by(
        "position", "id"
    )
    columns = ["respondent"]
    for code in codes.values_list("code", flat=True):
        columns += [f"{code}_importance", f"{code}_satisfaction"]
    return columns


def _check_header(header: list[str], expected: list[str]) -> list[ImportProblem]:
    problems = []
    seen = set()
    for position, name in enumerate(header):
        column = name.strip()
        if column in seen:
            problems.append(ImportProblem(1, column, _("The column appears twice.")))
        elif column not in expected and column:
            problems.append(ImportProblem(1, column, _("Unknown column.")))
        seen.add(column)
        if position == 0 and column != "respondent":
            problems.append(ImportProblem(1, column, _("The first column must be respondent.")))
    for column in expected:
        if column not in seen:
            problems.append(ImportProblem(1, column, _("The column is missing.")))
    return problems


@transaction.atomic
def responses_import(*, actor: User, campaign: Campaign, table: list[list[str]]) -> int:
    """Paper questionnaires from a table (header + rows): all rows or none.

    ``respondent`` is the invitation reference printed on the questionnaire. Every problem is
    reported with its spreadsheet row number (the header is row 1) and column.
    """
    _require(actor, "surveys.import_responses")
    locked = _lock_campaign(campaign)
    if locked.state != Campaign.State.OPEN:
        raise ConflictError(_("This survey is closed."), code="closed")
    if not table:
        raise ImportRejected([ImportProblem(1, "", _("The file is empty."))])
    expected = import_columns(locked.framework)
    header = [str(c or "").strip() for c in table[0]]
    problems = _check_header(header, expected)
    if problems:
        raise ImportRejected(problems)
    indicators = _second_level(locked.framework_id)
    references = {str(row[0]).strip() for row in table[1:] if row and str(row[0] or "").strip()}
    from surveys.selectors import invitations_visible

    invitations = {
        inv.reference: inv
        for inv in invitations_visible(actor)
        .select_for_update(of=("self",))
        .filter(campaign=locked, reference__in=references)
    }
    parsed: list[tuple[Invitation, dict]] = []
    in_file: dict[str, int] = {}
    for number, row in enumerate(table[1:], start=2):
        cells = [str(c).strip() if c is not None else "" for c in row]
        if not any(cells):
            continue
        cells += [""] * (len(header) - len(cells))
        record = dict(zip(header, cells, strict=False))
        reference = record["respondent"]
        invitation = invitations.get(reference)
        if not reference:
            problems.append(ImportProblem(number, "respondent", _("The value is blank.")))
        elif invitation is None:
            problems.append(
                ImportProblem(number, "respondent", _("No invitation of this campaign has it."))
            )
        elif invitation.responded_at is not None:
            problems.append(
                ImportProblem(number, "respondent", _("This questionnaire was already answered."))
            )
        elif reference in in_file:
            problems.append(
                ImportProblem(
                    number,
                    "respondent",
                    _("Also on row %(row)d.") % {"row": in_file[reference]},
                )
            )
        in_file.setdefault(reference, number)
        values = {}
        for code in indicators:
            pair = []
            for part in ("importance", "satisfaction"):
                column = f"{code}_{part}"
                raw = record[column]
                if raw.endswith(".0"):  # spreadsheets store whole numbers as floats
                    raw = raw[:-2]
                if raw == "":
                    problems.append(ImportProblem(number, column, _("The value is blank.")))
                    pair.append(None)
                elif raw not in {"1", "2", "3", "4", "5"}:
                    problems.append(
                        ImportProblem(
                            number,
                            column,
                            _("%(value)s is not a whole number from 1 to 5.") % {"value": raw},
                        )
                    )
                    pair.append(None)
                else:
                    pair.append(int(raw))
            values[code] = tuple(pair)
        if invitation is not None:
            parsed.append((invitation, values))
    if problems:
        raise ImportRejected(problems)
    if not parsed:
        raise ImportRejected([ImportProblem(2, "", _("The file has no questionnaires."))])
    now = timezone.now()
    responses, answer_lists = [], []
    for invitation, values in parsed:
        response, answers = _response_rows(
            locked,
            invitation,
            indicators,
            values,
            channel=Response.Channel.PAPER,
            actor=actor,
            comment="",
            now=now,
        )
        responses.append(response)
        answer_lists.append(answers)
    Response.objects.bulk_create(responses)
    all_answers = []
    for response, answers in zip(responses, answer_lists, strict=True):
        for answer in answers:
            answer.response = response
        all_answers += answers
    Answer.objects.bulk_create(all_answers, batch_size=5000)
    Invitation.objects.filter(pk__in=[inv.pk for inv, _values in parsed]).update(responded_at=now)
    audit_record_many(
        {
            "actor": actor,
            "action": "survey_response.submit",
            "object_type": Response._meta.label_lower,
            "object_id": response.pk,
            "to_state": "valid" if response.is_valid else "invalid",
            "data": {"channel": "paper", "campaign": locked.pk},
        }
        for response in responses
    )
    audit_record(
        actor=actor, action="survey_campaign.import", obj=locked, data={"rows": len(responses)}
    )
    return len(responses)


# --- reminders ----------------------------------------------------------------------------------

_REMINDER_SQL = """
INSERT INTO surveys_reminder (invitation_id, number, created_at)
SELECT i.id, COALESCE(r.n, 0) + 1, %(now)s
FROM surveys_invitation i
JOIN surveys_campaign c ON c.id = i.campaign_id
LEFT JOIN (
    SELECT invitation_id, MAX(number) AS n, MAX(created_at) AS last
    FROM surveys_reminder GROUP BY invitation_id
) r ON r.invitation_id = i.id
WHERE c.state = 'open'
  AND i.responded_at IS NULL
  AND i.sent_at <= %(now)s - c.reminder_after_days * INTERVAL '1 day'
  AND (r.last IS NULL OR r.last <= %(now)s - c.reminder_after_days * INTERVAL '1 day')
  AND COALESCE(r.n, 0) < %(max)s
ON CONFLICT (invitation_id, number) DO NOTHING
RETURNING invitation_id
"""


@transaction.atomic
def reminders_sweep(*, now: datetime | None = None) -> int:
    """Write a reminder row for every invitation unanswered for the campaign's N days since it
    was sent or last reminded (at most three). One statement over all rows; a second run at the
    same time finds nothing to do, and a concurrent one loses on the unique constraint."""
    with connection.cursor() as cursor:
        cursor.execute(_REMINDER_SQL, {"now": now or timezone.now(), "max": MAX_REMINDERS})
        return len(cursor.fetchall())


# --- improvement items (PDCA) -------------------------------------------------------------------

_ADVANCE = {
    "start": ("start", ImprovementItem.State.DO),
    "check": ("verify", ImprovementItem.State.CHECK),
    "act": ("act", ImprovementItem.State.ACT),
    "replan": ("replan", ImprovementItem.State.PLAN),
    "close": ("close", ImprovementItem.State.CLOSED),
}


@transaction.atomic
def improvement_open(
    *,
    actor: User,
    title: str,
    owner: User,
    level: str,
    plan: str,
    due_on: date,
    finding: str = "",
    campaign: Campaign | None = None,
    indicator: Indicator | None = None,
) -> ImprovementItem:
    _require(actor, "surveys.manage_improvement")
    if not (title or "").strip():
        raise DomainError(_("Say what the problem is."), field="title")
    if not (plan or "").strip():
        raise DomainError(_("Write the plan."), field="plan")
    if level not in ImprovementItem.Level.values:
        raise DomainError(_("Unknown choice."), field="level")
    if not owner.is_active or not can_see_unit(actor, owner.org_unit):
        raise DomainError(_("Choose an owner from your own unit."), field="owner")
    if due_on < timezone.localdate():
        raise DomainError(_("The due date has passed."), field="due_on")
    if indicator is not None and (
        campaign is None or indicator.framework_id != campaign.framework_id
    ):
        raise DomainError(
            _("The indicator is not in this campaign's framework."), field="indicator"
        )
    baseline = None
    if campaign is not None and indicator is not None:
        from surveys.analysis import indicator_satisfaction

        baseline = indicator_satisfaction(user=actor, campaign=campaign, indicator=indicator)
    unit = scope_root(actor)
    item = ImprovementItem.objects.create(
        title=title.strip(),
        campaign=campaign,
        indicator=indicator,
        org_unit=unit,
        owner=owner,
        level=level,
        finding=finding.strip(),
        plan=plan.strip(),
        due_on=due_on,
        baseline_satisfaction=baseline,
        created_by=actor,
    )
    audit_record(actor=actor, action="survey_improvement.open", obj=item, to_state="plan")
    return item


@transaction.atomic
def improvement_advance(
    *, actor: User, item: ImprovementItem, action: str, note: str = ""
) -> ImprovementItem:
    """One step of the PDCA cycle: plan → do → check → act → closed (check may go back to
    plan). The owner or a manager moves it; each step leaves a note and an audit row."""
    if action not in _ADVANCE:
        raise DomainError(_("Unknown step."), field="action")
    locked = ImprovementItem.objects.select_for_update().get(pk=item.pk)
    if locked.owner_id != actor.pk and not actor.has_perm("surveys.manage_improvement"):
        raise PermissionDenied(_("You may not do this."))
    method_name, target = _ADVANCE[action]
    method = getattr(locked, method_name)
    from django_fsm import can_proceed

    if not can_proceed(method):
        raise ConflictError(
            _("This step is not possible while the item is at %(state)s.")
            % {"state": locked.get_state_display()}
        )
    if action in ("check", "replan", "close") and not (note or "").strip():
        raise DomainError(_("Write what was found."), field="note")
    before = locked.state
    method()
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    if note.strip():
        entry = (
            f"[{stamp} {actor.display_name} · {ImprovementItem.State(target).label}] {note.strip()}"
        )
        locked.notes = f"{locked.notes}\n{entry}".strip()
    fields = ["state", "notes"]
    if target == ImprovementItem.State.CLOSED:
        locked.closed_at = timezone.now()
        fields.append("closed_at")
    locked.save(update_fields=fields)
    audit_record(
        actor=actor,
        action=f"survey_improvement.{action}",
        obj=locked,
        from_state=before,
        to_state=locked.state,
        comment=note.strip(),
    )
    return locked


# --- process feedback ("green channel") ----------------------------------------------------------


def _process_owner(process: str) -> User | None:
    owner = ProcessOwner.objects.filter(process=process).select_related("owner").first()
    if owner and owner.owner.is_active:
        return owner.owner
    return (
        User.objects.filter(
            is_active=True,
            org_unit__kind=OrgUnit.Kind.HEAD_OFFICE,
            groups__name=Role.MANAGEMENT,
        )
        .order_by("pk")
        .first()
    )


@transaction.atomic
def feedback_file(
    *,
    actor: User,
    process: str,
    source: str,
    text: str,
    response: Response | None = None,
) -> ProcessFeedback:
    _require(actor, "surveys.add_processfeedback")
    if not (process or "").strip():
        raise DomainError(_("Name the process."), field="process")
    if not (text or "").strip():
        raise DomainError(_("Describe the problem."), field="text")
    if source not in ProcessFeedback.Source.values:
        raise DomainError(_("Unknown choice."), field="source")
    owner = _process_owner(process.strip())
    if owner is None:
        raise DomainError(_("No head-office owner is set up for process feedback."))
    feedback = ProcessFeedback.objects.create(
        process=process.strip(),
        source=source,
        text=text.strip(),
        response=response,
        org_unit=scope_root(actor),
        filed_by=actor,
        routed_to=owner,
    )
    audit_record(
        actor=actor,
        action="survey_feedback.file",
        obj=feedback,
        to_state="open",
        data={"routed_to": owner.pk},
    )
    return feedback


@transaction.atomic
def feedback_answer(*, actor: User, feedback: ProcessFeedback, answer: str) -> ProcessFeedback:
    locked = ProcessFeedback.objects.select_for_update().get(pk=feedback.pk)
    if locked.routed_to_id != actor.pk:
        raise PermissionDenied(_("Only the head-office owner answers this feedback."))
    if locked.status != ProcessFeedback.Status.OPEN:
        raise ConflictError(_("This feedback has already been answered."))
    if not (answer or "").strip():
        raise DomainError(_("Write the answer."), field="answer")
    locked.status = ProcessFeedback.Status.ANSWERED
    locked.answer = answer.strip()
    locked.answered_at = timezone.now()
    locked.save(update_fields=["status", "answer", "answered_at"])
    audit_record(
        actor=actor,
        action="survey_feedback.answer",
        obj=locked,
        from_state="open",
        to_state="answered",
    )
    return locked
