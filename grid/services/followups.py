"""Follow-up marketing contacts of credited households, materialized as rows (seed 003).

Credited (pre-credited, not refused) but no card: at least one contact a calendar month;
card issued but the credit unused: at least one a calendar quarter; a household away from home at
signing: on the day agreed. Periods are calendar months and quarters in Asia/Shanghai.

``followups_plan`` is the beat sweep: four set-based statements in one transaction, over every
household, never a loop per row. It is idempotent — the unique (household, kind, period) with
``ON CONFLICT DO NOTHING`` and compare-and-set ``UPDATE … WHERE status = 'open'`` — so a second
run, or two beats at once, creates and closes nothing twice.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coop.models import User
from coop.services import ConflictError, DomainError, audit_record, audit_record_many
from customers.models import Customer, Visit
from grid.metrics import period_range
from grid.models import CampaignHousehold, Household, HouseholdFollowUp
from loans.models import Loan

Kind = HouseholdFollowUp.Kind
Status = HouseholdFollowUp.Status


@dataclass(frozen=True)
class Periods:
    month_start: date
    month_end: date
    quarter_start: date
    quarter_end: date


def periods_of(on: date) -> Periods:
    """The calendar month and quarter containing ``on`` (last days inclusive)."""
    quarter_start, quarter_after = period_range("quarter", on)
    return Periods(
        month_start=on.replace(day=1),
        month_end=on.replace(day=calendar.monthrange(on.year, on.month)[1]),
        quarter_start=quarter_start,
        quarter_end=quarter_after - timedelta(days=1),
    )


def _tables() -> dict[str, str]:
    return {
        "fu": HouseholdFollowUp._meta.db_table,
        "hh": Household._meta.db_table,
        "ch": CampaignHousehold._meta.db_table,
        "visit": Visit._meta.db_table,
        "loan": Loan._meta.db_table,
    }


# A contact closes a follow-up when it falls in the follow-up's period; for a household away
# from home any contact on or after the agreed day does.
_CONTACT_IN_PERIOD = """
    v.customer_id = h.head_id
    AND v.visited_on >= f.period_start
    AND (f.kind = 'away' OR v.visited_on <= f.due_by)
"""

_CLOSE_BY_CONTACT = """
UPDATE {fu} AS target
   SET status = 'done', completed_at = %(now)s, visit_id = c.visit_id, outcome = c.outcome
  FROM (
        SELECT DISTINCT ON (f.id) f.id AS followup_id, v.id AS visit_id, v.outcome
          FROM {fu} f
          JOIN {hh} h ON h.id = f.household_id
          JOIN {visit} v ON {contact}
         WHERE f.status = 'open'
         ORDER BY f.id, v.visited_on, v.id
       ) AS c
 WHERE target.id = c.followup_id AND target.status = 'open'
RETURNING target.id, c.visit_id
"""

_MARK_MISSED = """
UPDATE {fu}
   SET status = 'missed', completed_at = %(now)s
 WHERE status = 'open' AND kind IN ('no_card', 'unused') AND due_by < %(on)s
RETURNING id
"""

# The latest non-excluded pre-credit of each household is the one followed up (a household may
# appear in several campaigns).
_LATEST_ENTRY = """
SELECT DISTINCT ON (ch.household_id)
       ch.id, ch.household_id, ch.signing, ch.away_follow_up_on, ch.credit_line_id
  FROM {ch} ch
 WHERE ch.excluded_reason = '' AND ch.pre_credited_at IS NOT NULL
 ORDER BY ch.household_id, ch.pre_credited_at DESC, ch.id DESC
"""

# Obsolete: the card came (monthly rule ends), the credit was drawn (quarterly rule ends), the
# household signed after being away, or its latest pre-credit was refused or excluded.
_CANCEL_OBSOLETE = """
UPDATE {fu} AS f
   SET status = 'cancelled', completed_at = %(now)s
  FROM {hh} h
  LEFT JOIN ({latest}) latest ON latest.household_id = h.id
 WHERE f.household_id = h.id
   AND f.status = 'open'
   AND (
        latest.id IS NULL
        OR latest.signing = 'refused'
        OR (f.kind = 'away' AND latest.signing <> 'away')
        OR (f.kind = 'no_card' AND h.card_issued_on IS NOT NULL)
        OR (f.kind = 'unused' AND EXISTS (
            SELECT 1 FROM {loan} l WHERE l.credit_line_id = latest.credit_line_id))
   )
RETURNING f.id
"""

_CREATE_DUE = """
INSERT INTO {fu} (household_id, entry_id, kind, period_start, due_by, status, created_at,
                  outcome, note)
SELECT due.household_id, due.entry_id, due.kind, due.period_start, due.due_by, 'open', %(now)s,
       '', ''
  FROM (
        SELECT latest.household_id, latest.id AS entry_id, h.head_id,
               CASE
                 WHEN latest.signing = 'away' THEN 'away'
                 WHEN h.card_issued_on IS NULL THEN 'no_card'
                 ELSE 'unused'
               END AS kind,
               CASE
                 WHEN latest.signing = 'away' THEN latest.away_follow_up_on
                 WHEN h.card_issued_on IS NULL THEN %(month_start)s
                 ELSE %(quarter_start)s
               END AS period_start,
               CASE
                 WHEN latest.signing = 'away' THEN latest.away_follow_up_on
                 WHEN h.card_issued_on IS NULL THEN %(month_end)s
                 ELSE %(quarter_end)s
               END AS due_by
          FROM ({latest}) latest
          JOIN {hh} h ON h.id = latest.household_id
         WHERE latest.signing <> 'refused'
           AND (
                (latest.signing = 'away' AND latest.away_follow_up_on <= %(on)s)
                OR (latest.signing <> 'away' AND h.card_issued_on IS NULL)
                OR (latest.signing <> 'away' AND h.card_issued_on IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM {loan} l
                                     WHERE l.credit_line_id = latest.credit_line_id))
               )
       ) AS due
 WHERE NOT EXISTS (
        SELECT 1 FROM {visit} v
         WHERE v.customer_id = due.head_id AND v.visited_on >= due.period_start
           AND v.visited_on <= %(on)s)
ON CONFLICT DO NOTHING
"""


def _sql(template: str) -> str:
    tables = _tables()
    latest = _LATEST_ENTRY.format(**tables)
    contact = _CONTACT_IN_PERIOD
    return template.format(latest=latest, contact=contact, **tables)


def _audit(rows: list[tuple], *, action: str, to_state: str) -> None:
    audit_record_many(
        {
            "action": action,
            "object_type": "grid.householdfollowup",
            "object_id": row[0],
            "from_state": Status.OPEN,
            "to_state": to_state,
            "data": {"visit_id": row[1]} if len(row) > 1 else {},
        }
        for row in rows
    )


@transaction.atomic
def followups_plan(*, on: date | None = None, now: datetime | None = None) -> dict[str, int]:
    """Close what a contact has done, retire missed and obsolete rows, create the current ones.

    Returns the counts for the task monitor.
    """
    on = on or timezone.localdate()
    now = now or timezone.now()
    p = periods_of(on)
    params = {
        "on": on,
        "now": now,
        "month_start": p.month_start,
        "month_end": p.month_end,
        "quarter_start": p.quarter_start,
        "quarter_end": p.quarter_end,
    }
    with connection.cursor() as cursor:
        cursor.execute(_sql(_CLOSE_BY_CONTACT), params)
        closed = cursor.fetchall()
        cursor.execute(_sql(_MARK_MISSED), params)
        missed = cursor.fetchall()
        cursor.execute(_sql(_CANCEL_OBSOLETE), params)
        cancelled = cursor.fetchall()
        cursor.execute(_sql(_CREATE_DUE), params)
        created = cursor.rowcount
    _audit(closed, action="followup.contacted", to_state=Status.DONE)
    _audit(missed, action="followup.missed", to_state=Status.MISSED)
    _audit(cancelled, action="followup.cancelled", to_state=Status.CANCELLED)
    return {
        "created": created,
        "closed": len(closed),
        "missed": len(missed),
        "cancelled": len(cancelled),
    }


@transaction.atomic
def followup_complete(
    *,
    actor: User,
    followup: HouseholdFollowUp,
    channel: str,
    outcome: str,
    notes: str = "",
) -> HouseholdFollowUp:
    """Record the contact that fulfils ``followup`` and close it, in one transaction.

    With the head of household filed as a customer, the contact is a ``customers.Visit`` (so it
    counts for the customer's own contact plan too); otherwise the outcome is kept on the row.
    """
    from customers.services.relationship import visit_record

    if not actor.has_perm("customers.add_visit"):
        raise DomainError(_("You may not record contacts."), code="forbidden")
    if channel not in Visit.Channel.values:
        raise DomainError(_("Choose how the household was contacted."), field="channel")
    if outcome not in Visit.Outcome.values:
        raise DomainError(_("Choose the outcome of the contact."), field="outcome")
    notes = (notes or "").strip()
    if len(notes) > 300:
        raise DomainError(
            _("At most %(count)s characters.") % {"count": 300}, field="notes", code="too_long"
        )
    locked = (
        HouseholdFollowUp.objects.select_for_update(of=("self",))
        .select_related("household")
        .get(pk=followup.pk)
    )
    if locked.status != Status.OPEN:
        raise ConflictError(_("This follow-up is already closed."), code="closed")
    visit = None
    if locked.household.head_id is not None:
        head = Customer.objects.get(pk=locked.household.head_id)
        visit = visit_record(
            actor=actor,
            customer=head,
            visited_on=timezone.localdate(),
            channel=channel,
            outcome=outcome,
            notes=notes,
        )
    locked.status = Status.DONE
    locked.completed_at = timezone.now()
    locked.completed_by = actor
    locked.visit = visit
    locked.outcome = outcome
    locked.note = notes
    locked.save(
        update_fields=["status", "completed_at", "completed_by", "visit", "outcome", "note"]
    )
    audit_record(
        actor=actor,
        action="followup.complete",
        obj=locked,
        from_state=Status.OPEN,
        to_state=Status.DONE,
        data={"visit_id": visit.pk if visit else None, "channel": channel},
    )
    return locked
