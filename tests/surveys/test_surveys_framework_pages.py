"""Head office creates indicator frameworks and their next versions in the browser: a CSV or
XLSX file of indicators, refused whole with the row and column of each problem; a framework's
indicators download in the same format, so a new version starts from the current one."""

from __future__ import annotations

import csv
import io

from django.urls import reverse

from surveys.models import Framework, Indicator
from tests.surveys.test_surveys_import import csv_file, xlsx_file

ROWS = [
    ["code", "name", "name_en", "parent"],
    ["S", "服务", "Service", ""],
    ["S1", "态度", "Attitude", "S"],
    ["S2", "效率", "Speed", "S"],
    ["P", "产品", "Product", ""],
    ["P1", "利率", "Rate", "P"],
]


def post(client, file, **fields):
    data = {"code": "svc", "name": "服务评价", "name_en": "Service", "description": "", **fields}
    return client.post(reverse("surveys:framework_new"), {**data, "file": file})


def tree(framework) -> list[tuple]:
    return sorted(
        Indicator.objects.filter(framework=framework).values_list(
            "code", "name", "name_en", "parent__code"
        ),
        key=lambda row: row[0],
    )


def test_head_office_creates_a_framework_from_a_csv_file(client, sv):
    client.force_login(sv.director)
    assert (
        'data-testid="framework-new"' in client.get(reverse("surveys:frameworks")).content.decode()
    )

    response = post(client, csv_file(ROWS))

    framework = Framework.objects.get(code="svc")
    assert response.status_code == 302
    assert response["Location"] == reverse("surveys:framework", args=[framework.pk])
    assert framework.version == 1 and framework.created_by == sv.director
    assert tree(framework) == [
        ("P", "产品", "Product", None),
        ("P1", "利率", "Rate", "P"),
        ("S", "服务", "Service", None),
        ("S1", "态度", "Attitude", "S"),
        ("S2", "效率", "Speed", "S"),
    ]


def test_the_next_version_starts_from_the_downloaded_indicators(client, sv, small_framework):
    client.force_login(sv.director)
    page = client.get(reverse("surveys:framework_new") + f"?from={small_framework.pk}")
    assert page.status_code == 200
    assert page.context["form"].initial["code"] == small_framework.code

    download = client.get(reverse("surveys:framework_indicators", args=[small_framework.pk]))
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    text = download.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["code", "name", "name_en", "parent"]
    rows.append(["Q4", "便利", "Convenience", "Q"])  # one indicator more

    response = post(client, xlsx_file(rows), code=small_framework.code, name=small_framework.name)

    assert response.status_code == 302
    latest = Framework.objects.filter(code=small_framework.code).order_by("-version").first()
    assert latest.version == small_framework.version + 1
    assert tree(latest) == sorted([*tree(small_framework), ("Q4", "便利", "Convenience", "Q")])
    # The old version is unchanged: campaigns keep the version they used.
    assert len(tree(small_framework)) == 7


def test_a_bad_file_is_refused_whole_with_rows_and_columns(client, sv):
    client.force_login(sv.director)
    client.cookies["django_language"] = "en"
    bad = [*ROWS, ["", "无编码", "", "S"], ["P2", "", "", "P"]]

    response = post(client, csv_file(bad))

    assert response.status_code == 400
    problems = [(p.row, p.column) for p in response.context["problems"]]
    assert problems == [(7, "code"), (8, "name")]
    assert "nothing was imported" in response.content.decode()
    assert not Framework.objects.filter(code="svc").exists()

    # A tree the service refuses: a second-level indicator under an unknown parent.
    orphan = post(client, csv_file([*ROWS, ["X1", "孤儿", "", "X"]]))
    assert orphan.status_code == 400
    assert "is not a first-level indicator" in orphan.content.decode()
    missing_column = post(client, csv_file([["code", "name"], ["S", "服务"]]))
    assert missing_column.status_code == 400
    assert [p.column for p in missing_column.context["problems"]] == ["parent"]
    too_long = post(client, csv_file([*ROWS, ["S3", "长" * 101, "", "S"]]))
    assert too_long.status_code == 400
    assert not Framework.objects.filter(code="svc").exists()


def test_only_holders_of_the_permission_create_frameworks(client, sv):
    for user in (sv.manager, sv.am, sv.teller):
        client.force_login(user)
        assert client.get(reverse("surveys:framework_new")).status_code == 403
        assert post(client, csv_file(ROWS)).status_code == 403
    assert not Framework.objects.filter(code="svc").exists()
