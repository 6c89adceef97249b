"""Fill the English catalogue from the msgids and list what Simplified Chinese still lacks.

Usage: python scripts/i18n_check.py          (after `manage.py makemessages -l zh_Hans -l en`)
The English msgids are the source text, so English msgstrs equal them; Chinese ones are written
by hand in locale/zh_Hans/LC_MESSAGES/django.po. Exits 1 while any Chinese entry is missing.
"""

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    en = polib.pofile(str(ROOT / "locale/en/LC_MESSAGES/django.po"))
    for entry in en:
        if entry.msgid_plural:
            entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
        else:
            entry.msgstr = entry.msgid
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    en.save()
    zh = polib.pofile(str(ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"))
    missing = [e.msgid for e in zh if not e.translated() or "fuzzy" in e.flags]
    for msgid in missing:
        print(f"missing zh_Hans: {msgid!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
