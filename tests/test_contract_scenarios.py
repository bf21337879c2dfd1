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


def test_yanzhou_divisions_and_urban_population(yanzhou: Scenario) -> None:
    subdistricts = {"龙桥", "鼓楼", "酒仙桥", "王因", "黄屯", "兴隆庄"}
    towns = {"大安", "新驿", "颜店", "新兖", "漕河", "小孟"}
    groups = {c.group for c in yanzhou.communities}
    assert groups == subdistricts | towns
    urban = sum(c.population for c in yanzhou.communities if c.group in subdistricts)
    assert urban == 426_229  # the census urban population, held by the subdistricts
    assert 150 <= len(yanzhou.communities) <= 250
    assert 20 <= len(yanzhou.candidate_sites) <= 100
    assert any(s.fixed_cost_cny is not None for s in yanzhou.candidate_sites)


def test_yanzhou_is_labelled_synthetic(yanzhou: Scenario) -> None:
    assert "SYNTHETIC" in yanzhou.provenance
    header = (SCENARIOS / "yanzhou.toml").read_text(encoding="utf-8").split("\nname =")[0]
    for source in ("Qilu", "2020 census", "Wikipedia", "6.42", "China Daily"):
        assert source in header


def test_yanzhou_children_from_shandong_births(yanzhou: Scenario) -> None:
    # 3 birth cohorts at 6.42 per 1,000 (Shandong 2024)
    assert yanzhou.children_under3 == pytest.approx(3 * 6.42 * 540_662 / 1000, rel=1e-9)


def test_yanzhou_some_communities_outside_the_circle(yanzhou: Scenario) -> None:
    from tuoyu_sim.geography import pairs_within

    radius = yanzhou.geography.service_radius_m
    reached = set(pairs_within(yanzhou, yanzhou.communities, yanzhou.facilities, radius).rows)
    outside = len(yanzhou.communities) - len(reached)
    assert 0 < outside < len(yanzhou.communities) / 2


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
