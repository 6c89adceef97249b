"""Paper questionnaires from CSV or XLSX: all rows or none, problems by row and column."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from surveys.models import Invitation, Response
from tests.surveys.conftest import CODES, HAND_RESPONSES, make_customers

HEADER = ["respondent"] + [f"{c}_{p}" for c in CODES for p in ("importance", "satisfaction")]


def row_for(reference: str, values: dict) -> list[str]:
    cells = [reference]
    for code in CODES:
        imp, sat = values[code]
        cells += [str(imp), str(sat)]
    return cells


def csv_file(rows: list[list[str]], name="paper.csv") -> SimpleUploadedFile:
    text = "\n".join(",".join(r) for r in rows) + "\n"
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def xlsx_file(rows: list[list]) -> SimpleUploadedFile:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile("paper.xlsx", out.getvalue())


@pytest.fixture
def paper(org, sv, small_framework, make_campaign):
    make_customers(org, sv.am, 3)
    campaign = make_campaign(small_framework)
    refs = list(
        Invitation.objects.filter(campaign=campaign)
        .order_by("reference")
        .values_list("reference", flat=True)
    )
    return campaign, refs


def post(client, campaign, upload):
    return client.post(f"/api/v1/surveys/campaigns/{campaign.pk}/import/", {"file": upload})


def test_csv_import(client, sv, paper):
    campaign, refs = paper
    client.force_login(sv.manager)
    rows = [HEADER] + [row_for(ref, v) for ref, v in zip(refs, HAND_RESPONSES, strict=True)]
    answer = post(client, campaign, csv_file(rows))
    assert answer.status_code == 201, answer.content
    assert answer.json() == {"imported": 3}
    assert Response.objects.filter(campaign=campaign, channel="paper", is_valid=True).count() == 3
    assert Invitation.objects.filter(campaign=campaign, responded_at__isnull=True).count() == 0


def test_xlsx_import_with_numbers(client, sv, paper):
    campaign, refs = paper
    client.force_login(sv.manager)
    rows = [HEADER] + [
        [ref] + [int(v) for v in row_for(ref, values)[1:]]
        for ref, values in zip(refs[:2], HAND_RESPONSES, strict=False)
    ]
    answer = post(client, campaign, xlsx_file(rows))
    assert answer.status_code == 201, answer.content
    assert Response.objects.filter(campaign=campaign).count() == 2


def test_wrong_header_imports_nothing(client, sv, paper):
    campaign, refs = paper
    client.cookies["django_language"] = "en"
    client.force_login(sv.manager)
    header = HEADER.copy()
    header[3] = "P9_importance"
    rows = [header, row_for(refs[0], HAND_RESPONSES[0])]
    answer = post(client, campaign, csv_file(rows))
    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        {"row": 1, "column": "P9_importance", "message": "Unknown column."},
        {"row": 1, "column": "P2_importance", "message": "The column is missing."},
    ]
    assert Response.objects.count() == 0


def test_value_six_and_blank_are_reported_by_row_and_column(client, sv, paper):
    campaign, refs = paper
    client.cookies["django_language"] = "en"
    client.force_login(sv.manager)
    good = row_for(refs[0], HAND_RESPONSES[0])
    six = row_for(refs[1], HAND_RESPONSES[1])
    six[HEADER.index("Q1_satisfaction")] = "6"
    blank = row_for(refs[2], HAND_RESPONSES[2])
    blank[HEADER.index("P2_importance")] = ""
    answer = post(client, campaign, csv_file([HEADER, good, six, blank]))
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "import_rejected"
    assert body["errors"] == [
        {"row": 3, "column": "Q1_satisfaction", "message": "6 is not a whole number from 1 to 5."},
        {"row": 4, "column": "P2_importance", "message": "The value is blank."},
    ]
    # All or nothing: the good first row was not imported either.
    assert Response.objects.count() == 0
    assert Invitation.objects.filter(responded_at__isnull=False).count() == 0


def test_unknown_and_repeated_respondents(client, sv, paper):
    campaign, refs = paper
    client.cookies["django_language"] = "en"
    client.force_login(sv.manager)
    rows = [
        HEADER,
        row_for(refs[0], HAND_RESPONSES[0]),
        row_for(refs[0], HAND_RESPONSES[1]),
        row_for("S0-99999", HAND_RESPONSES[2]),
    ]
    body = post(client, campaign, csv_file(rows)).json()
    assert [(e["row"], e["column"]) for e in body["errors"]] == [
        (3, "respondent"),
        (4, "respondent"),
    ]
    assert body["errors"][0]["message"] == "Also on row 2."
    assert Response.objects.count() == 0


def test_not_a_spreadsheet(client, sv, paper):
    campaign, _refs = paper
    client.force_login(sv.manager)
    answer = post(client, campaign, SimpleUploadedFile("paper.pdf", b"%PDF-1.4"))
    assert answer.status_code == 400
    assert Response.objects.count() == 0


def test_import_needs_permission(client, sv, paper):
    campaign, refs = paper
    client.force_login(sv.am)
    rows = [HEADER, row_for(refs[0], HAND_RESPONSES[0])]
    assert post(client, campaign, csv_file(rows)).status_code == 403
    assert Response.objects.count() == 0


def test_import_page_shows_problems(client, sv, paper):
    campaign, refs = paper
    client.cookies["django_language"] = "en"
    client.force_login(sv.manager)
    six = row_for(refs[1], HAND_RESPONSES[1])
    six[1] = "6"
    page = client.post(
        f"/surveys/campaigns/{campaign.pk}/import/", {"file": csv_file([HEADER, six])}
    )
    assert page.status_code == 200
    assert b"P1_importance" in page.content
    assert b"6 is not a whole number from 1 to 5." in page.content
    assert Response.objects.count() == 0
