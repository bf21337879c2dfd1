"""min-cost: the shipped solve against a plain formulation, same solver, same instance.

Run:  .venv/bin/python benchmarks/bench_allocate_mincost.py \
          [--n 1000 --m 200 --facilities 100 --coverage 0.9 --mix older|three \
           --solver highs --cap 300 --threads 1]

The instance is clustered (towns of about 25 communities), enrolled demand only,
coverage share 0.9, caregiver costs over 5 years, the health-staff rules on;
``--mix older`` puts every child in the oldest class, ``--mix three`` splits
them 15/35/50% over three classes. "shipped" is what ``tuoyu-sim optimize``
does (:func:`tuoyu_sim.allocate.strategy.solve_model`: the strengthened model
solved by connected components, column generation and an integer master, then
the whole model from that plan if a gap remains). "whole" is the strengthened
model solved in one piece with the greedy warm start. "plain" is the same model
without strengthening or start, solved in one piece: it has the same integer
optimum. Each solves to a relative gap of 0.1% (``--gap``) with the same
solver, capped at ``--cap`` seconds. Prints build and solve seconds, status,
cost, proven gap and the time ratio shipped / plain (the reference run in the
same process).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_allocate_common import clustered

from tuoyu_sim.allocate import SolverSpec, build_instance
from tuoyu_sim.allocate.mincost import (
    MinCostOptions,
    build_min_cost,
    solve_min_cost,
)
from tuoyu_sim.allocate.strategy import solve_model


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--m", type=int, default=200)
    ap.add_argument("--facilities", type=int, default=100)
    ap.add_argument("--coverage", type=float, default=0.9)
    ap.add_argument("--solver", choices=("cbc", "highs"), default="highs")
    ap.add_argument("--gap", type=float, default=0.001)
    ap.add_argument("--cap", type=float, default=300.0, help="seconds per solve")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="solver threads, for every run (shipped: parts priced at once)",
    )
    ap.add_argument("--mix", choices=("three", "older"), default="three")
    ap.add_argument(
        "--runs", default="shipped,plain", help="comma-separated: shipped, whole, plain"
    )
    args = ap.parse_args()
    sc = clustered(args.seed, args.n, args.m, args.facilities, args.coverage, args.mix)
    t0 = time.perf_counter()
    inst = build_instance(sc)
    inst_s = time.perf_counter() - t0
    print(
        f"instance: {inst.n_communities} communities, {inst.n_existing} facilities, "
        f"{inst.n_sites - inst.n_existing} candidate sites, {len(inst.pairs):,} pairs within "
        f"1 km ({inst_s:.2f} s); coverage {args.coverage}, solver {args.solver}, "
        f"gap {args.gap}, cap {args.cap:.0f} s",
        flush=True,
    )
    spec = SolverSpec(args.solver, time_limit_s=args.cap, gap=args.gap, threads=args.threads)
    opts = MinCostOptions(coverage_share=args.coverage)
    times = {}
    for label in args.runs.split(","):
        t0 = time.perf_counter()
        if label == "shipped":
            sol = solve_model(inst, opts, spec)
            size = ""
        else:
            model = build_min_cost(
                inst, replace(opts, strengthen=label == "whole", decompose=False)
            )
            size = (
                f"{len(model.prob.variables()):,} variables, "
                f"{len(model.prob.constraints):,} constraints; "
            )
            sol = solve_min_cost(model, spec, warm_start=label == "whole")
        o = sol.outcome
        total = time.perf_counter() - t0
        times[label] = total
        gap = "n/a" if o.gap is None else f"{o.gap:.4%}"
        obj = "none" if o.objective is None else f"{o.objective:,.0f}"
        print(
            f"{label}: {size}build + solve {total:.2f} s; {o.status} ({o.message}); "
            f"cost {obj}; gap {gap}",
            flush=True,
        )
    if "shipped" in times and "plain" in times:
        print(
            f"shipped / plain time: {times['shipped'] / times['plain']:.3f} "
            f"(plain capped at {args.cap:.0f} s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
