"""The personal data capture itself: what it reports, what it lets through."""

import logging
import zlib

from coop.middleware import FINDINGS, personal_numbers, response_text
from coop.roles import Role


def _drain():
    found = [(f.where, f.value) for f in FINDINGS]
    FINDINGS.clear()
    return found


def test_boundaries_ignore_longer_digit_runs():
    text = (
        "account 62284801234567890123 at 20261124102030123456, ts 1732435200123, "
        "id 11010519491231002X, mobile 13812345678, contract HT13812345678"
    )
    assert personal_numbers(text) == ["11010519491231002X", "13812345678"]


def test_a_log_record_with_a_full_number_is_reported():
    logging.getLogger("coop.test").warning("caller %s", "13812345678")
    assert _drain() == [("log", "13812345678")]


def test_a_number_in_a_url_the_application_accepts_is_reported(client, make_staff):
    client.force_login(make_staff(Role.BRANCH_MANAGER))
    response = client.get("/customers/visits/", {"note": "13812345678"})
    assert response.status_code == 200
    assert _drain() == [("url", "13812345678")]


def test_a_number_in_a_url_the_application_refuses_is_not_held_against_it(client, make_staff):
    # The customer list drops a number typed into its filter and redirects without it.
    client.force_login(make_staff(Role.BRANCH_MANAGER))
    response = client.get("/customers/", {"q": "11010519491231002X"})
    assert response.status_code == 302
    assert "11010519491231002X" not in response["Location"]
    assert _drain() == []


def test_pdf_text_is_read_from_compressed_cid_strings():
    # reportlab writes CID text as UTF-16 bytes, with octal escapes, in Flate streams.
    content = b"BT (\\0001\\0003\\0008\\0001\\0002\\0003\\0004\\0005\\0006\\0007\\0008) Tj ET"
    pdf = b"%PDF-1.4\n1 0 obj<<>>stream\n" + zlib.compress(content) + b"\nendstream\nendobj"
    assert personal_numbers(response_text("application/pdf", pdf)) == ["13812345678"]


def test_a_form_may_redisplay_what_the_user_just_submitted(client, make_staff):
    client.force_login(make_staff(Role.ACCOUNT_MANAGER))
    typed = {"kind": "individual", "id_number": "11010519491231002X", "mobile": "13812345678"}
    response = client.post("/customers/new/", typed)  # no name: the form comes back
    assert response.status_code == 400
    body = response.content.decode()
    assert "11010519491231002X" in body
    assert "13812345678" in body
    assert _drain() == []


def test_the_same_number_is_reported_in_an_answer_to_another_request(client, make_staff):
    client.force_login(make_staff(Role.ACCOUNT_MANAGER))
    client.get("/customers/new/", {"note": "x"})
    from coop.middleware import report_personal_data

    report_personal_data(where="body", path="/p/", view="v", text="id 11010519491231002X")
    assert _drain() == [("body", "11010519491231002X")]


def test_live_server_answers_are_captured_too(live_server):
    # What a browser test sees comes through the same middleware in the live server's thread.
    from urllib.request import urlopen

    with urlopen(f"{live_server.url}/login/?next=/x/13812345678/") as response:  # noqa: S310
        assert response.status == 200
    assert _drain() == [("url", "13812345678")]
