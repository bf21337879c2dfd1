"""min-cost on a seeded family of districts: the default path against a plain model.

Run (from the project root)::

    .venv/bin/python benchmarks/bench_allocate_family.py \\
        [--sizes 200x50,500x100,1000x200] [--limit N] [--cap 300] [--gap 0.001] \\
        [--solvers highs,cbc] [--runs default,plain] [--seed 2026]

For each size, 24 districts (``--limit N``: the first N) vary in shape
(uniform or clustered towns), age classes (one or three), walk-in demand (off
or on), coverage share (0.8, 0.9, 1.0), caregiver costs (off or on) and
``cover_every_community`` (off or on): the first four factors in full (24
combinations), the last two alternating so that each is on in half the
districts of every shape and class count. Every community has a candidate site
within the 1 km radius (one that had none is moved to 900 m of its nearest site),
so that coverage 1.0 and cover-every-community can be met.

Runs, each with one thread, the same relative gap and a ``--cap`` second limit:

``default``
    :func:`tuoyu_sim.allocate.optimize`, what ``tuoyu-sim optimize`` does
    (:func:`tuoyu_sim.allocate.strategy.solve_model` chooses the whole model or
    the solve by parts); its plan goes through the independent checker
    (:func:`tuoyu_sim.allocate.verify_plan`).
``parts`` / ``whole``
    the solve by parts / the whole strengthened model without envelope rows,
    forced, to choose the default by measurement.
``plain``
    the same model without strengthening, warm start or parts, in one piece: the
    textbook formulation, with the same integer optimum.

Prints one row per district: seconds and proven gap of each run under each
solver (``*``: stopped by the cap; ``inf``: infeasible, proven), and the ratio
default (HiGHS, the default solver) / best plain (the faster plain run of the
two solvers, counted at the cap when it did not finish). The last lines give,
per size, the median ratio and the worst excess of the default over the best
plain run.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_allocate_common import MIXES, base, candidate_rows, facility_rows

from tuoyu_sim.allocate import OptimizeOptions, SolverSpec, build_instance, optimize, verify_plan
from tuoyu_sim.allocate.api import min_cost_options
from tuoyu_sim.allocate.decompose import solve_decomposed
from tuoyu_sim.allocate.mincost import build_min_cost, solve_min_cost
from tuoyu_sim.allocate.strategy import use_parts
from tuoyu_sim.errors import InfeasibleError, SolverError
from tuoyu_sim.scenario import Scenario, validate_data

RADIUS_M = 1000.0


@dataclass(frozen=True)
class Shape:
    """One district of the family."""

    index: int
    shape: str  # "uniform" or "clustered"
    classes: int  # 1 or 3
    walk_in: bool
    coverage: float
    staff_costs: bool
    cover_every: bool

    @property
    def label(self) -> str:
        return (
            f"{self.index:02d} {self.shape[:4]} {self.classes}c "
            f"{'walk' if self.walk_in else '    '} {self.coverage:.1f} "
            f"{'staff' if self.staff_costs else '     '} {'every' if self.cover_every else '     '}"
        )


def family() -> list[Shape]:
    """The 24 district shapes, in a fixed order."""
    out = []
    i = 0
    for shape in ("uniform", "clustered"):
        for classes in (1, 3):
            for walk in (False, True):
                for k, cov in enumerate((0.8, 0.9, 1.0)):
                    staff = (k + walk) % 2 == 0
                    every = (k + classes // 3 + (shape == "clustered")) % 2 == 1
                    out.append(Shape(i, shape, classes, walk, cov, staff, every))
                    i += 1
    return out


def district(s: Shape, n: int, m: int, seed: int) -> Scenario:
    """A seeded district of ``n`` communities, ``m`` candidate sites and ``m // 2``
    existing facilities."""
    rng = np.random.default_rng([seed, n, m, s.index])
    n_fac = m // 2
    if s.shape == "uniform":
        side = 1000.0 * math.sqrt(1.2 * m)  # the sites' 1 km circles about cover it

        def draw(k: int) -> np.ndarray:
            return rng.uniform(0, side, (k, 2))

    else:
        centres = rng.uniform(0, 40_000, (max(1, n // 25), 2))

        def draw(k: int) -> np.ndarray:
            return centres[rng.integers(0, len(centres), k)] + rng.normal(0, 600, (k, 2))

    comm, sites, facs = draw(n), draw(m), draw(n_fac)
    # every community within reach of a candidate site
    d2 = ((comm[:, None, :] - sites[None, :, :]) ** 2).sum(axis=2)
    near = d2.argmin(axis=1)
    far = np.sqrt(d2[np.arange(n), near]) > 0.9 * RADIUS_M
    step = comm[far] - sites[near[far]]
    comm[far] = sites[near[far]] + 0.9 * RADIUS_M * step / np.linalg.norm(step, axis=1)[:, None]

    d = base(f"family {s.label.strip()} {n}x{m}", s.coverage)
    d["geography"]["service_radius_m"] = RADIUS_M
    if not s.staff_costs:
        d["costs"]["per_caregiver_year_cny"] = {"teacher": 0, "nursery": 0, "health": 0}
    if s.walk_in:
        d["care_types"]["drop_in"] = {
            "mode": "walk_in",
            "window": ["07:30", "19:00"],
            "stay": {"dist": "exponential", "mean_hours": 2.0},
        }
    mix = MIXES["three" if s.classes == 3 else "older"]
    d["communities"] = []
    for i, (x, y) in enumerate(comm):
        pop = int(rng.integers(2000, 9000))
        demand = {"full_day": float(rng.uniform(0.08, 0.16))}
        if s.walk_in:
            demand["drop_in"] = float(rng.uniform(0.02, 0.06))
        d["communities"].append(
            {
                "id": f"c{i}",
                "population": pop,
                "children_under3": round(pop * 0.019, 1),
                "x_m": float(x),
                "y_m": float(y),
                "age_mix": mix,
                "demand": demand,
            }
        )

    def places_of(g: np.random.Generator) -> dict[str, int]:
        p = {"older": int(g.integers(10, 30))}
        if s.classes == 3:
            p = {"infant": int(g.integers(0, 6)), "toddler": int(g.integers(5, 15)), **p}
        return p

    d["facilities"] = facility_rows(rng, facs, places_of)
    d["candidate_sites"] = candidate_rows(rng, sites)
    return validate_data(d)


@dataclass(frozen=True)
class Run:
    seconds: float
    status: str  # optimal, feasible, infeasible, no_solution, error
    gap: float | None
    cost: float | None

    def cell(self, cap: float) -> str:
        if self.status == "infeasible":
            return f"{self.seconds:7.1f}   inf"
        if self.status in ("no_solution", "error"):
            return f"{self.seconds:7.1f}*   --"
        capped = "*" if self.seconds >= cap * 0.99 else " "
        gap = "--" if self.gap is None else f"{100 * self.gap:5.2f}"
        return f"{self.seconds:7.1f}{capped}{gap}"


def run_one(kind: str, sc: Scenario, s: Shape, spec: SolverSpec) -> Run:
    opts = OptimizeOptions(cover_every_community=s.cover_every)
    t0 = time.perf_counter()
    if kind == "default":
        try:
            plan = optimize(sc, opts, spec)
        except InfeasibleError:
            return Run(time.perf_counter() - t0, "infeasible", None, None)
        except SolverError:
            return Run(time.perf_counter() - t0, "no_solution", None, None)
        seconds = time.perf_counter() - t0
        problems = verify_plan(sc, plan)
        if problems:
            raise RuntimeError(f"{s.label}: the plan fails the checker: {problems[:3]}")
        return Run(seconds, plan.status, plan.gap, plan.cost_cny)
    inst = build_instance(sc)
    mc = min_cost_options(sc, opts)
    if kind == "parts":
        if not use_parts(inst, dataclasses.replace(mc, decompose=True)):
            return Run(0.0, "error", None, None)
        sol = solve_decomposed(inst, mc, spec)
    elif kind == "whole":
        model = build_min_cost(inst, dataclasses.replace(mc, decompose=False, envelope=False))
        sol = solve_min_cost(model, spec)
    else:  # plain
        plain = dataclasses.replace(mc, decompose=False, strengthen=False)
        sol = solve_min_cost(build_min_cost(inst, plain), spec, warm_start=False)
    o = sol.outcome
    return Run(time.perf_counter() - t0, o.status, o.gap, o.objective)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--sizes", default="200x50,500x100,1000x200", help="NxM,... (communities x sites)"
    )
    ap.add_argument("--limit", type=int, default=24, help="the first N districts of each size")
    ap.add_argument("--first", type=int, default=0, help="start at district number K")
    ap.add_argument("--cap", type=float, default=300.0, help="seconds per run")
    ap.add_argument("--gap", type=float, default=0.001, help="relative gap of every run")
    ap.add_argument("--solvers", default="highs,cbc")
    ap.add_argument("--runs", default="default,plain", help="default, parts, whole, plain")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args(argv)
    solvers = args.solvers.split(",")
    kinds = args.runs.split(",")
    print(
        f"min-cost family: gap {args.gap}, cap {args.cap:.0f} s, one thread, seed {args.seed}; "
        f"cells are 'seconds gap%' ('*' stopped at the cap, 'inf' proven infeasible)",
        flush=True,
    )
    for size in args.sizes.split(","):
        n, m = (int(x) for x in size.split("x"))
        head = "district                    " + "".join(
            f"{k[:7] + ' ' + sv[:5]:>15}" for sv in solvers for k in kinds
        )
        print(f"\n{n} x {m}\n{head}   ratio", flush=True)
        ratios: list[float] = []
        excess: list[float] = []
        for s in family()[args.first : args.first + args.limit]:
            sc = district(s, n, m, args.seed)
            runs: dict[tuple[str, str], Run] = {}
            for sv in solvers:
                spec = SolverSpec(sv, time_limit_s=args.cap, gap=args.gap, threads=1)  # type: ignore[arg-type]
                for k in kinds:
                    runs[(k, sv)] = run_one(k, sc, s, spec)
            line = f"{s.label:28s}" + "".join(
                f"{runs[(k, sv)].cell(args.cap):>15}" for sv in solvers for k in kinds
            )
            plain = [r.seconds for (k, _sv), r in runs.items() if k == "plain"]
            default = runs.get(("default", solvers[0]))
            if plain and default is not None:
                best = min(plain)
                ratio = default.seconds / best if best > 0 else math.inf
                ratios.append(ratio)
                excess.append(default.seconds - max(1.0, 1.1 * best))
                line += f"  {ratio:6.2f}"
            print(line, flush=True)
        if ratios:
            print(
                f"{n} x {m}: {len(ratios)} districts, median default/best plain "
                f"{statistics.median(ratios):.2f}, worst {max(ratios):.2f}; default slower than "
                f"max(1.1 x best plain, 1 s) on {sum(e > 0 for e in excess)} "
                f"(worst by {max(excess):+.1f} s)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
