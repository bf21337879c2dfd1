"""Where the points of a sweep run: a local process pool or a Dask cluster.

A backend takes tasks and yields records as they finish; nothing in a record
depends on where it ran, so both give the same figures.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from tuoyu_sim.errors import UserError
from tuoyu_sim.sweeps.point import PointTask, run_point


def _ignore_sigint() -> None:  # pragma: no cover - runs in worker processes
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def local_results(tasks: Sequence[PointTask], workers: int) -> Iterator[dict[str, Any]]:
    """Run points on a local process pool; yield records as they finish.

    ``workers == 1`` runs in this process. Closing the iterator early (or an
    interrupt while it waits) cancels pending points and stops the workers.
    """
    if workers <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield run_point(t)
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(tasks)), mp_context=ctx, initializer=_ignore_sigint
    )
    finished = False
    try:
        pending: set[Future[dict[str, Any]]] = {pool.submit(run_point, t) for t in tasks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield f.result()
        finished = True
    finally:
        if not finished:
            _stop_pool(pool)
        pool.shutdown(wait=finished, cancel_futures=True)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel queued points and end the worker processes running the others."""
    # The executor has no public way to stop running calls; its workers are ours.
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.terminate()
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.join(timeout=5)


def dask_client(address: str, timeout_s: float = 10.0) -> Any:
    """A client of the Dask scheduler at ``address`` that has at least one worker.

    Raises
    ------
    UserError
        dask.distributed is not installed, the scheduler cannot be reached, or
        it has no workers.
    """
    try:
        from distributed import Client
    except ImportError:
        raise UserError(
            f"--dask {address}: dask.distributed is not installed; "
            "install it with: pip install 'tuoyu-sim[dask]'"
        ) from None
    try:
        client = Client(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UserError(
            f"--dask {address}: cannot reach the Dask scheduler ({exc}); start one with "
            "`dask scheduler` and give its address, e.g. tcp://10.0.0.5:8786"
        ) from None
    try:
        client.wait_for_workers(1, timeout=timeout_s)
    except (TimeoutError, OSError):
        client.close()
        raise UserError(
            f"--dask {address}: the scheduler has no workers after {timeout_s:g} s; "
            f"start some with `dask worker {address}`"
        ) from None
    return client


def dask_results(tasks: Sequence[PointTask], client: Any) -> Iterator[dict[str, Any]]:
    """Run points on a Dask cluster; yield records as they finish.

    Each point is one task running :func:`run_point` (single-threaded inside).
    Closing the iterator early, or an interrupt, cancels the points not finished.
    """
    from distributed import as_completed

    futures = [
        client.submit(run_point, t, key=f"tuoyu-sweep-point-{t.id}", pure=False) for t in tasks
    ]
    finished = False
    try:
        for fut in as_completed(futures, loop=client.loop):
            yield fut.result()
        finished = True
    finally:
        if not finished:
            with contextlib.suppress(Exception):
                client.cancel(futures, force=True)
