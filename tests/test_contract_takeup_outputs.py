"""Fees, subsidies and take-up in the outputs: summary, sweep, figure and report.

* ``simulate``'s summary has a ``finance`` part only for a priced scenario
  (``[fees]``, ``[subsidies]`` or ``[takeup]``), and its figures follow from the
  definitions in :mod:`tuoyu_sim.fees`.
* ``sweep --set subsidies...`` writes revenue, public cost and the public cost
  per extra enrolled child against the first point, and a price figure.
* The report states the take-up curve's parameters and that they are assumptions.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path
from typing import Any

import pytest

from conftest import MINIMAL, build
from tuoyu_sim.cli import main
from tuoyu_sim.demand import demand_count
from tuoyu_sim.fees import cost_per_extra_child
from tuoyu_sim.metrics import summarize
from tuoyu_sim.output import write_scenario
from tuoyu_sim.scenario import load_scenario
from tuoyu_sim.simulation import simulate
from tuoyu_sim.takeup import fee_response


def _priced() -> dict[str, Any]:
    data = copy.deepcopy(load_scenario(MINIMAL).to_dict())
    data["simulation"].update(days=4, replications=3)
    data["communities"][0]["demand"] = {"drop_in": 0.1, "full_day": 0.3}
    data["facilities"][0]["places"] = {"older": 200}
    data["fees"] = {"monthly_cny": {"full_day": 1800.0}, "hourly_cny": {"drop_in": 30.0}}
    data["subsidies"] = {
        "operator_per_child_month_cny": 300.0,
        "operator_per_place_year_cny": 700.0,
        "family_allowance_per_child_year_cny": 0.0,
    }
    data["takeup"] = {
        "distance": "off",
        "fee_response": {
            "full_day": {"midpoint_cny": 1500.0, "scale_cny": 300.0},
            "drop_in": {"midpoint_cny": 40.0, "scale_cny": 15.0},
        },
    }
    return data


def test_unpriced_summary_has_no_finance() -> None:
    sc = load_scenario(MINIMAL).with_changes({"simulation.days": 2, "simulation.replications": 2})
    assert "finance" not in summarize(simulate(sc, workers=1))


def test_finance_follows_its_definitions() -> None:
    sc = build(_priced())
    s = summarize(simulate(sc, workers=1))
    money = s["finance"]
    from tuoyu_sim.scenario import FeeResponse

    r = float(fee_response(1500.0, "logistic", FeeResponse(midpoint_cny=1500, scale_cny=300)))
    enrolled = demand_count(300 * 0.3 * r)  # net fee 1,800 - 300 passed on
    assert money["enrolled"] == enrolled == s["district"]["enrolled"]
    assert money["families_pay_enrolled_cny_per_year"] == pytest.approx(enrolled * 1500 * 12)
    assert money["operator_subsidy_per_child_cny_per_year"] == pytest.approx(enrolled * 300 * 12)
    assert money["operator_subsidy_per_place_cny_per_year"] == pytest.approx(200 * 700)
    assert money["public_cost_cny_per_year"] == pytest.approx((enrolled * 300 * 12) + 200 * 700)
    walk = money["walk_in_revenue_cny_per_year"]["mean"]
    assert money["revenue_cny_per_year"]["mean"] == pytest.approx(
        enrolled * 1800 * 12 + 200 * 700 + walk
    )


def test_cost_per_extra_child_is_against_the_first_point() -> None:
    rows: list[dict[str, Any]] = [
        {"enrolled": 10, "public_cost_cny_per_year": 1000.0},
        {"enrolled": 14, "public_cost_cny_per_year": 3000.0},
        {"enrolled": 10, "public_cost_cny_per_year": 2000.0},
        {"error": "x"},
    ]
    assert cost_per_extra_child(rows) == [None, 500.0, None, None]


@pytest.mark.slow
def test_sweep_report_and_price_figure(tmp_path: Path) -> None:
    path = tmp_path / "priced.toml"
    write_scenario(path, build(_priced()))
    out = tmp_path / "sweep"
    code = main(
        [
            "sweep",
            str(path),
            "--set",
            "subsidies.operator_per_child_month_cny=0,600",
            "--workers",
            "1",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    rows = list(csv.DictReader((out / "sweep.csv").open(encoding="utf-8")))
    assert rows[0]["public_cost_per_extra_child_cny"] == ""
    e0, e1 = (int(r["enrolled"]) for r in rows)
    c0, c1 = (float(r["public_cost_cny_per_year"]) for r in rows)
    assert e1 > e0  # a subsidy passed on lowers the net fee: more take up care
    assert float(rows[1]["public_cost_per_extra_child_cny"]) == pytest.approx(
        (c1 - c0) / (e1 - e0), abs=0.01
    )
    assert (out / "price_response.png").stat().st_size > 0
    sim = tmp_path / "sim"
    assert main(["simulate", str(path), "--out", str(sim), "--quiet"]) == 0
    assert main(["report", str(sim), "--lang", "en"]) == 0
    text = (sim / "report.html").read_text(encoding="utf-8")
    assert "Fees, subsidies and take-up" in text
    assert "assumptions" in text and "midpoint_cny = 1,500, scale_cny = 300" in text
