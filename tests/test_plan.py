"""The optimize–simulate loop: detection, re-sizing, cost, and a whole run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import OPTIMIZE_SPEC_KEYS
from tuoyu_sim.cli import main
from tuoyu_sim.plan import (
    _breach_staff,
    caregivers_for,
    resize,
    scenario_cost,
    shortfalls,
)
from tuoyu_sim.queueing import erlang_b_servers
from tuoyu_sim.scenario import Scenario, load_scenario, validate_data

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def tiny(**over: Any) -> Scenario:
    """One community, one small drop-in room, one candidate site."""
    data: dict[str, Any] = {
        "name": "tiny",
        "simulation": {
            "days": 20,
            "replications": 8,
            "seed": 3,
            "open": "08:00",
            "close": "18:00",
            "curve_step_minutes": 30,
        },
        "age_groups": {"older": {"months": [24, 36], "ratio": 7, "class_size": 20}},
        "care_types": {
            "drop_in": {
                "mode": "walk_in",
                "stay": {"dist": "exponential", "mean_hours": 2.0},
            }
        },
        "staff": {
            "shifts": {
                "early": {"start": "08:00", "end": "14:00", "share": 0.5},
                "late": {"start": "12:00", "end": "18:00", "share": 0.5},
            }
        },
        "targets": {"max_turn_away": 0.05, "max_breach_day_share": 0.02},
        "costs": {
            "per_place_cny": 10000,
            "per_site_cny": 100000,
            "per_caregiver_year_cny": {"teacher": 1, "nursery": 1, "health": 1},
        },
        "communities": [
            {
                "id": "c1",
                "population": 5000,
                "children_under3": 200,
                "x_m": 0,
                "y_m": 0,
                "age_mix": {"older": 1.0},
                "demand": {"drop_in": 0.1},
            }
        ],
        "facilities": [
            {
                "id": "f1",
                "x_m": 0,
                "y_m": 0,
                "places": {"older": 3},
                "staff": {"teacher": 1, "nursery": 1},
                "area_m2": 200,
            }
        ],
        "candidate_sites": [{"id": "s1", "x_m": 300, "y_m": 0, "max_places": 30}],
    }
    for path, value in over.items():
        from tuoyu_sim.scenario import set_path

        set_path(data, path.replace("__", "."), value)
    return validate_data(data)


def fake_summary(sc: Scenario, **fac: Any) -> dict[str, Any]:
    f = {
        "id": "f1",
        "turn_away_rate": {"mean": 0.0},
        "breach_day_share": {"mean": 0.0},
        "walk_in_arrivals": 0,
        "waitlist": 0,
        "enrolled": 0,
    }
    f.update(fac)
    return {
        "replications": 1,
        "days": 1,
        "district": {"enrolled": 0, "enrolled_demand": 0, "unreached_enrolled": 0},
        "care_types": {"drop_in": {"arrivals": f["walk_in_arrivals"]}},
        "facilities": [f],
    }


def test_shortfalls_flag_each_missed_level() -> None:
    sc = tiny()
    s = fake_summary(
        sc, turn_away_rate={"mean": 0.2}, walk_in_arrivals=10, breach_day_share={"mean": 0.5}
    )
    kinds = {x.kind for x in shortfalls(s, sc)}
    assert kinds == {"turn_away", "breach"}
    assert shortfalls(fake_summary(sc, walk_in_arrivals=10), sc) == []


def test_waitlist_counts_only_below_the_coverage_target() -> None:
    sc = tiny(targets__coverage_share=0.9)
    s = fake_summary(sc, waitlist=5)
    s["district"].update(enrolled=95, enrolled_demand=100)
    assert shortfalls(s, sc) == []  # 95% enrolled meets the 90% target
    s["district"].update(enrolled=80)
    assert [x.kind for x in shortfalls(s, sc)] == ["waitlist"]


def test_turn_away_resize_follows_erlang_b() -> None:
    sc = tiny()
    runs = 10
    arrivals_per_day = 20.0
    s = fake_summary(
        sc, turn_away_rate={"mean": 0.3}, walk_in_arrivals=int(arrivals_per_day * runs)
    )
    s["replications"], s["days"] = runs, 1
    found = shortfalls(s, sc)
    new, changes, unfixable = resize(sc, s, [], found)
    load = arrivals_per_day * 120.0 / sc.simulation.open_minutes
    need = erlang_b_servers(load, 0.05)
    assert new.facilities[0].places["older"] == need
    assert new.facilities[0].staff.direct >= caregivers_for(new, new.facilities[0].places)
    assert changes and not unfixable
    assert sc.facilities[0].places["older"] == 3  # the original is untouched


def test_resize_respects_floor_area() -> None:
    sc = tiny(facilities__0__area_m2=45.0)  # 5 places at 9 m² each
    s = fake_summary(sc, turn_away_rate={"mean": 0.5}, walk_in_arrivals=500)
    new, _, unfixable = resize(sc, s, [], shortfalls(s, sc))
    assert new.facilities[0].places["older"] == 5
    assert unfixable and "floor area" in unfixable[0]


def test_breach_staff_goes_to_the_shift_covering_the_hour() -> None:
    sc = tiny()
    rows = [
        {"facility": "f1", "hour": "08:00", "caregivers_short": 2},
        {"facility": "f1", "hour": "16:00", "caregivers_short": 1},
        {"facility": "f1", "hour": "12:00", "caregivers_short": 0},
    ]
    assert _breach_staff(sc, "f1", rows) == {"early": 2, "late": 1}
    # one hour covered by both shifts: one shift gets it, not both
    both = [{"facility": "f1", "hour": "12:00", "caregivers_short": 3}]
    assert sum(_breach_staff(sc, "f1", both).values()) == 3


def test_scenario_cost_counts_sites_places_and_staff() -> None:
    sc = tiny()
    grown = {
        **sc.to_dict()["facilities"][0],
        "places": {"older": 5},
        "staff": {"teacher": 1, "nursery": 2, "health": 0},
    }
    opened = {
        "id": "s1",
        "x_m": 300,
        "y_m": 0,
        "places": {"older": 10},
        "staff": {"teacher": 1, "nursery": 1},
    }
    after = sc.with_changes({"facilities": [grown, opened], "candidate_sites": []})
    cost = scenario_cost(sc, after)
    assert cost["new_sites"] == ["s1"]
    assert cost["added_places"] == 2 + 10
    assert cost["added_caregivers"] == {"teacher": 1, "nursery": 2, "health": 0}
    assert cost["cost_cny"] == pytest.approx(100000 + 12 * 10000 + 3 * 1)


def test_plan_command_converges_and_the_plan_holds(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    from tuoyu_sim.scenario import dump_toml

    path.write_text(dump_toml(tiny()), encoding="utf-8")
    out = tmp_path / "out"
    code = main(["plan", str(path), "--out", str(out), "--workers", "1", "--quiet"])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert code == 0, summary["iterations"]
    assert summary["converged"] is True
    last_two = summary["iterations"][-2:]
    assert all(it["holds"] for it in last_two)
    assert last_two[0]["seed"] != last_two[1]["seed"]
    assert set(summary) >= OPTIMIZE_SPEC_KEYS
    planned = load_scenario(out / "scenario.planned.toml")
    for f in summary["facilities"]:
        if f["walk_in_arrivals"]:
            assert f["turn_away_rate"]["mean"] <= planned.targets.max_turn_away
    assert (out / "iterations.csv").read_text(encoding="utf-8").count("\n") == len(
        summary["iterations"]
    ) + 1
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))


def test_plan_rejects_other_objectives(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "plan",
            str(ROOT / "scenarios" / "minimal.toml"),
            "--objective",
            "cover-all",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code != 0
    assert "min-cost" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
