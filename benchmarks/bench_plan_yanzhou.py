"""The plan loop on the built-in Yanzhou scenario with default settings, and its proof.

Runs what ``tuoyu-sim plan scenarios/yanzhou.toml`` runs (optimize with the
defaults, then simulate, judge and re-size until the plan holds twice), prints
every pass, the optimizer's cost and caregivers against the final ones and the
wall time; then re-simulates the final plan with a fresh seed at 30
replications x 20 days and prints, per service level, the worst facility and
how many facilities are more than one point over their target, and the
waitlist.

    .venv/bin/python benchmarks/bench_plan_yanzhou.py [--workers 2] [--proof-seed 4242]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tuoyu_sim.allocate import OptimizeOptions, SolverSpec, optimize, planned_scenario
from tuoyu_sim.metrics import summarize
from tuoyu_sim.planning import Iteration, run_plan, scenario_cost
from tuoyu_sim.scenario import load_scenario
from tuoyu_sim.simulation import simulate

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--proof-seed", type=int, default=4242)
    args = ap.parse_args()
    sc = load_scenario(ROOT / "scenarios" / "yanzhou.toml")

    def show(it: Iteration) -> None:
        state = "holds" if it.holds else f"{len(it.shortfalls)} short"
        print(
            f"pass {it.number} ({it.replications} reps): cost {it.cost_cny:,.0f}, worst "
            f"turn-away {it.worst_turn_away:.1%}, worst breach days "
            f"{it.worst_breach_day_share:.1%}, waitlist {it.waitlist} — {state}"
        )

    started = time.perf_counter()
    outcome = run_plan(
        sc,
        lambda s: optimize(s, OptimizeOptions(), SolverSpec()),
        planned_scenario,
        workers=args.workers,
        report=show,
    )
    seconds = time.perf_counter() - started
    first = scenario_cost(sc, outcome.first_planned or outcome.final)
    final = scenario_cost(sc, outcome.final)
    direct = [sum(c["added_caregivers"][r] for r in ("teacher", "nursery")) for c in (first, final)]
    print(f"converged: {outcome.converged} in {len(outcome.iterations)} passes, {seconds:.0f} s")
    print(
        f"cost: optimizer {first['cost_cny']:,.0f}, final {final['cost_cny']:,.0f} "
        f"(final / optimizer {final['cost_cny'] / first['cost_cny']:.3f})"
    )
    print(f"added direct caregivers: optimizer {direct[0]}, final {direct[1]}")
    for note in outcome.notes:
        print(f"note: {note}")

    proof = outcome.final.with_changes(
        {
            "simulation.seed": args.proof_seed,
            "simulation.replications": 30,
            "simulation.days": 20,
        }
    )
    summary = summarize(simulate(proof, workers=args.workers))
    tg = sc.targets
    for key, target in (
        ("turn_away_rate", tg.max_turn_away),
        ("breach_day_share", tg.max_breach_day_share),
    ):
        values = [
            (f[key]["mean"], f["id"])
            for f in summary["facilities"]
            if f[key]["mean"] is not None and (key != "turn_away_rate" or f["walk_in_arrivals"])
        ]
        worst = max(values)
        over = sum(1 for v, _ in values if v > target + 0.01)
        print(
            f"proof (seed {args.proof_seed}, 30 x 20): {key} worst {worst[0]:.2%} at {worst[1]} "
            f"(target {target:.0%}); facilities more than one point over: {over}"
        )
    print(f"proof: waitlist {summary['district']['waitlist']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
