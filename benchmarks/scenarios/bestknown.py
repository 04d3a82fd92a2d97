"""Best-known plans of the real-scenario benchmark: one JSON file per instance, committed.

A file holds the best plan any method has found for the instance, with what is needed to
trust and redo it::

    {
      "instance": "hg-72-province-5d",
      "instance_sha256": "…",           # of the instance file it was found for (stale if changed)
      "stops": 72,
      "served": 72,                     # communes served
      "cost_vnd": 61234000.0,           # the plan's kpis.cost_vnd
      "km": 2345.6,
      "method": "product-10x",          # product-10x | baseline-10x | product | baseline | …
      "seed": 1, "time_limit_s": 600.0,
      "commit": "c5fc51e…",             # `git rev-parse HEAD` of the code that found it
      "command": "python -m benchmarks.scenarios … --make-best-known",
      "date": "2026-12-05",
      "routes": {"truck-1": ["00778", …], …},   # visit order per trip (or vehicle)
      "replaces": {…}                   # the entry it replaced (without its own "replaces")
    }

"Better" is more communes served, then a lower ``cost_vnd``; a plan with checker findings
never becomes best-known. An entry whose ``instance_sha256`` is not the instance file's any more
is stale (the runner says so and measures against the run's best instead); any plan for
the new instance replaces it. A file is written or replaced only by a better plan
(:func:`update`), so best-known plans fixed before tuning stay until something beats them,
and the file says what did.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class BestKnown:
    instance: str
    instance_sha256: str
    stops: int
    served: int
    cost_vnd: float
    km: float
    method: str
    seed: int
    time_limit_s: float
    commit: str
    command: str
    date: str
    routes: dict[str, list[str]] = field(default_factory=dict)
    replaces: dict[str, Any] | None = None

    def better_than(self, other: BestKnown | None) -> bool:
        return other is None or (self.served, -self.cost_vnd) > (other.served, -other.cost_vnd)


def path_of(folder: Path, instance: str) -> Path:
    return folder / f"{instance}.json"


def read(folder: Path, instance: str) -> BestKnown | None:
    path = path_of(folder, instance)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    try:
        return BestKnown(**data)
    except TypeError as exc:
        raise ValueError(f"{path}: not a best-known plan file ({exc}); see "
                         "benchmarks/scenarios/bestknown.py for its fields") from None


def update(folder: Path, candidate: BestKnown) -> bool:
    """Write ``candidate`` as the instance's best-known plan if it is better than the one on
    file (or there is none); returns whether it was written."""
    current = read(folder, candidate.instance)
    # an entry for another version of the instance file is stale: any plan replaces it
    if current is not None and current.instance_sha256 == candidate.instance_sha256 \
            and not candidate.better_than(current):
        return False
    previous = None
    if current is not None:
        previous = {k: v for k, v in asdict(current).items() if k not in ("replaces", "routes")}
    entry = BestKnown(**{**asdict(candidate), "replaces": previous})
    folder.mkdir(parents=True, exist_ok=True)
    path_of(folder, candidate.instance).write_text(
        json.dumps(asdict(entry), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return True


# what the runner itself writes: changed there, the code that runs is still the commit's
OWN_OUTPUTS = ("benchmarks/scenarios/best-known/", "benchmarks/scenarios/results/")


def git_commit() -> str:
    """The commit of the code that runs; when the work tree has changes (but for the
    runner's own outputs, :data:`OWN_OUTPUTS`: a run that updates several best-known files
    writes them one after the other), ``+dirty:`` and the files changed."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain",
                                 "--untracked-files=no"], check=True, capture_output=True,
                                text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    changed = [line[3:] for line in status.splitlines()
               if line[3:] and not line[3:].startswith(OWN_OUTPUTS)]
    return head + (f"+dirty: {', '.join(changed)}" if changed else "")
