"""Both catalogues are complete, and what the templates and code mark for translation is in them."""

from pathlib import Path

import polib
import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
def test_catalogue_is_complete(lang):
    po = polib.pofile(str(ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"))
    assert len(po) > 50
    untranslated = [e.msgid for e in po if not e.translated()]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []


def test_placeholders_survive_translation():
    po = polib.pofile(str(ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    import re

    for entry in po:
        wanted = sorted(set(re.findall(r"%\(\w+\)s", entry.msgid)))
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            assert sorted(set(re.findall(r"%\(\w+\)s", text))) == wanted, entry.msgid


def test_chinese_is_the_default_and_english_on_request():
    from coop.roles import Role

    with translation.override("zh-hans"):
        assert str(Role.TELLER.label) == "柜员"
    with translation.override("en"):
        assert str(Role.TELLER.label) == "Teller"


def test_pages_default_to_chinese(client, db):
    body = client.get("/login/").content.decode()
    assert 'lang="zh-hans"' in body
    assert "登录" in body
