"""The same scenario and seed give identical figures whatever the number of workers."""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import MINIMAL, build, walk_in_dict
from tuoyu_sim.cli import main
from tuoyu_sim.simulation import simulate


def _summary(out: Path) -> dict[str, Any]:
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    data.pop("run_seconds", None)
    return data


def test_one_and_two_workers_same_summary(tmp_path: Path) -> None:
    """CLI --workers 1 and --workers 2: summary.json equal except run_seconds."""
    common = [
        "simulate",
        str(MINIMAL),
        "--replications",
        "4",
        "--days",
        "3",
        "--quiet",
        "--no-figures",
    ]
    one, two = tmp_path / "w1", tmp_path / "w2"
    assert main([*common, "--workers", "1", "--out", str(one)]) == 0
    assert main([*common, "--workers", "2", "--out", str(two)]) == 0
    a, b = _summary(one), _summary(two)
    assert a == b
    assert a["care_types"]["drop_in"]["arrivals"] > 0
    # the tables agree too
    for name in ("facilities.csv", "care_types.csv", "daily.csv", "curves.csv"):
        assert (one / name).read_text(encoding="utf-8") == (two / name).read_text(encoding="utf-8")


def test_workers_give_identical_replication_arrays() -> None:
    """simulate(workers=1) and simulate(workers=2): every per-replication array equal."""
    data = walk_in_dict(
        places={"infant": 3, "older": 6},
        arrivals_per_day={"infant": 10.0, "older": 30.0},
        caregivers=2,
        days=3,
        replications=5,
        seed=9,
    )
    sc = build(data)
    r1 = simulate(sc, workers=1)
    r2 = simulate(sc, workers=2)
    assert [r.replication for r in r2.replications] == list(range(5))
    for a, b in zip(r1.replications, r2.replications, strict=True):
        np.testing.assert_array_equal(a.counts, b.counts)
        np.testing.assert_array_equal(a.occupancy_min, b.occupancy_min)
        np.testing.assert_array_equal(a.breach_min, b.breach_min)
        np.testing.assert_array_equal(a.curve, b.curve)


_THREADS_AT_FORK: list[list[str]] | None = None


def _record_threads_at_fork() -> None:
    if _THREADS_AT_FORK is not None:
        _THREADS_AT_FORK.append([t.name for t in threading.enumerate()])


os.register_at_fork(before=_record_threads_at_fork)


def test_workers_are_forked_with_no_thread_of_ours_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The progress bar shown on a terminal runs no thread while workers are
    forked: forking a process with other threads running can deadlock the child
    (Python 3.12 warns about it)."""
    global _THREADS_AT_FORK
    from rich.console import Console

    import tuoyu_sim.progress
    from tuoyu_sim.api import simulate

    monkeypatch.setattr(
        tuoyu_sim.progress,
        "console",
        lambda stderr=False: Console(file=io.StringIO(), force_terminal=True),
    )
    before = {t.name for t in threading.enumerate()}
    sc = build(
        walk_in_dict(places={"older": 4}, arrivals_per_day={"older": 20.0}, days=1, replications=4)
    )
    _THREADS_AT_FORK = []
    try:
        result = simulate(sc, workers=2, progress=True).result
        seen = _THREADS_AT_FORK
    finally:
        _THREADS_AT_FORK = None
    assert len(result.replications) == 4
    assert seen, "no worker process was forked"
    for names in seen:
        assert set(names) <= before, set(names) - before
