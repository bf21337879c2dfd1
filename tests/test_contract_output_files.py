"""Writing results: atomic files, readable modes, clean cells, stale temporaries."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from tuoyu_sim.output import atomic_write_text, prepare_out_dir, write_csv


def test_a_killed_runs_temporaries_are_removed_and_results_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "sweep.csv").write_text("a\n1\n", encoding="utf-8")
    (out / ".sweep.csv.abc123.tmp").write_text("a\n1\n2", encoding="utf-8")
    (out / "points").mkdir()
    (out / "points" / ".p1.json.xyz.tmp").write_text("{", encoding="utf-8")
    prepare_out_dir(out)
    assert sorted(p.name for p in out.rglob("*")) == ["points", "sweep.csv"]


def test_results_are_readable_by_others(tmp_path: Path) -> None:
    path = atomic_write_text(tmp_path / "report.html", "<p>ok</p>")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert not list(tmp_path.glob(".*.tmp"))


def test_numpy_scalars_are_written_as_numbers(tmp_path: Path) -> None:
    rows = [{"a": np.float64(3060.0), "b": np.int64(7), "c": float("nan")}]
    write_csv(tmp_path / "t.csv", rows)
    with (tmp_path / "t.csv").open(encoding="utf-8") as fh:
        row = next(csv.DictReader(fh))
    assert float(row["a"]) == 3060.0
    assert row["b"] == "7"
    assert row["c"] == ""


def test_a_matrix_scenario_written_to_a_results_folder_loads_from_there(tmp_path: Path) -> None:
    """scenario.toml / scenario.planned.toml of a matrix scenario carry their matrix
    with them (the original file lies in the scenario's folder, not the results')."""
    from tuoyu_sim.cli import main
    from tuoyu_sim.scenario import load_scenario

    src = Path(__file__).resolve().parents[1] / "scenarios" / "examples" / "matrix.toml"
    original = load_scenario(src)
    sim, opt = tmp_path / "sim", tmp_path / "opt"
    args = ["--replications", "2", "--days", "1", "--workers", "1", "--quiet", "--no-figures"]
    assert main(["simulate", str(src), *args, "--out", str(sim)]) == 0
    assert main(["optimize", str(src), "--no-figures", "--out", str(opt)]) == 0
    for path in (sim / "scenario.toml", opt / "scenario.planned.toml"):
        again = load_scenario(path)
        assert again.geography.matrix_csv == "distances.csv"
        assert again.matrix() == original.matrix()
