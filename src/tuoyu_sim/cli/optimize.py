"""``tuoyu-sim optimize FILE``: where to open sites and add places and caregivers.

Writes ``summary.json``, ``plan.csv``, ``assignment.csv``,
``places_by_group.csv``, ``results.xlsx``, ``scenario.planned.toml``,
``map.png`` and ``per_1000_by_group.png`` into ``--out`` (default
``results/<scenario-stem>-optimize``), every file atomically; everything is
computed before the first file is written.

With ``--years 2026-2030`` (min-cost): a plan over several years, each year's
demand from the scenario's ``[projection]``; writes ``phases.csv``,
``years.csv``, ``network.csv``, ``results.xlsx``, ``summary.json``,
``scenario.planned.<year>.toml`` for every year, ``trajectory.png`` and
``map_phased.png`` (default folder ``results/<scenario-stem>-optimize-years``).
"""

from __future__ import annotations

import argparse
from typing import Any

from tuoyu_sim.argtypes import (
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    relative_gap,
    year_range,
)
from tuoyu_sim.cli.common import OPTIMIZE_FLAGS, console, out_dir, print_headline

HELP = "decide where to open sites and add places and caregivers"
FLAGS = OPTIMIZE_FLAGS
"""Parameter names in messages, as this command's flags."""

# The API's defaults, repeated so that `--help` does not import the solvers
# (tests/test_contract_repeatable_plans.py holds them equal).
SOLVER = "highs"
GAP = 0.001


def add_arguments(parser: argparse.ArgumentParser, *, objective: bool = True) -> None:
    """Options of ``tuoyu-sim optimize`` (``plan`` takes them all but ``--objective``
    and ``--sites``)."""
    parser.add_argument("scenario", help="scenario .toml file")
    if objective:
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
    add_solver_options(parser)
    parser.add_argument(
        "--time-limit",
        type=positive_float,
        metavar="S",
        help="solver wall-clock limit, seconds (a stopped solve is 'feasible' and may differ "
        "from run to run; default none)",
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
    parser.add_argument(
        "--years",
        nargs="?",
        const=True,
        type=year_range,
        metavar="Y1-Y2",
        help="min-cost: a phased plan over these years (e.g. 2026-2030; alone: the "
        "scenario's projection.horizon), each year's demand from its [projection]; on a "
        "large district give --time-limit (the phased model is not yet fast there)",
    )
    parser.add_argument(
        "--variant",
        metavar="NAME",
        help="with --years: the births variant (default central; the scenario's "
        "projection.births names them)",
    )
    parser.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    parser.add_argument(
        "--out",
        help=f"results folder (default: results/<scenario>-{parser.prog.split()[-1]}, "
        "with --years ...-years)",
    )


def add_solver_options(parser: argparse.ArgumentParser, when: str = "") -> None:
    """``--solver`` and ``--gap`` (optimize, plan, and sweep's ``--optimize``)."""
    parser.add_argument(
        "--solver",
        choices=("highs", "cbc"),
        default=SOLVER,
        help=f"{when}highs (default) or cbc (the CBC bundled with PuLP, flow cover cuts off)",
    )
    parser.add_argument(
        "--gap",
        type=relative_gap,
        default=GAP,
        help=f"{when}relative optimality gap at which the solver may stop (default 0.001, "
        "i.e. 0.1%%; 0 proves optimality)",
    )


def optimize_keywords(args: argparse.Namespace) -> dict[str, Any]:
    """The API keywords of the options above (``objective`` and ``sites`` if present)."""
    kw = {
        k: getattr(args, k)
        for k in (
            "budget",
            "target_per_1000",
            "radius_m",
            "cover_every_community",
            "decay",
            "beta",
            "solver",
            "time_limit",
            "gap",
            "threads",
            "cross_check",
            "years",
            "variant",
        )
    }
    for k in ("objective", "sites"):
        if hasattr(args, k):
            kw[k] = getattr(args, k)
    return kw


def run(args: argparse.Namespace) -> int:
    """Run ``optimize``; returns the exit code (0) or raises a UserError."""
    from tuoyu_sim.api import optimize

    result = optimize(args.scenario, **optimize_keywords(args))
    command = "optimize-years" if args.years is not None else "optimize"
    folder = result.save(out_dir(args, command), figures=not args.no_figures)
    console().print(f"[bold]{result.scenario.name}[/bold]")
    print_headline(result.headline(), folder)
    check = None if args.years is not None else result.check  # type: ignore[union-attr]
    if check is not None:
        colour = "green" if check.agree else "bold red"
        console().print(f"[{colour}]cross-check: {check.message}[/{colour}]")
    return 0
