"""``tuoyu-sim sweep``: a what-if grid over scenario keys, locally or on Dask.

::

    tuoyu-sim sweep SCENARIO --set KEY=V1,V2,... [--set ...]
                    [--workers W | --dask ADDRESS] [--out DIR]
                    [--replications N --days D --seed S]
                    [--optimize [--solver highs|cbc] [--gap G]] [--years Y1-Y2]

Writes ``DIR/points/<id>.json`` as each point finishes, ``DIR/sweep.csv``
(rewritten at most every 2 s and at the end), ``DIR/results.xlsx``,
``DIR/summary.json``, ``DIR/scenario.toml`` (the base scenario) and
``DIR/response_curves.png``. Run again with the same ``--out`` to resume:
finished points are not recomputed.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

from tuoyu_sim.argtypes import year_range
from tuoyu_sim.cli.common import (
    OPTIMIZE_FLAGS,
    SIMULATION_FLAGS,
    UsageError,
    add_simulation_options,
    console,
    out_dir,
    simulation_keywords,
)
from tuoyu_sim.cli.optimize import add_solver_options

HELP = "what-if grid over scenario keys, in parallel or on Dask"
FLAGS = {**OPTIMIZE_FLAGS, **SIMULATION_FLAGS}
"""Parameter names in messages, as this command's flags."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``tuoyu-sim sweep``."""
    p.add_argument("scenario", help="base scenario .toml file")
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        required=True,
        metavar="KEY=V1,V2,...",
        help=(
            "a grid axis: dotted key path and values (TOML scalars); '*' addresses every "
            "list element (communities.*.demand.drop_in=0.1,0.2); a key ending in '*' "
            "scales the current value (communities.*.demand.drop_in*=0.8,1.0,1.2). "
            "Repeat for more axes (cartesian product)"
        ),
    )
    add_simulation_options(p)
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run points on an existing Dask scheduler (e.g. tcp://10.0.0.5:8786) "
        "instead of local processes; needs the 'dask' extra",
    )
    p.add_argument("--out", help="results folder (default: results/<scenario>-sweep)")
    p.add_argument(
        "--optimize",
        action="store_true",
        help="optimize each point first (min-cost), then simulate the planned scenario",
    )
    add_solver_options(p, when="--optimize: ")
    p.add_argument(
        "--years",
        nargs="?",
        const=True,
        type=year_range,
        metavar="Y1-Y2",
        help="each point over these years (alone: the scenario's projection.horizon): every "
        "year simulated under its projected demand (births variant projection.variant, which "
        "--set may sweep); with --optimize, the phased plan's networks",
    )
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figure")
    p.add_argument("--quiet", action="store_true", help="no progress bar or table")


def run(args: argparse.Namespace) -> int:
    """Run a sweep; return the exit code (130 when interrupted)."""
    from tuoyu_sim.api import SweepInterrupted, sweep

    if args.dask and args.workers:
        raise UsageError("--workers and --dask exclude each other (Dask workers are its own)")
    from tuoyu_sim.progress import progress_bar

    folder = out_dir(args, "sweep")
    try:
        with progress_bar(args.quiet) as bar:
            task = bar.add_task("sweeping", total=None)
            first = [True]

            def progress(done: int, total: int) -> None:
                if first[0] and done and not args.quiet:
                    bar.console.print(
                        f"resuming: {done} of {total} points already finished in {folder}"
                    )
                first[0] = False
                bar.update(task, completed=done, total=total, refresh=True)

            result = sweep(
                args.scenario,
                args.sets,
                **simulation_keywords(args),
                dask=args.dask,
                out=folder,
                optimize=args.optimize,
                solver=args.solver,
                gap=args.gap,
                years=args.years,
                progress=progress,
            )
    except SweepInterrupted as stop:
        console(stderr=True).print(
            f"tuoyu-sim sweep: interrupted; {stop.finished} of {stop.total} points finished "
            f"and kept in {stop.folder}; run the same command again to resume"
        )
        return 130
    result.save(folder, figures=not args.no_figures)
    if not args.quiet:
        _print_table(result.rows("sweep"), result.axes, folder, result.summary)
    return 0


def _pct(row: Mapping[str, Any], name: str) -> str:
    mean, lo, hi = row.get(name), row.get(f"{name}_lo"), row.get(f"{name}_hi")
    if mean is None or mean == "":
        return "—"
    text = f"{100 * mean:.1f}%"
    if lo is not None and hi is not None:
        text += f" [{100 * lo:.1f}–{100 * hi:.1f}]"
    return text


def _print_table(
    rows: Sequence[Mapping[str, Any]], axes: Sequence[Any], folder: Any, summary: Mapping[str, Any]
) -> None:
    from rich.table import Table

    out = console()
    out.print(
        f"[bold]{summary['scenario']}[/bold] — sweep of {summary['points']} points "
        f"({summary['points_computed']} computed, {summary['points_resumed']} resumed), "
        f"{summary['replications']} replications × {summary['days']} days, seed {summary['seed']} "
        f"({summary['run_seconds']:.1f} s)"
    )
    t = Table(title=None if len(rows) <= 40 else "first 40 points (all in sweep.csv)")
    for a in axes:
        t.add_column(a.key, justify="right", overflow="fold", min_width=min(len(a.key), 20))
    for col in ("utilization", "walk-in turn-away", "breach days", "waitlist"):
        t.add_column(col, justify="right")
    for r in rows[:40]:
        if r.get("error"):
            t.add_row(*[str(r[a.key]) for a in axes], f"[red]{r['error']}[/red]", "", "", "")
            continue
        t.add_row(
            *[str(r[a.key]) for a in axes],
            _pct(r, "utilization"),
            _pct(r, "turn_away_rate"),
            _pct(r, "breach_day_share"),
            str(r.get("waitlist", "")),
        )
    out.print(t)
    out.print(f"results in [bold]{folder}[/bold]")
