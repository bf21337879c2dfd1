"""What every command shares: the simulation options, the results folder, printing."""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tuoyu_sim.argtypes import non_negative_int, positive_int
from tuoyu_sim.errors import UserError
from tuoyu_sim.progress import console
from tuoyu_sim.report.formatting import fmt_ci

__all__ = [
    "UsageError",
    "add_simulation_options",
    "console",
    "default_out",
    "fmt_ci",
    "simulation_keywords",
]


class UsageError(UserError):
    """Options that exclude each other (exit 2, like argparse)."""

    exit_code = 2


OPTIMIZE_FLAGS: dict[str, str] = {
    "objective": "--objective",
    "max_sites": "--sites",
    "sites": "--sites",
    "budget_cny": "--budget",
    "budget": "--budget",
    "target_per_1000": "--target-per-1000",
    "radius_m": "--radius-m",
    "cover_every_community": "--cover-every-community",
    "beta": "--beta",
    "solver name": "--solver",
    "time_limit_s": "--time-limit",
    "time_limit": "--time-limit",
    "gap": "--gap",
    "threads": "--threads",
    "years": "--years",
    "variant": "--variant",
    "cross_check": "--cross-check",
}
"""The library's and the API's parameter names, as the command line spells them."""

SIMULATION_FLAGS: dict[str, str] = {
    "workers": "--workers",
    "replications": "--replications",
    "days": "--days",
    "seed": "--seed",
    "max_iterations": "--max-iterations",
    "dask": "--dask",
}


def name_flags(line: str, flags: Mapping[str, str]) -> str:
    """A library message in the command line's words: parameter names become flags.

    Names with an underscore are replaced wherever they stand as words; plain
    words (``gap``, ``beta``) only where the message begins with them (``gap 2.0:
    ...``), so that prose keeps its words. ``name = value`` becomes ``--flag value``.
    """
    for name in sorted(flags, key=len, reverse=True):
        flag = flags[name]
        if "_" in name:
            line = re.sub(rf"\b{re.escape(name)}( =)?(?=[ :,)]|$)", flag, line)
        elif line.startswith((f"{name} ", f"{name}=")):
            line = flag + line[len(name) :].removeprefix(" =")
    return line


def add_simulation_options(p: argparse.ArgumentParser) -> None:
    """``--replications --days --seed --workers`` (shared by simulate, plan and sweep)."""
    p.add_argument("--replications", type=positive_int, help="replications (default: scenario's)")
    p.add_argument("--days", type=positive_int, help="days per replication (default: scenario's)")
    p.add_argument("--seed", type=non_negative_int, help="random seed (default: scenario's)")
    p.add_argument(
        "--workers",
        type=positive_int,
        help="processes (default: one per core); results do not depend on it",
    )


def simulation_keywords(args: argparse.Namespace) -> dict[str, Any]:
    """The API's ``replications``, ``days``, ``seed`` and ``workers`` from the options."""
    return {k: getattr(args, k, None) for k in ("replications", "days", "seed", "workers")}


def default_out(scenario_path: str, command: str) -> Path:
    """``results/<scenario stem>-<command>``."""
    return Path("results") / f"{Path(scenario_path).stem}-{command}"


def out_dir(args: argparse.Namespace, command: str) -> Path:
    """``--out``, else the default results folder of ``command``."""
    return Path(args.out) if args.out else default_out(args.scenario, command)


def print_headline(lines: list[tuple[str, str]], folder: Path) -> None:
    """A run's headline lines and where its results are, as a borderless table."""
    from rich.table import Table

    t = Table(show_header=False, box=None, pad_edge=False)
    for label, value in lines:
        t.add_row(label, value)
    t.add_row("results", str(folder))
    console().print(t)
