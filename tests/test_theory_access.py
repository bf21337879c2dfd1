"""Accessibility: the 2SFCA and E2SFCA scores equal PySAL's ``access`` package on random
districts with the same weights; deserts follow the CAP rule by age class; a bad
``[access]`` is one clear message; the command writes its folder.

PySAL's ``access`` is a test-only dependency (the ``access`` extra); without it the
comparisons are skipped. Its distances are computed here from the coordinates,
independently of :mod:`tuoyu_sim.geography`.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import tuoyu_sim as ty
from tuoyu_sim.accessibility import gaussian_weight, measure, settings, step_weight
from tuoyu_sim.cli import main
from tuoyu_sim.errors import ScenarioError, UserError
from tuoyu_sim.scenario import Scenario, validate_data

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "scenarios" / "minimal.toml"
RUYITUO = ROOT / "scenarios" / "ruyituo.toml"
CLASSES = ("infant", "toddler", "older")

# PySAL access 1.1 calls set_index(inplace=True), which pandas deprecates
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.set_index")
EARTH_M = 6_371_008.8


def _base() -> dict[str, Any]:
    data = tomllib.loads(MINIMAL.read_text(encoding="utf-8"))
    data["age_groups"] = {
        "infant": {"months": [6, 12], "ratio": 3, "class_size": 10},
        "toddler": {"months": [12, 24], "ratio": 5, "class_size": 15},
        "older": {"months": [24, 36], "ratio": 7, "class_size": 20},
    }
    data["candidate_sites"] = []
    return data


def _district(seed: int, *, lonlat: bool = False, detour: float = 1.0) -> dict[str, Any]:
    """A random district: 40 communities, 12 facilities in 6 km (some facilities without
    infant places, one far from everyone), every class present in every community."""
    rng = np.random.default_rng(seed)
    data = _base()
    data["geography"] = {
        "distance": "haversine" if lonlat else "euclidean",
        "detour_factor": detour,
        "service_radius_m": 1000,
    }

    def point(x: float, y: float) -> dict[str, float]:
        if lonlat:  # about 111 km per degree near 35° N
            return {"lon": 116.6 + x / 91_000.0, "lat": 35.55 + y / 111_000.0}
        return {"x_m": x, "y_m": y}

    comms = []
    for i in range(40):
        mix = rng.dirichlet([2.0, 4.0, 5.0])
        mix = np.round(mix, 4)
        mix[2] = 1.0 - mix[0] - mix[1]
        comms.append(
            {
                "id": f"c{i}",
                "population": int(rng.integers(500, 9000)),
                "children_under3": float(rng.uniform(5, 200)),
                **point(*rng.uniform(0, 6000, 2)),
                "age_mix": dict(zip(CLASSES, map(float, mix), strict=True)),
            }
        )
    facs = []
    for j in range(12):
        places = {a: int(rng.integers(0, 40)) for a in CLASSES}
        if j % 4 == 0:
            places["infant"] = 0
        xy = (30_000.0, 30_000.0) if j == 11 else rng.uniform(0, 6000, 2)
        facs.append({"id": f"f{j}", **point(*xy), "places": places})
    data["communities"] = comms
    data["facilities"] = facs
    return data


def _distances(sc: Scenario) -> np.ndarray:
    """Walking distances, communities × facilities, computed here (not by geography)."""
    if sc.geography.distance == "haversine":
        lon1 = np.radians([c.lon for c in sc.communities])[:, None]
        lat1 = np.radians([c.lat for c in sc.communities])[:, None]
        lon2 = np.radians([f.lon for f in sc.facilities])[None, :]
        lat2 = np.radians([f.lat for f in sc.facilities])[None, :]
        h = (
            np.sin((lat2 - lat1) / 2) ** 2
            + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        )
        straight = 2 * EARTH_M * np.arcsin(np.sqrt(h))
    else:
        c = np.array([[p.x_m, p.y_m] for p in sc.communities])
        f = np.array([[p.x_m, p.y_m] for p in sc.facilities])
        straight = np.hypot(c[:, None, 0] - f[None, :, 0], c[:, None, 1] - f[None, :, 1])
    return straight * sc.geography.detour_factor


def _pysal(sc: Scenario, weight_fn: Any, catchment_m: float, method: str) -> pd.DataFrame:
    """PySAL's scores, communities × (classes, all), 0 where it has none."""
    from access import Access

    dist = _distances(sc)
    ids_c = [c.id for c in sc.communities]
    ids_f = [f.id for f in sc.facilities]
    cost = pd.DataFrame(
        [(ids_c[i], ids_f[j], dist[i, j]) for i in range(len(ids_c)) for j in range(len(ids_f))],
        columns=["origin", "dest", "cost"],
    )
    demand = pd.DataFrame({"geoid": ids_c})
    supply = pd.DataFrame({"geoid": ids_f})
    for a in CLASSES:
        demand[a] = [c.under3 * c.age_mix.get(a, 0.0) for c in sc.communities]
        supply[a] = [f.places.get(a, 0) for f in sc.facilities]
    demand["all"] = [c.under3 for c in sc.communities]
    supply["all"] = [f.total_places for f in sc.facilities]
    out = pd.DataFrame(index=pd.Index(ids_c, name="geoid"))
    for a in (*CLASSES, "all"):
        model = Access(
            demand_df=demand[["geoid", a]],
            demand_index="geoid",
            demand_value=a,
            supply_df=supply[["geoid", a]],
            supply_index="geoid",
            supply_value=a,
            cost_df=cost,
            cost_origin="origin",
            cost_dest="dest",
            cost_name="cost",
        )
        run = getattr(model, method)
        scores = run(name="x", max_cost=catchment_m, weight_fn=weight_fn)
        out[a] = scores[f"x_{a}"].reindex(out.index)
    return out.fillna(0.0)


def _ours(sc: Scenario, measure_name: str) -> pd.DataFrame:
    run = ty.access(sc)
    frame = run.access.set_index("community")
    return frame[[f"{measure_name}_{a}" for a in (*CLASSES, "all")]].set_axis(
        [*CLASSES, "all"], axis=1
    )


DISTRICTS = [
    pytest.param(1, False, 1.0, id="plane"),
    pytest.param(2, False, 1.3, id="plane-detour"),
    pytest.param(3, True, 1.2, id="lonlat-detour"),
    pytest.param(4, False, 1.0, id="plane-2"),
]


@pytest.mark.parametrize(("seed", "lonlat", "detour"), DISTRICTS)
def test_gaussian_2sfca_equals_pysal(seed: int, lonlat: bool, detour: float) -> None:
    weights = pytest.importorskip("access.weights", reason="PySAL access is not installed")
    data = _district(seed, lonlat=lonlat, detour=detour)
    data["access"] = {"catchment_m": 1500.0}
    sc = validate_data(data)
    d0 = 1500.0
    g = weights.gaussian(d0)  # PySAL's exp(-d²/2σ²) at σ = d0, truncated and normalised

    def truncated(d: float) -> float:
        return float((g(d) - g(d0)) / (1.0 - g(d0)))

    expected = _pysal(sc, truncated, d0, "two_stage_fca")
    got = _ours(sc, "g2sfca")
    assert (expected.to_numpy() > 0).sum() > 40  # the comparison is not about zeros
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("seed", "lonlat", "detour"), DISTRICTS)
def test_enhanced_2sfca_equals_pysal(seed: int, lonlat: bool, detour: float) -> None:
    weights = pytest.importorskip("access.weights", reason="PySAL access is not installed")
    data = _district(seed, lonlat=lonlat, detour=detour)
    steps = [[400.0, 1.0], [900.0, 0.68], [1500.0, 0.22]]
    data["access"] = {"catchment_m": 1500.0, "weight": "steps", "steps": steps}
    sc = validate_data(data)
    fn = weights.step_fn({m: w for m, w in steps})
    expected = _pysal(sc, fn, 1500.0, "enhanced_two_stage_fca")
    got = _ours(sc, "e2sfca")
    assert (expected.to_numpy() > 0).sum() > 40
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-12)


def test_default_steps_are_pysals_e2sfca_in_thirds_of_the_catchment() -> None:
    weights = pytest.importorskip("access.weights", reason="PySAL access is not installed")
    sc = validate_data(_district(5))
    spec = settings(sc)
    assert spec.catchment_m == 1000.0 and spec.weight == "gaussian"
    pysal = weights.step_fn({1000 / 3: 1, 2000 / 3: 0.68, 1000: 0.22})
    d = np.array([0.0, 100.0, 333.0, 334.0, 666.0, 667.0, 999.9, 1000.0, 1000.1, 5000.0])
    np.testing.assert_allclose(step_weight(d, spec.steps), [pysal(x) for x in d])


def test_gaussian_weight_runs_from_one_to_zero() -> None:
    d = np.linspace(0, 2000, 201)
    w = gaussian_weight(d, 1000.0)
    assert w[0] == 1.0 and w[100] == pytest.approx(0.0, abs=1e-12) and (w[100:] == 0).all()
    assert (np.diff(w) <= 0).all()
    assert w[50] == pytest.approx((math.exp(-0.125) - math.exp(-0.5)) / (1 - math.exp(-0.5)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_places_are_conserved(seed: int) -> None:
    """sum_i D_i A_i = the places of the facilities with a child within reach, whatever
    the weight: each facility's places are shared out among the children it reaches."""
    sc = validate_data(_district(seed))
    res = measure(sc)
    reached = (_distances(sc) < 1000).any(axis=0)
    served = res.facility_places[reached].sum(axis=0)
    for scores in (res.g2sfca, res.e2sfca):
        np.testing.assert_allclose((res.children * scores).sum(axis=0), served, rtol=1e-9)


# -- deserts by the CAP rule -----------------------------------------------------------


def _one(children: float, places: dict[str, int], dist_m: float = 0.0, **access: Any) -> Any:
    data = _base()
    data["communities"] = [
        {
            "id": "c",
            "population": 5000,
            "children_under3": children,
            "x_m": 0,
            "y_m": 0,
            "age_mix": {"infant": 0.2, "toddler": 0.3, "older": 0.5},
        }
    ]
    data["facilities"] = [{"id": "f", "x_m": dist_m, "y_m": 0, "places": places}]
    if access:
        data["access"] = access
    res = measure(validate_data(data))
    return dict(zip(res.classes, res.desert[0], strict=True)), res


def test_more_than_50_children_and_no_place_within_reach_is_a_desert() -> None:
    deserts, res = _one(60, {"older": 100}, dist_m=1500)
    assert all(deserts.values()) and res.places_in_reach.sum() == 0
    assert np.isnan(res.children_per_place).all()
    deserts, _ = _one(50, {"older": 100}, dist_m=1500)  # not more than 50
    assert not any(deserts.values())


def test_more_than_3_children_per_place_is_a_desert_by_class() -> None:
    # 100 children: 20 infants, 30 toddlers, 50 older; places next door
    deserts, res = _one(100, {"infant": 5, "toddler": 10, "older": 25})
    np.testing.assert_allclose(res.children_per_place[0], [4.0, 3.0, 2.0, 2.5])
    assert deserts == {"infant": True, "toddler": False, "older": False, "all": False}
    # the pooled measure hides the infant desert: infant places are not older places
    deserts, _ = _one(100, {"infant": 0, "toddler": 30, "older": 60})
    assert deserts == {"infant": True, "toddler": False, "older": False, "all": False}


def test_thresholds_come_from_the_scenario() -> None:
    deserts, _ = _one(100, {"infant": 5, "toddler": 10, "older": 25}, desert_children_per_place=2)
    assert deserts == {"infant": True, "toddler": True, "older": False, "all": True}
    deserts, _ = _one(40, {"infant": 1}, desert_min_children=30)
    assert deserts["infant"] and deserts["toddler"] and deserts["older"]


def test_a_class_without_children_is_no_desert() -> None:
    data = _base()
    data["communities"] = [
        {"id": "c", "population": 5000, "children_under3": 90, "x_m": 0, "y_m": 0,
         "age_mix": {"toddler": 0.4, "older": 0.6}}
    ]  # fmt: skip
    data["facilities"] = [{"id": "f", "x_m": 0, "y_m": 0, "places": {"older": 30}}]
    res = measure(validate_data(data))
    assert dict(zip(res.classes, res.desert[0], strict=True)) == {
        "infant": False, "toddler": True, "older": False, "all": False,
    }  # fmt: skip


# -- bad input ----------------------------------------------------------------------------


BAD = [
    ({"weight": "gaussian"}, 'access.weight = "gaussian": a weight function needs its catchment'),
    ({"steps": [[500, 1.0], [1000, 0.5]]}, "access.steps = [[500.0, 1.0], [1000.0, 0.5]]: a "
     "weight function needs its catchment: give catchment_m"),
    ({"catchment_m": 1000, "steps": [[500, 1.0], [800, 0.5]]},
     "the last step ends at the catchment (catchment_m = 1000), not at 800"),
    ({"catchment_m": 1000, "steps": [[500, 1.0], [400, 0.5], [1000, 0.2]]},
     "access.steps[1] = [400.0, 0.5]: upper_m above the step before (500)"),
    ({"catchment_m": 1000, "steps": [[500, 0.5], [1000, 0.7]]},
     "access.steps[1] = [1000.0, 0.7]: a weight at most the step before's (0.5)"),
    ({"catchment_m": 1000, "steps": [[500], [1000, 0.7]]},
     "access.steps[0] = [500]: a step is [upper_m, weight]"),
    ({"catchment_m": 1000, "weight": "cubic"}, "access.weight = \"cubic\": input should be"),
    ({"catchment_m": 0}, "access.catchment_m = 0: input should be greater than 0"),
    ({"radius_m": 800}, "access.radius_m = 800: unknown key"),
    ({"desert_children_per_place": -1}, "access.desert_children_per_place = -1"),
]  # fmt: skip


@pytest.mark.parametrize(("access", "message"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_access_section_is_one_clear_message(
    access: dict[str, Any], message: str, tmp_path: Path
) -> None:
    import tomli_w

    data = _base()
    data["access"] = access
    path = tmp_path / "district.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        ty.load_scenario(path)
    assert len(err.value.problems) == 1
    assert err.value.problems[0].startswith(f"{path}: access.")
    assert message in err.value.problems[0]


def test_a_plan_of_another_district_is_refused() -> None:
    sc = validate_data(_district(1))
    other = copy.deepcopy(_district(1))
    other["communities"][0]["id"] = "elsewhere"
    with pytest.raises(UserError, match=r"planned: its communities are not the scenario's "
                       r"\(missing c0; not in the scenario: elsewhere\)"):  # fmt: skip
        ty.access(sc, planned=validate_data(other))
    with pytest.raises(UserError, match="scenario: a Scenario or the path"):
        ty.access(sc, planned=42)  # type: ignore[arg-type]


def test_a_class_named_all_is_refused() -> None:
    data = _base()
    data["age_groups"] = {"all": {"months": [6, 36], "ratio": 5, "class_size": 15}}
    data["communities"][0]["age_mix"] = {"all": 1.0}
    data["facilities"][0]["places"] = {"all": 8}
    with pytest.raises(UserError, match=r"age_groups\.all: tuoyu-sim access names every class"):
        ty.access(validate_data(data))


def test_saved_scenarios_keep_no_access_section_they_did_not_have() -> None:
    sc = validate_data(_district(1))
    assert "access" not in sc.to_dict()
    data = _district(1)
    data["access"] = {"desert_min_children": 20}
    again = validate_data(data).with_changes({"access.desert_children_per_place": 2})
    assert again.to_dict()["access"] == {"desert_min_children": 20, "desert_children_per_place": 2}


# -- the command and the API ------------------------------------------------------------------


@pytest.mark.slow
def test_the_command_writes_the_folder_and_the_api_the_same(tmp_path: Path) -> None:
    from tuoyu_sim.output import write_scenario

    sc = ty.load_scenario(RUYITUO)
    data = sc.to_dict()  # a plan: one new site (allocation is tested elsewhere)
    data["facilities"].append({"id": "new", "x_m": 400, "y_m": 400,
                               "places": {"infant": 10, "toddler": 20, "older": 30}})  # fmt: skip
    planned = validate_data(data, RUYITUO)
    planned_path = tmp_path / "scenario.planned.toml"
    write_scenario(planned_path, planned)
    out = tmp_path / "cli"
    args = ["access", str(RUYITUO), "--planned", str(planned_path), "--out", str(out)]
    assert main(args) == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "access.csv", "access_planned.csv", "by_class.csv", "results.xlsx", "summary.json",
        "scenario.toml", "scenario.planned.toml", "access_map.png", "access_map_planned.png",
        "deserts_before_after.png",
    } <= names  # fmt: skip
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["command"] == "access" and summary["settings"]["catchment_m"] == 1000
    assert set(summary["current"]["by_class"]) == {*CLASSES, "all", "any"}
    with (out / "access.csv").open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    for a in (*CLASSES, "all"):
        for m in ("g2sfca", "e2sfca", "desert", "children_per_place", "places_in_reach"):
            assert f"{m}_{a}" in header
    api = ty.access(RUYITUO, planned=planned_path)
    api.save(tmp_path / "api", figures=False)
    for name in ("access.csv", "access_planned.csv", "by_class.csv", "scenario.toml"):
        assert (out / name).read_bytes() == (tmp_path / "api" / name).read_bytes(), name
    assert "AccessRun" in api._repr_html_() and "deserts" in repr(api)
    assert api.deserts["all"] == summary["current"]["by_class"]["all"]["deserts"]
    after = summary["planned"]["by_class"]["all"]
    before = summary["current"]["by_class"]["all"]
    assert after["places"] == before["places"] + 60
    assert after["children_in_deserts"] <= before["children_in_deserts"]


def test_without_figures_no_png(tmp_path: Path) -> None:
    assert main(["access", str(MINIMAL), "--no-figures", "--out", str(tmp_path)]) == 0
    assert not list(tmp_path.glob("*.png"))
    rows = list(csv.DictReader((tmp_path / "access.csv").open(encoding="utf-8")))
    # minimal.toml: 300 children, 8 places next door: 37.5 children per place
    assert rows[0]["community"] == "c1" and rows[0]["desert_older"] == "True"
    assert float(rows[0]["children_per_place_older"]) == pytest.approx(37.5)


def test_a_bad_scenario_exits_1_with_one_line(tmp_path: Path, capsys: Any) -> None:
    import tomli_w

    data = _base()
    data["access"] = {"steps": [[500, 1.0], [1000, 0.5]]}
    path = tmp_path / "bad.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    assert main(["access", str(path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "access.steps" in err[0] and "catchment_m" in err[0]
    assert not (tmp_path / "out").exists()
