"""A scenario's service area: the communes its coverage KPIs count against.

A scenario names it (``service_area:``, schema version 3): a province of the region (2025 or
former, from :mod:`geodata.region`) or a list of communes. Without it, the area is the
province the road dataset was imported for (``province`` in its ``dataset.yaml``), else the
province whose communes the dataset holds exactly (the embedded Hà Giang dataset: the former
Hà Giang, 73 communes), else the dataset's communes. The KPIs count against the whole area,
including communes the road data does not cover, so a plan never claims a target on
communes it could not reach; ``covered`` says how many the road data holds. The 2025
province the area lies in is reported beside it (the former Hà Giang: Tuyên Quang, 124).
"""

from __future__ import annotations

from dataclasses import dataclass

from geodata.datasets import Dataset
from geodata.region import Province, Region, UnknownProvinceError, load_region
from planner.errors import Problem, ScenarioError
from planner.scenario import Scenario


@dataclass(frozen=True)
class ServiceArea:
    """The communes a plan's coverage counts against, and the 2025 province around them."""

    name: str
    communes: frozenset[str]
    covered: int  # communes of the area that the road dataset holds
    source: str  # "scenario", "dataset" or "dataset communes"
    province_2025: str = ""  # the 2025 province holding the whole area ("" when none)
    province_2025_communes: int = 0

    @property
    def size(self) -> int:
        return len(self.communes)


def _enclosing_2025(region: Region, province: Province | None,
                    communes: frozenset[str]) -> Province | None:
    if province is not None:
        if province.kind == "2025":
            return province
        return next((p for p in region.provinces if p.key == province.successor), None)
    codes = region.communes.loc[region.communes.index.intersection(sorted(communes)),
                                "province_code"]
    if len(codes) != len(communes) or codes.nunique() != 1:
        return None
    return next((p for p in region.provinces if p.kind == "2025" and p.code == codes.iloc[0]),
                None)


def _matching_province(region: Region, codes: frozenset[str]) -> Province | None:
    """The province (a former one first) whose communes are exactly ``codes``."""
    for p in sorted(region.provinces, key=lambda p: p.kind != "former"):
        if p.communes == len(codes) and frozenset(region.communes_of(p).index) == codes:
            return p
    return None


def dataset_province(dataset: Dataset, region: Region | None = None) -> Province | None:
    """The province a dataset is of: the one it was imported for (``province`` in its
    ``dataset.yaml``), else the one whose communes it holds exactly, else None."""
    region = region or load_region()
    declared = (dataset.manifest.get("province") or {}).get("key")
    found = next((p for p in region.provinces if p.key == declared), None)
    return found or _matching_province(region, frozenset(str(c) for c in
                                                         dataset.communes.index))


def service_area_of(scenario: Scenario, dataset: Dataset, *, file: str = "<scenario>",
                    region: Region | None = None) -> ServiceArea:
    """The service area of ``scenario`` planned on ``dataset`` (see the module doc); a
    :class:`ScenarioError` naming the field for an unknown province or commune, or a stop
    outside the area."""
    region = region or load_region()
    in_data = frozenset(str(c) for c in dataset.communes.index)
    spec = scenario.service_area
    province: Province | None = None
    if spec is not None and spec.province is not None:
        try:
            province = region.province(spec.province)
        except UnknownProvinceError:
            names = {kind: ", ".join(p.name for p in region.provinces if p.kind == kind)
                     for kind in ("2025", "former")}
            raise ScenarioError([Problem(file, "service_area.province", spec.province,
                                         "unknown province", "name a province of the region. "
                                         f"2025 provinces: {names['2025']}; former provinces "
                                         f"(before July 2025): {names['former']} (write "
                                         "'former Lào Cai' for a former province that shares "
                                         "its name with a 2025 one)",
                                         key="problem_unknown_province",
                                         fix_key="problem_fix_province",
                                         values=(("provinces_2025", names["2025"]),
                                                 ("provinces_former", names["former"])))
                                 ]) from None
        codes = frozenset(region.communes_of(province).index)
        name, source = province.label, "scenario"
    elif spec is not None:
        codes = frozenset(spec.communes or ())
        unknown = sorted(c for c in codes if c not in in_data and c not in region.communes.index)
        if unknown:
            raise ScenarioError([Problem(file, "service_area.communes", ", ".join(unknown[:10]),
                                         "not a commune of the road dataset or of the region",
                                         "use 5-digit 2025 commune codes",
                                         key="problem_area_unknown_communes",
                                         fix_key="problem_fix_area_codes")])
        name, source = spec.name or f"{len(codes)} communes listed in the scenario", "scenario"
    else:
        province = dataset_province(dataset, region)
        if province is not None:
            codes = frozenset(region.communes_of(province).index)
            name, source = province.label, "dataset"
        else:
            codes, name, source = in_data, f"the communes of dataset {dataset.name}", \
                "dataset communes"
    outside = [(i, st.commune_code) for i, st in enumerate(scenario.stops)
               if st.commune_code not in codes]
    if outside:
        raise ScenarioError([Problem(file, f"stops[{i}].commune_code", code,
                                     f"not a commune of the service area ({name})",
                                     "remove the stop, or widen `service_area`",
                                     key="problem_outside_area", fix_key="problem_fix_area",
                                     values=(("area", name),))
                             for i, code in outside])
    enclosing = _enclosing_2025(region, province, codes)
    return ServiceArea(name=name, communes=codes, covered=len(codes & in_data), source=source,
                       province_2025=enclosing.name if enclosing else "",
                       province_2025_communes=enclosing.communes if enclosing else 0)


__all__ = ["ServiceArea", "dataset_province", "service_area_of"]
