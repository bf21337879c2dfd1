"""What-if sweeps: a grid of scenario variants, simulated in parallel, resumable.

A sweep is the cartesian product of ``--set KEY=V1,V2,...`` axes over a base
scenario. Each *point* of the grid is the base scenario with one value of every
axis applied (:meth:`Scenario.with_changes`), validated before anything runs.

Keys and values are read as :mod:`~tuoyu_sim.sweeps.grid` says.

Common random numbers: every point runs with the same seed, and replication k
of every point sees the same random streams for the same facility
(:mod:`tuoyu_sim.streams`), so differences between points are not luck.

Resuming: a point's id is a stable hash of its parameters and of the complete
scenario it simulates (which includes seed, replications and days). A finished
point is written to ``points/<id>.json`` atomically; a later run with the same
results folder skips every point whose file exists and matches. Nothing here
depends on where a point ran, so a local pool and a Dask cluster give the same
figures.

The package: :mod:`~tuoyu_sim.sweeps.grid` (axes, points, ids),
:mod:`~tuoyu_sim.sweeps.point` (one point), :mod:`~tuoyu_sim.sweeps.store` (the
results folder), :mod:`~tuoyu_sim.sweeps.executors` (local pool, Dask), and here
the whole sweep. :func:`tuoyu_sim.sweep` (the public API) and ``tuoyu-sim
sweep`` call :func:`run_sweep`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuoyu_sim.scenario import Scenario
from tuoyu_sim.sweeps.executors import dask_client, dask_results, local_results
from tuoyu_sim.sweeps.grid import (
    DEFAULT_SWEEP_SOLVER,
    Axis,
    Point,
    SweepSolver,
    axis_changes,
    expand_grid,
    parse_grid,
    parse_set,
    parse_value,
    point_id,
)
from tuoyu_sim.sweeps.point import PointTask, headline, run_point
from tuoyu_sim.sweeps.store import (
    CSV_EVERY_S,
    FORMAT,
    POINTS_DIR,
    load_finished,
    point_path,
    save_point,
    sweep_rows,
    write_sweep_csv,
)

__all__ = [
    "CSV_EVERY_S",
    "FORMAT",
    "POINTS_DIR",
    "Axis",
    "Point",
    "PointTask",
    "SweepProgress",
    "SweepSolver",
    "axis_changes",
    "dask_client",
    "dask_results",
    "expand_grid",
    "headline",
    "load_finished",
    "local_results",
    "parse_grid",
    "parse_set",
    "parse_value",
    "point_id",
    "point_path",
    "run_point",
    "run_sweep",
    "save_point",
    "sweep_rows",
    "sweep_summary",
    "write_sweep_csv",
]


@dataclass
class SweepProgress:
    """What :func:`run_sweep` did."""

    records: dict[str, dict[str, Any]]
    """Finished points by id (resumed and computed)."""
    resumed: list[str]
    """Ids found finished on start and not recomputed."""
    computed: list[str]
    """Ids computed by this run, in finishing order."""
    seconds: float


def run_sweep(
    points: Sequence[Point],
    axes: Sequence[Axis],
    out_dir: Path,
    results: Callable[[Sequence[PointTask]], Iterable[dict[str, Any]]],
    *,
    optimize: bool = False,
    solver: SweepSolver = DEFAULT_SWEEP_SOLVER,
    years: tuple[int, ...] = (),
    on_start: Callable[[int, int], None] | None = None,
    on_point: Callable[[dict[str, Any]], None] | None = None,
) -> SweepProgress:
    """Run the points not yet finished in ``out_dir``; stream each to disk as it finishes.

    Parameters
    ----------
    points, axes
        From :func:`expand_grid` and :func:`parse_grid`.
    out_dir
        The results folder (created by the caller).
    results
        A backend: tasks in, records out as they finish (:func:`local_results`
        or :func:`dask_results` with their options bound).
    optimize, solver
        Optimize each point first (min-cost), with this solver and gap.
    on_start
        Called with (points already finished, points to run).
    on_point
        Called with each record after it is written.

    After each point ``points/<id>.json`` is written, and ``sweep.csv`` is
    rewritten from the finished points at most every :data:`CSV_EVERY_S` seconds
    and at the end (also when interrupted), all atomically: an interruption at any
    moment leaves only whole files, and rewriting a large table after every
    point would make the sweep quadratic in its size.
    """
    started = time.perf_counter()
    records = load_finished(out_dir, points)
    resumed = list(records)
    todo = [p for p in points if p.id not in records]
    if on_start:
        on_start(len(resumed), len(todo))
    write_sweep_csv(out_dir, points, axes, records)
    computed: list[str] = []
    tasks = [
        PointTask(
            id=p.id,
            index=p.index,
            params=p.params,
            scenario=p.scenario,
            optimize=optimize,
            solver=solver,
            years=years,
        )
        for p in todo
    ]
    stream = iter(results(tasks)) if tasks else iter(())
    written = time.perf_counter()
    try:
        with contextlib.closing(stream) as it:  # type: ignore[type-var]
            for record in it:
                save_point(out_dir, record)
                records[record["id"]] = record
                computed.append(record["id"])
                if time.perf_counter() - written >= CSV_EVERY_S:
                    write_sweep_csv(out_dir, points, axes, records)
                    written = time.perf_counter()
                if on_point:
                    on_point(record)
    finally:
        if computed:
            write_sweep_csv(out_dir, points, axes, records)
    return SweepProgress(
        records=records,
        resumed=resumed,
        computed=computed,
        seconds=time.perf_counter() - started,
    )


def sweep_summary(
    base: Scenario,
    axes: Sequence[Axis],
    points: Sequence[Point],
    run: SweepProgress | None,
    *,
    optimize: bool,
    backend: str,
    complete: bool,
    solver: SweepSolver = DEFAULT_SWEEP_SOLVER,
    years: tuple[int, ...] = (),
) -> dict[str, Any]:
    """The ``summary.json`` of ``sweep``."""
    import platform

    from tuoyu_sim import __version__

    finished = [p.id for p in points if run is not None and p.id in run.records]
    failed = [
        p.id for p in points if run is not None and (run.records.get(p.id) or {}).get("error")
    ]
    return {
        "command": "sweep",
        "scenario": base.name,
        "scenario_file": str(base.source) if base.source else None,
        "seed": base.simulation.seed,
        "replications": base.simulation.replications,
        "days": base.simulation.days,
        "optimize": optimize,
        "optimize_solver": {"name": solver.name, "gap": solver.gap} if optimize else None,
        "years": list(years) or None,
        "backend": backend,
        "grid": [
            {"key": a.key, "path": a.path, "scale": a.scale, "values": list(a.values)} for a in axes
        ],
        "points": len(points),
        "points_finished": len(finished),
        "points_resumed": len(run.resumed) if run else 0,
        "points_computed": len(run.computed) if run else 0,
        "points_failed": len(failed),
        "complete": complete,
        "run_seconds": round(run.seconds, 3) if run else 0.0,
        "point_ids": [p.id for p in points],
        "versions": {"tuoyu_sim": __version__, "python": platform.python_version()},
    }
