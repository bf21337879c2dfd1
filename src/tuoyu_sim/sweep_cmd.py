"""``tuoyu-sim sweep``: a what-if grid over scenario keys, locally or on Dask.

::

    tuoyu-sim sweep SCENARIO --set KEY=V1,V2,... [--set ...]
                    [--workers W | --dask ADDRESS] [--out DIR]
                    [--replications N --days D --seed S]
                    [--optimize [--solver highs|cbc] [--gap G]]

Writes ``DIR/points/<id>.json`` as each point finishes, ``DIR/sweep.csv``
(rewritten at most every 2 s and at the end), ``DIR/summary.json``, ``DIR/scenario.toml``
(the base scenario) and ``DIR/response_curves.png``. Run again with the same
``--out`` to resume: finished points are not recomputed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tuoyu_sim.argtypes import relative_gap
from tuoyu_sim.cli import add_simulation_options, console, default_out, progress_bar
from tuoyu_sim.errors import UserError


class _UsageError(UserError):
    """Options that exclude each other (exit 2, like argparse)."""

    exit_code = 2


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
    p.add_argument(
        "--solver",
        choices=("highs", "cbc"),
        default="highs",
        help="--optimize: highs (default) or cbc (the CBC bundled with PuLP)",
    )
    p.add_argument(
        "--gap",
        type=relative_gap,
        default=0.001,
        help="--optimize: relative optimality gap (default 0.001, i.e. 0.1%%; 0 proves optimality)",
    )
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figure")
    p.add_argument("--quiet", action="store_true", help="no progress bar or table")


def run(args: argparse.Namespace) -> int:
    """Run a sweep; return the exit code (130 when interrupted)."""
    from tuoyu_sim.cli import simulation_overrides
    from tuoyu_sim.scenario import load_scenario
    from tuoyu_sim.simulate import default_workers
    from tuoyu_sim.sweep import (
        PointTask,
        SweepSolver,
        dask_client,
        dask_results,
        expand_grid,
        local_results,
        parse_grid,
    )

    if args.dask and args.workers:
        raise _UsageError("--workers and --dask exclude each other (Dask workers are its own)")
    base = load_scenario(args.scenario)
    changes = simulation_overrides(args)
    if changes:
        base = base.with_changes(changes)
    axes = parse_grid(args.sets)
    args.sweep_solver = SweepSolver(args.solver, args.gap)
    points = expand_grid(base, axes, optimize=args.optimize, solver=args.sweep_solver)
    if args.optimize:
        _check_allocate()
    out_dir = Path(args.out) if args.out else default_out(args.scenario, "sweep")

    if args.dask:
        client = dask_client(args.dask)
        backend = f"dask {args.dask}"
        where = f"on Dask at {args.dask}"

        def results(tasks: Sequence[PointTask]) -> Iterable[dict[str, Any]]:
            return dask_results(tasks, client)

    else:
        client = None
        workers = args.workers or default_workers()
        backend = f"local {workers} worker{'s' if workers > 1 else ''}"
        where = f"on {workers} local worker{'s' if workers > 1 else ''}"

        def results(tasks: Sequence[PointTask]) -> Iterable[dict[str, Any]]:
            return local_results(tasks, workers)

    try:
        return _run_points(args, base, axes, points, out_dir, results, backend, where)
    finally:
        if client is not None:
            client.close()


def _run_points(
    args: argparse.Namespace,
    base: Any,
    axes: Sequence[Any],
    points: Sequence[Any],
    out_dir: Path,
    results: Any,
    backend: str,
    where: str,
) -> int:
    from tuoyu_sim.output import prepare_out_dir, write_json, write_scenario
    from tuoyu_sim.sweep import SweepRun, load_finished, run_sweep, sweep_summary

    err = console(stderr=True)
    # Everything is checked; from here on, files are written.
    prepare_out_dir(out_dir)
    write_scenario(out_dir / "scenario.toml", base)
    write_json(
        out_dir / "summary.json",
        sweep_summary(
            base,
            axes,
            points,
            None,
            optimize=args.optimize,
            backend=backend,
            complete=False,
            solver=args.sweep_solver,
        ),
    )
    started = time.perf_counter()
    computed: list[str] = []
    try:
        with progress_bar(args.quiet) as bar:
            task = bar.add_task(f"sweeping {where}", total=len(points))

            def on_start(done: int, todo: int) -> None:
                bar.update(task, completed=done, refresh=True)
                if done and not args.quiet:
                    bar.console.print(
                        f"resuming: {done} of {len(points)} points already finished in {out_dir}"
                    )

            def on_point(record: dict[str, Any]) -> None:
                computed.append(record["id"])
                bar.update(task, advance=1, refresh=True)

            run_result = run_sweep(
                points,
                axes,
                out_dir,
                results,
                optimize=args.optimize,
                solver=args.sweep_solver,
                on_start=on_start,
                on_point=on_point,
            )
    except KeyboardInterrupt:
        finished = load_finished(out_dir, points)
        partial = SweepRun(
            records=finished,
            resumed=[i for i in finished if i not in computed],
            computed=computed,
            seconds=time.perf_counter() - started,
        )
        write_json(
            out_dir / "summary.json",
            sweep_summary(
                base,
                axes,
                points,
                partial,
                optimize=args.optimize,
                backend=backend,
                complete=False,
                solver=args.sweep_solver,
            ),
        )
        err.print(
            f"tuoyu-sim sweep: interrupted; {len(finished)} of {len(points)} points finished "
            f"and kept in {out_dir}; run the same command again to resume"
        )
        return 130
    summary = sweep_summary(
        base,
        axes,
        points,
        run_result,
        optimize=args.optimize,
        backend=backend,
        complete=True,
        solver=args.sweep_solver,
    )
    if not args.no_figures:
        _write_figure(out_dir, points, axes, run_result.records)
    summary["run_seconds"] = round(time.perf_counter() - started, 3)
    write_json(out_dir / "summary.json", summary)
    if not args.quiet:
        _print_table(points, axes, run_result.records, out_dir, summary)
    return 0


def _check_allocate() -> None:
    try:
        import tuoyu_sim.allocate  # noqa: F401
    except ImportError as exc:
        raise UserError(f"--optimize is not available: the allocation models ({exc})") from None


def _write_figure(
    out_dir: Path, points: Sequence[Any], axes: Sequence[Any], records: dict[str, Any]
) -> None:
    from tuoyu_sim.output import save_figure
    from tuoyu_sim.plots.sweep import response_curves
    from tuoyu_sim.sweep import sweep_rows

    rows, _ = sweep_rows(points, axes, records)
    rows = [r for r in rows if not r.get("error")]
    if rows:
        save_figure(response_curves(rows, [a.key for a in axes]), out_dir / "response_curves.png")


def _pct(row: dict[str, Any], name: str) -> str:
    mean, lo, hi = row.get(name), row.get(f"{name}_lo"), row.get(f"{name}_hi")
    if mean is None or mean == "":
        return "—"
    text = f"{100 * mean:.1f}%"
    if lo is not None and hi is not None:
        text += f" [{100 * lo:.1f}–{100 * hi:.1f}]"
    return text


def _print_table(
    points: Sequence[Any],
    axes: Sequence[Any],
    records: dict[str, Any],
    out_dir: Path,
    summary: dict[str, Any],
) -> None:
    from rich.table import Table

    from tuoyu_sim.sweep import sweep_rows

    rows, _ = sweep_rows(points, axes, records)
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
    out.print(f"results in [bold]{out_dir}[/bold]")
