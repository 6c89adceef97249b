"""Tamper evidence for the two audit logs: the transition log (``coop_auditevent``) and the
approval log (``risk_approvallog``).

Postgres keeps both logs append-only and hash-chained, so no code path of the application can
bypass it:

- a guard trigger refuses UPDATE, DELETE and TRUNCATE (the application's role owns the tables
  in embedded mode, so a REVOKE alone would not bind it; where the grants allow, the migration
  revokes those privileges from every other role as well);
- a BEFORE INSERT trigger takes a transaction-level advisory lock per log, reads the newest row
  and sets ``chain_seq`` (1, 2, 3, … in chain order), ``prev_hash`` (the newest row's
  ``row_hash``, or 64 zeros for the first row) and ``row_hash = sha256(prev_hash || content)``,
  where ``content`` is a canonical JSON array of the row's columns. Multi-row INSERTs
  (``bulk_create``) chain row by row because a row-level trigger sees the rows the same
  statement inserted before it.

The three columns are maintained by the database and not mapped by the ORM (the models stay
unchanged); :func:`verify_chain` reads them with SQL. ``chain_seq`` rather than ``id`` orders the
chain: an id is drawn from its sequence before the lock is taken, so ids may commit out of order.

The test runner empties every table with one TRUNCATE between transactional tests; a database
whose name starts with ``test_`` therefore lets TRUNCATE through unless the session sets
``coop.audit_strict = on`` (the tests of the guard do).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

GENESIS = "0" * 64
# pg_advisory_xact_lock(class, key): one lock per chained log.
LOCK_CLASS = 73_001


@dataclass(frozen=True)
class Chain:
    table: str
    lock_key: int
    # SQL expressions over the row alias ``r``, hashed in this order.
    columns: tuple[str, ...]

    @property
    def content_function(self) -> str:
        return f"{self.table}_chain_content"


def _utc(column: str) -> str:
    # Session TimeZone must not change the hashed text.
    return f"""to_char(r.{column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


AUDIT_EVENT = Chain(
    table="coop_auditevent",
    lock_key=1,
    columns=(
        "r.chain_seq",
        "r.id",
        _utc("occurred_at"),
        "r.actor_id",
        "r.action",
        "r.object_type",
        "r.object_id",
        "r.from_state",
        "r.to_state",
        "r.comment",
        "r.data",
    ),
)

APPROVAL_LOG = Chain(
    table="risk_approvallog",
    lock_key=2,
    columns=(
        "r.chain_seq",
        "r.id",
        "r.case_id",
        "r.from_state",
        "r.to_state",
        "r.transition",
        "r.actor_id",
        "r.role",
        _utc("created_at"),
        "r.comment",
        "r.reason_code",
        _utc("stage_entered_at"),
        "r.seconds_in_stage",
    ),
)

CHAINS = (AUDIT_EVENT, APPROVAL_LOG)


def _hash_expr(prev: str, content: str) -> str:
    return f"encode(sha256(convert_to({prev} || {content}, 'UTF8')), 'hex')"


def chain_function_sql(chain: Chain) -> str:
    """The BEFORE INSERT function that links each new row to the newest one.

    The newest row is read with dynamic SQL (``EXECUTE``), planned afresh on every insert. A
    static query in PL/pgSQL keeps the plan it got on its first run in the session: made while
    the log was nearly empty, that plan scans and sorts the whole log, on every insert, for the
    life of the connection. Planned each time, it is a backward scan of ``{table}_chain_seq``.
    """
    t = chain.table
    return f"""
CREATE OR REPLACE FUNCTION {t}_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last_seq bigint;
    last_hash char(64);
BEGIN
    -- Held until commit: the next writer waits and then reads this row as its predecessor
    -- (each statement of a READ COMMITTED function takes a fresh snapshot).
    PERFORM pg_advisory_xact_lock({LOCK_CLASS}, {chain.lock_key});
    EXECUTE 'SELECT chain_seq, row_hash FROM {t} ORDER BY chain_seq DESC LIMIT 1'
       INTO last_seq, last_hash;
    NEW.chain_seq := COALESCE(last_seq, 0) + 1;
    NEW.prev_hash := COALESCE(last_hash, '{GENESIS}');
    NEW.row_hash := {_hash_expr("NEW.prev_hash", f"{chain.content_function}(NEW)")};
    RETURN NEW;
END;
$$;
"""  # noqa: S608 - identifiers from the constant chains above


def install_sql(chain: Chain) -> str:
    """Columns, backfill of existing rows, the chain trigger and the append-only guard."""
    t = chain.table
    content = chain.content_function
    # Identifiers and columns come from the constant chains above, never from input.
    return f"""
ALTER TABLE {t}
    ADD COLUMN chain_seq bigint,
    ADD COLUMN prev_hash char(64),
    ADD COLUMN row_hash char(64);

CREATE FUNCTION {content}(r {t}) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_array({", ".join(chain.columns)})::text
$$;

-- Rows written before the chain existed are chained in id order (an older append-only
-- trigger would refuse the backfill, hence the triggers are off for it).
ALTER TABLE {t} DISABLE TRIGGER USER;
DO $$
DECLARE
    rec record;
    seq bigint := 0;
    prev char(64) := '{GENESIS}';
BEGIN
    FOR rec IN SELECT id FROM {t} ORDER BY id LOOP
        seq := seq + 1;
        UPDATE {t} r SET chain_seq = seq, prev_hash = prev WHERE r.id = rec.id;
        UPDATE {t} r SET row_hash = {_hash_expr("r.prev_hash", f"{content}(r)")}
         WHERE r.id = rec.id
        RETURNING r.row_hash INTO prev;
    END LOOP;
END;
$$;
ALTER TABLE {t} ENABLE TRIGGER USER;

ALTER TABLE {t}
    ALTER COLUMN chain_seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN row_hash SET NOT NULL;
CREATE UNIQUE INDEX {t}_chain_seq ON {t} (chain_seq);

{chain_function_sql(chain)}
CREATE TRIGGER {t}_chain BEFORE INSERT ON {t}
    FOR EACH ROW EXECUTE FUNCTION {t}_chain();

CREATE FUNCTION {t}_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE'
       AND current_database() LIKE 'test\\_%'
       AND current_setting('coop.audit_strict', true) IS DISTINCT FROM 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '{t} is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER {t}_guard BEFORE UPDATE OR DELETE ON {t}
    FOR EACH ROW EXECUTE FUNCTION {t}_guard();
CREATE TRIGGER {t}_guard_truncate BEFORE TRUNCATE ON {t}
    FOR EACH STATEMENT EXECUTE FUNCTION {t}_guard();

-- Where the application connects as a role other than the owner, it loses the privileges too.
DO $$
DECLARE
    grantee text;
BEGIN
    FOR grantee IN
        SELECT DISTINCT g.grantee FROM information_schema.role_table_grants g
         WHERE g.table_name = '{t}'
           AND g.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
           AND g.grantee <> (SELECT tableowner FROM pg_tables WHERE tablename = '{t}')
    LOOP
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON {t} FROM %I', grantee);
    END LOOP;
END;
$$;
"""  # noqa: S608


def uninstall_sql(chain: Chain) -> str:
    t = chain.table
    return f"""
DROP TRIGGER IF EXISTS {t}_guard_truncate ON {t};
DROP TRIGGER IF EXISTS {t}_guard ON {t};
DROP FUNCTION IF EXISTS {t}_guard();
DROP TRIGGER IF EXISTS {t}_chain ON {t};
DROP FUNCTION IF EXISTS {t}_chain();
DROP FUNCTION IF EXISTS {chain.content_function}({t});
ALTER TABLE {t} DROP COLUMN IF EXISTS chain_seq, DROP COLUMN IF EXISTS prev_hash,
    DROP COLUMN IF EXISTS row_hash;
"""


@dataclass(frozen=True)
class ChainReport:
    table: str
    rows: int
    broken_id: int | None = None
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


# One pass over the log in chain order: each row must follow its predecessor without a gap,
# carry the predecessor's hash and hash to what it stores. The first failing row is reported.
_VERIFY_SQL = """
WITH chain AS (
    SELECT r.id, r.chain_seq, r.prev_hash, r.row_hash,
           row_number() OVER w AS position,
           lag(r.row_hash) OVER w AS previous_hash,
           {hash} AS recomputed
      FROM {table} r
    WINDOW w AS (ORDER BY r.chain_seq)
)
SELECT id, chain_seq,
       CASE
           WHEN chain_seq <> position THEN 'gap'
           WHEN prev_hash <> COALESCE(previous_hash, %(genesis)s) THEN 'link'
           ELSE 'hash'
       END
  FROM chain
 WHERE chain_seq <> position
    OR prev_hash <> COALESCE(previous_hash, %(genesis)s)
    OR row_hash <> recomputed
 ORDER BY chain_seq
 LIMIT 1
"""

REASONS = {
    "gap": "a row before it is missing (chain sequence gap)",
    "link": "its predecessor's hash does not match (a row before it was changed or removed)",
    "hash": "its content does not match its hash (the row was changed)",
}


def verify_chain(chain: Chain) -> ChainReport:
    sql = _VERIFY_SQL.format(
        table=chain.table, hash=_hash_expr("r.prev_hash", f"{chain.content_function}(r)")
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {chain.table}")  # noqa: S608 - constant name
        rows = cursor.fetchone()[0]
        cursor.execute(sql, {"genesis": GENESIS})
        broken = cursor.fetchone()
    if broken is None:
        return ChainReport(table=chain.table, rows=rows)
    row_id, seq, reason = broken
    return ChainReport(
        table=chain.table, rows=rows, broken_id=row_id, broken_seq=seq, reason=REASONS[reason]
    )


def verify_all() -> list[ChainReport]:
    return [verify_chain(chain) for chain in CHAINS]
