"""Newcomer traps of issue 17 at the road-graph level: motorways open to the profiles that
may use them (trap 5), closed classes counted, ferries with their crossing time (trap 8)."""

from __future__ import annotations

import numpy as np
from geodata_testkit import build, node_at, pgraph, pt, road, seconds, utm_length

from geodata.routing import travel_matrices

# A ---- motorway (straight, 2 km) ---- B
#  \______ minor detour via C (4 km) __/
A, B, C = pt(0, 0), pt(20, 0), pt(10, 17)
MOTORWAY = [road([A, B], omt_class="motorway")]
DETOUR = [road([A, C], omt_class="minor"), road([C, B], omt_class="minor")]


def test_trucks_and_vans_take_the_motorway_motorbikes_do_not() -> None:
    graph = build(MOTORWAY + DETOUR)
    a, b = node_at(graph, A), node_at(graph, B)
    for name in ("truck", "van"):
        pg = pgraph(graph, name)
        mat = travel_matrices(pg, np.array([a, b]))
        assert np.isclose(mat.distance_m[0, 1], utm_length([A, B]), rtol=1e-3), name
        assert pg.report.closed_km_by_class.get("motorway") is None
    bike = pgraph(graph, "motorbike")
    mat = travel_matrices(bike, np.array([a, b]))
    detour_m = utm_length([A, C]) + utm_length([C, B])
    assert np.isclose(mat.distance_m[0, 1], detour_m, rtol=1e-3)
    assert np.isclose(mat.time_s[0, 1], seconds(detour_m, 39.8), rtol=1e-3)
    # the motorway the motorbike may not use is counted, not silently left out
    assert np.isclose(bike.report.closed_km_by_class["motorway"], utm_length([A, B]) / 1000,
                      atol=0.1)


def test_closed_classes_are_counted_per_profile() -> None:
    graph = build(DETOUR + [road([B, pt(30, 0)], omt_class="track")])
    assert "track" in pgraph(graph, "truck").report.closed_km_by_class
    assert "track" not in pgraph(graph, "van").report.closed_km_by_class
