"""Audit every pin of requirements.lock for known vulnerabilities (pip-audit, PyPI advisories).

Exit 1 when any pinned version has a known vulnerability. A package the advisory service could not
answer for is listed as not audited, and the run says plainly that it proves nothing for it; set
AUDIT_STRICT=1 to fail on that too (on a machine that reaches the advisory service).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("pip-audit")),
            "--disable-pip",
            "--progress-spinner",
            "off",
            "-r",
            str(ROOT / "requirements.lock"),
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(result.stdout, result.stderr, sep="\n", file=sys.stderr)
        print("pip-audit gave no report", file=sys.stderr)
        return 1
    deps = report["dependencies"]
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = len(deps) - len(skipped)
    for dep in vulnerable:
        ids = ", ".join(v["id"] for v in dep["vulns"])
        print(f"VULNERABLE {dep['name']} {dep.get('version', '')}: {ids}")
    print(
        f"pip-audit: {audited} of {len(deps)} pins audited, "
        f"{len(vulnerable)} with known vulnerabilities"
    )
    if skipped:
        print(
            f"pip-audit: {len(skipped)} pins NOT audited (advisory service unreachable or package "
            f"unknown), e.g. {skipped[0]['skip_reason']}"
        )
    if vulnerable:
        return 1
    if skipped and os.environ.get("AUDIT_STRICT") == "1":
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
