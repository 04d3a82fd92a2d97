"""The region's reference data shipped in geodata/data/region (issue 17, item 1): the 2025
communes with their former provinces, outlines (partial ones marked), libraries, district
seats, the province lookup, and the validator that flags the sources' known faults."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

from geodata.region import (
    REGION_DIR,
    UnknownProvinceError,
    load_region,
    validate_communes,
)

COUNTS_2025 = {"Tuyên Quang": 124, "Cao Bằng": 56, "Lào Cai": 99, "Thái Nguyên": 92,
               "Lạng Sơn": 65, "Phú Thọ": 148, "Bắc Ninh": 99, "Lai Châu": 38,
               "Điện Biên": 45, "Sơn La": 75}


@pytest.fixture(scope="module")
def region():
    return load_region()


def _former(region):
    formers = [p for p in region.provinces if p.kind == "former"]
    return ({p.code: region.outline(p) for p in formers}, {p.code: p.name for p in formers})


def test_the_tables_hold_the_region(region) -> None:
    provinces = region.provinces
    assert sum(p.kind == "2025" for p in provinces) == 10
    assert sum(p.kind == "former" for p in provinces) == 14
    assert {p.name: p.communes for p in provinces if p.kind == "2025"} == COUNTS_2025
    assert len(region.communes) == 841 and len(region.crosswalk) == 2283
    assert len(region.district_seats) == 137
    ha_giang = region.province("Hà Giang")
    assert ha_giang.kind == "former" and len(region.communes_of(ha_giang)) == 73
    assert ha_giang.successor == "tuyen-quang"
    # names keep their diacritics
    assert region.communes.loc["00715", "name"] == "Xã Lũng Cú"


def test_partial_outlines_are_marked(region) -> None:
    partial = {p.name: p.note for p in region.provinces if p.partial}
    assert set(partial) == {"Bắc Ninh", "Phú Thọ"}
    assert "Vĩnh Phúc" in partial["Phú Thọ"] and "Bắc Ninh" in partial["Bắc Ninh"]


def test_merged_provinces_have_every_former_library(region) -> None:
    libs = region.libraries
    assert len(libs) == 14
    # every point is approximate; Sơn La's address is known, its point is its ward's
    assert bool(libs["approximate"].all())
    son_la = libs[libs["former_province"] == "Sơn La"].iloc[0]
    assert "Tô Hiệu" in son_la["address"] and son_la["location_precision_km"] < 5
    tq = region.libraries_of(region.province("Tuyên Quang"))
    assert set(tq["name"]) == {"Thư viện tỉnh Hà Giang", "Thư viện tỉnh Tuyên Quang"}
    assert len(region.libraries_of(region.province("former Tuyên Quang"))) == 1
    seats = region.district_seats_of(region.province("Lào Cai"))
    assert set(seats["former_province"]) == {"Lào Cai", "Yên Bái"}


@pytest.mark.parametrize(("name", "key"), [
    ("Lào Cai", "lao-cai"), ("lao cai", "lao-cai"), ("Tỉnh Lào Cai", "lao-cai"),
    ("former Lào Cai", "former-lao-cai"), ("Lào Cai cũ", "former-lao-cai"),
    ("Yên Bái", "former-yen-bai"), ("HA GIANG", "former-ha-giang"),
    ("Đắk Lắk", None), ("", None)])
def test_province_lookup(region, name: str, key: str | None) -> None:
    if key is None:
        with pytest.raises(UnknownProvinceError, match="2025 provinces: .*Tuyên Quang"):
            region.province(name)
    else:
        assert region.province(name).key == key


def test_the_validator_finds_the_known_faults_of_the_sources(region) -> None:
    outlines, names = _former(region)
    table = region.communes.rename(columns={"name": "commune"})
    found = {(f.commune_code, f.kind) for f in validate_communes(table, outlines, names)
             if f.kind != "population_missing"}
    assert found == {("04714", "point_outside_former_province"),
                     ("04924", "point_outside_former_province"),
                     ("08296", "point_outside_former_province"),
                     ("04924", "points_look_swapped"), ("08296", "points_look_swapped"),
                     ("04714", "population_implausible")}


def test_the_shipped_flags_are_the_validators_and_nothing_was_fixed(region) -> None:
    outlines, names = _former(region)
    table = region.communes.rename(columns={"name": "commune"})
    expected: dict[str, set[str]] = {}
    for f in validate_communes(table, outlines, names):
        expected.setdefault(f.commune_code, set()).add(f.kind)
    shipped = {c: set(v.split(";")) for c, v in region.communes["flags"].items() if v}
    assert shipped == expected
    yen_binh = region.communes.loc["04714"]
    assert yen_binh["population"] == 653_422  # kept as the source has it, flagged
    assert yen_binh["former_province"] == "Yên Bái"  # attached by the crosswalk, not the point
    lao_cai_outline = region.outline(region.province("former Lào Cai"))
    assert shapely.covers(lao_cai_outline, shapely.Point(yen_binh["lon"], yen_binh["lat"]))
    assert "04714" not in region.communes_of(region.province("former Lào Cai")).index


def test_a_moved_point_and_an_odd_population_are_found() -> None:
    square = shapely.box(105, 22, 106, 23)
    other = shapely.box(106, 22, 107, 23)
    table = pd.DataFrame({"commune_code": ["1", "2", "3"], "commune": ["A", "B", "C"],
                          "former_code": ["01", "01", "02"],
                          "lon": [105.5, 106.5, 106.5], "lat": [22.5, 22.5, 22.5],
                          "population": [1000, 2000, 40_000], "area_km2": [10, 20, 1]})
    found = {(f.commune_code, f.kind)
             for f in validate_communes(table, {"01": square, "02": other},
                                        {"01": "One", "02": "Two"})}
    assert found == {("2", "point_outside_former_province"), ("3", "population_implausible")}


def test_the_shipped_files_stay_small() -> None:
    sizes = {p.name: p.stat().st_size for p in REGION_DIR.iterdir()}
    assert max(sizes.values()) < 300 * 1024, sizes
    assert sum(sizes.values()) < 600 * 1024, sizes


def test_cao_bang_is_a_second_embedded_dataset(region) -> None:
    from geodata.datasets import embedded_datasets, load_dataset

    assert {"ha_giang", "cao_bang"} <= set(embedded_datasets())
    ds = load_dataset("cao_bang")
    expected = region.communes_of(region.province("Cao Bằng"))
    assert sorted(ds.communes.index) == sorted(expected.index) and len(expected) == 56
    assert ds.libraries["library_id"].tolist() == ["TV-04"]
    assert "© OpenStreetMap contributors" in ds.attribution
    assert (ds.path / "LICENSE-ODbL.md").is_file()
    size = sum(p.stat().st_size for p in ds.path.iterdir())
    assert size < 6_000_000, size  # measured: 5.3 MB (14,340 road lines, 7,313 km)
