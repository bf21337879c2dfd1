"""Every scenario shipped in scenarios/ validates; Yanzhou matches its published totals."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from tuoyu_sim import scenario as schema
from tuoyu_sim.scenario import CARE_TYPES, Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
README = SCENARIOS / "README.md"
ALL_TOML = sorted(SCENARIOS.rglob("*.toml"))


def test_there_are_scenarios() -> None:
    names = {p.relative_to(SCENARIOS).as_posix() for p in ALL_TOML}
    for expected in (
        "minimal.toml",
        "yanzhou.toml",
        "ruyituo.toml",
        "examples/two_facilities_redirect.toml",
        "examples/tables_csv.toml",
        "examples/geojson_haversine.toml",
        "examples/matrix.toml",
        "examples/no_facilities.toml",
    ):
        assert expected in names


@pytest.mark.parametrize("path", ALL_TOML, ids=lambda p: p.relative_to(SCENARIOS).as_posix())
def test_every_scenario_validates(path: Path) -> None:
    s = load_scenario(path)
    assert s.name
    assert len(s.communities) >= 1
    assert s.population > 0


@pytest.fixture(scope="module")
def yanzhou() -> Scenario:
    return load_scenario(SCENARIOS / "yanzhou.toml")


def test_yanzhou_published_totals(yanzhou: Scenario) -> None:
    assert len(yanzhou.facilities) == 58
    assert yanzhou.total_places == 3060
    assert yanzhou.population == 540_662
    assert round(yanzhou.places_per_1000, 2) == 5.66


# The 12 divisions and their official codes (Ministry of Civil Affairs, end-2025), and
# the committees per statistics unit of the 2019 code list (居委会, 村委会): FACTS.md.
DIVISION_CODES = {
    "鼓楼": "370812001", "酒仙桥": "370812002", "龙桥": "370812003", "兴隆庄": "370812004",
    "黄屯": "370812005", "王因": "370812006", "大安": "370812100", "新驿": "370812101",
    "颜店": "370812102", "新兖": "370812103", "漕河": "370812104", "小孟": "370812106",
}  # fmt: skip
COMMITTEES_2019 = {
    "鼓楼": (19, 5), "龙桥": (7, 15), "酒仙桥": (6, 13), "兴隆庄": (0, 42), "大安": (0, 53),
    "新驿": (0, 57), "颜店": (0, 66), "新兖": (2, 85), "漕河": (0, 31), "小孟": (0, 42),
}  # fmt: skip


@pytest.fixture(scope="module")
def yanzhou_notes() -> dict[str, dict[str, str]]:
    """yanzhou/community_notes.csv: division code, statistics unit, committee, census class."""
    import csv

    with (SCENARIOS / "yanzhou" / "community_notes.csv").open(encoding="utf-8") as fh:
        return {r["id"]: r for r in csv.DictReader(fh)}


def test_yanzhou_divisions_committees_and_urban_population(
    yanzhou: Scenario, yanzhou_notes: dict[str, dict[str, str]]
) -> None:
    assert {c.group for c in yanzhou.communities} == set(DIVISION_CODES)
    assert len(yanzhou.communities) == 443
    assert set(yanzhou_notes) == {c.id for c in yanzhou.communities}
    counted: dict[tuple[str, str], int] = {}
    for c in yanzhou.communities:
        note = yanzhou_notes[c.id]
        assert note["division"] == c.group
        assert note["division_code"] == DIVISION_CODES[c.group]
        key = (note["statistics_unit_2019"], note["committee"])
        counted[key] = counted.get(key, 0) + 1
    for unit, (jumin, cunmin) in COMMITTEES_2019.items():
        assert counted.get((unit, "居委会"), 0) == jumin, unit
        assert counted.get((unit, "村委会"), 0) == cunmin, unit
    urban = sum(
        c.population for c in yanzhou.communities if yanzhou_notes[c.id]["census_class"] == "urban"
    )
    assert urban == 426_229  # 2020 census
    assert 20 <= len(yanzhou.candidate_sites) <= 400
    assert any(s.fixed_cost_cny is not None for s in yanzhou.candidate_sites)


def test_yanzhou_positions_inside_the_district(
    yanzhou: Scenario, yanzhou_notes: dict[str, dict[str, str]]
) -> None:
    from tuoyu_sim.geography import distance_m
    from tuoyu_sim.scenario import Located

    assert yanzhou.geography.distance == "haversine"
    centre = Located(id="centre", lon=116.75, lat=35.57)
    radius_m = (651e6 / 3.141592653589793) ** 0.5  # a disc of 651 km²
    detour = yanzhou.geography.detour_factor
    points = [*yanzhou.communities, *yanzhou.facilities, *yanzhou.candidate_sites]
    straight = {p.id: distance_m(yanzhou, centre, p) / detour for p in points}
    assert max(straight.values()) <= radius_m
    # an urban core around the seat: every 居委会 of the three core subdistricts
    # within 4 km of the centre, every village of the towns more than 6 km out
    for c in yanzhou.communities:
        note = yanzhou_notes[c.id]
        if note["committee"] == "居委会" and c.group in ("龙桥", "鼓楼", "酒仙桥"):
            assert straight[c.id] < 4000, c.id
        if c.group in ("大安", "新驿", "颜店", "新兖", "漕河", "小孟"):
            assert straight[c.id] > 6000, c.id


def test_yanzhou_children_from_census_births(yanzhou: Scenario) -> None:
    # Under-threes on 1 July 2025 are the monthly cohorts born July 2022 – June 2025,
    # births spread evenly over each year's months: half of 2022, 2023, 2024, half of 2025.
    births = yanzhou.projection.births.observed
    expected = 0.5 * births[2022] + births[2023] + births[2024] + 0.5 * births[2025]
    assert yanzhou.children_under3 == pytest.approx(expected, abs=0.051)
    # and so the projection's births model and the communities agree (scale 1)
    from tuoyu_sim.projection import project

    assert project(yanzhou).scale == pytest.approx(1.0, abs=1e-5)


def test_yanzhou_core_inside_the_circle_villages_mostly_outside(
    yanzhou: Scenario, yanzhou_notes: dict[str, dict[str, str]]
) -> None:
    from tuoyu_sim.geography import pairs_within

    radius = yanzhou.geography.service_radius_m
    reached = set(pairs_within(yanzhou, yanzhou.communities, yanzhou.facilities, radius).rows)
    ids = {i: c.id for i, c in enumerate(yanzhou.communities)}
    jumin = [i for i in ids if yanzhou_notes[ids[i]]["committee"] == "居委会"]
    villages = [i for i in ids if yanzhou_notes[ids[i]]["committee"] == "村委会"]
    assert sum(i in reached for i in jumin) > len(jumin) / 2
    assert 0 < sum(i in reached for i in villages) < len(villages) / 2


def test_yanzhou_generator_reproduces_the_tables(tmp_path: Path) -> None:
    # deterministic (fixed seed), and it asserts the published totals as it writes
    import subprocess
    import sys

    script = ROOT / "scripts" / "make_yanzhou.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("communities", "facilities", "candidate_sites", "community_notes"):
        shipped = (SCENARIOS / "yanzhou" / f"{name}.csv").read_bytes()
        assert (tmp_path / f"{name}.csv").read_bytes() == shipped, name


def _station(s: Scenario) -> schema.Facility:
    found = [f for f in s.facilities if "儒易托" in f.name]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("file", ["yanzhou.toml", "ruyituo.toml"])
def test_ruyituo_station(file: str) -> None:
    s = load_scenario(SCENARIOS / file)
    f = _station(s)
    assert f.group == "鼓楼"
    assert (f.staff.teacher, f.staff.nursery, f.staff.health) == (1, 2, 1)
    assert f.area_m2 == 500
    assert f.reserved.get("drop_in", 0) > 0
    # all five care types are defined, and its home community asks for each of them
    assert set(s.care_types) == set(CARE_TYPES)
    home = next(c for c in s.communities if c.name == "白衣堂社区")
    assert home.group == "鼓楼"
    assert all(home.demand.get(t, 0) > 0 for t in CARE_TYPES)
    offered = getattr(f, "care_types", None)  # if the schema gains a per-facility list
    if offered is not None:
        assert set(offered) == set(CARE_TYPES)


def test_ruyituo_station_three_minutes_from_its_community(yanzhou: Scenario) -> None:
    from tuoyu_sim.geography import distance_m

    home = next(c for c in yanzhou.communities if c.name == "白衣堂社区")
    walk_m = distance_m(yanzhou, home, _station(yanzhou))
    assert walk_m <= 3 * yanzhou.geography.walk_speed_m_per_min  # "a 3-minute walk"


def test_ruyituo_station_same_in_both_files() -> None:
    a = _station(load_scenario(SCENARIOS / "yanzhou.toml"))
    b = _station(load_scenario(SCENARIOS / "ruyituo.toml"))
    assert a.places == b.places
    assert a.staff == b.staff
    assert a.reserved == b.reserved


def test_ruyituo_is_facility_zero() -> None:
    # the sweep in ruyituo.toml's header addresses facilities.0
    s = load_scenario(SCENARIOS / "ruyituo.toml")
    assert "儒易托" in s.facilities[0].name


# -- README ---------------------------------------------------------------------

_SECTION = re.compile(r"^#{2,4} `\[{1,2}([a-z_]+)")


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def test_readme_sections_exist_in_schema() -> None:
    sections = {m.group(1) for line in _readme().splitlines() if (m := _SECTION.match(line))}
    assert {"simulation", "geography", "care_types", "staff", "communities"} <= sections
    unknown = sections - set(Scenario.model_fields)
    assert not unknown, f"README documents sections the schema lacks: {sorted(unknown)}"


def _models() -> list[type[BaseModel]]:
    out = []
    for obj in vars(schema).values():
        if (
            isinstance(obj, type)
            and issubclass(obj, BaseModel)
            and obj.__module__ == schema.__name__
            and obj.model_fields
        ):
            out.append(obj)
    return out


def test_readme_documents_every_schema_key() -> None:
    text = _readme()
    missing = sorted(
        f"{model.__name__}.{key}"
        for model in _models()
        for key in model.model_fields
        if f"`{key}`" not in text
    )
    assert not missing, f"scenarios/README.md does not document: {missing}"


def test_readme_lists_every_scenario_file() -> None:
    text = _readme()
    for path in ALL_TOML:
        assert f"`{path.relative_to(SCENARIOS).as_posix()}`" in text


def test_minimal_is_the_spec_example() -> None:
    spec = ROOT.parent / "shared" / "SPEC.md"
    if not spec.exists():
        pytest.skip("spec not available")
    block = spec.read_text(encoding="utf-8").split("A complete minimal scenario")[1]
    block = block.split("```toml\n", 1)[1].split("```", 1)[0]
    assert tomllib.loads(block) == tomllib.loads((SCENARIOS / "minimal.toml").read_text("utf-8"))
