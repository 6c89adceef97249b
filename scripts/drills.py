"""Run the fault drills (tests/drills, marker ``drill``) and print what each one observed.

    .venv/bin/python scripts/drills.py            # every drill
    .venv/bin/python scripts/drills.py -k redis   # extra arguments go to pytest

The drills start their own Redis, PostgreSQL, gunicorn, Celery workers and beats on loopback;
each prints its actions and observations as it goes (pytest ``-s``) and records its figures in
``var/drills/summary.jsonl``, which becomes the table at the end. The exit status is pytest's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DRILL_DIR = ROOT / "var" / "drills"
SUMMARY = DRILL_DIR / "summary.jsonl"
JUNIT = DRILL_DIR / "junit.xml"


def outcomes() -> dict[str, str]:
    if not JUNIT.exists():
        return {}
    results = {}
    # The report pytest just wrote, not outside input.
    for case in ET.parse(JUNIT).getroot().iter("testcase"):  # noqa: S314
        name = case.get("name", "").removeprefix("test_").split("[")[0]
        if case.find("failure") is not None or case.find("error") is not None:
            results[name] = "FAILED"
        elif case.find("skipped") is not None:
            results[name] = "skipped"
        else:
            results[name] = "passed"
    return results


def observations() -> dict[str, list[tuple[str, object]]]:
    found: dict[str, list[tuple[str, object]]] = {}
    if SUMMARY.exists():
        for line in SUMMARY.read_text().splitlines():
            row = json.loads(line)
            found.setdefault(row["drill"], []).append((row["key"], row["value"]))
    return found


def table(results: dict[str, str], observed: dict[str, list[tuple[str, object]]]) -> str:
    names = list(dict.fromkeys([*results, *observed]))
    width = max((len(name) for name in names), default=10)
    lines = [f"{'drill'.ljust(width)}  result  observed", f"{'-' * width}  ------  --------"]
    for name in names:
        figures = observed.get(name) or [("", "")]
        for i, (key, value) in enumerate(figures):
            head = name.ljust(width) if i == 0 else " " * width
            result = results.get(name, "?").ljust(6) if i == 0 else " " * 6
            text = f"{key} = {json.dumps(value, ensure_ascii=False)}" if key else ""
            lines.append(f"{head}  {result}  {text}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    DRILL_DIR.mkdir(parents=True, exist_ok=True)
    for stale in (SUMMARY, JUNIT):
        stale.unlink(missing_ok=True)
    venv = ROOT / ".venv" / "bin" / "python"
    command = [
        str(venv) if venv.exists() else sys.executable,
        "-m",
        "pytest",
        "tests/drills",
        "-m",
        "drill",
        "-s",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={JUNIT}",
        "-o",
        "log_cli=false",
        *argv,
    ]
    print("$ " + " ".join(command), flush=True)
    status = subprocess.call(command, cwd=ROOT)
    print()
    print("Fault drills — summary")
    print(table(outcomes(), observations()))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
