"""max-coverage at province scale: 20,000 communities x 2,000 candidate sites.

Run:  .venv/bin/python benchmarks/bench_allocate_province.py \
          [--n 20000 --m 2000 --p 200 --side-m 120000 --solver highs --cap 300]

Prints the instance size after the sparse reduction (rows merged by identical
candidate sets), build seconds, solve seconds, status, covered children, the
proven bound and the gap: how close to proven optimal the model gets and how
long it takes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_allocate_common import uniform

from tuoyu_sim.allocate import SolverSpec, build_instance
from tuoyu_sim.allocate.coverage import build_max_coverage, solve_cover


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--m", type=int, default=2_000)
    ap.add_argument("--p", type=int, default=200)
    ap.add_argument("--side-m", type=float, default=120_000.0)
    ap.add_argument("--solver", choices=("cbc", "highs"), default="highs")
    ap.add_argument("--cap", type=float, default=300.0)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    sc, _c, _s = uniform(args.seed, args.n, args.m, args.side_m)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    inst = build_instance(sc)
    model = build_max_coverage(inst, max_sites=args.p)
    build_s = time.perf_counter() - t0
    print(
        f"instance: {args.n:,} communities x {args.m:,} sites in {args.side_m / 1000:.0f} km "
        f"square, {len(inst.pairs):,} pairs within 1 km; model {len(model.prob.variables()):,} "
        f"variables, {len(model.prob.constraints):,} constraints; scenario {load_s:.1f} s, "
        f"build {build_s:.2f} s",
        flush=True,
    )
    sol = solve_cover(model, SolverSpec(args.solver, time_limit_s=args.cap, gap=0.0, threads=1))
    o = sol.outcome
    total = float(inst.under3.sum())
    print(
        f"{args.solver}: {o.status} in {o.seconds:.1f} s ({o.message}); covered "
        f"{sol.objective_value or 0:,.0f} of {total:,.0f} children "
        f"({(sol.objective_value or 0) / total:.2%}); bound "
        f"{o.bound if o.bound is not None else float('nan'):,.1f}; gap "
        f"{'n/a' if o.gap is None else f'{o.gap:.4%}'}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
