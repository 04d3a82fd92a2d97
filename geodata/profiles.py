"""Vehicle profiles (road classes allowed, straight-road speeds, size and weight) and the
mountain speed model, read from ``profiles.yaml``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from geodata.errors import GeodataError, UnknownProfileError
from geodata.speeds import SpeedModel

PROFILES_FILE = Path(__file__).resolve().parent / "profiles.yaml"
MODEL_KEY = "mountain"


@dataclass(frozen=True)
class VehicleProfile:
    name: str
    label: str
    speeds_kmh: Mapping[str, float]
    weight_t: float = 0.0
    width_m: float = 0.0
    height_m: float = 0.0
    closed_surfaces: tuple[str, ...] = ()
    model: SpeedModel = SpeedModel()

    def allows(self, road_class: str) -> bool:
        return road_class in self.speeds_kmh

    @property
    def digest(self) -> str:
        payload = json.dumps({"name": self.name, "speeds": dict(self.speeds_kmh),
                              "size": [self.weight_t, self.width_m, self.height_m],
                              "closed_surfaces": list(self.closed_surfaces),
                              "model": self.model.digest}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise GeodataError(f"{path}: cannot read vehicle profiles: {exc}") from None
    if not isinstance(raw, dict):
        raise GeodataError(f"{path}: expected a mapping of profile names")
    return raw


def load_profiles(path: Path = PROFILES_FILE) -> dict[str, VehicleProfile]:
    """Read vehicle profiles from YAML; every speed and size must be a positive number."""
    raw = _read(path)
    model = SpeedModel.from_mapping(raw.get(MODEL_KEY), source=f"{path}: {MODEL_KEY}")
    profiles = {}
    for name, spec in raw.items():
        if name == MODEL_KEY:
            continue
        spec = spec or {}
        speeds = spec.get("speeds_kmh") or {}
        for cls, kmh in speeds.items():
            if not isinstance(kmh, (int, float)) or kmh <= 0:
                raise GeodataError(f"{path}: {name}.speeds_kmh.{cls} = {kmh!r}: "
                                   "give a positive speed in km/h, or remove the class to close it")
        size = {}
        for key in ("weight_t", "width_m", "height_m"):
            value = spec.get(key, 0.0)
            if not isinstance(value, (int, float)) or value < 0:
                raise GeodataError(f"{path}: {name}.{key} = {value!r}: give a number >= 0")
            size[key] = float(value)
        closed = spec.get("closed_surfaces") or []
        if not isinstance(closed, list) or not all(isinstance(x, str) for x in closed):
            raise GeodataError(f"{path}: {name}.closed_surfaces = {closed!r}: give a list of "
                               "OSM surface values, e.g. [mud, sand]")
        profiles[name] = VehicleProfile(name=name, label=str(spec.get("label", name)),
                                        speeds_kmh=MappingProxyType(dict(speeds)), model=model,
                                        closed_surfaces=tuple(closed), **size)
    return profiles


def get_profile(name: str, profiles: Mapping[str, VehicleProfile] | None = None) -> VehicleProfile:
    profiles = load_profiles() if profiles is None else profiles
    if name not in profiles:
        raise UnknownProfileError(name, sorted(profiles))
    return profiles[name]
