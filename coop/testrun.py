"""``make test``: the checks and the whole suite in one run, then stop what the run started.

The embedded servers are started once here, so the catalogue compilation, the migration check
and pytest share them, and a clean machine is left as clean as it was found.
"""

from __future__ import annotations

import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    from coop import embedded

    os.environ["DJANGO_SETTINGS_MODULE"] = "coop.settings.test"
    started_pg = started_redis = False
    if not os.environ.get("DATABASE_URL"):
        started_pg = embedded.ensure_postgres()
    if not os.environ.get("REDIS_URL"):
        started_redis = embedded.ensure_redis()
    steps = [
        ["manage.py", "compile_catalogues"],
        ["manage.py", "makemigrations", "--check", "--dry-run"],
        ["-m", "pytest", *argv],
    ]
    try:
        for step in steps:
            rc = subprocess.call([sys.executable, *step])
            if rc != 0:
                return rc
        return 0
    finally:
        if started_redis:
            embedded.stop_redis()
        if started_pg:
            embedded.stop_postgres()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
