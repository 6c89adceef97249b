"""Contact plans materialized as due contacts (seeds 000/004: 日管理、月督促).

``contacts_plan`` is the beat sweep. In one transaction it closes the open due contacts a visit
has fulfilled (compare-and-set ``UPDATE … WHERE status = 'open'``), cancels the open ones whose
customer is no longer due under any plan, and inserts the contacts now due under the rule of
``selectors_relationship.due_rule_annotate`` — one ``INSERT … SELECT`` over all owned customers,
``ON CONFLICT DO NOTHING`` on (customer, reason, due_on) and on "one open per customer". Running
it twice, or two beats at once, creates and closes nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coop.models import User
from coop.services import ConflictError, DomainError, audit_record, audit_record_many
from customers.models import Customer, DueContact, Visit
from customers.segment_rules import today_in_shanghai
from customers.selectors_relationship import due_rule_annotate

_CLOSE_BY_VISIT = """
UPDATE {due} AS target
   SET status = 'done', completed_at = %s, visit_id = c.visit_id
  FROM (
        SELECT DISTINCT ON (d.id) d.id AS due_id, v.id AS visit_id
          FROM {due} d
          JOIN {visit} v ON v.customer_id = d.customer_id AND v.visited_on >= d.due_on
         WHERE d.status = 'open'
         ORDER BY d.id, v.visited_on, v.id
       ) AS c
 WHERE target.id = c.due_id AND target.status = 'open'
RETURNING target.id, c.visit_id
"""

_CANCEL_NO_LONGER_DUE = """
UPDATE {due}
   SET status = 'cancelled', completed_at = %s
 WHERE status = 'open'
   AND customer_id NOT IN (SELECT rule.id FROM ({rule}) AS rule)
RETURNING id
"""

_CREATE_DUE = """
INSERT INTO {due} (customer_id, plan_id, reason, due_on, status, created_at)
SELECT rule.id, rule.due_plan_id, rule.due_reason, rule.due_on, 'open', %s
  FROM ({rule}) AS rule
ON CONFLICT DO NOTHING
"""


def _rule_sql(on: date) -> tuple[str, tuple]:
    rule = due_rule_annotate(Customer.objects.all(), on=on).values(
        "id", "due_plan_id", "due_reason", "due_on"
    )
    return rule.query.sql_with_params()


@transaction.atomic
def contacts_plan(*, on: date | None = None, now: datetime | None = None) -> dict[str, int]:
    """Close fulfilled due contacts and create the ones due by ``on``; counts for the monitor."""
    on = on or today_in_shanghai()
    now = now or timezone.now()
    tables = {"due": DueContact._meta.db_table, "visit": Visit._meta.db_table}
    rule_sql, rule_params = _rule_sql(on)
    with connection.cursor() as cursor:
        cursor.execute(_CLOSE_BY_VISIT.format(**tables), [now])
        closed = cursor.fetchall()
        cursor.execute(_CANCEL_NO_LONGER_DUE.format(rule=rule_sql, **tables), [now, *rule_params])
        cancelled = cursor.fetchall()
        cursor.execute(_CREATE_DUE.format(rule=rule_sql, **tables), [now, *rule_params])
        created = cursor.rowcount
    audit_record_many(
        {
            "action": "due_contact.visited",
            "object_type": "customers.duecontact",
            "object_id": due_id,
            "from_state": DueContact.Status.OPEN,
            "to_state": DueContact.Status.DONE,
            "data": {"visit_id": visit_id},
        }
        for due_id, visit_id in closed
    )
    audit_record_many(
        {
            "action": "due_contact.cancel",
            "object_type": "customers.duecontact",
            "object_id": due_id,
            "from_state": DueContact.Status.OPEN,
            "to_state": DueContact.Status.CANCELLED,
        }
        for (due_id,) in cancelled
    )
    return {"created": created, "closed": len(closed), "cancelled": len(cancelled)}


def due_contact_close(*, due: DueContact, actor: User, visit: Visit, channel: str) -> None:
    """Mark the locked open ``due`` done by ``visit``, with its audit row (caller's transaction)."""
    due.status = DueContact.Status.DONE
    due.completed_at = timezone.now()
    due.completed_by = actor
    due.visit = visit
    due.save(update_fields=["status", "completed_at", "completed_by", "visit"])
    audit_record(
        actor=actor,
        action="due_contact.complete",
        obj=due,
        from_state=DueContact.Status.OPEN,
        to_state=DueContact.Status.DONE,
        data={"visit_id": visit.pk, "channel": channel},
    )


@transaction.atomic
def due_contact_complete(
    *,
    actor: User,
    due_contact: DueContact,
    channel: str,
    outcome: str,
    notes: str = "",
) -> DueContact:
    """Record today's contact with the customer and close ``due_contact`` with it."""
    from customers.services.relationship import visit_record

    locked = DueContact.objects.select_for_update(of=("self",)).get(pk=due_contact.pk)
    if locked.status != DueContact.Status.OPEN:
        raise ConflictError(_("This contact is already done."), code="closed")
    if len((notes or "").strip()) > 2000:
        raise DomainError(
            _("At most %(count)s characters.") % {"count": 2000}, field="notes", code="too_long"
        )
    visit = visit_record(
        actor=actor,
        customer=Customer.objects.get(pk=locked.customer_id),
        visited_on=today_in_shanghai(),
        channel=channel,
        outcome=outcome,
        notes=notes,
    )
    locked.refresh_from_db()
    if locked.status == DueContact.Status.OPEN:  # due later than today, so the visit left it
        due_contact_close(due=locked, actor=actor, visit=visit, channel=channel)
    return locked
