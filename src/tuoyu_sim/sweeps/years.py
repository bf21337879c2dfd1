"""One point of a sweep over several years (``sweep --years``).

Each year of the point's network is simulated under that year's projected
demand (births variant ``projection.variant`` of the point, so a sweep can set
it: ``--set projection.variant=low,central,high``). With ``--optimize`` the
network of each year is the phased min-cost plan's
(:func:`tuoyu_sim.allocate.phased.optimize_phased`); without it, today's
network held, to see what doing nothing does as births fall.

The point's row in ``sweep.csv`` holds the last year's headline figures under
their usual names (so the response curves read as "by the end of the
horizon"), the same figures for every year with the year as a suffix
(``utilization_2027``), and, optimized, the phased plan's present cost and
sites.
"""

from __future__ import annotations

from typing import Any

from tuoyu_sim.scenario import Scenario
from tuoyu_sim.sweeps.grid import SweepSolver

BY_YEAR: tuple[str, ...] = (
    "utilization",
    "turn_away_rate",
    "breach_day_share",
    "enrolled",
    "enrolled_demand",
    "places",
)
"""Headline figures repeated for every year, with the year as a suffix."""


def run_years(
    scenario: Scenario, years: tuple[int, ...], optimize: bool, solver: SweepSolver
) -> dict[str, Any]:
    """The record's ``headline``, ``summary`` (the last year's), ``years`` and ``plan``."""
    from tuoyu_sim.metrics import summarize
    from tuoyu_sim.projection import scenario_for_year
    from tuoyu_sim.simulation import simulate
    from tuoyu_sim.sweeps.point import headline

    assert scenario.projection is not None  # the grid checked it
    variant = scenario.projection.default_variant
    demand = {y: scenario_for_year(scenario, y, variant) for y in years}
    out: dict[str, Any] = {"variant": variant}
    if optimize:
        networks, out["plan"] = _phased(scenario, years, variant, solver, demand)
    else:
        networks = demand
    row: dict[str, Any] = {}
    per_year: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    for y in years:
        summary = summarize(simulate(networks[y], workers=1))
        summary.pop("versions", None)
        summary["command"] = "sweep-point"
        head = headline(summary)
        per_year[str(y)] = head
        for k in BY_YEAR:
            row[f"{k}_{y}"] = head.get(k)
    out["headline"] = {**per_year[str(years[-1])], **row}
    out["years"] = per_year
    out["summary"] = summary
    return out


def _phased(
    scenario: Scenario,
    years: tuple[int, ...],
    variant: str,
    solver: SweepSolver,
    demand: dict[int, Scenario],
) -> tuple[dict[int, Scenario], dict[str, Any]]:
    from tuoyu_sim.allocate import OptimizeOptions, SolverSpec, planned_scenario
    from tuoyu_sim.allocate.phased import optimize_phased, phase_rows, present_cost

    spec = SolverSpec(solver.name, gap=solver.gap, threads=1)  # type: ignore[arg-type]
    phased = optimize_phased(
        scenario, years, OptimizeOptions(objective="min-cost"), spec, variant=variant
    )
    networks = {y: planned_scenario(phased.plans[y], demand[y]) for y in years}
    rows = phase_rows(scenario, networks)
    figures = {
        "plan_status": phased.status,
        "plan_present_cost_cny": round(present_cost(rows), 2),
        "plan_new_sites": sum(1 for r in rows if r["action"] == "open"),
        "plan_places_last_year": networks[years[-1]].total_places,
    }
    return networks, figures
