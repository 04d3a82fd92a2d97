"""geodata.cache, geodata.datasets and geodata.profiles (no road graph is built here)."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from geodata import cache
from geodata.datasets import DATA_DIR, known_datasets, load_dataset
from geodata.errors import (
    DataFileMissingError,
    GeodataError,
    UnknownDatasetError,
    UnknownProfileError,
)
from geodata.profiles import get_profile, load_profiles

# --- 8. cache ------------------------------------------------------------------------------

@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "planner-cache"
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(d))
    return d


class Builder:
    def __init__(self, value):
        self.value, self.calls = value, 0

    def __call__(self):
        self.calls += 1
        return self.value


def test_cache_dir_follows_the_environment(cache_dir):
    assert cache.cache_dir() == cache_dir


def test_second_call_is_a_hit_with_an_equal_value(cache_dir):
    value = {"time": np.arange(6.0).reshape(2, 3), "name": "Hà Giang"}
    build = Builder(value)
    v1, hit1 = cache.cached("matrices", "abc", build)
    v2, hit2 = cache.cached("matrices", "abc", build)
    assert (hit1, hit2) == (False, True)
    assert build.calls == 1
    assert v2.keys() == value.keys() and v2["name"] == "Hà Giang"
    np.testing.assert_array_equal(v2["time"], value["time"])
    assert (cache_dir / "matrices" / "abc.pkl").is_file()
    assert not list((cache_dir / "matrices").glob("*.tmp"))  # no temp file left behind


def test_different_keys_and_kinds_do_not_collide(cache_dir):
    assert cache.cached("a", "k1", Builder(1)) == (1, False)
    assert cache.cached("a", "k2", Builder(2)) == (2, False)
    assert cache.cached("b", "k1", Builder(3)) == (3, False)
    assert cache.cached("a", "k1", Builder(99)) == (1, True)


@pytest.mark.parametrize("garbage", [b"", b"not a pickle", pickle.dumps([1, 2])[:-3]])
def test_corrupt_entry_is_rebuilt(cache_dir, garbage):
    path = cache_dir / "graphs" / "deadbeef.pkl"
    path.parent.mkdir(parents=True)
    path.write_bytes(garbage)
    build = Builder([1, 2, 3])
    value, hit = cache.cached("graphs", "deadbeef", build)
    assert (value, hit, build.calls) == ([1, 2, 3], False, 1)
    with open(path, "rb") as fh:
        assert pickle.load(fh) == [1, 2, 3]  # rewritten with the fresh value
    assert cache.cached("graphs", "deadbeef", build) == ([1, 2, 3], True)
    assert build.calls == 1


def test_unwritable_cache_still_returns_the_value(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(blocker))
    assert cache.cached("x", "y", Builder(5)) == (5, False)


def test_digest_of_is_stable_and_sensitive():
    a = cache.digest_of("graph", 1, np.arange(3))
    assert a == cache.digest_of("graph", 1, np.arange(3))
    assert len(a) == 32
    assert a != cache.digest_of("graph", 1, np.arange(4))
    assert a != cache.digest_of("graph", 2, np.arange(3))
    assert cache.digest_of("ab", "c") != cache.digest_of("a", "bc")


# --- 9. datasets ---------------------------------------------------------------------------

def test_ha_giang_has_73_communes():
    ds = load_dataset("ha_giang")
    assert ds.name == "ha_giang" and ds.path == (DATA_DIR / "ha_giang").resolve()
    assert "Hà Giang" in ds.title and "OpenStreetMap" in ds.attribution
    assert isinstance(ds.notes, list) and ds.notes
    communes = ds.communes
    assert len(communes) == 73
    assert communes.index.is_unique and (communes.index == communes["commune_code"]).all()
    assert communes["lon"].between(104, 106).all() and communes["lat"].between(22, 23.5).all()
    assert len(ds.libraries) >= 1


def test_dataset_can_be_opened_by_path():
    ds = load_dataset(DATA_DIR / "ha_giang")
    assert ds.name == "ha_giang"
    assert "ha_giang" in known_datasets()


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(UnknownDatasetError) as info:
        load_dataset("nope")
    msg = str(info.value)
    assert "'nope'" in msg and "ha_giang" in msg
    assert isinstance(info.value, GeodataError) and isinstance(info.value, KeyError)
    assert info.value.name == "nope"


def test_dataset_folder_without_roads_names_the_missing_file(tmp_path):
    folder = tmp_path / "my_area"
    folder.mkdir()
    shutil.copy(DATA_DIR / "ha_giang" / "dataset.yaml", folder / "dataset.yaml")
    with pytest.raises(DataFileMissingError) as info:
        load_dataset(folder)
    assert "roads.parquet" in str(info.value)
    assert info.value.path == str(folder / "roads.parquet")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, GeodataError)


def test_dataset_folder_with_bad_yaml_is_a_geodata_error(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    for name in ("roads.parquet", "boundary.parquet", "communes.parquet", "libraries.csv"):
        (folder / name).write_bytes(b"")
    (folder / "dataset.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(GeodataError, match="dataset.yaml"):
        load_dataset(folder)


# --- profiles ------------------------------------------------------------------------------

def test_profiles_load_and_unknown_profile_lists_the_known_ones():
    profiles = load_profiles()
    assert {"truck", "van", "motorbike"} <= set(profiles)
    assert get_profile("van", profiles) is profiles["van"]
    with pytest.raises(UnknownProfileError, match="truck") as info:
        get_profile("bicycle", profiles)
    assert "'bicycle'" in str(info.value)


def test_profile_digest_depends_on_speeds():
    p = load_profiles()
    assert p["truck"].digest == load_profiles()["truck"].digest
    assert p["truck"].digest != p["van"].digest


@pytest.mark.parametrize("speed", [0, -5, "fast"])
def test_profiles_reject_non_positive_speeds(tmp_path, speed):
    f = tmp_path / "profiles.yaml"
    f.write_text(f"truck:\n  speeds_kmh: {{minor: {speed!r}}}\n", encoding="utf-8")
    with pytest.raises(GeodataError, match="minor"):
        load_profiles(f)


def test_profiles_file_missing_is_a_geodata_error(tmp_path):
    with pytest.raises(GeodataError, match="cannot read"):
        load_profiles(tmp_path / "nope.yaml")


def test_the_real_geodata_package_is_under_test():
    # not a namespace package merging tests/geodata with geodata/ (see conftest.py)
    import geodata

    assert geodata.__file__ is not None
    assert Path(geodata.__file__).parent == DATA_DIR.parent


@pytest.mark.parametrize("name", ["a" * 300, "bad\x00name", "x/" * 3000])
def test_a_name_no_file_system_can_look_up_is_an_unknown_dataset(name: str) -> None:
    with pytest.raises(UnknownDatasetError):
        load_dataset(name)


def test_the_basemap_is_drawn_once_per_dataset_version_and_each_caller_owns_its_copy(
        tmp_path: Path) -> None:
    import geopandas as gpd

    from geodata.basemap import basemap_layers

    folder = tmp_path / "area"
    shutil.copytree(DATA_DIR / "ha_giang", folder)
    outline, roads = basemap_layers(str(folder))
    assert outline and roads["trunk"]
    roads["trunk"].clear()  # the caller's copy, not the cache's
    assert basemap_layers(str(folder))[1]["trunk"]
    # a re-imported dataset (new road file) is drawn again: here without its trunk roads
    gdf = gpd.read_parquet(folder / "roads.parquet")
    gdf[gdf["omt_class"] != "trunk"].to_parquet(folder / "roads.parquet")
    outline2, roads2 = basemap_layers(str(folder))
    assert roads2["trunk"] == [] and roads2["primary"] and outline2 == outline
