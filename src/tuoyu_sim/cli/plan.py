"""``tuoyu-sim plan FILE``: optimize, verify by simulation, re-size, repeat.

Takes every option of ``optimize`` but ``--objective`` and ``--sites`` (the
objective is always min-cost) and the simulation options. Writes
``summary.json`` (the optimize keys for the final plan, the passes, and the
final simulation's headline figures), ``plan.csv``, ``iterations.csv``,
``needs.csv``, ``places_by_group.csv``, ``results.xlsx``,
``scenario.planned.toml``, the final simulation's tables, and figures. Exits 3
when the plan does not hold within ``--max-iterations``.

With ``--years 2026-2030``: the phased plan, then the loop for every year on that
year's network (what a year needed beyond the plan is fed back and the phased
plan solved again); writes what ``optimize --years`` writes plus
``iterations.csv``, ``needs.csv`` and ``facilities.csv`` with a ``year`` column
(default folder ``results/<scenario-stem>-plan-years``). Exits 3 when a year
does not hold, and names the first.
"""

from __future__ import annotations

import argparse
from typing import Any

from tuoyu_sim.argtypes import positive_int
from tuoyu_sim.cli.common import (
    OPTIMIZE_FLAGS,
    SIMULATION_FLAGS,
    add_simulation_options,
    console,
    out_dir,
    print_headline,
    simulation_keywords,
)
from tuoyu_sim.cli.optimize import add_arguments as add_optimize_arguments
from tuoyu_sim.cli.optimize import optimize_keywords

HELP = "optimize, verify by simulation, re-size, repeat"
FLAGS = {**OPTIMIZE_FLAGS, **SIMULATION_FLAGS}
"""Parameter names in messages, as this command's flags."""

NOT_CONVERGED = 3
"""Exit code of a plan that does not hold within --max-iterations."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``tuoyu-sim plan``: optimize's, simulate's and the loop's."""
    add_optimize_arguments(parser, objective=False)
    add_simulation_options(parser)
    parser.add_argument(
        "--max-iterations",
        type=positive_int,
        default=8,
        help="most simulate-and-re-size passes (default 8; at least 2: a plan must hold "
        "twice, the second time with a fresh seed)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress or tables")


def run(args: argparse.Namespace) -> int:
    from tuoyu_sim.api import plan

    out = console()
    quiet = args.quiet

    def report(it: Any, year: int | None = None) -> None:
        if quiet:
            return
        state = (
            "[green]holds[/green]" if it.holds else f"[yellow]{len(it.shortfalls)} short[/yellow]"
        )
        if it.confirmation and it.holds:
            state = "[green]holds again (confirmation)[/green]"
        out.print(
            ("" if year is None else f"{year} ")
            + f"pass {it.number} ({it.replications} replications): cost {it.cost_cny:,.0f} yuan, "
            "worst turn-away "
            f"{it.worst_turn_away:.1%}, worst breach days {it.worst_breach_day_share:.1%}, "
            f"waitlist {it.waitlist} — {state}"
        )
        for c in it.changes:
            out.print(f"    {c}")

    def warn(message: str) -> None:
        if not quiet:
            out.print(f"[bold red]{message}[/bold red]")

    def phased(round_: int, p: Any) -> None:
        if not quiet:
            gap = "" if p.gap is None else f", gap {p.gap:.3%}"
            out.print(
                f"phased plan, solve {round_}: {p.status}, {p.objective_cny:,.0f} yuan present "
                f"value ({p.solve_seconds:.1f} s{gap}); simulating every year"
            )

    result = plan(
        args.scenario,
        **optimize_keywords(args),
        **simulation_keywords(args),
        max_iterations=args.max_iterations,
        on_iteration=report,
        on_warning=warn,
        on_year=lambda year, it: report(it, year),
        on_round=phased,
    )
    command = "plan-years" if args.years is not None else "plan"
    folder = result.save(out_dir(args, command), figures=not args.no_figures)
    if not quiet:
        print_headline(result.headline(), folder)
        for note in result.summary["notes"]:
            out.print(f"[yellow]note:[/yellow] {note}")
    return 0 if result.converged else NOT_CONVERGED
