"""``tuoyu-sim simulate FILE``: ordinary days at every facility.

Writes the tables (``facilities.csv``, ``care_types.csv``, ``days.csv``,
``curves.csv``, … and ``results.xlsx``), the figures, ``scenario.toml`` and
``summary.json`` into ``--out`` (default ``results/<scenario-stem>-simulate``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tuoyu_sim.cli.common import (
    SIMULATION_FLAGS,
    add_simulation_options,
    console,
    fmt_ci,
    out_dir,
    simulation_keywords,
)

HELP = "simulate ordinary days at every facility"
FLAGS = SIMULATION_FLAGS
"""Parameter names in messages, as this command's flags."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario .toml file")
    add_simulation_options(p)
    p.add_argument("--out", help="results folder (default: results/<scenario>-simulate)")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument(
        "--episodes",
        action="store_true",
        help="also write episodes.csv, one row per child (memory grows with days)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or table")


def run(args: argparse.Namespace) -> int:
    from tuoyu_sim.api import simulate

    result = simulate(
        args.scenario,
        **simulation_keywords(args),
        episodes=args.episodes,
        progress=not args.quiet,
    )
    folder = result.save(out_dir(args, "simulate"), figures=not args.no_figures)
    if not args.quiet:
        print_simulation_summary(result.summary, folder, result.scenario.targets.max_turn_away)
    return 0


def print_simulation_summary(summary: dict[str, Any], out_dir: Path, max_turn_away: float) -> None:
    """The district's headline, the care types, and the ten worst facilities."""
    from rich.table import Table

    out = console()
    d = summary["district"]
    out.print(
        f"[bold]{summary['scenario']}[/bold] — {summary['replications']} replications × "
        f"{summary['days']} days, seed {summary['seed']} ({summary.get('run_seconds', 0):.1f} s)"
    )
    out.print(
        f"district: {d['places']} places ({d['places_per_1000']:.2f} per 1,000), "
        f"utilization {fmt_ci(d['utilization'])}, walk-in turn-away {fmt_ci(d['turn_away_rate'])}, "
        f"enrolled {d['enrolled']} of {d['enrolled_demand']} wanting a place "
        f"(waitlist {d['waitlist']}, out of reach {d['unreached_enrolled']})"
    )
    t = Table(title="care types", show_lines=False)
    for col in ("type", "arrivals", "admitted", "redirected", "turned away", "turn-away rate"):
        t.add_column(col, justify="right" if col != "type" else "left", no_wrap=col == "type")
    for key, v in summary["care_types"].items():
        rate = fmt_ci(v["turn_away_rate"]) if v["mode"] == "walk_in" else "enrolled"
        t.add_row(
            f"{key} {v['name_zh']}",
            str(v["arrivals"]),
            str(v["admitted"]),
            str(v["redirected"]),
            str(v["turned_away"]),
            rate,
        )
    out.print(t)
    facs = sorted(summary["facilities"], key=lambda f: -(f["turn_away_rate"]["mean"] or 0.0))
    t = Table(title="facilities (worst turn-away first; at most 10)")
    # an 80-column terminal (or a log file) must still show every interval
    # whole: the names fold onto a second line before an interval is cut
    t.add_column("facility", max_width=24, overflow="fold")
    for col in ("places", "enrolled"):
        t.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    for col in ("utilization", "turn-away", "breach days"):
        w = len("[00.0–00.0]")
        t.add_column(col, justify="right", overflow="fold", min_width=w, max_width=w)
    for f in facs[:10]:
        flag = "[red]" if (f["turn_away_rate"]["mean"] or 0) > max_turn_away else ""
        t.add_row(
            f"{f['id']} {f['name']}",
            str(f["places"]),
            str(f["enrolled"]),
            fmt_ci(f["utilization"]),
            f"{flag}{fmt_ci(f['turn_away_rate'])}",
            fmt_ci(f["breach_day_share"]),
        )
    out.print(t)
    short = summary["district"].get("facilities_short_of_health_staff", 0)
    if short:
        out.print(f"[yellow]{short} facilities have fewer health staff than required[/yellow]")
    out.print(f"results in [bold]{out_dir}[/bold]")
