"""Bulk writes with PostgreSQL ``COPY``: id blocks reserved from the tables' sequences, rows
streamed as text in chunks so that millions of rows never sit in memory at once."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.db import connection

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        # Array literals of plain codes (no commas, quotes or braces in them).
        return "{" + ",".join(str(v) for v in value) + "}"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False).translate(_ESCAPES)
    return str(value).translate(_ESCAPES)


def reserve_ids(table: str, count: int) -> int:
    """The first of ``count`` consecutive ids taken from ``table``'s sequence in one statement,
    so a concurrent insert through the ORM can never receive one of them."""
    if count <= 0:
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s)", [sequence])
        first = cursor.fetchone()[0]
        if count > 1:
            cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


def _missing_defaults(table: str, columns: Sequence[str]) -> list[tuple[str, object]]:
    from django.apps import apps

    model = next((m for m in apps.get_models() if m._meta.db_table == table), None)
    if model is None:
        return []
    given = set(columns)
    return [
        (f.column, f.get_default())
        for f in model._meta.concrete_fields
        if f.column not in given and not f.primary_key and f.has_default() and not f.null
    ]


class CopyWriter:
    """Rows for one table, sent with ``COPY … FROM STDIN`` every ``chunk`` rows."""

    def __init__(self, table: str, columns: Sequence[str], chunk: int = 50_000):
        self.table = table
        # Columns added to the model later with a Django-side default get that default, so a
        # new field elsewhere in the tree does not break the generator.
        self._extra = tuple(_missing_defaults(table, columns))
        self.columns = tuple(columns) + tuple(column for column, _value in self._extra)
        self._extra_text = "".join("\t" + _text(value) for _column, value in self._extra)
        self.chunk = chunk
        self.count = 0
        self._buffer = io.StringIO()
        self._pending = 0

    def add(self, row: Sequence) -> None:
        self._buffer.write("\t".join(_text(v) for v in row))
        self._buffer.write(self._extra_text)
        self._buffer.write("\n")
        self._pending += 1
        if self._pending >= self.chunk:
            self.flush()

    def extend(self, rows: Iterable[Sequence]) -> None:
        for row in rows:
            self.add(row)

    def flush(self) -> None:
        if not self._pending:
            return
        self._buffer.seek(0)
        cols = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        sql = f"COPY {connection.ops.quote_name(self.table)} ({cols}) FROM STDIN"
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(sql, self._buffer)
        self.count += self._pending
        self._pending = 0
        self._buffer = io.StringIO()
