"""What the fuzz suites of input files share (issue 19): how many cases to run, the per-case
time limit that counts as a hang and memory limit, the count of each outcome, and the check
that an error a person reads is short and clear.

``PLANNER_FUZZ_EXAMPLES=N`` runs N cases (at most 60 under ``CI=true``, where the runs are
derandomized); ``PLANNER_FUZZ_REPORT=FILE`` writes the outcome counts and the duration as
JSON (README, Development).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

CASE_TIMEOUT_S = 30
CASE_MEMORY_BYTES = 4 * 1024**3  # more than any case needs (the largest takes under 1 GB)
IN_CI = os.environ.get("CI") == "true"
# under CI the suites run this many derandomized cases at most (the time of `make test`)
CI_MAX_EXAMPLES = 60
MAX_LINE_CHARS = 2_000  # one problem, or a one-line error, as a person reads it

T = TypeVar("T")


def example_count(default: int) -> int:
    """The number of cases to run: ``PLANNER_FUZZ_EXAMPLES`` or ``default``, at most 60
    under ``CI=true``."""
    count = int(os.environ.get("PLANNER_FUZZ_EXAMPLES") or default)
    return min(count, CI_MAX_EXAMPLES) if IN_CI else count


class Hang(Exception):
    """A case ran past CASE_TIMEOUT_S."""


def _alarm(signum: int, frame: object) -> None:
    raise Hang(f"a fuzz case ran past {CASE_TIMEOUT_S} s")


def _address_space_bytes() -> int:
    """This process's virtual memory now (Linux), or 0 where it cannot be read."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def within_time_limit(run: Callable[[], T]) -> T:
    """``run()``, failing with :class:`Hang` when it takes longer than CASE_TIMEOUT_S, and
    with a MemoryError when it asks for more than CASE_MEMORY_BYTES beyond what the process
    holds (Linux): a case that would exhaust the machine fails the test instead of having
    the system kill the whole run."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_TIMEOUT_S)
    now = _address_space_bytes()
    limits = resource.getrlimit(resource.RLIMIT_AS)
    if now and limits[0] == resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_AS, (now + CASE_MEMORY_BYTES, limits[1]))
    try:
        return run()
    finally:
        resource.setrlimit(resource.RLIMIT_AS, limits)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def outcome_counts() -> Iterator[Counter[str]]:
    """The body of a module fixture: yields the counter the cases fill, then prints the
    counts and the duration (and writes them to ``PLANNER_FUZZ_REPORT`` when set)."""
    outcomes: Counter[str] = Counter()
    t0 = time.perf_counter()
    yield outcomes
    summary = {**dict(sorted(outcomes.items())), "cases": sum(outcomes.values()),
               "seconds": round(time.perf_counter() - t0, 1)}
    print(f"\nfuzz outcomes: {summary}")
    if os.environ.get("PLANNER_FUZZ_REPORT"):
        Path(os.environ["PLANNER_FUZZ_REPORT"]).write_text(json.dumps(summary, indent=1))


def assert_clear_message(text: str, *, names: tuple[str, ...] = (),
                         limit: int = MAX_LINE_CHARS) -> None:
    """An error message a person can read: not empty, no traceback, shorter than ``limit``,
    naming one of ``names`` (the files at fault) when given."""
    assert text.strip(), "an empty error message"
    assert "Traceback" not in text, text[:limit]
    assert len(text) < limit, f"a message of {len(text)} characters: {text[:300]}…"
    if names:
        assert any(name in text for name in names), (names, text[:limit])
