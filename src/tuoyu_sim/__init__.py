"""tuoyu-sim: capacity planning for community childcare for children under three (托育).

The public API (``docs/reference/python.md``)::

    import tuoyu_sim as ty

    sc = ty.load_scenario("scenarios/yanzhou.toml")
    run = ty.simulate(sc, replications=10)
    plan = ty.plan(sc)
    plan.sites            # a pandas DataFrame
    plan.save("results/yanzhou-plan")

Every name in :data:`__all__` is stable and documented; anything else is
internal. Names load on first use, so ``import tuoyu_sim`` (and the command
line's start) stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_PUBLIC: dict[str, str] = {
    "load_scenario": "tuoyu_sim.scenario",
    "Scenario": "tuoyu_sim.scenario",
    "simulate": "tuoyu_sim.api",
    "optimize": "tuoyu_sim.api",
    "plan": "tuoyu_sim.api",
    "sweep": "tuoyu_sim.api",
    "access": "tuoyu_sim.api",
    "SweepInterrupted": "tuoyu_sim.api",
    "SimulationRun": "tuoyu_sim.runs",
    "OptimizationRun": "tuoyu_sim.runs",
    "PlanRun": "tuoyu_sim.runs",
    "PhasedRun": "tuoyu_sim.runs",
    "SweepRun": "tuoyu_sim.runs",
    "AccessRun": "tuoyu_sim.runs",
    "UserError": "tuoyu_sim.errors",
    "ScenarioError": "tuoyu_sim.errors",
    "InfeasibleError": "tuoyu_sim.errors",
    "SolverError": "tuoyu_sim.errors",
}

__all__ = [
    "AccessRun",
    "InfeasibleError",
    "OptimizationRun",
    "PhasedRun",
    "PlanRun",
    "Scenario",
    "ScenarioError",
    "SimulationRun",
    "SolverError",
    "SweepInterrupted",
    "SweepRun",
    "UserError",
    "__version__",
    "access",
    "load_scenario",
    "optimize",
    "plan",
    "simulate",
    "sweep",
]

if TYPE_CHECKING:
    from tuoyu_sim.api import SweepInterrupted, access, optimize, plan, simulate, sweep
    from tuoyu_sim.errors import InfeasibleError, ScenarioError, SolverError, UserError
    from tuoyu_sim.runs import (
        AccessRun,
        OptimizationRun,
        PhasedRun,
        PlanRun,
        SimulationRun,
        SweepRun,
    )
    from tuoyu_sim.scenario import Scenario, load_scenario


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'tuoyu_sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
