"""Read the public VRP benchmark formats into one neutral :class:`Instance`, and their BKS tables.

Formats (see ``shared/benchmarks/README.md``): Solomon VRPTW ``.txt``, Li & Lim PDPTW ``.txt``,
CVRPLIB/TSPLIB ``.vrp`` (EUC_2D), Cordeau MDVRP and PVRP ``.txt``. Nodes are always renumbered
*depots first, then customers* in file order; ``labels`` keeps each node's id in the file.
This module only reads data: distances are computed by the solvers' adapters and, separately,
by the feasibility checker.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path


class InstanceFormatError(ValueError):
    """A benchmark file could not be read; the message names the file and what was wrong."""


@dataclass(frozen=True)
class Instance:
    """A benchmark instance in neutral form (no solver units, no scaling).

    ``kind`` is ``vrptw``, ``cvrp``, ``pdptw``, ``mdvrp`` or ``pvrp``. ``rounding`` is the distance
    convention: ``double`` (Euclidean, full precision) or ``nint`` (each arc rounded to the
    nearest integer, TSPLIB EUC_2D). Travel time equals distance wherever times matter.
    ``ready``/``due`` are ``None`` when the instance has no time windows; ``due`` of a depot
    is the latest return time. ``fleet[d]`` is the number of vehicles at depot ``d``
    (``None`` = not limited). ``max_duration[d]`` limits travel + service per route
    (``None`` = no limit). In ``pdptw`` instances ``demand`` is signed (pickup +, delivery -)
    and ``pairs`` lists ``(pickup, delivery)`` node indices.

    A ``pvrp`` instance (periodic VRP) spans ``days`` days with one depot: ``fleet[0]``
    vehicles each day, ``day_capacity[t]`` and ``day_duration[t]`` (``None``: no limit) on
    day ``t``; ``patterns[i]`` lists node ``i``'s allowed visit-day combinations (each a
    sorted tuple of 0-based days; empty for the depot), of which a solution takes exactly
    one. ``capacity`` and ``max_duration`` then hold day 0's values.
    """

    name: str
    family: str
    kind: str
    coords: tuple[tuple[float, float], ...]
    n_depots: int
    demand: tuple[int, ...]
    service: tuple[float, ...]
    ready: tuple[float, ...] | None
    due: tuple[float, ...] | None
    capacity: tuple[int, ...]  # per depot (the vehicles based there)
    fleet: tuple[int | None, ...]  # per depot
    max_duration: tuple[float | None, ...]  # per depot
    rounding: str = "double"
    objective: str = "distance"  # or "vehicles_then_distance" (Li & Lim)
    pairs: tuple[tuple[int, int], ...] = ()
    labels: tuple[str, ...] = field(default=())
    days: int = 1
    patterns: tuple[tuple[tuple[int, ...], ...], ...] = ()
    day_capacity: tuple[int, ...] = ()
    day_duration: tuple[float | None, ...] = ()

    @property
    def n_nodes(self) -> int:
        return len(self.coords)

    @property
    def customers(self) -> range:
        return range(self.n_depots, self.n_nodes)

    @property
    def has_windows(self) -> bool:
        return self.ready is not None

    def with_customers(self, keep: list[int], *, name: str | None = None) -> Instance:
        """A sub-instance with the depots and the given customers (node indices), e.g. for
        tests; pairs are kept only when both ends are kept."""
        nodes = list(range(self.n_depots)) + [c for c in keep if c >= self.n_depots]
        new = {old: i for i, old in enumerate(nodes)}

        def pick(seq):  # noqa: ANN001, ANN202
            return None if seq is None else tuple(seq[i] for i in nodes)

        return Instance(
            name=name or f"{self.name}-sub{len(nodes) - self.n_depots}", family=self.family,
            kind=self.kind, coords=pick(self.coords), n_depots=self.n_depots,
            demand=pick(self.demand), service=pick(self.service), ready=pick(self.ready),
            due=pick(self.due), capacity=self.capacity, fleet=self.fleet,
            max_duration=self.max_duration, rounding=self.rounding, objective=self.objective,
            pairs=tuple((new[p], new[d]) for p, d in self.pairs if p in new and d in new),
            labels=pick(self.labels) if self.labels else (), days=self.days,
            patterns=pick(self.patterns) if self.patterns else (),
            day_capacity=self.day_capacity, day_duration=self.day_duration,
        )


@dataclass(frozen=True)
class BestKnown:
    """Best-known values for one instance; ``anchor`` is ``best_anchor_distance`` if given."""

    distance: float
    vehicles: int | None = None
    anchor: float | None = None


# ---------------------------------------------------------------------------------------------
# family names


def family_of(name: str, kind: str) -> str:
    """C101 -> C1, RC208 -> RC2, lrc104 -> LRC1, X-n101-k25 -> X, p07 -> p (MDVRP),
    p07 -> PVRP and pr03 -> PVRP-pr (periodic: the pr instances add service times and
    route duration limits)."""
    if kind == "pvrp":
        return "PVRP-pr" if name.startswith("pr") else "PVRP"
    if kind == "cvrp":
        return "X" if name.startswith("X-") else "CVRP"
    if kind == "mdvrp":
        return "p"
    m = re.match(r"([A-Za-z]+)(\d)", name)
    return (m.group(1).upper() + m.group(2)) if m else name


# ---------------------------------------------------------------------------------------------
# readers


def _numbers(line: str) -> list[float]:
    return [float(x) for x in line.split()]


def _int(x: float, path: Path, what: str) -> int:
    if x != int(x):
        raise InstanceFormatError(f"{path}: {what} must be an integer, got {x}")
    return int(x)


def read_solomon(path: Path) -> Instance:
    """Solomon VRPTW text format (VEHICLE / NUMBER CAPACITY / CUSTOMER table)."""
    lines = [ln.strip() for ln in Path(path).read_text().splitlines()]
    try:
        vi = next(i for i, ln in enumerate(lines) if ln.upper().startswith("VEHICLE"))
        fleet_line = next(ln for ln in lines[vi + 1:] if ln and ln[0].isdigit())
        ci = next(i for i, ln in enumerate(lines) if ln.upper().startswith("CUSTOMER"))
    except StopIteration:
        raise InstanceFormatError(
            f"{path}: not a Solomon file (no VEHICLE/CUSTOMER section)") from None
    n_veh, cap = (int(x) for x in fleet_line.split()[:2])
    rows = [_numbers(ln) for ln in lines[ci + 1:] if ln and ln[0].isdigit()]
    if not rows or any(len(r) < 7 for r in rows):
        raise InstanceFormatError(f"{path}: customer rows need 7 columns "
                                  "(id x y demand ready due service)")
    name = lines[0] or Path(path).stem
    return Instance(
        name=name, family=family_of(name, "vrptw"), kind="vrptw",
        coords=tuple((r[1], r[2]) for r in rows), n_depots=1,
        demand=tuple(_int(r[3], path, "demand") for r in rows),
        service=tuple(r[6] for r in rows), ready=tuple(r[4] for r in rows),
        due=tuple(r[5] for r in rows), capacity=(cap,), fleet=(n_veh,), max_duration=(None,),
        labels=tuple(str(int(r[0])) for r in rows),
    )


def read_li_lim(path: Path) -> Instance:
    """Li & Lim PDPTW: ``vehicles capacity speed`` then ``id x y demand ready due service
    pickup delivery`` rows; row 0 is the depot."""
    lines = [ln for ln in Path(path).read_text().splitlines() if ln.strip()]
    head = lines[0].split()
    n_veh, cap = int(head[0]), int(head[1])
    rows = [_numbers(ln) for ln in lines[1:]]
    if any(len(r) < 9 for r in rows):
        raise InstanceFormatError(f"{path}: Li & Lim rows need 9 columns")
    ids = [int(r[0]) for r in rows]
    index = {i: k for k, i in enumerate(ids)}
    pairs = []
    for k, r in enumerate(rows[1:], start=1):
        if r[3] > 0:
            if int(r[8]) not in index:
                raise InstanceFormatError(f"{path}: pickup {ids[k]} names unknown delivery "
                                          f"{int(r[8])}")
            pairs.append((k, index[int(r[8])]))
    name = Path(path).stem
    return Instance(
        name=name, family=family_of(name, "pdptw"), kind="pdptw",
        coords=tuple((r[1], r[2]) for r in rows), n_depots=1,
        demand=tuple(_int(r[3], path, "demand") for r in rows),
        service=tuple(r[6] for r in rows), ready=tuple(r[4] for r in rows),
        due=tuple(r[5] for r in rows), capacity=(cap,), fleet=(n_veh,), max_duration=(None,),
        objective="vehicles_then_distance", pairs=tuple(pairs),
        labels=tuple(str(i) for i in ids),
    )


def read_cordeau(path: Path) -> Instance:
    """Cordeau MDVRP: ``type m n t``, ``t`` lines ``D Q``, ``n`` customer lines
    ``i x y d q ...``, then ``t`` depot lines. ``m`` vehicles per depot; ``D = 0`` means no
    duration limit."""
    lines = [ln for ln in Path(path).read_text().splitlines() if ln.strip()]
    typ, m, n, t = (int(x) for x in lines[0].split()[:4])
    if typ != 2:
        raise InstanceFormatError(f"{path}: Cordeau problem type {typ} is not MDVRP (2)")
    limits = [_numbers(ln) for ln in lines[1:1 + t]]
    cust = [_numbers(ln) for ln in lines[1 + t:1 + t + n]]
    deps = [_numbers(ln) for ln in lines[1 + t + n:1 + t + n + t]]
    if len(cust) != n or len(deps) != t:
        raise InstanceFormatError(f"{path}: expected {n} customers and {t} depots")
    rows = deps + cust
    name = Path(path).stem
    return Instance(
        name=name, family=family_of(name, "mdvrp"), kind="mdvrp",
        coords=tuple((r[1], r[2]) for r in rows), n_depots=t,
        demand=(0,) * t + tuple(_int(r[4], path, "demand") for r in cust),
        service=(0.0,) * t + tuple(r[3] for r in cust), ready=None, due=None,
        capacity=tuple(int(q) for _, q in limits), fleet=(m,) * t,
        max_duration=tuple(d if d > 0 else None for d, _ in limits),
        labels=tuple(str(int(r[0])) for r in rows),
    )


def pattern_days(value: int, days: int) -> tuple[int, ...]:
    """The 0-based days of a Cordeau visit-day combination: the decimal value of a
    ``days``-bit string whose leftmost bit is day 1 (``days = 5``: 10 = 01010 -> (1, 3))."""
    return tuple(t for t in range(days) if value >> (days - 1 - t) & 1)


def read_cordeau_periodic(path: Path) -> Instance:
    """Cordeau PVRP: ``type m n t`` (type 1), ``t`` lines ``D Q`` (one per day), then one line
    per node ``i x y d q f a c1 .. ca``; node 0 is the depot. ``n`` counts the depot in some
    files, so the node lines are trusted; so are the combinations over ``f`` (p11's node 131
    says ``f = 0`` with one-day combinations, and the 1995–96 solution visits it once)."""
    lines = [ln for ln in Path(path).read_text().splitlines() if ln.strip()]
    typ, m, _n, t = (int(x) for x in lines[0].split()[:4])
    if typ != 1:
        raise InstanceFormatError(f"{path}: Cordeau problem type {typ} is not PVRP (1)")
    limits = [_numbers(ln) for ln in lines[1:1 + t]]
    rows = [_numbers(ln) for ln in lines[1 + t:]]
    if len(limits) != t or any(len(lim) < 2 for lim in limits) or not rows:
        raise InstanceFormatError(f"{path}: expected {t} lines `D Q` and then the nodes")
    patterns = []
    for k, r in enumerate(rows):
        if len(r) < 7 or len(r) != 7 + int(r[6]):
            raise InstanceFormatError(f"{path}: node line {k} needs `i x y d q f a` and then "
                                      f"`a` combinations, got {len(r)} numbers")
        combos = tuple(sorted({pattern_days(_int(c, path, "combination"), t) for c in r[7:]}))
        if k > 0 and (not combos or len({len(c) for c in combos}) != 1 or not combos[0]):
            raise InstanceFormatError(f"{path}: node {int(r[0])}: its combinations must all "
                                      f"have the same number of days (at least one)")
        patterns.append(combos if k > 0 else ())
    name = Path(path).stem
    capacity = tuple(int(q) for _, q in limits)
    duration = tuple(d if d > 0 else None for d, _ in limits)
    return Instance(
        name=name, family=family_of(name, "pvrp"), kind="pvrp",
        coords=tuple((r[1], r[2]) for r in rows), n_depots=1,
        demand=(0,) + tuple(_int(r[4], path, "demand") for r in rows[1:]),
        service=(0.0,) + tuple(r[3] for r in rows[1:]), ready=None, due=None,
        capacity=capacity[:1], fleet=(m,), max_duration=duration[:1],
        labels=tuple(str(int(r[0])) for r in rows), days=t, patterns=tuple(patterns),
        day_capacity=capacity, day_duration=duration,
    )


def read_vrplib(path: Path) -> Instance:
    """CVRPLIB/TSPLIB ``.vrp`` with ``EDGE_WEIGHT_TYPE: EUC_2D`` (nint arcs), one depot."""
    spec: dict[str, str] = {}
    sections: dict[str, list[list[float]]] = {}
    current = None
    for raw in Path(path).read_text().splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if ":" in line and not line[0].isdigit() and line[0] != "-":
            key, _, value = line.partition(":")
            spec[key.strip().upper()] = value.strip()
            current = None
        elif line.upper().endswith("SECTION"):
            current = line.upper()
            sections[current] = []
        elif current is not None:
            sections[current].append(_numbers(line))
    if spec.get("EDGE_WEIGHT_TYPE", "EUC_2D") != "EUC_2D":
        raise InstanceFormatError(f"{path}: EDGE_WEIGHT_TYPE {spec['EDGE_WEIGHT_TYPE']} "
                                  "is not supported (only EUC_2D)")
    coords = {int(r[0]): (r[1], r[2]) for r in sections.get("NODE_COORD_SECTION", [])}
    demand = {int(r[0]): int(r[1]) for r in sections.get("DEMAND_SECTION", [])}
    depots = [int(r[0]) for r in sections.get("DEPOT_SECTION", []) if r[0] >= 0] or [1]
    if len(depots) != 1 or not coords:
        raise InstanceFormatError(f"{path}: need coordinates and exactly one depot")
    order = depots + [i for i in sorted(coords) if i not in depots]
    name = spec.get("NAME", Path(path).stem).split()[0]
    return Instance(
        name=name, family=family_of(name, "cvrp"), kind="cvrp",
        coords=tuple(coords[i] for i in order), n_depots=1,
        demand=tuple(demand.get(i, 0) for i in order), service=(0.0,) * len(order),
        ready=None, due=None, capacity=(int(spec["CAPACITY"]),), fleet=(None,),
        max_duration=(None,), rounding="nint", labels=tuple(str(i) for i in order),
    )


def read_instance(path: str | Path) -> Instance:
    """Read any supported format, recognised from the file's content."""
    path = Path(path)
    if path.suffix == ".vrp":
        return read_vrplib(path)
    text = path.read_text()
    if re.search(r"^\s*VEHICLE\s*$", text, flags=re.M):
        return read_solomon(path)
    first = text.split("\n", 1)[0].split()
    if len(first) == 4:
        return read_cordeau_periodic(path) if first[0] == "1" else read_cordeau(path)
    if len(first) == 3:
        return read_li_lim(path)
    raise InstanceFormatError(f"{path}: unknown instance format (first line {first!r})")


def instance_files(folder: str | Path) -> list[Path]:
    """Instance files in a folder (``.txt`` and ``.vrp``; ``.sol``/``.csv``/docs skipped)."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir()
                  if p.suffix in (".txt", ".vrp") and p.name.lower() != "readme.txt")


def _float(value: str | None) -> float | None:
    try:
        x = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    return None if x is None or math.isnan(x) else x


def read_bks(folder: str | Path) -> dict[str, BestKnown]:
    """Best-known values from ``bks.csv`` in a folder ({} if absent). Solomon:
    ``bks_distance_only`` (+vehicles) and ``best_anchor_distance``; X: ``bks``; Li & Lim and
    Cordeau: ``bks_distance``/``bks_vehicles``."""
    path = Path(folder) / "bks.csv"
    if not path.exists():
        return {}
    out = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            dist = _float(row.get("bks_distance_only") or row.get("bks")
                          or row.get("bks_distance"))
            if dist is None:
                continue
            veh = _float(row.get("bks_distance_only_vehicles") or row.get("bks_vehicles"))
            out[row["instance"]] = BestKnown(
                distance=dist, vehicles=int(veh) if veh is not None else None,
                anchor=_float(row.get("best_anchor_distance")))
    return out


def read_periodic_solution(path: str | Path, inst: Instance
                           ) -> tuple[float, list[tuple[int, tuple[int, ...]]]]:
    """A published PVRP solution (``solutions_1996/*.res``): its stated total distance and
    its routes as ``(day, customer nodes)``, days 0-based. Lines: the total, then
    ``day vehicle duration load 0 c1 c2 .. 0`` per route."""
    lines = [ln.split() for ln in Path(path).read_text().splitlines() if ln.strip()]
    index = {label: i for i, label in enumerate(inst.labels)}
    routes = []
    for k, row in enumerate(lines[1:], start=2):
        nodes = [str(int(float(x))) for x in row[4:]]
        if len(nodes) < 2 or nodes[0] != "0" or nodes[-1] != "0" or any(
                x not in index for x in nodes):
            raise InstanceFormatError(f"{path}: line {k} is not `day vehicle duration load "
                                      "0 c1 .. 0` over the instance's nodes")
        routes.append((int(row[0]) - 1, tuple(index[x] for x in nodes[1:-1])))
    return float(lines[0][0]), routes
