"""Vehicle profiles: road classes allowed and speed per class (from ``profiles.yaml``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import yaml

from geodata.errors import GeodataError, UnknownProfileError

PROFILES_FILE = Path(__file__).resolve().parent / "profiles.yaml"


@dataclass(frozen=True)
class VehicleProfile:
    name: str
    label: str
    speeds_kmh: Mapping[str, float]

    def allows(self, road_class: str) -> bool:
        return road_class in self.speeds_kmh

    @property
    def digest(self) -> str:
        payload = json.dumps({"name": self.name, "speeds": dict(self.speeds_kmh)}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def load_profiles(path: Path = PROFILES_FILE) -> dict[str, VehicleProfile]:
    """Read vehicle profiles from YAML; every speed must be a positive number."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise GeodataError(f"{path}: cannot read vehicle profiles: {exc}") from None
    profiles = {}
    for name, spec in raw.items():
        speeds = (spec or {}).get("speeds_kmh") or {}
        for cls, kmh in speeds.items():
            if not isinstance(kmh, (int, float)) or kmh <= 0:
                raise GeodataError(f"{path}: {name}.speeds_kmh.{cls} = {kmh!r}: "
                                   "give a positive speed in km/h, or remove the class to close it")
        profiles[name] = VehicleProfile(name=name, label=str(spec.get("label", name)),
                                        speeds_kmh=MappingProxyType(dict(speeds)))
    return profiles


def get_profile(name: str, profiles: Mapping[str, VehicleProfile] | None = None) -> VehicleProfile:
    profiles = load_profiles() if profiles is None else profiles
    if name not in profiles:
        raise UnknownProfileError(name, sorted(profiles))
    return profiles[name]
