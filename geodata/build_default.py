"""Build an embedded dataset of a former province from the staged sources in
``shared/geodata-src``: Hà Giang (the default) or Cao Bằng.

Run by a maintainer (the result is committed under ``geodata/data/<name>``)::

    python -m geodata.build_default --src ../shared/geodata-src                 # ha_giang
    python -m geodata.build_default --src ../shared/geodata-src --province cao_bang

The selection rules are the ones ``SOURCES.md`` beside the output describes: the communes
of the 2025 map whose predecessor units all belonged to the former province (its GSO code,
via the official crosswalk), the former provincial library as the depot (approximate
point), and the OpenStreetMap road network of August 2021 (all vehicle classes). A
``dataset.yaml`` and ``SOURCES.md`` are written only where absent, so a maintainer's edits
stay. The named OSM places and landmarks (for the villages the printed directions name)
go to ``places.geojson``.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import yaml

from geodata.datasets import DATA_DIR

LEGACY_PROVINCE = "02"  # GSO code of the former province of Hà Giang
ROAD_COLUMNS = ["omt_class", "omt_subclass", "name", "ref", "brunnel", "oneway", "service",
                "in_province", "geometry"]


@dataclass(frozen=True)
class FormerProvince:
    """What the builder needs to know of a former province with staged road files."""

    code: str  # GSO code before 2025
    name: str
    files: str  # stem of the staged road files: roads/osm2021_<files>_...
    now_part_of: str  # what it is since the 2025 merger


PROVINCES = {
    "ha_giang": FormerProvince("02", "Hà Giang", "hagiang",
                               "since 1 July 2025 the northern part of Tuyên Quang"),
    "cao_bang": FormerProvince("04", "Cao Bằng", "caobang",
                               "not merged in 2025: the same province today"),
}


def select_communes(src: Path, legacy_province: str = LEGACY_PROVINCE) -> gpd.GeoDataFrame:
    """Return the 2025 communes whose predecessors all lie in the former province."""
    legacy_by_new: dict[str, set[str]] = defaultdict(set)
    with open(src / "commune_crosswalk_pre2025_to_2025_northern.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            legacy_by_new[row["new_commune_code"]].add(row["legacy_province_code"])
    codes = {code for code, provs in legacy_by_new.items() if provs == {legacy_province}}
    table = pd.read_csv(src / "communes_2025_northern10.csv", dtype={"commune_code": str,
                                                                       "province_code": str})
    table = table[table["commune_code"].isin(codes)].copy()
    table = table.rename(columns={"commune": "name", "commune_short": "short_name",
                                  "commune_type": "type", "province": "province_2025"})
    table["population"] = table["population"].astype("Int64")
    keep = ["commune_code", "name", "short_name", "type", "province_2025", "area_km2",
            "population", "admin_center_address", "predecessor_units", "lon", "lat"]
    gdf = gpd.GeoDataFrame(table[keep], geometry=gpd.points_from_xy(table["lon"], table["lat"]),
                           crs="EPSG:4326")
    return gdf.sort_values("commune_code").reset_index(drop=True)


PLACE_KINDS = ("city", "town", "suburb", "village", "hamlet", "neighbourhood", "locality")
# points of interest a driver can tell a place by (OSM values, the POI files' `subclass`)
LANDMARKS = ("townhall", "community_centre", "school", "post_office", "marketplace", "fuel",
             "police", "hospital", "clinic", "bus_station")
_CJK = re.compile(r"[\u3400-\u9fff]")
PLACES_FILE = "places.geojson"


def build_places(src: Path, out: Path, files: str = "hagiang") -> int:
    """Write ``places.geojson``: the named OSM places (villages, hamlets, towns...) and
    landmark points of interest of the province's files in ``src/places`` (August 2021, ODbL),
    as points with ``name``, ``kind`` (the place class or the POI's OSM value) and ``layer``
    (``place`` or ``poi``); names on the Chinese side of the border are left out."""
    features = []
    for layer, file, field, kinds in (
            ("place", f"osm2021_{files}_places.geojson", "class", PLACE_KINDS),
            ("poi", f"osm2021_{files}_pois.geojson", "subclass", LANDMARKS)):
        data = json.loads((src / "places" / file).read_text(encoding="utf-8"))
        for f in data["features"]:
            props = f["properties"]
            name = (props.get("name") or "").strip()
            if not name or _CJK.search(name) or props.get(field) not in kinds:
                continue
            lon, lat = f["geometry"]["coordinates"][:2]
            features.append({"type": "Feature",
                             "geometry": {"type": "Point",
                                          "coordinates": [round(lon, 6), round(lat, 6)]},
                             "properties": {"name": name, "kind": props[field],
                                            "layer": layer}})
    rows = ",\n".join(json.dumps(f, ensure_ascii=False) for f in features)
    (out / PLACES_FILE).write_text(
        '{"type": "FeatureCollection", "attribution": "© OpenStreetMap contributors (ODbL '
        '1.0), August 2021",\n"features": [\n' + rows + "\n]}\n", encoding="utf-8")
    return len(features)


def build(src: Path, out: Path, province: str = "ha_giang") -> None:
    p = PROVINCES[province]
    out.mkdir(parents=True, exist_ok=True)
    roads_src = src / "roads"
    boundary = gpd.read_file(roads_src / f"osm2021_{p.files}_province_boundary.geojson")
    boundary = boundary[["geometry"]].assign(name=f"{p.name} (former province, pre-2025)")
    boundary.to_parquet(out / "boundary.parquet", compression="zstd")

    roads = gpd.read_file(roads_src / f"osm2021_{p.files}_roads_all.gpkg", engine="pyogrio")
    roads = roads[ROAD_COLUMNS]
    roads["oneway"] = roads["oneway"].fillna(0).astype("int8")
    roads.to_parquet(out / "roads.parquet", compression="zstd")

    communes = select_communes(src, p.code)
    outline = boundary.geometry.union_all()
    outside = communes[~shapely.contains(outline, communes.geometry.values)]
    if len(outside):
        raise SystemExit(f"communes outside the {p.name} outline: {list(outside['name'])}")
    communes.to_parquet(out / "communes.parquet", compression="zstd")

    libs = pd.read_csv(src / "libraries_provincial_northern14_approx.csv",
                       dtype={"legacy_province_code": str, "commune_2025_code": str})
    libs = libs[libs["legacy_province_code"] == p.code]
    libs = libs[["library_id", "name", "commune_2025_code", "commune_2025", "lon", "lat",
                 "location_method", "location_precision_km"]]
    libs.to_csv(out / "libraries.csv", index=False)
    n_places = build_places(src, out, p.files)
    km = float(roads.to_crs(roads.estimate_utm_crs()).length.sum() / 1000)
    _write_metadata(out, p, lines=len(roads), km=km, communes=len(communes),
                    area_km2=float(boundary.to_crs(boundary.estimate_utm_crs()).area.sum() / 1e6))
    size_mb = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    print(f"wrote {len(roads)} road lines ({km:,.0f} km), {len(communes)} communes, "
          f"{len(libs)} library, {n_places} places to {out} ({size_mb:.1f} MB)")


def _write_metadata(out: Path, p: FormerProvince, *, lines: int, km: float, communes: int,
                    area_km2: float) -> None:
    """``dataset.yaml``, ``SOURCES.md`` and the licences, where absent."""
    here = DATA_DIR / "ha_giang"
    for name in ("LICENSE-ODbL.md", "LICENSE-vietnamadminunits.md"):
        if not (out / name).exists() and (here / name).is_file():
            shutil.copyfile(here / name, out / name)
    if not (out / "dataset.yaml").exists():
        manifest = {
            "title": f"{p.name} (former province) — OSM roads 2021, 2025 communes",
            "title_en": f"{fold_ascii(p.name)} (former province): OSM roads 2021, 2025 "
                        "communes",
            "service_area": f"{communes} communes and wards of the 2025 map that lie in the "
                            f"former province of {p.name}",
            "attribution": "Roads and outline © OpenStreetMap contributors (ODbL 1.0). "
                           "Administrative units 2025: vietnamadminunits (MIT), from "
                           "sapnhap.bando.com.vn / GSO.",
            "osm_date": "2021-08",
            "notes": [
                "Road network: OpenStreetMap as of August 2021, decoded from vector tiles; "
                "no surface, no weight limits, no way ids. Roads built since then are "
                "missing.",
                "Commune points are the published seat/centroid points of the 2025 units, "
                "not surveyed library addresses.",
                "The provincial library point is APPROXIMATE (about 5 km): it is the point of "
                "the 2025 ward that absorbed most of the former city centre, not a surveyed "
                "address.",
            ],
        }
        (out / "dataset.yaml").write_text(
            f"# Embedded dataset: the former province of {p.name} ({p.now_part_of}). "
            "See SOURCES.md.\n" + yaml.safe_dump(manifest, allow_unicode=True,
                                                 sort_keys=False, width=100),
            encoding="utf-8")
    if not (out / "SOURCES.md").exists():
        rows = [
            ("file", "what", "source", "licence"), ("---",) * 4,
            ("`roads.parquet`",
             f"{lines:,} OpenStreetMap road lines (all vehicle classes), {km:,.0f} km, inside "
             f"the former province of {p.name} plus a 3 km strip into neighbouring Vietnamese "
             "provinces; OpenMapTiles `transportation` columns",
             f"`roads/osm2021_{p.files}_roads_all.gpkg`: OSM vector tiles of early August "
             "2021 from GitHub `tokenless-tiles/vietnam` (commit "
             "dcfed9ab4689ee4eac3d67e984b2beea2bfe84fc)",
             "**ODbL 1.0**, © OpenStreetMap contributors (`LICENSE-ODbL.md`)"),
            ("`boundary.parquet`", f"outline of the former province ({area_km2:,.0f} km²)",
             f"`roads/osm2021_{p.files}_province_boundary.geojson`, from the OSM boundary "
             "lines of the same tiles", "**ODbL 1.0**"),
            ("`communes.parquet`",
             f"the {communes} communes/wards of the 2025 map whose predecessor units all "
             f"belonged to the former province (GSO code {p.code} in the official crosswalk)",
             "`communes_2025_northern10.csv`, `commune_crosswalk_pre2025_to_2025_northern.csv`"
             ": PyPI `vietnamadminunits` 1.0.4, from sapnhap.bando.com.vn / GSO, 2025-07-17",
             "MIT (`LICENSE-vietnamadminunits.md`)"),
            ("`libraries.csv`", "the former provincial library",
             "`libraries_provincial_northern14_approx.csv`", "as the communes"),
        ]
        table = "\n".join("| " + " | ".join(r) + " |" for r in rows)
        (out / "SOURCES.md").write_text(f"""# Embedded dataset `{out.name}`: sources and licences

Built with `python -m geodata.build_default --src ../shared/geodata-src --province {out.name}`
from the staged sources of the project's shared folder (their own `SOURCES.md` has the full
provenance). Coordinates WGS84; names NFC with Vietnamese diacritics.

{table}

## What is approximate
- **The provincial library point is approximate (about 5 km)**: the point of the 2025 ward
  that absorbed most of the former provincial capital, not the library's address.
- Commune points are the published points of the 2025 units (seat or centroid).
- The road network is OpenStreetMap of August 2021: newer roads are missing; no surface,
  width, weight limit or way id.

## Checks run by the builder
All {communes} commune points lie inside the province outline (the builder stops otherwise).
""", encoding="utf-8")


def fold_ascii(text: str) -> str:
    from geodata.region import fold

    return " ".join(w.capitalize() for w in fold(text).split("-"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("../shared/geodata-src"))
    parser.add_argument("--province", choices=sorted(PROVINCES), default="ha_giang")
    parser.add_argument("--out", type=Path, default=None,
                        help="dataset folder (default: geodata/data/<province>)")
    args = parser.parse_args()
    build(args.src, args.out or DATA_DIR / args.province, args.province)


if __name__ == "__main__":
    main()
