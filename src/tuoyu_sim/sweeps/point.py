"""One point of a sweep, run in whichever process or Dask worker gets it."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tuoyu_sim.errors import UserError
from tuoyu_sim.scenario import Scenario
from tuoyu_sim.sweeps.grid import DEFAULT_SWEEP_SOLVER, SweepSolver
from tuoyu_sim.sweeps.store import FORMAT


@dataclass(frozen=True)
class PointTask:
    """What a worker needs to run one point (picklable)."""

    id: str
    index: int
    params: dict[str, Any]
    scenario: Scenario
    optimize: bool = False
    solver: SweepSolver = DEFAULT_SWEEP_SOLVER
    years: tuple[int, ...] = ()
    """Years of a phased point (:mod:`tuoyu_sim.sweeps.years`); empty: one year."""


def headline(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The figures of one point that go into ``sweep.csv`` (flat, CSV-ready).

    District utilization and walk-in turn-away with 95% intervals, turn-away
    per walk-in care type, breach day share, waitlist, enrolled, places and
    places per 1,000; for a priced scenario operators' revenue (95% interval) and
    public cost a year (:mod:`tuoyu_sim.fees`).
    """
    d = summary["district"]
    row: dict[str, Any] = {}
    row.update(_flat("utilization", d["utilization"]))
    row.update(_flat("turn_away_rate", d["turn_away_rate"]))
    for t, v in summary["care_types"].items():
        if v.get("mode") == "walk_in":
            row.update(_flat(f"turn_away_rate_{t}", v["turn_away_rate"]))
    row.update(_flat("breach_day_share", d["breach_day_share"]))
    row["waitlist"] = d["waitlist"]
    row["enrolled"] = d["enrolled"]
    row["enrolled_demand"] = d["enrolled_demand"]
    row["places"] = d["places"]
    row["places_per_1000"] = d["places_per_1000"]
    for t, v in summary["care_types"].items():
        if v.get("mode") == "walk_in":
            row[f"arrivals_{t}"] = v["arrivals"]
            row[f"turned_away_{t}"] = v["turned_away"]
    money = summary.get("finance")
    if money is not None:  # a priced scenario (tuoyu_sim.fees)
        row.update(_flat("revenue_cny_per_year", money["revenue_cny_per_year"]))
        row["public_cost_cny_per_year"] = money["public_cost_cny_per_year"]
    return row


def _flat(name: str, value: Mapping[str, Any]) -> dict[str, Any]:
    ci = value.get("ci95") or [None, None]
    return {name: value.get("mean"), f"{name}_lo": ci[0], f"{name}_hi": ci[1]}


def run_point(task: PointTask) -> dict[str, Any]:
    """Optimize (if asked) and simulate one point in this process; return its record.

    The simulation is single-process: parallelism is across points. A
    :class:`UserError` of the point itself (e.g. an infeasible optimization)
    is recorded in the record's ``error``, so the rest of the sweep goes on.
    """
    from tuoyu_sim.metrics import summarize
    from tuoyu_sim.simulation import simulate

    started = time.perf_counter()
    cpu_started = time.process_time()
    record: dict[str, Any] = {
        "format": FORMAT,
        "id": task.id,
        "params": task.params,
        "optimize": task.optimize,
        "scenario": task.scenario.name,
        "seed": task.scenario.simulation.seed,
        "replications": task.scenario.simulation.replications,
        "days": task.scenario.simulation.days,
        "error": None,
    }
    try:
        if task.years:
            from tuoyu_sim.sweeps.years import run_years

            record.update(run_years(task.scenario, task.years, task.optimize, task.solver))
        else:
            scenario = task.scenario
            if task.optimize:
                scenario, record["plan"] = _optimize(scenario, task.solver)
            result = simulate(scenario, workers=1)
            summary = summarize(result)
            summary.pop("versions", None)
            summary["command"] = "sweep-point"
            record["headline"] = headline(summary)
            record["summary"] = summary
    except UserError as exc:
        record["error"] = "; ".join(exc.problems)
        record["headline"] = {}
    record["seconds"] = round(time.perf_counter() - started, 3)
    record["cpu_seconds"] = round(time.process_time() - cpu_started, 3)
    return _plain(record)


def _optimize(scenario: Scenario, solver: SweepSolver) -> tuple[Scenario, dict[str, Any]]:
    """Min-cost plan of ``scenario`` (one thread); the planned scenario and plan figures."""
    from tuoyu_sim.allocate import OptimizeOptions, SolverSpec, optimize, planned_scenario

    spec = SolverSpec(solver.name, gap=solver.gap, threads=1)  # type: ignore[arg-type]
    plan = optimize(scenario, OptimizeOptions(objective="min-cost"), spec)
    planned = planned_scenario(plan, scenario)
    figures = {
        "plan_status": plan.status,
        "plan_cost_cny": round(plan.cost_cny, 2),
        "plan_new_sites": len(plan.new_sites),
        "plan_added_places": plan.added_places,
    }
    return planned, figures


def _plain(value: Any) -> Any:
    """Plain JSON types (numpy scalars to Python, NaN/inf to None)."""
    return json.loads(json.dumps(value, default=_default, allow_nan=True), parse_constant=_nan)


def _default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _nan(_: str) -> None:
    return None
