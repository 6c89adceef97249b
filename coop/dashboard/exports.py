"""Every dashboard table as CSV or XLSX, with the same figures the page shows.

Numbers go out as numbers (counts as integers, amounts as Decimal to the fen) so a spreadsheet
can add them up; labels and rates as the page shows them.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook

from coop.dashboard.figures import Section, Table

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell_value(cell):
    """Counts and amounts as numbers; rates (shown with %) and labels as shown."""
    numeric = isinstance(cell.value, int | Decimal) and not isinstance(cell.value, bool)
    if numeric and "%" not in cell.display:
        return cell.value
    return cell.display


def table_rows(table: Table) -> list[list]:
    return [[label for _key, label in table.columns]] + [
        [_cell_value(cell) for cell in row] for row in table.rows
    ]


def filename(section: Section, table: Table, extension: str) -> str:
    return f"dashboard-{section.key}-{table.key}.{extension}"


def as_csv(section: Section, table: Table) -> HttpResponse:
    buffer = io.StringIO()
    # A byte-order mark, or spreadsheet programs on Chinese Windows open UTF-8 as GBK.
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([section.title, table.title])
    writer.writerow([section.freshness])
    for row in table_rows(table):
        writer.writerow([str(value) for value in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename(section, table, "csv")}"'
    return response


def as_xlsx(section: Section, table: Table) -> HttpResponse:
    book = Workbook()
    sheet = book.active
    sheet.title = table.key[:31]
    sheet.append([str(section.title), str(table.title)])
    sheet.append([str(section.freshness)])
    for row in table_rows(table):
        sheet.append([value if isinstance(value, int | Decimal) else str(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename(section, table, "xlsx")}"'
    return response
