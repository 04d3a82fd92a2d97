"""Audit the installed environment for known vulnerabilities with pip-audit (a well-kept
tool of the Python Packaging Authority), in a way CI can always run:

    python -m tools.audit_dependencies        # what `make audit` runs

Exit 0 when nothing known is found, 1 when pip-audit reports a vulnerability (each is listed
with the version that fixes it), and 0 with a line saying "skipped" when the vulnerability
service cannot be reached or knows none of the installed packages (a mirror of the package
index without its vulnerability data, or no network): an audit that could not run is never
a failed build, and never a silent pass either.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence

SKIPPED = 0
CLEAN = 0
VULNERABLE = 1


def audit(command: Sequence[str]) -> tuple[int, str]:
    """Run pip-audit (``command``, JSON output) and say what it found: exit code, text."""
    try:
        proc = subprocess.run(list(command), capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return SKIPPED, f"dependency audit skipped: pip-audit did not run ({exc})"
    try:
        report = json.loads(proc.stdout)
        deps = report["dependencies"]
    except (ValueError, KeyError, TypeError):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return SKIPPED, ("dependency audit skipped: the vulnerability service did not answer "
                         f"({tail[0][:200]})")
    audited = [d for d in deps if "skip_reason" not in d]
    if not audited:
        return SKIPPED, (f"dependency audit skipped: the vulnerability service knows none of "
                         f"the {len(deps)} installed packages (a package mirror without "
                         "vulnerability data?)")
    found = [(d["name"], d.get("version", "?"), v) for d in audited for v in d.get("vulns", ())]
    if not found:
        return CLEAN, (f"dependency audit: no known vulnerability in {len(audited)} packages"
                       f" ({len(deps) - len(audited)} could not be audited)")
    lines = [f"dependency audit: {len(found)} known vulnerabilities"]
    for name, version, vuln in found:
        fixed = ", ".join(vuln.get("fix_versions") or ()) or "no fixed version yet"
        lines.append(f"  {name} {version}: {vuln.get('id')} (fixed in: {fixed})")
    return VULNERABLE, "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    extra = list(sys.argv[1:] if argv is None else argv)
    code, text = audit([sys.executable, "-m", "pip_audit", "--progress-spinner", "off",
                        "-f", "json", *extra])
    print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
