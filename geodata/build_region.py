"""Build the region's reference data (``geodata/data/region``) from the staged sources.

Run by a maintainer (the result is committed)::

    python -m geodata.build_region --src ../shared/geodata-src

It writes the tables :mod:`geodata.region` reads, with every commune's former province taken
from the official crosswalk, the province outlines simplified to about
:data:`SIMPLIFY_DEG` (coordinates to 1e-5 degree), the 2025 outlines as unions of the
former ones, and the validator's findings written into ``communes_2025.csv`` (column
``flags``); nothing is corrected or dropped. It prints what it wrote, the files' sizes and
the findings.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geodata.region import REGION_DIR, fold, validate_communes

SIMPLIFY_DEG = 0.001  # about 100 m: the outlines clip road data and test points, no more
_GEOD = pyproj.Geod(ellps="WGS84")
# what the sources do not cover in two 2025 provinces (SOURCES.md of the staged data)
PARTIAL = {"tinhbacninh": "the former province of Bắc Ninh (merged in 2025) is not in the "
                          "sources: this outline is the former Bắc Giang only",
           "tinhphutho": "the former province of Vĩnh Phúc (merged in 2025) is not in the "
                         "sources: this outline is the former Phú Thọ and Hòa Bình only"}
LICENCES = ("LICENSE-ODbL.md", "LICENSE-vietnamadminunits.md")


def _short(name: str) -> str:
    return name.removeprefix("Tỉnh ").removeprefix("Thành phố ").strip()


def _area_km2(geom: shapely.Geometry) -> float:
    return round(abs(_GEOD.geometry_area_perimeter(geom)[0]) / 1e6, 1)


def build(src: Path, out: Path) -> None:
    roads = src / "roads"
    out.mkdir(parents=True, exist_ok=True)
    communes = pd.read_csv(src / "communes_2025_northern10.csv",
                           dtype={"commune_code": str, "province_code": str})
    cross = pd.read_csv(src / "commune_crosswalk_pre2025_to_2025_northern.csv", dtype=str)
    old = pd.read_csv(src / "communes_pre2025_northern14_PROVISIONAL_google_geocoded.csv",
                      dtype=str)  # names and codes only: its coordinates must not be shipped
    old_names = old.set_index("commune_code")[["commune", "district", "province"]]

    # --- the former province of each 2025 commune, by the crosswalk -----------------------
    formers = cross.groupby("new_commune_code")["legacy_province_code"].agg(
        lambda s: ";".join(sorted(set(s))))
    communes["former_code"] = communes["commune_code"].map(formers).fillna("")
    new_key_code = (cross.drop_duplicates("new_commune_code")
                    .merge(communes[["commune_code", "province_code"]],
                           left_on="new_commune_code", right_on="commune_code")
                    .drop_duplicates("new_province_key")
                    .set_index("new_province_key")["province_code"])
    successor = cross.drop_duplicates("legacy_province_code").set_index(
        "legacy_province_code")["new_province_key"]

    # --- outlines: 14 former provinces (one coverage, simplified), 10 of 2025 -------------
    src_outlines = gpd.read_file(roads / "osm2021_north14_province_boundaries.geojson")
    src_outlines = src_outlines.sort_values("province_code_pre2025").reset_index(drop=True)
    # the source polygons are not an exact coverage (their borders were buffered), so they
    # are simplified one by one: neighbours may overlap or part by up to about SIMPLIFY_DEG
    simplified = shapely.set_precision(
        shapely.simplify(src_outlines.geometry.values, SIMPLIFY_DEG, preserve_topology=True),
        1e-5)
    former_names = {}
    rows = []
    province_names = communes.drop_duplicates("province_code").set_index("province_code")[
        "province"]
    key_of_new = {k: fold(_short(province_names[c])) for k, c in new_key_code.items()}
    for code, geom in zip(src_outlines["province_code_pre2025"], simplified, strict=True):
        name = _short(old[old["province_code"] == code]["province"].iloc[0])
        former_names[code] = name
        rows.append({"key": f"former-{fold(name)}", "kind": "former", "code": code,
                     "name": name, "partial": False, "note": "",
                     "parts": "", "successor": key_of_new[successor[code]],
                     "communes": int((communes["former_code"] == code).sum()),
                     "geometry": geom})
    for new_key, code in sorted(new_key_code.items(), key=lambda kv: kv[1]):
        parts = [r for r in rows if r["kind"] == "former" and r["successor"] ==
                 key_of_new[new_key]]
        rows.append({"key": key_of_new[new_key], "kind": "2025", "code": code,
                     "name": _short(province_names[code]), "partial": new_key in PARTIAL,
                     "note": PARTIAL.get(new_key, ""),
                     "parts": ";".join(r["key"] for r in parts), "successor": "",
                     "communes": int((communes["province_code"] == code).sum()),
                     "geometry": shapely.union_all([r["geometry"] for r in parts])})
    outlines = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    outlines.insert(4, "area_km2", [_area_km2(g) for g in outlines.geometry])

    # --- validate, flag, never fix ----------------------------------------------------------
    former_geoms = {r["code"]: r["geometry"] for r in rows if r["kind"] == "former"}
    findings = validate_communes(communes, former_geoms, former_names)
    flags: dict[str, list[str]] = {}
    for f in findings:
        flags.setdefault(f.commune_code, []).append(f.kind)
    communes["flags"] = communes["commune_code"].map(lambda c: ";".join(flags.get(c, [])))
    communes["population"] = communes["population"].astype("Int64")
    table = communes.rename(columns={"commune": "name", "commune_short": "short_name",
                                     "commune_type": "type", "province": "province_2025"})
    table["former_province"] = table["former_code"].map(former_names).fillna("")
    table = table[["commune_code", "name", "short_name", "type", "province_code",
                   "province_2025", "former_code", "former_province", "lon", "lat", "area_km2",
                   "population", "predecessor_units", "flags"]]
    table.sort_values("commune_code").to_csv(out / "communes_2025.csv", index=False)

    # --- crosswalk with the former units' names ---------------------------------------------
    cw = cross.merge(old_names, left_on="legacy_commune_code", right_index=True, how="left")
    cw = cw.rename(columns={"commune": "legacy_name", "district": "legacy_district",
                            "province": "legacy_province"})
    cw["legacy_province"] = cw["legacy_province"].map(_short, na_action="ignore")
    cw[["legacy_commune_code", "legacy_name", "legacy_district", "legacy_province_code",
        "legacy_province", "new_commune_code", "legacy_unit_divided", "is_default_target"]
       ].to_csv(out / "crosswalk.csv", index=False)

    # --- libraries and district seats -----------------------------------------------------
    libs = pd.read_csv(src / "libraries_provincial_northern14_approx.csv",
                       dtype={"legacy_province_code": str, "commune_2025_code": str})
    libs = libs.rename(columns={"legacy_province_code": "former_code"})
    libs["former_province"] = libs["former_code"].map(former_names)
    libs["province_2025_key"] = libs["former_code"].map(
        lambda c: key_of_new[successor[c]])
    libs["approximate"] = libs["location_precision_km"].astype(float) > 0.5
    libs[["library_id", "name", "former_code", "former_province", "province_2025",
          "province_2025_key", "commune_2025_code", "commune_2025", "address", "lon", "lat",
          "approximate", "location_precision_km", "location_method"]].to_csv(
        out / "libraries.csv", index=False)
    seats = pd.read_csv(src / "district_seats_pre2025_northern14.csv", dtype=str)
    seats = seats.rename(columns={"legacy_province_code": "former_code",
                                  "legacy_province": "former_province",
                                  "legacy_district_code": "district_code",
                                  "legacy_district": "district"})
    seats["former_province"] = seats["former_province"].map(_short)
    seats.to_csv(out / "district_seats.csv", index=False)
    outlines.to_parquet(out / "provinces.parquet", compression="zstd")

    here = Path(__file__).resolve().parent / "data" / "ha_giang"
    for name in LICENCES:
        if (here / name).is_file() and not (out / name).exists():
            shutil.copyfile(here / name, out / name)
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.is_file()}
    print(f"wrote {len(table)} communes, {len(cw)} crosswalk rows, {len(outlines)} outlines "
          f"({int(np.sum(outlines['kind'] == 'former'))} former, "
          f"{int(np.sum(outlines['kind'] == '2025'))} of 2025), {len(libs)} libraries, "
          f"{len(seats)} district seats to {out}")
    for name, size in sizes.items():
        print(f"  {name:<32}{size / 1024:8.1f} KiB")
    print(f"{len(findings)} finding(s) flagged in communes_2025.csv (column flags):")
    for f in findings:
        print(f"  {f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("../shared/geodata-src"))
    parser.add_argument("--out", type=Path, default=REGION_DIR)
    args = parser.parse_args()
    build(args.src, args.out)


if __name__ == "__main__":
    main()
