"""Reference data of the programme's region, shipped in ``geodata/data/region``.

The 14 former provinces (before 1 July 2025) and the 10 provinces of 2025 that contain them:
their outlines, the 2025 communes (codes, names, points, population, area, predecessor
units, the former province each came from through the official crosswalk), the crosswalk
itself, the 14 former provincial libraries (approximate points) and the former district
seats (hub candidates). :func:`load_region` reads it; :func:`Region.province` finds a province
by its 2025 or former name; :func:`validate_communes` finds the known faults of the sources
(a point outside the former province its commune came from, two points that look swapped,
an implausible population), which the builder (``python -m geodata.build_region``) writes
into the data as flags rather than fixing or dropping anything.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.datasets import DATA_DIR
from geodata.errors import DataFileMissingError, GeodataError

REGION_DIR = DATA_DIR / "region"
REGION_FILES = ("communes_2025.csv", "crosswalk.csv", "provinces.parquet", "libraries.csv",
                "district_seats.csv")
# population plausibility (validate_communes): no commune or ward of the region comes near
# either figure (the largest, Phường Bắc Giang, has 122,838 people on 23 km², 5,300/km²); a
# whole province of the region has 0.3-1.9 million people
MAX_COMMUNE_POPULATION = 250_000
MAX_DENSITY_PER_KM2 = 30_000.0
FORMER_WORDS = ("former province", "former", "cu", "old", "truoc 2025", "pre-2025")


class UnknownProvinceError(GeodataError, KeyError):
    """A province name that is neither a 2025 province nor a former one of the region."""

    def __str__(self) -> str:
        return str(self.args[0])


def fold(text: str) -> str:
    """Lower case, without Vietnamese diacritics (đ -> d), words joined by '-': the key a
    name is looked up by (``"Tỉnh Lào Cai"`` -> ``"tinh-lao-cai"``)."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return "-".join(re.findall(r"[a-z0-9]+", plain))


@dataclass(frozen=True)
class Province:
    """A province of the region: ``kind`` "2025" or "former" (before 1 July 2025)."""

    key: str  # e.g. "lao-cai" (2025) or "former-yen-bai"
    kind: str
    code: str  # GSO code (2025 codes for 2025 provinces, pre-2025 codes for former ones)
    name: str  # e.g. "Lào Cai"
    area_km2: float
    communes: int  # 2025 communes in it (former: those whose predecessors were all in it)
    partial: bool = False  # the outline leaves out a part the sources do not cover
    note: str = ""
    parts: tuple[str, ...] = ()  # 2025: the keys of the former provinces it is made of
    successor: str = ""  # former: the key of the 2025 province it is now part of

    @property
    def label(self) -> str:
        return f"{self.name} (former province)" if self.kind == "former" else self.name


@dataclass(frozen=True)
class Finding:
    """A fault of the source data the validator found in one commune."""

    commune_code: str
    kind: str  # "point_outside_former_province", "points_look_swapped", "population_*"
    detail: str

    def __str__(self) -> str:
        return f"{self.commune_code}: {self.kind}: {self.detail}"


@dataclass(frozen=True, eq=False)
class Region:
    """The region's reference tables, read lazily (see the module doc)."""

    path: Path
    files: Mapping[str, Path] = field(default_factory=dict, repr=False)

    @cached_property
    def communes(self) -> pd.DataFrame:
        """The 2025 communes, indexed by code, with their former province (``former_code``,
        empty for units outside the 14 former provinces) and ``flags`` from the validator."""
        frame = pd.read_csv(self.path / "communes_2025.csv",
                            dtype={"commune_code": str, "province_code": str,
                                   "former_code": str, "flags": str},
                            keep_default_na=False, na_values={"population": [""],
                                                              "area_km2": [""]})
        return frame.set_index("commune_code", drop=False)

    @cached_property
    def crosswalk(self) -> pd.DataFrame:
        return pd.read_csv(self.path / "crosswalk.csv", dtype=str, keep_default_na=False)

    @cached_property
    def outlines(self) -> gpd.GeoDataFrame:
        return gpd.read_parquet(self.path / "provinces.parquet").set_index("key", drop=False)

    @cached_property
    def libraries(self) -> pd.DataFrame:
        return pd.read_csv(self.path / "libraries.csv", dtype={
            "former_code": str, "commune_2025_code": str, "province_2025_key": str})

    @cached_property
    def district_seats(self) -> pd.DataFrame:
        return pd.read_csv(self.path / "district_seats.csv", dtype={
            "former_code": str, "district_code": str, "commune_2025_code": str})

    @cached_property
    def provinces(self) -> tuple[Province, ...]:
        out = []
        for row in self.outlines.itertuples():
            out.append(Province(
                key=str(row.key), kind=str(row.kind), code=str(row.code), name=str(row.name),
                area_km2=float(row.area_km2), communes=int(row.communes),
                partial=bool(row.partial), note=str(row.note or ""),
                parts=tuple(p for p in str(row.parts or "").split(";") if p),
                successor=str(row.successor or "")))
        return tuple(out)

    def province(self, name: str) -> Province:
        """The province called ``name``: a 2025 province by its name (with or without
        diacritics or "Tỉnh"), else a former one; "former X" / "X cũ" names the former
        province X when a 2025 province has the same name."""
        key = fold(name)
        key = re.sub(r"^tinh-", "", key)
        former = False
        for word in FORMER_WORDS:
            w = fold(word)
            if key.startswith(w + "-") or key.endswith("-" + w):
                key = key.removeprefix(w + "-").removesuffix("-" + w)
                former = True
        by_key = {p.key: p for p in self.provinces}
        if not former and key in by_key:
            return by_key[key]
        if f"former-{key}" in by_key:
            return by_key[f"former-{key}"]
        if key in by_key:
            return by_key[key]
        raise UnknownProvinceError(
            f"unknown province {name!r}. 2025 provinces: "
            f"{', '.join(p.name for p in self.provinces if p.kind == '2025')}; former "
            f"provinces (before July 2025): "
            f"{', '.join(p.name for p in self.provinces if p.kind == 'former')} (write "
            f"'former Lào Cai' for a former province that shares its name with a 2025 one)")

    def outline(self, province: Province) -> shapely.Geometry:
        return self.outlines.loc[province.key, "geometry"]

    def communes_of(self, province: Province) -> pd.DataFrame:
        """The 2025 communes of a province: by their 2025 province code, or for a former
        province, those the crosswalk says came from it (not by their point)."""
        c = self.communes
        if province.kind == "2025":
            return c[c["province_code"] == province.code]
        return c[c["former_code"] == province.code]

    def libraries_of(self, province: Province) -> pd.DataFrame:
        """The former provincial libraries in a province: one for a former province, every
        one of the former provinces a 2025 province is made of (a merged province has two)."""
        libs = self.libraries
        if province.kind == "2025":
            return libs[libs["province_2025_key"] == province.key]
        return libs[libs["former_code"] == province.code]

    def district_seats_of(self, province: Province) -> pd.DataFrame:
        seats = self.district_seats
        codes = ([p.code for p in self.provinces if p.key in province.parts]
                 if province.kind == "2025" else [province.code])
        return seats[seats["former_code"].isin(codes)]


def load_region(path: str | Path = REGION_DIR) -> Region:
    """The region's reference data (``geodata/data/region`` by default)."""
    path = Path(path)
    for name in REGION_FILES:
        if not (path / name).is_file():
            raise DataFileMissingError(
                path / name, what="file of the region's reference data",
                fix="Restore it from git (git checkout -- geodata/data/region) or rebuild it "
                    "with `python -m geodata.build_region --src ../shared/geodata-src`.")
    return Region(path=path.resolve())


def validate_communes(communes: pd.DataFrame, former_outlines: Mapping[str, shapely.Geometry],
                      former_names: Mapping[str, str]) -> list[Finding]:
    """The faults of the commune table, found (never fixed): each commune's point is checked
    against the outline of the former province the crosswalk says it came from
    (``former_code``), two communes each lying in the other's former province are reported as
    swapped points, and populations beyond :data:`MAX_COMMUNE_POPULATION` or
    :data:`MAX_DENSITY_PER_KM2` as implausible. ``communes`` needs ``commune_code``,
    ``commune``, ``former_code``, ``lon``, ``lat``, ``population``, ``area_km2``."""
    findings: list[Finding] = []
    points = shapely.points(communes["lon"].to_numpy(float), communes["lat"].to_numpy(float))
    codes = list(former_outlines)
    geoms = [former_outlines[c] for c in codes]
    for g in geoms:
        shapely.prepare(g)
    lies_in: dict[str, str] = {}
    misplaced: dict[str, tuple[str, str]] = {}  # commune -> (its former, the one it lies in)
    for code, name, former, pt in zip(communes["commune_code"], communes["commune"],
                                      communes["former_code"], points, strict=True):
        inside = [c for c, g in zip(codes, geoms, strict=True) if shapely.covers(g, pt)]
        lies_in[code] = inside[0] if inside else ""
        if not former or former not in former_outlines:
            continue  # from a former province the sources do not outline (Vĩnh Phúc, Bắc Ninh)
        if former not in inside:
            where = (f"in the former {former_names.get(inside[0], inside[0])}" if inside
                     else "outside every former province of the region")
            misplaced[code] = (former, lies_in[code])
            findings.append(Finding(code, "point_outside_former_province",
                                    f"{name}: the crosswalk says it came from the former "
                                    f"{former_names.get(former, former)}, its point lies "
                                    f"{where}"))
    for a, (own_a, at_a) in misplaced.items():
        for b, (own_b, at_b) in misplaced.items():
            if a != b and at_a == own_b and at_b == own_a:
                findings.append(Finding(a, "points_look_swapped",
                                        f"its point lies in the former province of {b}, and "
                                        f"{b}'s in its own: the two points look swapped"))
    population = pd.to_numeric(communes["population"], errors="coerce")
    area = pd.to_numeric(communes["area_km2"], errors="coerce")
    for code, name, people, km2 in zip(communes["commune_code"], communes["commune"],
                                       population, area, strict=True):
        if np.isnan(people):
            findings.append(Finding(code, "population_missing", f"{name}: no population "
                                    "upstream"))
        elif people > MAX_COMMUNE_POPULATION or (km2 > 0 and people / km2 >
                                                 MAX_DENSITY_PER_KM2):
            findings.append(Finding(code, "population_implausible",
                                    f"{name}: {people:,.0f} people on {km2:g} km² (more than "
                                    f"{MAX_COMMUNE_POPULATION:,} or {MAX_DENSITY_PER_KM2:,.0f}"
                                    f"/km²: a province-size figure)"))
    return findings


__all__ = ["MAX_COMMUNE_POPULATION", "MAX_DENSITY_PER_KM2", "REGION_DIR", "Finding", "Province",
           "Region", "UnknownProvinceError", "fold", "load_region", "validate_communes"]
