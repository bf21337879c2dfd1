"""cover-all and max-coverage against spopt's LSCP and MCLP, same instance, same solver.

Run:  .venv/bin/python benchmarks/bench_allocate_coverage.py [--n 5000 --m 500 --p 50]

Prints build and solve seconds of each side, the objective values (which must
be equal) and the speed-up. spopt builds from a dense distance matrix (its
construction time is counted in spopt's build); tuoyu-sim builds from sparse
KD-tree pairs. Both solve with CBC (PuLP's bundled binary), one thread.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pulp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_allocate_common import uniform

from tuoyu_sim.allocate import SolverSpec, build_instance
from tuoyu_sim.allocate.coverage import (
    build_cover_all,
    build_max_coverage,
    solve_cover,
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=5000, help="communities")
    ap.add_argument("--m", type=int, default=500, help="candidate sites")
    ap.add_argument("--p", type=int, default=50, help="MCLP: new sites")
    ap.add_argument("--side-m", type=float, default=20_000.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    from spopt.locate import LSCP, MCLP

    sc, c, s = uniform(args.seed, args.n, args.m, args.side_m)
    spec = SolverSpec("cbc", gap=0.0, threads=1)  # proofs, compared with spopt's
    # LSCP needs every community coverable: keep those within reach of a site
    t0 = time.perf_counter()
    dense = np.hypot(c[:, None, 0] - s[None, :, 0], c[:, None, 1] - s[None, :, 1])
    dense_s = time.perf_counter() - t0
    keep = (dense <= 1000).any(axis=1)
    if not keep.all():
        sc = sc.with_changes({})  # same scenario object semantics
        data = sc.to_dict()
        data["communities"] = [r for r, k in zip(data["communities"], keep, strict=True) if k]
        from tuoyu_sim.scenario import validate_data

        sc = validate_data(data)
        c, dense = c[keep], dense[keep]
    weights = np.array([x.under3 for x in sc.communities])
    print(
        f"instance: {len(c)} communities x {len(s)} sites, side {args.side_m:,.0f} m, "
        f"radius 1,000 m, {int((dense <= 1000).sum()):,} pairs in reach"
    )

    rows = []
    for kind in ("LSCP / cover-all", f"MCLP p={args.p} / max-coverage"):
        # ours
        t0 = time.perf_counter()
        inst = build_instance(sc)
        model = (
            build_cover_all(inst)
            if kind.startswith("LSCP")
            else build_max_coverage(inst, max_sites=args.p)
        )
        ours_build = time.perf_counter() - t0
        sol = solve_cover(model, spec)
        ours_solve = sol.outcome.seconds
        ours_obj = (
            float(sol.opened[inst.n_existing :].sum())
            if kind.startswith("LSCP")
            else sol.objective_value
        )
        # spopt
        t0 = time.perf_counter()
        ref = (
            LSCP.from_cost_matrix(dense, 1000.0)
            if kind.startswith("LSCP")
            else MCLP.from_cost_matrix(dense, weights, 1000.0, p_facilities=args.p)
        )
        ref_build = time.perf_counter() - t0 + dense_s
        t0 = time.perf_counter()
        ref.solve(pulp.PULP_CBC_CMD(msg=False, threads=1))
        ref_solve = time.perf_counter() - t0
        ref_obj = pulp.value(ref.problem.objective)
        ours_total, ref_total = ours_build + ours_solve, ref_build + ref_solve
        rows.append(
            (
                kind,
                ours_build,
                ours_solve,
                ours_obj,
                sol.outcome.status,
                ref_build,
                ref_solve,
                ref_obj,
                ref_total / ours_total,
            )
        )
        print(
            f"{kind}: tuoyu-sim build {ours_build:.2f} s + solve {ours_solve:.2f} s = "
            f"{ours_total:.2f} s ({sol.outcome.status}, objective {ours_obj:,.2f}); "
            f"spopt build {ref_build:.2f} s + solve {ref_solve:.2f} s = {ref_total:.2f} s "
            f"(objective {ref_obj:,.2f}); speed-up x{ref_total / ours_total:.1f}; "
            f"same objective: {abs(float(ours_obj or 0) - float(ref_obj)) < 1e-6}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
