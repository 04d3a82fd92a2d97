"""A small province written as an OpenStreetMap file by the tests themselves (issue 17).

Near lon 105.0, lat 22.8; ``pt(dx, dy)`` is ``dx``/``dy`` thousandths of a degree (about
103 m east and 111 m north)::

    W (0,100) --- secondary ---+
    |                          |
    |  tertiary                | ferry (route=ferry, 10 min, way 205)
    |                          |
    A (0,0) ==== primary ===== B (100,0) ---- motorway ---- M (300,0)

Commune points (codes in ``COMMUNES``): ``00001`` beside A, ``00002`` beside B,
``00003`` 3.3 km south of B (2-10 km from any road: a warning), ``00004`` 16 km south of A
(beyond 10 km: an error unless allowed), ``09999`` far east, outside ``OUTLINE``.
"""

from __future__ import annotations

from pathlib import Path

import osmium
from osmium.osm.mutable import Node, Way
from shapely.geometry import Polygon

LON0, LAT0 = 105.0, 22.8


def pt(dx: float, dy: float) -> tuple[float, float]:
    return (LON0 + dx * 1e-3, LAT0 + dy * 1e-3)


NODES = {1: pt(0, 0), 2: pt(50, 0), 3: pt(100, 0), 4: pt(0, 100), 5: pt(100, 100),
         6: pt(300, 0), 7: pt(100, 60), 8: pt(0, 50)}
WAYS: dict[int, tuple[list[int], dict[str, str]]] = {
    201: ([1, 2, 3], {"highway": "primary", "name": "Quốc lộ 1", "ref": "QL.1"}),
    202: ([1, 8, 4], {"highway": "tertiary"}),
    203: ([4, 5], {"highway": "secondary", "name": "Tỉnh lộ 2"}),
    204: ([3, 6], {"highway": "motorway", "oneway": "no", "ref": "CT.05"}),
    205: ([5, 7], {"route": "ferry", "duration": "00:10", "motor_vehicle": "yes",
                   "name": "Phà Tạ Bú"}),
    206: ([7, 3], {"highway": "unclassified"}),
}
COMMUNES = {"00001": ("Xã Một", pt(1, 1)), "00002": ("Xã Hai", pt(99, 1)),
            "00003": ("Xã Ba", pt(100, -30)), "00004": ("Xã Bốn", pt(0, -145)),
            "09999": ("Xã Ngoài", pt(900, 0))}
OUTLINE = Polygon([pt(-20, -160), pt(320, -160), pt(320, 120), pt(-20, 120)])
LIBRARY = ("Thư viện tỉnh Thử", pt(2, 2))


def write_osm(path: Path, ways: dict | None = None, nodes: dict | None = None) -> Path:
    """Write the network with pyosmium (format from the suffix: .osm.pbf, .osm, ...)."""
    with osmium.SimpleWriter(str(path), overwrite=True) as writer:
        for nid, (lon, lat) in sorted((nodes or NODES).items()):
            writer.add_node(Node(id=nid, location=(lon, lat)))
        for wid, (refs, tags) in sorted((ways or WAYS).items()):
            writer.add_way(Way(id=wid, nodes=refs, tags=tags))
    return path


def write_communes(path: Path, codes: tuple[str, ...] | None = None) -> Path:
    rows = ["commune_code,name,lon,lat"]
    for code, (name, (lon, lat)) in COMMUNES.items():
        if codes is None or code in codes:
            rows.append(f"{code},{name},{lon},{lat}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def write_libraries(path: Path) -> Path:
    name, (lon, lat) = LIBRARY
    path.write_text(f"library_id,name,lon,lat\nTV-01,{name},{lon},{lat}\n", encoding="utf-8")
    return path


def write_outline(path: Path) -> Path:
    import geopandas as gpd

    gpd.GeoDataFrame({"name": ["test province"]}, geometry=[OUTLINE],
                     crs="EPSG:4326").to_file(path)
    return path
