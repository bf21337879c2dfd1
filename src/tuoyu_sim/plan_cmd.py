"""``tuoyu-sim plan``: optimize, verify by simulation, re-size, repeat.

Takes every option of ``optimize`` (the objective is always ``min-cost``) and
the simulation options. Writes ``summary.json`` (the optimize keys for the
final plan, the iterations, and the final simulation's headline figures),
``plan.csv``, ``iterations.csv``, ``scenario.planned.toml``, the final
simulation's tables, and figures.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from tuoyu_sim.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``tuoyu-sim plan``: optimize's, simulate's and the loop's."""
    from tuoyu_sim import optimize_cmd
    from tuoyu_sim.cli import add_simulation_options

    optimize_cmd.add_arguments(parser)
    add_simulation_options(parser)
    parser.add_argument(
        "--max-iterations",
        type=int,
        default=8,
        help="most simulate-and-re-size passes (default 8; at least 2: a plan must hold "
        "twice, the second time with a fresh seed)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress or tables")


def places_by_group(before: Any, after: Any) -> list[dict[str, Any]]:
    """Places per 1,000 residents by community group, before and after a plan.

    A facility counts in its own ``group``, else in the group of its nearest
    community.
    """
    from tuoyu_sim.geography import distance_m

    pop: dict[str, float] = {}
    for c in after.communities:
        pop[c.group or "(none)"] = pop.get(c.group or "(none)", 0.0) + c.population

    def tally(sc: Any) -> dict[str, float]:
        out = dict.fromkeys(pop, 0.0)
        for f in sc.facilities:
            g = f.group
            if not g or g not in pop:
                g = _nearest_group(sc, f, distance_m)
            out[g] += f.total_places
        return out

    b, a = tally(before), tally(after)
    return [
        {
            "group": g,
            "population": pop[g],
            "places_before": int(b[g]),
            "places_after": int(a[g]),
            "per_1000_before": 1000.0 * b[g] / pop[g] if pop[g] else 0.0,
            "per_1000_after": 1000.0 * a[g] / pop[g] if pop[g] else 0.0,
        }
        for g in sorted(pop)
    ]


def _nearest_group(sc: Any, point: Any, distance_m: Any) -> str:
    near = min(sc.communities, key=lambda c: distance_m(sc, c, point))
    return str(near.group or "(none)")


def run(args: argparse.Namespace) -> int:
    from rich.table import Table

    from tuoyu_sim.allocate import cross_check, optimize, planned_scenario
    from tuoyu_sim.allocate.results import summary as plan_summary
    from tuoyu_sim.cli import console, default_out, simulation_figures, simulation_overrides
    from tuoyu_sim.output import (
        prepare_out_dir,
        save_figure,
        write_csv,
        write_json,
        write_scenario,
    )
    from tuoyu_sim.plan import Iteration, run_plan, scenario_cost
    from tuoyu_sim.scenario import ROLES, load_scenario
    from tuoyu_sim.simulate import default_workers
    from tuoyu_sim.stopping import StoppingRule

    if args.objective != "min-cost":
        raise UserError(f"--objective {args.objective}: plan always uses min-cost")
    if args.max_iterations < 2:
        raise UserError(
            f"--max-iterations {args.max_iterations}: at least 2 (a plan must hold twice)"
        )
    scenario = load_scenario(args.scenario)
    changes = simulation_overrides(args)
    if changes:
        scenario = scenario.with_changes(changes)
    from tuoyu_sim.optimize_cmd import options_from_args

    opts, spec = options_from_args(args)
    out = console()
    quiet = args.quiet

    def report(it: Iteration) -> None:
        if quiet:
            return
        state = (
            "[green]holds[/green]" if it.holds else f"[yellow]{len(it.shortfalls)} short[/yellow]"
        )
        if it.confirmation and it.holds:
            state = "[green]holds again (confirmation)[/green]"
        out.print(
            f"pass {it.number} ({it.replications} replications): cost {it.cost_cny:,.0f} yuan, "
            "worst turn-away "
            f"{it.worst_turn_away:.1%}, worst breach days {it.worst_breach_day_share:.1%}, "
            f"waitlist {it.waitlist} — {state}"
        )
        for c in it.changes:
            out.print(f"    {c}")

    def solve(sc: Any) -> Any:
        plan = optimize(sc, opts, spec)
        if args.cross_check:
            plan, check = cross_check(sc, opts, spec, plan)
            if not check.agree and not quiet:
                out.print(f"[bold red]cross-check: {check.message}[/bold red]")
        return plan

    stopping = StoppingRule()
    started = time.perf_counter()
    outcome = run_plan(
        scenario,
        solve,
        planned_scenario,
        workers=args.workers or default_workers(),
        max_iterations=args.max_iterations,
        report=report,
        stopping=stopping,
    )
    seconds = time.perf_counter() - started
    final = outcome.final
    cost = scenario_cost(scenario, final)
    first_cost = scenario_cost(scenario, outcome.first_planned or final)
    record = plan_summary(outcome.first_plan, scenario)
    before = {f.id: f for f in scenario.facilities}
    sites = []
    plan_rows = []
    ages = list(scenario.age_groups)
    for f in final.facilities:
        old = before.get(f.id)
        changed = old is None or old.places != f.places or old.staff != f.staff
        if not changed:
            continue
        site = {
            "id": f.id,
            "kind": "new" if old is None else "existing",
            "places": dict(f.places),
            "places_total": f.total_places,
            "added_places": f.total_places - (old.total_places if old else 0),
            "staff": f.staff.model_dump(),
        }
        sites.append(site)
        row: dict[str, Any] = {"site": f.id, "kind": site["kind"], "group": f.group}
        for a in ages:
            row[f"places_{a}"] = f.places.get(a, 0)
        row["added_places"] = site["added_places"]
        for r in ROLES:
            row[r] = getattr(f.staff, r)
        plan_rows.append(row)
    iterations = [it.record() for it in outcome.iterations]
    sim = outcome.final_summary
    record.update(
        {
            "command": "plan",
            "status": record["status"] if outcome.converged else "not_converged",
            "converged": outcome.converged,
            "solve_seconds": record["solve_seconds"],
            "run_seconds": round(seconds, 3),
            "new_sites": cost["new_sites"],
            "added_places": cost["added_places"],
            "added_caregivers": cost["added_caregivers"],
            "cost": round(cost["cost_cny"], 2),
            "cost_breakdown": {
                k: cost[k] for k in ("site_cost_cny", "place_cost_cny", "staff_cost_cny")
            },
            "places_per_1000_before": round(scenario.places_per_1000, 4),
            "places_per_1000_after": round(final.places_per_1000, 4),
            "sites": sites,
            "iterations": iterations,
            "optimizer_cost_cny": round(first_cost["cost_cny"], 2),
            "optimizer_added_caregivers": first_cost["added_caregivers"],
            "final_over_optimizer_cost": round(cost["cost_cny"] / first_cost["cost_cny"], 4)
            if first_cost["cost_cny"]
            else None,
            "stopping_rule": {
                "test": "one-sided t per facility and level; Holm at alpha / max_rounds",
                "alpha": stopping.alpha,
                "indifference": stopping.indifference,
                "max_rounds": stopping.max_rounds,
                "confirmation": "a fresh-seed pass must hold too",
            },
            "needs": outcome.needs,
            "notes": outcome.notes,
            "simulation": {
                "seed": sim.get("seed"),
                "replications": sim.get("replications"),
                "days": sim.get("days"),
                "district": sim.get("district"),
                "care_types": sim.get("care_types"),
            },
            "facilities": sim.get("facilities", []),
        }
    )
    groups = places_by_group(scenario, final)
    figures: dict[str, Any] = {}
    if not args.no_figures:
        from tuoyu_sim.plots.maps import per_1000_by_group

        figures = simulation_figures(sim, outcome.final_tables, final)
        target = opts.target_per_1000 or scenario.targets.places_per_1000
        figures["per_1000_by_group"] = per_1000_by_group(groups, target)
    out_dir = Path(args.out) if args.out else default_out(args.scenario, "plan")
    prepare_out_dir(out_dir)
    write_csv(out_dir / "plan.csv", plan_rows)
    write_csv(
        out_dir / "iterations.csv",
        [
            {
                **{k: v for k, v in it.items() if k not in ("shortfalls", "changes", "new_sites")},
                "new_sites": " ".join(it["new_sites"]),
                "shortfalls": "; ".join(it["shortfalls"]),
                "changes": "; ".join(it["changes"]),
            }
            for it in iterations
        ],
    )
    write_csv(out_dir / "places_by_group.csv", groups)
    write_csv(
        out_dir / "needs.csv",
        outcome.needs,
        [
            "facility",
            "places_optimizer",
            "places_final",
            "caregivers_optimizer",
            "caregivers_final",
            "why",
        ],
    )
    for name, rows in outcome.final_tables.items():
        write_csv(out_dir / f"{name}.csv", rows)
    for name, fig in figures.items():
        save_figure(fig, out_dir / f"{name}.png")
    write_scenario(out_dir / "scenario.planned.toml", final)
    write_scenario(out_dir / "scenario.toml", final)
    write_json(out_dir / "summary.json", record)
    if not quiet:
        t = Table(show_header=False, box=None, pad_edge=False)
        t.add_row("converged", "yes" if outcome.converged else "[red]no[/red]")
        t.add_row("iterations", str(len(outcome.iterations)))
        t.add_row("new sites", f"{len(cost['new_sites'])}  {', '.join(cost['new_sites'][:12])}")
        t.add_row("added places", f"{cost['added_places']:,}")
        t.add_row(
            "added caregivers", ", ".join(f"{r} {n}" for r, n in cost["added_caregivers"].items())
        )
        t.add_row(
            "cost",
            f"{cost['cost_cny']:,.0f} yuan (optimizer's plan {first_cost['cost_cny']:,.0f})",
        )
        t.add_row(
            "places per 1,000", f"{scenario.places_per_1000:.2f} → {final.places_per_1000:.2f}"
        )
        t.add_row("results", str(out_dir))
        out.print(t)
        for note in outcome.notes:
            out.print(f"[yellow]note:[/yellow] {note}")
    return 0 if outcome.converged else 3
