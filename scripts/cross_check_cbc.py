"""Cross-check CBC's proofs against HiGHS on small random min-cost districts.

Two exact solvers that both say "optimal" must agree on the objective. This
builds ``--districts`` random districts shaped like the ones on which the CBC
bundled with PuLP (2.10.3), with its default cuts, proved dearer plans optimal
(three age classes, walk-in places, health rules, a candidate forced open;
``tests/allocation_builders.cbc_trap``), solves each whole model with HiGHS
and with CBC as tuoyu-sim runs it (``CBC_OPTIONS``), and prints every
disagreement. ``--cbc-defaults`` runs CBC with its default cuts instead, to see
the problem that ``CBC_OPTIONS`` works around. Rerun it when PuLP or its CBC
changes.

Run from the project root (needs highspy, the ``[highs]`` extra)::

    .venv/bin/python scripts/cross_check_cbc.py --districts 100
    .venv/bin/python scripts/cross_check_cbc.py --districts 100 --cbc-defaults

Of 100 districts (1 December 2026, seeds from 5000), CBC with its default cuts
proved a dearer plan optimal on 8 (0.4–9.6% dearer); as tuoyu-sim runs it, on
none (``docs/allocation.md``, "Solvers and honest status").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from allocation_builders import cbc_trap
from tuoyu_sim.allocate import (
    SolverSpec,
    solvers,
)
from tuoyu_sim.allocate.mincost import build_min_cost, solve_min_cost


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--districts", type=int, default=20)
    ap.add_argument("--first", type=int, default=5000, help="seed of the first district")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per solve")
    ap.add_argument("--cbc-defaults", action="store_true", help="CBC with its default cuts")
    args = ap.parse_args()
    if args.cbc_defaults:
        solvers.CBC_OPTIONS = ()
    if not solvers.highs_available():
        print("the cross-check needs HiGHS: pip install -e '.[highs]'", file=sys.stderr)
        return 2
    print(f"CBC options: {solvers.CBC_OPTIONS or '(defaults)'}")
    wrong, compared, seconds = 0, 0, {"cbc": 0.0, "highs": 0.0}
    for k in range(args.districts):
        seed = int(np.random.default_rng(args.first + k).integers(1, 10**6))
        inst, opts = cbc_trap(seed)
        found = {}
        for name in ("highs", "cbc"):
            spec = SolverSpec(name, time_limit_s=args.time_limit, gap=0.0)  # type: ignore[arg-type]
            t0 = time.perf_counter()
            sol = solve_min_cost(build_min_cost(inst, opts), spec, warm_start=False)
            seconds[name] += time.perf_counter() - t0
            found[name] = sol.outcome
        h, c = found["highs"], found["cbc"]
        if h.status != "optimal" or c.status != "optimal":
            print(f"district {k} (seed {seed}): HiGHS {h.status}, CBC {c.status}; not compared")
            continue
        compared += 1
        assert h.objective is not None and c.objective is not None
        if abs(c.objective - h.objective) > 1e-6 * abs(h.objective):
            wrong += 1
            print(
                f"district {k} (seed {seed}): CBC proved {c.objective:,.0f}, "
                f"HiGHS {h.objective:,.0f} ({c.objective / h.objective - 1:+.2%})"
            )
    print(
        f"{compared} districts compared, {wrong} disagreements; "
        f"solve time CBC {seconds['cbc']:.1f} s, HiGHS {seconds['highs']:.1f} s"
    )
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
