"""Build the embedded Hà Giang dataset from the staged sources in ``shared/geodata-src``.

Run once by a maintainer (the result is committed under ``geodata/data/ha_giang``)::

    python -m geodata.build_default --src ../shared/geodata-src

The selection rules are the ones ``SOURCES.md`` beside the output describes: the 73 communes
of the 2025 map whose predecessor units all belonged to the former province of Hà Giang
(GSO province code 02, via the official crosswalk), the former provincial library as the
depot (approximate point), the OpenStreetMap road network of August 2021, and its named
places and landmarks (for the villages the printed directions name).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from collections import defaultdict
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geodata.datasets import DATA_DIR

LEGACY_PROVINCE = "02"  # GSO code of the former province of Hà Giang
ROAD_COLUMNS = ["omt_class", "omt_subclass", "name", "ref", "brunnel", "oneway", "service",
                "in_province", "geometry"]


def select_communes(src: Path) -> gpd.GeoDataFrame:
    """Return the 2025 communes whose predecessors all lie in the former province."""
    legacy_by_new: dict[str, set[str]] = defaultdict(set)
    with open(src / "commune_crosswalk_pre2025_to_2025_northern.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            legacy_by_new[row["new_commune_code"]].add(row["legacy_province_code"])
    codes = {code for code, provs in legacy_by_new.items() if provs == {LEGACY_PROVINCE}}
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


def build_places(src: Path, out: Path) -> int:
    """Write ``places.geojson``: the named OSM places (villages, hamlets, towns...) and
    landmark points of interest of the Hà Giang files in ``src/places`` (August 2021, ODbL),
    as points with ``name``, ``kind`` (the place class or the POI's OSM value) and ``layer``
    (``place`` or ``poi``); names on the Chinese side of the border are left out."""
    features = []
    for layer, file, field, kinds in (
            ("place", "osm2021_hagiang_places.geojson", "class", PLACE_KINDS),
            ("poi", "osm2021_hagiang_pois.geojson", "subclass", LANDMARKS)):
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


def build(src: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    roads_src = src / "roads"
    boundary = gpd.read_file(roads_src / "osm2021_hagiang_province_boundary.geojson")
    boundary = boundary[["geometry"]].assign(name="Hà Giang (former province, pre-2025)")
    boundary.to_parquet(out / "boundary.parquet", compression="zstd")

    roads = gpd.read_file(roads_src / "osm2021_hagiang_roads_all.gpkg", engine="pyogrio")
    roads = roads[ROAD_COLUMNS]
    roads["oneway"] = roads["oneway"].fillna(0).astype("int8")
    roads.to_parquet(out / "roads.parquet", compression="zstd")

    communes = select_communes(src)
    outline = boundary.geometry.union_all()
    outside = communes[~shapely.contains(outline, communes.geometry.values)]
    if len(outside):
        raise SystemExit(f"communes outside the Hà Giang outline: {list(outside['name'])}")
    communes.to_parquet(out / "communes.parquet", compression="zstd")

    libs = pd.read_csv(src / "libraries_provincial_northern14_approx.csv",
                       dtype={"legacy_province_code": str, "commune_2025_code": str})
    libs = libs[libs["legacy_province_code"] == LEGACY_PROVINCE]
    libs = libs[["library_id", "name", "commune_2025_code", "commune_2025", "lon", "lat",
                 "location_method", "location_precision_km"]]
    libs.to_csv(out / "libraries.csv", index=False)
    n_places = build_places(src, out)
    print(f"wrote {len(roads)} road lines, {len(communes)} communes, {len(libs)} library, "
          f"{n_places} places to {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("../shared/geodata-src"))
    parser.add_argument("--out", type=Path, default=DATA_DIR / "ha_giang")
    args = parser.parse_args()
    build(args.src, args.out)


if __name__ == "__main__":
    main()
