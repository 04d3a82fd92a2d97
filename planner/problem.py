"""RoutingProblem: the integer, index-based, immutable form of a scenario that solvers take.

Locations are numbered depots first, then stops, in scenario order. Times are whole seconds
from midnight of the horizon's first day; distances whole metres. This module is the one
place where scenario units (minutes, clock times, crates) become solver integers.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from planner.scenario import Scenario, Trips, trip_id
from planner.scenario import Vehicle as ScenarioVehicle

DAY_S = 86_400
NO_PATH_S = 10**9  # "no road": larger than any horizon, small enough for int64 sums
REQUIRED_PENALTY = 10**9 // 4
MAX_FIXED_COST_S = REQUIRED_PENALTY // 10  # a trip's fixed cost, in seconds of crew time
PRIORITY_PENALTY_S = 4 * 3600  # an optional stop of priority p is worth p * 4 h of travel


@dataclass(frozen=True)
class Place:
    """A location of the problem as people know it: a depot (``key``: its id) or a stop
    (``key``: the commune code), with its name and the point it was snapped from."""

    kind: str  # "depot" | "stop"
    key: str
    name: str
    lon: float
    lat: float


@dataclass(frozen=True)
class VehicleSpec:
    """One physical vehicle (a scenario entry with ``count: 2`` gives two)."""

    id: str
    scenario_index: int
    profile: int
    start: int
    end: int
    capacity: int
    shift_start_s: int  # seconds after midnight
    shift_end_s: int
    earliest_start_s: int
    latest_end_s: int
    max_span_s: int
    max_drive_s_per_day: int | None = None  # driving (travel) per calendar day; None: no cap
    # daily breaks: (earliest start, latest end, duration), seconds after midnight
    breaks: tuple[tuple[int, int, int], ...] = ()
    # continuous driving: at most this much driving without a pause of ``drive_rest_s``
    # (None: no such rule). The crew sets out rested: every stop is such a pause (a shorter
    # service is lengthened to it), and a long leg holds a roadside pause after every
    # ``max_continuous_drive_s`` of driving
    max_continuous_drive_s: int | None = None
    drive_rest_s: int = 0
    # several trips of one vehicle are consecutive vehicles of the problem, ``trip`` 0, 1, …
    # of ``vehicle_id`` (``id`` is the trip's id); see :meth:`next_trip_earliest`
    vehicle_id: str = ""
    trip: int = 0
    turnaround_s: int = 0
    rest_days: int = 0
    # the objective's price of a km driven and of a night away, in seconds of crew time (the
    # vehicle's VND rates over its hourly rate, :func:`crew_seconds`); 0: not priced
    km_cost: int = 0
    night_cost: int = 0

    def next_trip_earliest(self, return_s: int) -> int:
        """The earliest departure of this vehicle's next trip after a return at ``return_s``:
        after the turnaround, and on a later working day (after the rest days)."""
        next_day = (return_s // DAY_S + 1 + self.rest_days) * DAY_S + self.earliest_start_s
        return max(return_s + self.turnaround_s, next_day)

    def shift_on(self, day: int) -> tuple[int, int]:
        return day * DAY_S + self.shift_start_s, day * DAY_S + self.shift_end_s

    @property
    def drive_cap_binds(self) -> bool:
        """Can the daily driving cap bind (is it shorter than the shift)?"""
        return (self.max_drive_s_per_day is not None
                and self.max_drive_s_per_day < self.shift_end_s - self.shift_start_s)

    def roadside_rests(self, travel: int) -> int:
        """Pauses a leg of ``travel`` seconds of driving needs on the road."""
        cap = self.max_continuous_drive_s
        if cap is None or travel <= cap or travel >= NO_PATH_S:
            return 0
        return (travel - 1) // cap

    def leg_s(self, travel: int) -> int:
        """Time a leg of ``travel`` seconds of driving takes with its roadside pauses."""
        return travel + self.roadside_rests(travel) * self.drive_rest_s

    def leg_matrix(self, travel: np.ndarray) -> np.ndarray:
        """:meth:`leg_s` of every entry of a travel-time matrix (``NO_PATH_S`` stays)."""
        travel = np.asarray(travel, dtype=np.int64)
        cap = self.max_continuous_drive_s
        if cap is None:
            return travel.copy()
        long = (travel > cap) & (travel < NO_PATH_S)
        return travel + np.where(long, (travel - 1) // cap, 0) * self.drive_rest_s

    def dwell_s(self, service: int) -> int:
        """Time spent at a stop with ``service`` seconds of service: at least a pause."""
        return service if self.max_continuous_drive_s is None else max(service,
                                                                        self.drive_rest_s)


@dataclass(frozen=True, eq=False)
class RoadPeriod:
    """Days ``first_day``..``last_day`` of the horizon (0: its first day) on which the road
    conditions give these matrices (per profile, as :attr:`RoutingProblem.time_s`)."""

    first_day: int
    last_day: int
    time_s: tuple[np.ndarray, ...]
    distance_m: tuple[np.ndarray, ...]


def as_solver_matrices(time_s: np.ndarray, distance_m: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Travel seconds and metres (float, ``inf`` where there is no road) as the solver's whole
    numbers, ``NO_PATH_S`` where there is no road."""
    t = np.asarray(time_s, dtype=float)
    d = np.asarray(distance_m, dtype=float)
    bad = ~np.isfinite(t)
    return (np.where(bad, NO_PATH_S, np.round(t)).astype(np.int64),
            np.where(bad, NO_PATH_S, np.round(d)).astype(np.int64))


def worst_matrices(periods: Sequence[tuple[np.ndarray, np.ndarray]]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The slowest of several periods' (time, distance) matrices, entry by entry: each
    entry's time is the longest, its distance that of the period with that time. A leg timed
    with them is never shorter than on any of the periods' days (what the routing model
    plans with when conditions change within the horizon)."""
    times = np.stack([np.asarray(t, dtype=float) for t, _ in periods])
    dists = np.stack([np.asarray(d, dtype=float) for _, d in periods])
    pick = np.argmax(times, axis=0)
    return (np.take_along_axis(times, pick[None], axis=0)[0],
            np.take_along_axis(dists, pick[None], axis=0)[0])


def slowest_period(days: Sequence[tuple[int, int]], times: Sequence[float], leave_s: int,
                   arrive_s: int) -> int:
    """Index of the period (``days``: first and last day of each, in order, covering the
    horizon) whose conditions a leg leaving at ``leave_s`` and arriving at ``arrive_s`` is
    driven under: the slowest (``times``: the leg's time in each) among the periods of the
    days from the one to the other (the earliest such period on a tie)."""
    last = days[-1][1]
    first_day = min(max(leave_s // DAY_S, 0), last)
    last_day = min(max(arrive_s // DAY_S, first_day), last)
    best = None
    for i, (a, b) in enumerate(days):
        if b >= first_day and a <= last_day and (best is None or times[i] > times[best]):
            best = i
    assert best is not None, "road periods must cover every day of the horizon"
    return best


@dataclass(frozen=True, eq=False)
class RoutingProblem:
    """Everything a solver needs, nothing it does not."""

    n_depots: int
    n_stops: int
    horizon_days: int
    profiles: tuple[str, ...]
    time_s: tuple[np.ndarray, ...]  # per profile, (N, N) int64, NO_PATH_S where no road
    distance_m: tuple[np.ndarray, ...]
    vehicles: tuple[VehicleSpec, ...]
    deliver: tuple[int, ...]  # per location (0 at depots)
    collect: tuple[int, ...]
    service_s: tuple[int, ...]
    windows: tuple[tuple[tuple[int, int], ...], ...]  # per location: absolute service-start windows
    required: tuple[bool, ...]
    penalty: tuple[int, ...]
    # Objective weights (defaults: the planner's objective, travel time plus route span).
    travel_cost_coeff: int = 1  # per second of travel
    distance_cost_coeff: int = 0  # per metre (distance_m)
    span_cost_coeff: int = 1  # per second from leaving the depot to coming back
    vehicle_fixed_cost: tuple[int, ...] | None = None  # per vehicle, paid when it is used
    # Optional pickup-and-delivery pairs (location indices): same vehicle, pickup first. The
    # goods are carried between them: ``pair_load`` per location, + loaded, - unloaded.
    pickup_delivery: tuple[tuple[int, int], ...] = ()
    pair_load: tuple[int, ...] | None = None
    # per location, the vehicles allowed to serve it (None: any), e.g. a commune reachable
    # only by motorbike
    allowed_vehicles: tuple[tuple[int, ...] | None, ...] | None = None
    # per location: may the crew spend the night there? (None: everywhere). After a stop
    # without lodging the next service starts the same day.
    lodging: tuple[bool, ...] | None = None
    # road conditions that change within the horizon (dated closures, the rainy season's
    # start or end): the periods, in day order, covering every day. ``time_s`` and
    # ``distance_m`` then hold the slowest of them (:func:`worst_matrices`), which the
    # routing model plans with; the schedule and the checker time each leg by
    # :meth:`leg_on`. Empty: the same conditions every day.
    periods: tuple[RoadPeriod, ...] = ()
    # the daily driving cap the routing model applies at every stop (see
    # :attr:`stop_drive_cap_s`) when it is not that of these vehicles: set by
    # :meth:`with_vehicles`, so that some of a fleet's vehicles are modelled as in the whole
    fleet_drive_cap_s: int | None = None

    @property
    def n_locations(self) -> int:
        return self.n_depots + self.n_stops

    @property
    def horizon_s(self) -> int:
        return self.horizon_days * DAY_S

    def penalty_left_out(self, served: Container[int]) -> int:
        """The objective's penalties of the stops not in ``served``."""
        return sum(self.penalty[loc] for loc in range(self.n_depots, self.n_locations)
                   if loc not in served)

    @property
    def stop_drive_cap_s(self) -> int | None:
        """The daily driving cap the routing model applies at every stop, whichever vehicle
        serves it: the smallest that binds in the fleet (``None``: no cap binds)."""
        if self.fleet_drive_cap_s is not None:
            return self.fleet_drive_cap_s
        caps = [v.max_drive_s_per_day for v in self.vehicles
                if v.drive_cap_binds and v.max_drive_s_per_day is not None]
        return min(caps) if caps else None

    def vehicle_chains(self) -> list[list[int]]:
        """The vehicles of the problem grouped by physical vehicle: each group the trips of
        one vehicle, in order (the only constraints of the model that link vehicles)."""
        chains: list[list[int]] = []
        for k in range(len(self.vehicles)):
            if self.previous_trip(k) is None:
                chains.append([k])
            else:
                chains[-1].append(k)
        return chains

    def with_vehicles(self, vehicles: Sequence[int]) -> RoutingProblem:
        """The same problem with only ``vehicles`` (indices, in that order; a vehicle's
        trips together, first trip first), modelled as in the whole fleet."""
        new = {old: i for i, old in enumerate(vehicles)}
        allowed = None if self.allowed_vehicles is None else tuple(
            None if ks is None else tuple(new[k] for k in ks if k in new)
            for ks in self.allowed_vehicles)
        fixed = None if self.vehicle_fixed_cost is None else tuple(
            self.vehicle_fixed_cost[k] for k in vehicles)
        return replace(self, vehicles=tuple(self.vehicles[k] for k in vehicles),
                       allowed_vehicles=allowed, vehicle_fixed_cost=fixed,
                       fleet_drive_cap_s=self.stop_drive_cap_s)

    def previous_trip(self, k: int) -> int | None:
        """The vehicle of the problem that is the trip before trip ``k`` of the same
        physical vehicle, if any."""
        v = self.vehicles[k]
        if v.trip == 0:
            return None
        assert self.vehicles[k - 1].vehicle_id == v.vehicle_id
        return k - 1

    def arc_cost_key(self, vehicle: int) -> tuple[int, int]:
        """What a vehicle's arc costs depend on: its profile and its price of a km."""
        v = self.vehicles[vehicle]
        return v.profile, v.km_cost

    def arc_cost_matrix(self, profile: int, km_cost: int) -> np.ndarray:
        """The objective's cost of each arc (int64, read-only) for vehicles of ``profile``
        that pay ``km_cost`` per km: ``travel_cost_coeff`` per second of travel,
        ``distance_cost_coeff`` per metre, and ``km_cost`` per km. The one home of the arc
        cost rule: the OR-Tools model, the PyVRP seed and the repair price arcs with it.
        Computed once per problem and key (ruin and recreate asks for it at every
        insertion: 18,629 times in 20 s on tq-80, 0.8 s of it)."""
        memo = self._arc_costs
        key = (profile, km_cost)
        if key not in memo:
            memo[key] = self._arc_costs_of(profile, km_cost)
        return memo[key]

    @cached_property
    def _arc_costs(self) -> dict[tuple[int, int], np.ndarray]:
        return {}

    def _arc_costs_of(self, profile: int, km_cost: int) -> np.ndarray:
        t = np.asarray(self.time_s[profile], dtype=np.int64)
        d = np.asarray(self.distance_m[profile], dtype=np.int64)
        cost = self.travel_cost_coeff * t
        if self.distance_cost_coeff:
            cost = cost + self.distance_cost_coeff * d
        if km_cost:
            cost = cost + (km_cost * np.minimum(d, NO_PATH_S) + 500) // 1000
        cost.flags.writeable = False
        return cost

    def travel_s(self, vehicle: int, a: int, b: int) -> int:
        return int(self.time_s[self.vehicles[vehicle].profile][a, b])

    def distance(self, vehicle: int, a: int, b: int) -> int:
        return int(self.distance_m[self.vehicles[vehicle].profile][a, b])

    def leg_on(self, profile: int, a: int, b: int, leave_s: int, arrive_s: int
               ) -> tuple[int, int, int | None]:
        """Travel seconds, metres and road period (index into :attr:`periods`; ``None``
        when conditions do not change) of the leg ``a`` -> ``b`` driven between leaving at
        ``leave_s`` and arriving at ``arrive_s``: the conditions of the slowest period among
        the days from the one to the other. The one rule for dated road conditions: the
        schedule, the plan checker and the route maps apply it."""
        if not self.periods:
            return (int(self.time_s[profile][a, b]), int(self.distance_m[profile][a, b]),
                    None)
        i = slowest_period([(p.first_day, p.last_day) for p in self.periods],
                           [int(p.time_s[profile][a, b]) for p in self.periods],
                           leave_s, arrive_s)
        p = self.periods[i]
        return int(p.time_s[profile][a, b]), int(p.distance_m[profile][a, b]), i

    def leg_at(self, vehicle: int, a: int, b: int, leave_s: int, arrive_s: int
               ) -> tuple[int, int]:
        """:meth:`leg_on` for vehicle ``vehicle``'s profile: (seconds, metres)."""
        t, d, _ = self.leg_on(self.vehicles[vehicle].profile, a, b, leave_s, arrive_s)
        return t, d

    def with_stops(self, stops: Sequence[int]) -> RoutingProblem:
        """The same problem with every depot and only ``stops`` (location indices, in that
        order): a day of a periodic problem routes the stops due that day. Pickup-and-delivery
        pairs are kept when both ends are."""
        keep = list(range(self.n_depots)) + [int(s) for s in stops]
        new = {old: i for i, old in enumerate(keep)}
        ix = np.ix_(keep, keep)

        def pick(seq):  # noqa: ANN001, ANN202
            return None if seq is None else tuple(seq[i] for i in keep)

        return replace(
            self, n_stops=len(keep) - self.n_depots,
            time_s=tuple(m[ix] for m in self.time_s),
            distance_m=tuple(m[ix] for m in self.distance_m),
            deliver=pick(self.deliver), collect=pick(self.collect),
            service_s=pick(self.service_s), windows=pick(self.windows),
            required=pick(self.required), penalty=pick(self.penalty),
            pickup_delivery=tuple((new[a], new[b]) for a, b in self.pickup_delivery
                                  if a in new and b in new),
            pair_load=pick(self.pair_load), allowed_vehicles=pick(self.allowed_vehicles),
            lodging=pick(self.lodging),
            periods=tuple(replace(p, time_s=tuple(m[ix] for m in p.time_s),
                                  distance_m=tuple(m[ix] for m in p.distance_m))
                          for p in self.periods))


def _stop_windows(scenario: Scenario, stop_index: int) -> tuple[tuple[int, int], ...]:
    stop = scenario.stops[stop_index]
    out = []
    for day in range(scenario.horizon.days):
        date = scenario.horizon.date_of(day)
        for tw in stop.time_windows or ():
            if tw.applies_on(date):
                out.append((day * DAY_S + tw.start_min * 60, day * DAY_S + tw.end_min * 60))
        if not stop.time_windows:
            out.append((day * DAY_S, day * DAY_S + DAY_S - 1))
    return tuple(sorted(out))


@dataclass(frozen=True)
class DatedMatrices:
    """Per-profile matrices (float, ``inf`` where there is no road) for the horizon's days
    ``first_day``..``last_day``."""

    first_day: int
    last_day: int
    time_s: Mapping[str, np.ndarray]
    distance_m: Mapping[str, np.ndarray]


def build_problem(scenario: Scenario, *, profiles: tuple[str, ...],
                  time_s: Mapping[str, np.ndarray], distance_m: Mapping[str, np.ndarray],
                  periods: Sequence[DatedMatrices] = ()) -> RoutingProblem:
    """Turn a scenario and its per-profile matrices (locations: depots then stops, in scenario
    order; ``inf`` where there is no road) into a :class:`RoutingProblem`. With ``periods``
    (road conditions that change within the horizon, see :attr:`RoutingProblem.periods`)
    ``time_s`` and ``distance_m`` are ignored: the model plans with the slowest of them."""
    n_dep, n_stop = len(scenario.depots), len(scenario.stops)
    depot_index = {d.id: i for i, d in enumerate(scenario.depots)}
    road_periods = tuple(RoadPeriod(
        p.first_day, p.last_day,
        *map(tuple, zip(*(as_solver_matrices(p.time_s[name], p.distance_m[name])
                          for name in profiles), strict=True)))
        for p in periods) if len(periods) > 1 else ()
    t_mats, d_mats = [], []
    for i, name in enumerate(profiles):
        if road_periods:
            t, d = worst_matrices([(p.time_s[i], p.distance_m[i]) for p in road_periods])
            t_mats.append(t.astype(np.int64))
            d_mats.append(d.astype(np.int64))
        else:
            only = periods[0] if periods else None
            t, d = as_solver_matrices(only.time_s[name] if only else time_s[name],
                                      only.distance_m[name] if only else distance_m[name])
            t_mats.append(t)
            d_mats.append(d)
    vehicles = []
    days = scenario.horizon.days
    for vi, v in enumerate(scenario.vehicles):
        home = depot_index[v.depot]
        end = depot_index[v.end_depot] if v.end_depot else home
        depot = scenario.depots[home]
        shift_start = max(v.shift.start_min, depot.opening.start_min) * 60
        shift_end = v.shift.end_min * 60
        trips = scenario.max_trips(v)
        for k, trip in ((k, t) for k in range(v.count) for t in range(trips)):
            vid = v.unit_id(k)
            vehicles.append(VehicleSpec(
                id=trip_id(vid, trip), vehicle_id=vid, trip=trip,
                turnaround_s=(v.trips.turnaround_minutes * 60 if v.trips is not None
                              else Trips().turnaround_minutes * 60),
                rest_days=v.trips.rest_days if v.trips is not None else 0,
                scenario_index=vi, profile=profiles.index(v.profile), start=home,
                end=end, capacity=_capacity(v.capacity_crates, v.capacity_kg, scenario.crate_kg),
                shift_start_s=v.shift.start_min * 60,
                shift_end_s=shift_end, earliest_start_s=shift_start,
                latest_end_s=(days - 1) * DAY_S + shift_end,
                max_span_s=(v.max_trip_days - 1) * DAY_S + shift_end - v.shift.start_min * 60,
                max_drive_s_per_day=round(v.max_driving_hours_per_day * 3600),
                breaks=tuple((b.start_min * 60, b.end_min * 60, b.minutes * 60)
                             for b in v.breaks),
                max_continuous_drive_s=(None if v.max_continuous_driving_hours is None
                                        else round(v.max_continuous_driving_hours * 3600)),
                drive_rest_s=v.continuous_driving_rest_minutes * 60,
                km_cost=crew_seconds(v, v.cost_vnd_per_km, at_most=MAX_FIXED_COST_S // 1000),
                night_cost=crew_seconds(v, v.cost_vnd_per_night,
                                        at_most=MAX_FIXED_COST_S // 32),
            ))
    zeros = (0,) * n_dep
    stops = scenario.stops
    stop_loc = {st.commune_code: n_dep + i for i, st in enumerate(stops)}
    pairs = tuple((stop_loc[t.from_code], stop_loc[t.to_code]) for t in scenario.transfers)
    pair_load = [0] * (n_dep + n_stop)
    for tr in scenario.transfers:
        pair_load[stop_loc[tr.from_code]] += tr.crates
        pair_load[stop_loc[tr.to_code]] -= tr.crates
    day_window = tuple((d * DAY_S, d * DAY_S + DAY_S - 1) for d in range(days))
    # the objective counts seconds of crew time, priced like the plan's cost in VND
    # (planner.kpis.route_cost_vnd): the route's span (its hours), each km and each night
    # away, and a trip's fixed cost, as the seconds of crew time they are worth (the VND
    # rate over cost_vnd_per_hour). Travel time is then not counted again; a fleet without
    # a price per km keeps it (travel time plus span, the objective before rates).
    fixed = tuple(_fixed_cost_s(scenario.vehicles[v.scenario_index]) for v in vehicles)
    priced = bool(vehicles) and all(v.km_cost > 0 for v in vehicles)
    return RoutingProblem(
        n_depots=n_dep, n_stops=n_stop, horizon_days=days, profiles=tuple(profiles),
        time_s=tuple(t_mats), distance_m=tuple(d_mats), vehicles=tuple(vehicles),
        deliver=zeros + tuple(s.deliver_crates for s in stops),
        collect=zeros + tuple(s.collect_crates for s in stops),
        service_s=zeros + tuple(s.service_minutes * 60 for s in stops),
        windows=(day_window,) * n_dep + tuple(_stop_windows(scenario, i) for i in range(n_stop)),
        required=(True,) * n_dep + tuple(s.required for s in stops),
        penalty=zeros + tuple(REQUIRED_PENALTY if s.required else s.priority * PRIORITY_PENALTY_S
                              for s in stops),
        pickup_delivery=pairs,
        pair_load=tuple(pair_load) if pairs else None,
        allowed_vehicles=_allowed(scenario, vehicles, profiles),
        vehicle_fixed_cost=fixed if any(fixed) else None,
        travel_cost_coeff=0 if priced else 1,
        lodging=(None if all(st.lodging for st in stops)
                 else (True,) * n_dep + tuple(st.lodging for st in stops)),
        periods=road_periods,
    )


def crew_seconds(v: ScenarioVehicle, vnd: float, *, at_most: int = MAX_FIXED_COST_S) -> int:
    """``vnd`` as the seconds of the vehicle's crew time it is worth (``vnd`` over its
    ``cost_vnd_per_hour``), at most ``at_most`` (a tiny hourly cost must not overflow the
    solver's integers or outweigh a required stop); 0 when either is not priced."""
    if vnd <= 0 or v.cost_vnd_per_hour <= 0:
        return 0
    hours = vnd / v.cost_vnd_per_hour
    return round(min(hours * 3600, at_most))  # min first: hours may be inf


def _fixed_cost_s(v: ScenarioVehicle) -> int:
    """A trip's fixed cost as seconds of crew time."""
    return crew_seconds(v, v.cost_vnd_per_trip)


def _capacity(crates: int, kg: float | None, crate_kg: float) -> int:
    """Crates a vehicle may carry: its crate count, and no more than its load in kg allows."""
    return crates if kg is None else min(crates, int(kg // crate_kg))


def _allowed(scenario: Scenario, vehicles: list[VehicleSpec], profiles: tuple[str, ...]
             ) -> tuple[tuple[int, ...] | None, ...] | None:
    n_dep = len(scenario.depots)
    if not any(st.allowed_profiles for st in scenario.stops):
        return None
    out: list[tuple[int, ...] | None] = [None] * n_dep
    for st in scenario.stops:
        if st.allowed_profiles is None:
            out.append(None)
        else:
            out.append(tuple(k for k, v in enumerate(vehicles)
                             if profiles[v.profile] in st.allowed_profiles))
    return tuple(out)
