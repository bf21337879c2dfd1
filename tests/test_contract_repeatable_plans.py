"""The same scenario, solver and gap give the same plan, on any machine load.

The solve by parts decides nothing by the clock (``allocate/decompose.py``,
"Repeatability"): a multi-class district solved once alone and once beside a
CPU-bound process gives byte-identical ``plan.csv`` files. No wall-clock time
is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from allocation_builders import make, rich_dict
from tuoyu_sim.allocate import OptimizeOptions, build_instance
from tuoyu_sim.allocate.api import min_cost_options
from tuoyu_sim.allocate.solvers import DEFAULT_GAP, DEFAULT_SOLVER, SolverSpec
from tuoyu_sim.allocate.strategy import use_parts
from tuoyu_sim.cli import main
from tuoyu_sim.output import write_scenario


def _district(tmp_path: Path) -> Path:
    """Three age classes, walk-in demand, health rules; several parts."""
    d = rich_dict(2, n_comm=20, n_fac=3, n_cand=12, size_m=6000, max_places=(20, 60))
    d["targets"].update(coverage_share=0.5, min_community_share=0.0, places_per_1000=1.0)
    sc = make(d)
    assert len(sc.age_groups) == 3
    assert use_parts(build_instance(sc), min_cost_options(sc, OptimizeOptions()))
    path = tmp_path / "district.toml"
    write_scenario(path, sc)
    return path


def _optimize(scenario: Path, out: Path) -> tuple[bytes, dict]:
    assert main(["optimize", str(scenario), "--no-figures", "--out", str(out)]) == 0
    record = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return (out / "plan.csv").read_bytes(), record


@pytest.mark.slow
def test_a_plan_is_the_same_alone_and_beside_a_cpu_bound_process(tmp_path: Path) -> None:
    scenario = _district(tmp_path)
    alone, first = _optimize(scenario, tmp_path / "alone")
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        loaded, second = _optimize(scenario, tmp_path / "loaded")
    finally:
        busy.kill()
        busy.wait()
    assert loaded == alone
    for key in ("cost", "objective_value", "status", "gap", "new_sites", "added_places"):
        assert second[key] == first[key], key
    assert first["solver"] == DEFAULT_SOLVER
    assert first["targets"]["gap_asked"] == DEFAULT_GAP
    assert first["gap"] <= DEFAULT_GAP


def test_the_command_line_defaults_are_the_library_defaults() -> None:
    from tuoyu_sim.cli import build_parser
    from tuoyu_sim.sweeps import SweepSolver

    parser = build_parser()
    args = parser.parse_args(["optimize", "x.toml"])
    assert (args.solver, args.gap) == (DEFAULT_SOLVER, DEFAULT_GAP)
    args = parser.parse_args(["plan", "x.toml"])
    assert (args.solver, args.gap) == (DEFAULT_SOLVER, DEFAULT_GAP)
    args = parser.parse_args(["sweep", "x.toml", "--set", "a=1"])
    assert (args.solver, args.gap) == (DEFAULT_SOLVER, DEFAULT_GAP)
    assert SweepSolver() == SweepSolver(DEFAULT_SOLVER, DEFAULT_GAP)
    from tuoyu_sim import api

    assert (api.SOLVER, api.GAP) == (DEFAULT_SOLVER, DEFAULT_GAP)
    spec = SolverSpec()
    assert (spec.name, spec.gap) == (DEFAULT_SOLVER, DEFAULT_GAP)


@pytest.mark.parametrize("limit", [0, -3])
def test_a_node_limit_is_a_whole_number_of_at_least_one(limit: int) -> None:
    from tuoyu_sim.errors import UserError

    with pytest.raises(UserError, match="node_limit"):
        SolverSpec(node_limit=limit)
