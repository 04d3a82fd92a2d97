"""The dependency audit's reading of pip-audit: a finding fails, a clean audit passes, an
audit the service could not answer is skipped with a message (never a flaky build)."""

from __future__ import annotations

import json
import sys

from tools.audit_dependencies import CLEAN, SKIPPED, VULNERABLE, audit


def _printing(report: object) -> list[str]:
    return [sys.executable, "-c", f"print({json.dumps(json.dumps(report))})"]


def test_a_known_vulnerability_fails_naming_the_fix() -> None:
    code, text = audit(_printing({"dependencies": [
        {"name": "flask", "version": "3.0.0", "vulns": [
            {"id": "GHSA-xxxx", "fix_versions": ["3.0.3"]}]},
        {"name": "numpy", "version": "2.0", "vulns": []}]}))
    assert code == VULNERABLE and "flask 3.0.0: GHSA-xxxx (fixed in: 3.0.3)" in text


def test_a_clean_audit_passes() -> None:
    code, text = audit(_printing({"dependencies": [
        {"name": "numpy", "version": "2.0", "vulns": []},
        {"name": "local-thing", "skip_reason": "not on PyPI"}]}))
    assert code == CLEAN and "no known vulnerability in 1 packages" in text


def test_an_unanswered_audit_is_skipped_with_a_message() -> None:
    code, text = audit(_printing({"dependencies": [
        {"name": "numpy", "skip_reason": "Dependency not found on PyPI"}]}))
    assert code == SKIPPED and "skipped" in text
    code, text = audit([sys.executable, "-c", "import sys; sys.exit('ConnectionError: no route')"])
    assert code == SKIPPED and "did not answer" in text and "no route" in text
    code, text = audit(["/nonexistent/pip-audit"])
    assert code == SKIPPED and "did not run" in text
