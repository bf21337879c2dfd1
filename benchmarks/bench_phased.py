"""The phased (multi-year) min-cost plan: as shipped against the flat model.

Solves the Yanzhou plan for 2026–2030 (``scenarios/yanzhou.toml``, the central
births variant, HiGHS at the default 0.1 % gap) twice in one process: as
``optimize_phased`` ships it (envelope rows per year and the held plan for the
peak demand as the first incumbent) and as one flat model without either
(``warm_start=False``, ``envelope=False``), each with the same time limit. Prints
status, proven gap, present cost and seconds of each, and their ratio; with
``--seeds``, the same on seeded random districts (three classes, walk-in, falling
births) after Yanzhou. The machine is shared: read the ratios.

    .venv/bin/python benchmarks/bench_phased.py [--limit 60] [--years 2026-2030] [--seeds 0]
        [--no-yanzhou]
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path
from typing import Any

from tuoyu_sim.allocate import OptimizeOptions, SolverSpec
from tuoyu_sim.allocate.phased import build_phased, optimize_phased, verify_phases
from tuoyu_sim.allocate.solvers import solve
from tuoyu_sim.errors import UserError
from tuoyu_sim.scenario import Scenario, load_scenario, validate_data

ROOT = Path(__file__).resolve().parent.parent


def _shipped(sc: Scenario, years: list[int], spec: SolverSpec) -> tuple[str, Any, Any, float]:
    t0 = time.perf_counter()
    try:
        plan = optimize_phased(sc, years, OptimizeOptions(), spec)
    except UserError as exc:
        return (f"no plan ({str(exc).splitlines()[0][:60]})", None, None, time.perf_counter() - t0)
    bad = verify_phases(sc, years, "central", plan.rows, plans=plan.plans)
    status = plan.status + ("" if not bad else f", {len(bad)} checker lines")
    return status, plan.gap, plan.objective_cny, time.perf_counter() - t0


def _flat(sc: Scenario, years: list[int], spec: SolverSpec) -> tuple[str, Any, Any, float]:
    t0 = time.perf_counter()
    try:
        model = build_phased(sc, years, OptimizeOptions(), envelope=False)
    except UserError as exc:
        return (f"no plan ({str(exc).splitlines()[0][:60]})", None, None, time.perf_counter() - t0)
    out = solve(model.prob, spec)
    return out.status, out.gap, out.objective, time.perf_counter() - t0


def _row(name: str, result: tuple[str, Any, Any, float]) -> None:
    status, gap, value, seconds = result
    g = "-" if gap is None else f"{gap:.2%}"
    v = "-" if value is None else f"{value:,.0f}"
    print(f"  {name:<10} {status:<28} gap {g:>8}  cost {v:>16}  {seconds:7.1f} s", flush=True)


def _district(seed: int) -> Scenario:
    sys.path.insert(0, str(ROOT / "tests"))
    from allocation_builders import rich_dict

    d: dict[str, Any] = rich_dict(
        seed, n_comm=40, n_fac=6, n_cand=16, size_m=5000, max_places=(20, 60), walk_in=0.05
    )
    d["targets"]["places_per_1000"] = 1.0
    d["targets"]["coverage_share"] = 0.6
    d["targets"]["min_community_share"] = 0.0
    d["projection"] = {
        "base_year": 2025,
        "horizon": [2026, 2030],
        "births": {
            "observed": {str(y): 1000 for y in range(2020, 2026)},
            "variants": {"central": {str(y): 1000 * 0.93 ** (y - 2025) for y in range(2026, 2031)}},
        },
    }
    return validate_data(copy.deepcopy(d))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=float, default=60.0, help="seconds per solve")
    ap.add_argument("--years", default="2026-2030")
    ap.add_argument("--seeds", type=int, default=0, help="random districts after Yanzhou")
    ap.add_argument("--no-yanzhou", action="store_true", help="the random districts only")
    args = ap.parse_args()
    lo, hi = (int(x) for x in args.years.split("-"))
    years = list(range(lo, hi + 1))
    spec = SolverSpec(time_limit_s=args.limit)
    cases = (
        [] if args.no_yanzhou else [("yanzhou", load_scenario(ROOT / "scenarios" / "yanzhou.toml"))]
    )
    cases += [(f"seed {s}", _district(s)) for s in range(args.seeds)]
    for name, sc in cases:
        print(f"{name}, {years[0]}–{years[-1]}, HiGHS gap {spec.gap:.1%}, limit {args.limit:.0f} s")
        a, b = _shipped(sc, years, spec), _flat(sc, years, spec)
        _row("shipped", a)
        _row("flat", b)
        print(f"  time flat / shipped: {b[3] / a[3]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
