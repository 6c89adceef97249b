"""Printable documents: the loan contract and the disbursement notice in triplicate.

The HTML print views and the PDFs show the same fields, built once here (``contract_document``,
``notice_document``). PDFs use reportlab's built-in CID font STSong-Light, which covers Chinese
and Latin text without shipping font files. ID numbers appear masked on every document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

from django.utils.translation import gettext as _

from coop.money import format_yuan
from customers.validators import mask_id_number
from loans.models import Contract, DayCount, DisbursementNotice, Loan, RepaymentMethod
from loans.selectors_lifecycle import Usage
from loans.selectors_origination import format_rate

FONT = "STSong-Light"

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ["", "拾", "佰", "仟"]
_BIG_UNITS = ["", "万", "亿", "万亿"]


def amount_in_words(amount: Decimal) -> str:
    """人民币大写 as written on banking documents: 12,345.60 → 壹万贰仟叁佰肆拾伍元陆角整."""
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount < 0:
        return "负" + amount_in_words(-amount)
    yuan = int(amount)
    fen_total = int((amount - yuan) * 100)
    jiao, fen = divmod(fen_total, 10)
    text = ""
    if yuan:
        groups = []
        while yuan:
            groups.append(yuan % 10000)
            yuan //= 10000
        parts = []
        zero_pending = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                zero_pending = True
                continue
            if parts and (zero_pending or group < 1000):
                parts.append("零")
            parts.append(_group_in_words(group) + _BIG_UNITS[index])
            zero_pending = False
        text = "".join(parts) + "元"
    if not jiao and not fen:
        return (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif text:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return text


def _group_in_words(group: int) -> str:
    digits = [int(d) for d in f"{group:04d}"]
    out = ""
    zero = False
    started = False
    for position, digit in enumerate(digits):
        unit = _SMALL_UNITS[3 - position]
        if digit == 0:
            zero = started
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + unit
        started = True
    return out


@dataclass
class Document:
    title: str
    number: str
    rows: list[tuple[str, str]]
    clauses: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)

    @property
    def row_pairs(self) -> list[list[tuple[str, str]]]:
        """The rows two by two, for the compact four-column layout of the notice copies."""
        return [self.rows[i : i + 2] for i in range(0, len(self.rows), 2)]


def _method_label(value: str) -> str:
    return str(RepaymentMethod(value).label) if value in RepaymentMethod.values else value


def contract_document(
    contract: Contract, loan: Loan | None, guarantee: Usage | None, lender: str
) -> Document:
    customer = contract.customer
    identity = (
        mask_id_number(customer.id_number or "") if customer.id_number else customer.credit_code
    )
    rows = [
        (_("Lender"), lender),
        (_("Borrower"), customer.name),
        (_("ID number / credit code"), identity or "—"),
        (_("Product"), loan.product.name if loan else "—"),
        (_("Loan number"), loan.number if loan else "—"),
        (_("Amount"), format_yuan(contract.amount)),
        (_("Amount in words"), "人民币" + amount_in_words(contract.amount)),
        (_("Term"), _("%(months)s months") % {"months": contract.term_months}),
        (_("Annual rate"), format_rate(contract.annual_rate)),
        (_("Repayment method"), _method_label(contract.repayment_method)),
    ]
    if loan is not None and loan.disbursed_on:
        rows.append((_("Day count"), str(DayCount(loan.day_count).label)))
    if contract.credit_line_id:
        rows.append((_("Credit line"), contract.credit_line.number))
    if contract.application_id:
        rows.append((_("Application"), contract.application.number))
    if contract.guarantee_contract_id:
        gc = contract.guarantee_contract
        rows.append((_("Guarantee contract"), f"{gc.number} · {gc.guarantor_name}"))
        if guarantee is not None:
            rows.append(
                (
                    _("Guaranteed maximum / used / remaining"),
                    f"{format_yuan(guarantee.limit)} / {format_yuan(guarantee.used)} / "
                    f"{format_yuan(guarantee.available)}",
                )
            )
    rows.append(
        (_("Signed on"), str(contract.signed_on) if contract.signed_on else _("Not signed yet"))
    )
    clauses = [
        _("The lender lends the borrower the amount above for the purpose agreed in the file."),
        _("The borrower repays principal and interest on the due dates of the schedule."),
        _(
            "Overdue principal bears penalty interest at the contract rate increased as the "
            "loan policy provides, counted per day from the due date."
        ),
        _(
            "The borrower may repay early; early repayments shorten the term from the last "
            "installment backwards."
        ),
        _("The contract takes effect when both parties have signed it."),
    ]
    return Document(
        title=_("Loan contract"),
        number=contract.number,
        rows=rows,
        clauses=clauses,
        signatures=[_("Lender (seal)"), _("Borrower (signature)"), _("Date")],
    )


def notice_copies() -> list[str]:
    return [
        _("Copy 1 · kept by the disbursement centre"),
        _("Copy 2 · for accounting"),
        _("Copy 3 · kept by the account manager"),
    ]


def notice_document(notice: DisbursementNotice) -> Document:
    contract = notice.contract
    loan = contract.loan
    rows = [
        (_("Borrower"), contract.customer.name),
        (_("Branch"), contract.branch.name),
        (_("Contract number"), contract.number),
        (_("Loan number"), loan.number),
        (_("Amount"), format_yuan(notice.amount)),
        (_("Amount in words"), "人民币" + amount_in_words(notice.amount)),
        (
            _("Term and rate"),
            _("%(months)s months at %(rate)s")
            % {"months": contract.term_months, "rate": format_rate(contract.annual_rate)},
        ),
        (_("Repayment method"), _method_label(contract.repayment_method)),
        (_("Payee account"), notice.account_number),
        (_("Account manager"), loan.account_manager.display_name),
        (
            _("Issued by"),
            f"{notice.issued_by.display_name} · {notice.issued_at:%Y-%m-%d}",
        ),
    ]
    return Document(
        title=_("Disbursement notice"),
        number=notice.number,
        rows=rows,
        signatures=[_("Reviewer"), _("Disbursement centre"), _("Teller")],
    )


# --- rendering ----------------------------------------------------------------------------------


def _styles():
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    base = ParagraphStyle("base", fontName=FONT, fontSize=10.5, leading=15, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=9, leading=12),
        "title": ParagraphStyle(
            "title", parent=base, fontSize=18, leading=24, alignment=1, spaceAfter=4
        ),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=9, alignment=1),
        "copy": ParagraphStyle("copy", parent=base, fontSize=12, leading=16, alignment=1),
    }


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(rows: list[tuple[str, str]], styles, width: float, *, compact: bool = False):
    """Label/value rows; ``compact`` puts two pairs on a line (four columns) so that three
    copies of a notice fit one A4 page."""
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    style = styles["small"] if compact else styles["base"]
    cells = [
        [Paragraph(_escape(label), style), Paragraph(_escape(value), style)]
        for label, value in rows
    ]
    if compact:
        data = []
        for i in range(0, len(cells), 2):
            pair = cells[i] + (cells[i + 1] if i + 1 < len(cells) else ["", ""])
            data.append(pair)
        widths = [width * 0.16, width * 0.34, width * 0.16, width * 0.34]
        label_columns = [0, 2]
    else:
        data = cells
        widths = [width * 0.3, width * 0.7]
        label_columns = [0]
    table = Table(data, colWidths=widths)
    padding = 2 if compact else 4
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), padding),
        ("BOTTOMPADDING", (0, 0), (-1, -1), padding),
    ]
    for column in label_columns:
        commands.append(("BACKGROUND", (column, 0), (column, -1), colors.HexColor("#f0f0f0")))
    table.setStyle(TableStyle(commands))
    return table


def _signature_row(labels: list[str], styles, width: float):
    from reportlab.platypus import Paragraph, Table, TableStyle

    cells = [Paragraph(_escape(label) + "：", styles["small"]) for label in labels]
    table = Table([cells], colWidths=[width / len(labels)] * len(labels))
    table.setStyle(TableStyle([("TOPPADDING", (0, 0), (-1, -1), 8)]))
    return table


def render_contract_pdf(document: Document) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = _styles()
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{document.title} {document.number}",
    )
    width = A4[0] - 40 * mm
    story = [
        Paragraph(_escape(document.title), styles["title"]),
        Paragraph(_escape(_("No. %(number)s") % {"number": document.number}), styles["subtitle"]),
        Spacer(1, 6 * mm),
        _table(document.rows, styles, width),
        Spacer(1, 6 * mm),
    ]
    for index, clause in enumerate(document.clauses, start=1):
        story.append(Paragraph(_escape(f"{index}. {clause}"), styles["base"]))
    story += [Spacer(1, 14 * mm), _signature_row(document.signatures, styles, width)]
    doc.build(story)
    return buffer.getvalue()


def render_notice_pdf(document: Document) -> bytes:
    """Three copies on one A4 page, separated by cut lines."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import HRFlowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer

    styles = _styles()
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=8 * mm,
        bottomMargin=8 * mm,
        title=f"{document.title} {document.number}",
    )
    width = A4[0] - 30 * mm
    story = []
    for index, copy in enumerate(notice_copies()):
        block = [
            Paragraph(
                _escape(f"{document.title}（{copy}）"),
                styles["copy"],
            ),
            Paragraph(
                _escape(_("No. %(number)s") % {"number": document.number}), styles["subtitle"]
            ),
            Spacer(1, 1.5 * mm),
            _table(document.rows, styles, width, compact=True),
            _signature_row(document.signatures, styles, width),
        ]
        story.append(KeepTogether(block))
        if index < 2:
            story += [
                Spacer(1, 2 * mm),
                HRFlowable(width="100%", dash=(3, 3), thickness=0.5),
                Spacer(1, 2 * mm),
            ]
    doc.build(story)
    return buffer.getvalue()
