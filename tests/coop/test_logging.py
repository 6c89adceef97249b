import logging

from coop.logging import PersonalDataFilter, redact


def test_redact_masks_id_and_mobile_numbers():
    text = "customer 11010519491231002X called from 13812345678 about loan 42"
    assert redact(text) == "customer 1101**********002X called from 138****5678 about loan 42"


def test_filter_rewrites_log_records():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "id=%s", ("11010519491231002X",), None
    )
    PersonalDataFilter().filter(record)
    assert record.getMessage() == "id=1101**********002X"
