"""Reading paper-questionnaire files (CSV or XLSX) into a table of strings, and writing exports."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from surveys.services import ImportProblem, ImportRejected

MAX_BYTES = 5 * 1024 * 1024


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


def read_table(uploaded) -> list[list[str]]:
    """The rows of an uploaded .csv or .xlsx file; an unreadable file is an import problem."""
    name = (getattr(uploaded, "name", "") or "").lower()
    data = uploaded.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ImportRejected([ImportProblem(1, "", _("The file is larger than 5 MB."))])
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a broken file
            raise ImportRejected(
                [ImportProblem(1, "", _("The file is not a readable XLSX workbook."))]
            ) from None
        sheet = book.worksheets[0]
        rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        book.close()
        return rows
    if name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")  # Excel on Chinese Windows saves CSV as GBK
            except UnicodeDecodeError:
                raise ImportRejected(
                    [ImportProblem(1, "", _("The file is not UTF-8 or GBK text."))]
                ) from None
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    raise ImportRejected([ImportProblem(1, "", _("Upload a .csv or .xlsx file."))])


def _plain(value):
    if isinstance(value, Decimal):
        return float(value) if value is not None else None
    return "" if value is None else str(value)


def analysis_rows(analysis: dict) -> tuple[list[str], list[list]]:
    header = [
        _("Code"),
        _("Indicator"),
        _("Mean importance"),
        _("Mean satisfaction"),
        _("Gap"),
        _("Quadrant"),
        _("Responses"),
    ]
    rows = [
        [
            row["code"],
            row["name"],
            row["importance_mean"],
            row["satisfaction_mean"],
            row["gap"],
            row["quadrant"],
            row["n"],
        ]
        for row in analysis["indicators"]
    ]
    return header, rows


def analysis_csv(analysis: dict) -> str:
    header, rows = analysis_rows(analysis)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([str(v) for v in row])
    writer.writerow([])
    cross = analysis["crosshair"]
    writer.writerow([_("Crosshair"), cross["rule"], cross["importance"], cross["satisfaction"]])
    writer.writerow([_("Satisfaction index"), analysis["index"] if analysis["index"] else ""])
    # A BOM so that Excel opens the Chinese text as UTF-8.
    return "\ufeff" + out.getvalue()


def analysis_xlsx(analysis: dict, *, title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _("Indicators")[:31]
    header, rows = analysis_rows(analysis)
    sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append([_plain(v) if isinstance(v, Decimal) else v for v in row])
    summary = book.create_sheet(_("Summary")[:31])
    cross = analysis["crosshair"]
    for label, value in (
        (_("Sent"), analysis["sent"]),
        (_("Returned"), analysis["returned"]),
        (_("Invalid"), analysis["invalid"]),
        (_("Valid"), analysis["valid"]),
        (_("Satisfaction index"), _plain(analysis["index"])),
        (_("Crosshair"), cross["text"]),
    ):
        summary.append([label, value])
    levels = book.create_sheet(_("First-level")[:31])
    levels.append([_("Code"), _("Indicator"), _("Mean importance"), _("Satisfaction score")])
    for row in analysis["first_level"]:
        levels.append(
            [
                row["code"],
                row["name"],
                _plain(row["importance_mean"]),
                _plain(row["satisfaction_score"]),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# Indicator files: a header row, then one indicator per row. English or Chinese headers.
INDICATOR_COLUMNS = {
    "code": ("code", "编码", "指标编码"),
    "name": ("name", "名称", "指标名称"),
    "name_en": ("name_en", "english name", "英文名称"),
    "parent": ("parent", "上级", "上级指标"),
}


def read_indicators(table: list[list[str]]) -> list[dict]:
    """``framework_create``'s indicators from an uploaded table (``read_table``): columns code,
    name, name_en (optional) and parent (empty for a first-level indicator), in any order.
    Refused whole, with the row and column of each problem, when a column is missing or a row
    is incomplete; the service then checks the tree itself."""
    rows = [row for row in table if any(cell.strip() for cell in row)]
    if not rows:
        raise ImportRejected([ImportProblem(1, "", _("The file is empty."))])
    header = [cell.strip().lower() for cell in rows[0]]
    positions: dict[str, int] = {}
    for key, names in INDICATOR_COLUMNS.items():
        for index, title in enumerate(header):
            if title in names:
                positions[key] = index
                break
    missing = [key for key in ("code", "name", "parent") if key not in positions]
    if missing:
        raise ImportRejected(
            [
                ImportProblem(
                    1, key, _("The header row has no %(column)s column.") % {"column": key}
                )
                for key in missing
            ]
        )
    problems = []
    indicators = []
    for number, row in enumerate(rows[1:], start=2):
        values = {
            key: (row[index].strip() if index < len(row) else "")
            for key, index in positions.items()
        }
        for key in ("code", "name"):
            if not values[key]:
                problems.append(ImportProblem(number, key, _("This cell is empty.")))
        indicators.append(
            {
                "code": values["code"],
                "name": values["name"],
                "name_en": values.get("name_en", ""),
                "parent": values["parent"],
            }
        )
    if not indicators:
        problems.append(ImportProblem(2, "", _("The file lists no indicators.")))
    if problems:
        raise ImportRejected(problems)
    return indicators


def indicators_csv(framework) -> str:
    """The framework's indicators in the upload format (first-level ones before their children),
    the starting point of its next version."""
    from surveys.models import Indicator

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "name", "name_en", "parent"])
    indicators = list(
        Indicator.objects.filter(framework=framework)
        .select_related("parent")
        .order_by("position", "id")
    )
    for first in (ind for ind in indicators if ind.parent_id is None):
        writer.writerow([first.code, first.name, first.name_en, ""])
        for child in (ind for ind in indicators if ind.parent_id == first.pk):
            writer.writerow([child.code, child.name, child.name_en, first.code])
    return "\ufeff" + out.getvalue()  # a BOM, so Excel reads the Chinese names as UTF-8
