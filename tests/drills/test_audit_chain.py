"""Audit integrity: the transition log and the approval log are append-only in Postgres and
hash-chained; ``manage.py verify_audit`` finds the first changed or missing row."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from coop.audit_chain import APPROVAL_LOG, AUDIT_EVENT, GENESIS, verify_chain
from coop.models import AuditEvent
from coop.services import audit_record, audit_record_many
from risk.models import ApprovalLog, Stage


def chain_rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, chain_seq, prev_hash, row_hash FROM {table} ORDER BY chain_seq")  # noqa: S608
        return cursor.fetchall()


def verify() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_audit", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def as_superuser(table: str, sql: str, params=()) -> None:
    """What only the database owner or a superuser can do: switch the guard off, change the
    table, switch it on again."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks on the table
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


@pytest.fixture
def events(make_staff):
    actor = make_staff("teller")
    audit_record(actor=actor, action="drill.one", obj=actor, comment="first")
    audit_record_many(
        [
            {"action": "drill.bulk", "object_type": "coop.user", "object_id": n, "data": {"n": n}}
            for n in range(5)
        ]
    )
    audit_record(actor=actor, action="drill.two", obj=actor, from_state="a", to_state="b")
    return list(AuditEvent.objects.order_by("id"))


@pytest.fixture
def approval_rows(open_case, drive):
    drive(open_case("low"), Stage.APPROVAL)
    return list(ApprovalLog.objects.order_by("id"))


def test_intact_chains_verify_ok_with_row_counts(events, approval_rows):
    total = AuditEvent.objects.count()
    rows = chain_rows(AUDIT_EVENT.table)
    assert [seq for _id, seq, _p, _h in rows] == list(range(1, total + 1))
    assert rows[0][2] == GENESIS
    # Each row names its predecessor's hash, bulk-inserted rows included.
    assert all(rows[i][2] == rows[i - 1][3] for i in range(1, len(rows)))
    assert len({h for *_rest, h in rows}) == total

    code, out = verify()

    assert code == 0
    assert out.splitlines() == [
        f"coop_auditevent: OK ({total} rows)",
        f"risk_approvallog: OK ({len(approval_rows)} rows)",
    ]


def test_a_changed_row_is_found(events):
    target = events[3]
    as_superuser(
        "coop_auditevent",
        "UPDATE coop_auditevent SET comment = 'rewritten' WHERE id = %s",
        [target.pk],
    )

    code, out = verify()

    assert code == 1
    assert f"coop_auditevent: BROKEN at id {target.pk} " in out
    assert "its content does not match its hash" in out
    report = verify_chain(AUDIT_EVENT)
    assert (report.broken_id, report.rows) == (target.pk, len(events))


def test_a_changed_and_rehashed_row_is_found_at_its_successor(events):
    # A forger who also recomputes the changed row's own hash breaks the link to the next row.
    target, successor = events[2], events[3]
    as_superuser(
        "coop_auditevent",
        "UPDATE coop_auditevent r SET comment = 'rewritten' WHERE id = %s",
        [target.pk],
    )
    as_superuser(
        "coop_auditevent",
        "UPDATE coop_auditevent r SET row_hash = encode(sha256(convert_to(r.prev_hash || "
        "coop_auditevent_chain_content(r), 'UTF8')), 'hex') WHERE id = %s",
        [target.pk],
    )

    report = verify_chain(AUDIT_EVENT)

    assert report.broken_id == successor.pk
    assert "predecessor's hash does not match" in report.reason


def test_a_deleted_row_is_found(events):
    removed, successor = events[4], events[5]
    as_superuser("coop_auditevent", "DELETE FROM coop_auditevent WHERE id = %s", [removed.pk])

    code, out = verify()

    assert code == 1
    assert f"coop_auditevent: BROKEN at id {successor.pk} " in out
    assert "a row before it is missing" in out


def test_a_changed_approval_log_row_is_found(approval_rows):
    target = approval_rows[1]
    as_superuser(
        "risk_approvallog",
        "UPDATE risk_approvallog SET comment = 'approved without reading' WHERE id = %s",
        [target.pk],
    )

    code, out = verify()

    assert code == 1
    assert f"risk_approvallog: BROKEN at id {target.pk} " in out
    assert verify_chain(APPROVAL_LOG).broken_id == target.pk


@pytest.mark.parametrize(
    ("table", "model"), [("coop_auditevent", AuditEvent), ("risk_approvallog", ApprovalLog)]
)
def test_the_application_cannot_update_delete_or_truncate(events, approval_rows, table, model):
    first = model.objects.order_by("id").first()
    before = model.objects.count()

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        model.objects.filter(pk=first.pk).update(comment="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        model.objects.filter(pk=first.pk).delete()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # Test databases let the runner's TRUNCATE through unless the session is strict.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL coop.audit_strict = 'on'")
        cursor.execute(f"TRUNCATE {table} CASCADE")

    assert model.objects.count() == before
    assert model.objects.get(pk=first.pk).comment == first.comment
    assert verify()[0] == 0


def test_concurrent_writers_keep_one_chain(transactional_db, make_staff):
    actor = make_staff("teller")
    threads, per_thread = 8, 15
    barrier = threading.Barrier(threads)
    errors: list[str] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    if i % 5 == 0:
                        audit_record_many(
                            [{"action": "drill.race", "object_type": "t", "object_id": n}] * 3
                        )
                    else:
                        audit_record(actor=actor, action="drill.race", obj=actor, comment=f"{n}")
        except Exception as exc:  # recorded and asserted on below
            errors.append(repr(exc))
        finally:
            connection.close()

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert errors == []
    written = AuditEvent.objects.filter(action="drill.race").count()
    assert written == threads * (per_thread + 3 * 2)  # 3 single writes per thread became bulks
    total = AuditEvent.objects.count()
    assert [seq for _id, seq, _p, _h in chain_rows("coop_auditevent")] == list(range(1, total + 1))
    assert verify_chain(AUDIT_EVENT).ok
