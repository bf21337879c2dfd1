"""``tuoyu-sim optimize``: where to open sites and add places and caregivers.

Writes ``summary.json``, ``plan.csv``, ``assignment.csv``,
``places_by_group.csv``, ``scenario.planned.toml``, ``map.png`` and
``per_1000_by_group.png`` into ``--out`` (default
``results/<scenario-stem>-optimize``), every file atomically; everything is
computed before the first file is written. Infeasible targets, a missing
solver or bad options print a message without a traceback and exit non-zero.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tuoyu_sim.argtypes import (
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    relative_gap,
)
from tuoyu_sim.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``tuoyu-sim optimize``."""
    parser.add_argument("scenario", help="scenario .toml file")
    parser.add_argument(
        "--objective",
        choices=("min-cost", "max-coverage", "cover-all"),
        default="min-cost",
        help="min-cost (default): the capacitated least-cost plan; max-coverage: "
        "most children within the radius; cover-all: fewest new sites "
        "covering every community",
    )
    parser.add_argument(
        "--sites", type=non_negative_int, metavar="P", help="max-coverage: at most P new sites"
    )
    parser.add_argument(
        "--budget",
        type=non_negative_float,
        metavar="B",
        help="most the plan may cost, yuan (max-coverage: site costs)",
    )
    parser.add_argument(
        "--target-per-1000",
        type=non_negative_float,
        metavar="X",
        help="places per 1,000 residents (default: targets.places_per_1000)",
    )
    parser.add_argument(
        "--radius-m",
        type=positive_float,
        metavar="R",
        help="service radius, metres (default: geography.service_radius_m)",
    )
    parser.add_argument(
        "--cover-every-community",
        action="store_true",
        help="min-cost: also put every community within the radius of a site",
    )
    parser.add_argument(
        "--decay",
        choices=("auto", "off", "linear", "power", "exponential"),
        default="auto",
        help="distance decay of demand (auto: the scenario's geography)",
    )
    parser.add_argument(
        "--beta", type=positive_float, help="decay parameter (default: geography.decay.beta)"
    )
    parser.add_argument(
        "--solver",
        choices=("highs", "cbc"),
        default="highs",
        help="highs (default) or cbc (the CBC bundled with PuLP, flow cover cuts off)",
    )
    parser.add_argument(
        "--time-limit",
        type=positive_float,
        metavar="S",
        help="solver wall-clock limit, seconds (a stopped solve is 'feasible' and may differ "
        "from run to run; default none)",
    )
    parser.add_argument(
        "--gap",
        type=relative_gap,
        default=0.001,
        help="relative optimality gap at which the solver may stop (default 0.001, i.e. 0.1%%; "
        "0 proves optimality)",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="solver threads; min-cost by parts also prices that many parts at once (default 1)",
    )
    parser.add_argument(
        "--cross-check",
        action="store_true",
        help="solve again with the other solver (CBC and HiGHS, which needs highspy), "
        "report whether they agree and keep the better plan",
    )
    parser.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    parser.add_argument("--out", help="results folder (default: results/<scenario>-optimize)")


def options_from_args(args: argparse.Namespace) -> tuple[Any, Any]:
    """The optimize options and the solver, from the command line (shared with ``plan``)."""
    from tuoyu_sim.allocate import OptimizeOptions, SolverSpec

    if args.objective != "min-cost" and args.target_per_1000 is not None:
        raise UserError("--target-per-1000 applies to --objective min-cost only")
    if args.objective != "max-coverage" and args.sites is not None:
        raise UserError("--sites applies to --objective max-coverage only")
    if args.objective == "cover-all" and args.budget is not None:
        raise UserError("--budget applies to --objective min-cost or max-coverage")
    opts = OptimizeOptions(
        objective=args.objective,
        max_sites=args.sites,
        budget_cny=args.budget,
        target_per_1000=args.target_per_1000,
        radius_m=args.radius_m,
        decay=args.decay,
        beta=args.beta,
        cover_every_community=args.cover_every_community,
    )
    spec = SolverSpec(args.solver, time_limit_s=args.time_limit, gap=args.gap, threads=args.threads)
    return opts, spec


def run(args: argparse.Namespace) -> int:
    """Run ``optimize``; returns the exit code (0) or raises a UserError."""
    from rich.console import Console
    from rich.table import Table

    from tuoyu_sim.allocate import (
        build_instance,
        cross_check,
        optimize,
        plan_rows,
        planned_scenario,
        summary,
        verify_plan,
    )
    from tuoyu_sim.allocate.results import group_rows, map_data
    from tuoyu_sim.output import (
        prepare_out_dir,
        save_figure,
        write_csv,
        write_json,
        write_scenario,
    )
    from tuoyu_sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    opts, spec = options_from_args(args)
    plan = optimize(scenario, opts, spec)
    check = None
    if args.cross_check:
        plan, check = cross_check(scenario, opts, spec, plan)
    problems = verify_plan(scenario, plan)
    if problems:  # a bug, not a user error: fail loudly
        raise RuntimeError("the plan fails the independent check:\n" + "\n".join(problems))
    planned = planned_scenario(plan, scenario)
    record = summary(plan, scenario)
    if check is not None:
        record["cross_check"] = check.record()
    inst = build_instance(scenario, radius_m=args.radius_m, decay=args.decay, beta=args.beta)
    rows, cols = plan_rows(plan, inst.classes)
    groups = group_rows(plan, scenario)
    assignment = [{"community": c, "site": s, "share": round(x, 6)} for c, s, x in plan.assignment]
    figures = {}
    if not args.no_figures:
        from tuoyu_sim.plots.maps import per_1000_by_group, plan_map

        figures["map.png"] = plan_map(map_data(plan, inst))
        target = plan.targets.get("places_per_1000")
        figures["per_1000_by_group.png"] = per_1000_by_group(groups, target)
    # everything is computed; now write
    out_dir = (
        Path(args.out) if args.out else Path("results") / f"{Path(args.scenario).stem}-optimize"
    )
    prepare_out_dir(out_dir)
    write_csv(out_dir / "plan.csv", rows, cols)
    write_csv(out_dir / "assignment.csv", assignment, ["community", "site", "share"])
    write_csv(out_dir / "places_by_group.csv", groups)
    write_scenario(out_dir / "scenario.planned.toml", planned)
    for name, fig in figures.items():
        save_figure(fig, out_dir / name)
    write_json(out_dir / "summary.json", record)

    out = Console(highlight=False, soft_wrap=True)
    gap = "" if plan.gap is None else f", gap {plan.gap:.4%}"
    out.print(
        f"[bold]{scenario.name}[/bold] — {plan.objective}: [green]{plan.status}[/green] "
        f"({plan.solver}, {plan.solve_seconds:.2f} s{gap})"
    )
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row(
        "new sites",
        f"{len(plan.new_sites)}  {', '.join(plan.new_sites[:12])}"
        + (" …" if len(plan.new_sites) > 12 else ""),
    )
    table.add_row("added places", f"{plan.added_places:,}")
    table.add_row(
        "added caregivers", ", ".join(f"{r} {n}" for r, n in plan.added_caregivers.items())
    )
    table.add_row("cost", f"{plan.cost_cny:,.0f} yuan")
    table.add_row(
        "children covered",
        f"{plan.covered_children:,.0f} of {plan.children_under3:,.0f} ({plan.coverage_share:.1%})",
    )
    if plan.served_share is not None:
        table.add_row("demand served", f"{plan.served_share:.1%}")
    table.add_row(
        "places per 1,000", f"{plan.places_per_1000_before:.2f} → {plan.places_per_1000_after:.2f}"
    )
    table.add_row("results", str(out_dir))
    out.print(table)
    if check is not None:
        colour = "green" if check.agree else "bold red"
        out.print(f"[{colour}]cross-check: {check.message}[/{colour}]")
    return 0
