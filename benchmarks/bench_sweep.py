"""Sweep speed: 1 local worker against 2, and Dask against the local pool.

Prints figures; asserts nothing about time (benchmarks are not tests). Run it
on an otherwise idle machine: "cores busy on average" (the points' CPU seconds
over the sweep's wall time) shows how much of the machine the sweep got; a
2-worker run that gets far less than 2 cores was competing with other work.

The sweep is the ruyituo.toml question — drop-in places reserved at the 儒易托
station, 8 values — with replications and days chosen so one point takes about
2–4 s in one process (20 × 90: about 2.8 s on the 2-core VM of docs/guides/sweeps.md). Each
configuration runs the same 8 points into a fresh folder (nothing is resumed)
and the ``sweep.csv`` files are compared: they must be identical. The local
runs come first, interleaved; then a Dask cluster is started and the local
2-worker pool is run again beside it, so the Dask overhead is also given
against a pool sharing the machine with the (in-process) scheduler.

Run::

    .venv/bin/python benchmarks/bench_sweep.py
    .venv/bin/python benchmarks/bench_sweep.py --repeat 2
    .venv/bin/python benchmarks/bench_sweep.py --replications 10 --days 40
    .venv/bin/python benchmarks/bench_sweep.py --no-dask

The Dask figure uses ``distributed.LocalCluster(n_workers=2, threads_per_worker=1,
processes=True)`` started before the clock starts; its time includes shipping
each point's scenario to a worker (the first run also the workers' import of tuoyu_sim).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from tuoyu_sim.scenario import load_scenario
from tuoyu_sim.sweeps import (
    PointTask,
    dask_results,
    expand_grid,
    local_results,
    parse_grid,
    run_sweep,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = "facilities.0.reserved.drop_in=2,4,6,8,10,12,14,16"

Backend = Callable[[Sequence[PointTask]], Iterable[dict[str, Any]]]


def timed_sweep(
    points: Any, axes: Any, backend: Backend, folder: Path
) -> tuple[float, str, float, float]:
    """Wall seconds of one sweep into ``folder``, its sweep.csv, mean point wall and CPU s."""
    t0 = time.perf_counter()
    run = run_sweep(points, axes, folder, backend)
    wall = time.perf_counter() - t0
    assert len(run.computed) == len(points), "a fresh folder must compute every point"
    per_point = statistics.fmean(r["seconds"] for r in run.records.values())
    cpu = statistics.fmean(r["cpu_seconds"] for r in run.records.values())
    return wall, (folder / "sweep.csv").read_text(encoding="utf-8"), per_point, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "ruyituo.toml"))
    ap.add_argument("--set", dest="sets", action="append", help=f"default: {DEFAULT_SET}")
    ap.add_argument("--replications", type=int, default=20)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each configuration (min)")
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()

    base = load_scenario(args.scenario).with_changes(
        {"simulation.replications": args.replications, "simulation.days": args.days}
    )
    axes = parse_grid(args.sets or [DEFAULT_SET])
    points = expand_grid(base, axes)
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}")
    print(
        f"sweep: {args.scenario} {' '.join('--set ' + a.key for a in axes)}: {len(points)} points"
        f" × {args.replications} replications × {args.days} days"
    )
    print(f"load average before: {os.getloadavg()[0]:.2f}")

    results: dict[str, list[float]] = {}
    csvs: dict[str, str] = {}

    def measure(name: str, backend: Backend) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            wall, text, per_point, cpu = timed_sweep(points, axes, backend, Path(tmp))
        results.setdefault(name, []).append(wall)
        csvs[name] = text
        # cores the sweep actually got: points' CPU seconds over the sweep's wall time
        cores = cpu * len(points) / wall
        print(
            f"  {name:<30} {wall:7.2f} s   (mean point {per_point:.2f} s wall, "
            f"{cpu:.2f} s CPU; {cores:.2f} cores busy)",
            flush=True,
        )

    # Local configurations interleaved, so a burst of other work hits them alike; the
    # Dask cluster only afterwards (its scheduler runs in this process and would slow
    # the 1-worker run, which also runs here). Each figure is the fastest of --repeat.
    for _ in range(args.repeat):
        measure("local, 1 worker", lambda tasks: local_results(tasks, 1))
        measure("local, 2 workers", lambda tasks: local_results(tasks, 2))
    if not args.no_dask:  # with the scheduler up, the pool again beside Dask: a paired figure
        from distributed import Client, LocalCluster

        t0 = time.perf_counter()
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster.scheduler_address, set_as_default=False) as client,
        ):
            print(f"  (Dask LocalCluster started in {time.perf_counter() - t0:.2f} s, not counted)")
            for _ in range(args.repeat):
                measure("local, 2 workers (Dask up)", lambda tasks: local_results(tasks, 2))
                measure("dask LocalCluster, 2 procs", lambda tasks: dask_results(tasks, client))

    one = min(results["local, 1 worker"])
    two = min(results["local, 2 workers"])
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print()
    print(f"speed-up, 2 workers over 1: {one / two:.2f}× ({one:.2f} s → {two:.2f} s)")
    if "dask LocalCluster, 2 procs" in results:
        dask = min(results["dask LocalCluster, 2 procs"])
        paired = min(results["local, 2 workers (Dask up)"])
        for label, ref in (("the local 2-worker pool", two), ("the pool run beside it", paired)):
            print(
                f"Dask overhead against {label}: {dask - ref:+.2f} s "
                f"({100 * (dask - ref) / ref:+.1f}%), {(dask - ref) / len(points):+.3f} s per point"
            )
    same = len(set(csvs.values())) == 1
    print(f"sweep.csv identical across configurations: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
