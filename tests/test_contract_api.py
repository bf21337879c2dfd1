"""The Python API is the command line's twin: same folders, documented names, clear errors."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest

import tuoyu_sim as ty
from tuoyu_sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
RUYITUO = ROOT / "scenarios" / "ruyituo.toml"
VOLATILE = {"run_seconds", "solve_seconds", "build_seconds", "versions", "scenario_file"}


def _summary(folder: Path) -> dict[str, Any]:
    data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    for key in VOLATILE:
        data.pop(key, None)
    for it in data.get("iterations", []):
        it.pop("seconds", None)
    return data


def _same_folders(a: Path, b: Path) -> None:
    names_a = sorted(p.name for p in a.iterdir())
    names_b = sorted(p.name for p in b.iterdir())
    assert names_a == names_b
    for name in names_a:
        if name.endswith((".csv", ".toml", ".xlsx")):
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert _summary(a) == _summary(b)


@pytest.mark.slow
def test_simulate_api_and_cli_write_the_same_folder(tmp_path: Path) -> None:
    opts = ["--replications", "2", "--days", "1", "--seed", "7", "--workers", "1"]
    assert main(["simulate", str(RUYITUO), *opts, "--quiet", "--out", str(tmp_path / "cli")]) == 0
    run = ty.simulate(RUYITUO, replications=2, days=1, seed=7, workers=1)
    run.save(tmp_path / "api")
    _same_folders(tmp_path / "cli", tmp_path / "api")
    assert (tmp_path / "api" / "results.xlsx").is_file()


@pytest.mark.slow
def test_optimize_api_and_cli_write_the_same_folder(tmp_path: Path) -> None:
    assert main(["optimize", str(RUYITUO), "--no-figures", "--out", str(tmp_path / "cli")]) == 0
    ty.optimize(str(RUYITUO)).save(tmp_path / "api", figures=False)
    _same_folders(tmp_path / "cli", tmp_path / "api")


@pytest.mark.slow
def test_plan_api_and_cli_write_the_same_folder(tmp_path: Path) -> None:
    opts = ["--workers", "1", "--no-figures", "--quiet"]
    assert main(["plan", str(RUYITUO), *opts, "--out", str(tmp_path / "cli")]) == 0
    result = ty.plan(RUYITUO, workers=1)
    assert result.converged
    result.save(tmp_path / "api", figures=False)
    _same_folders(tmp_path / "cli", tmp_path / "api")


def test_sweep_api_and_cli_write_the_same_folder(tmp_path: Path) -> None:
    axis = "facilities.0.reserved.drop_in=2,6"
    opts = ["--replications", "2", "--days", "1", "--workers", "1"]
    code = main(["sweep", str(RUYITUO), "--set", axis, *opts, "--quiet", "--no-figures",
                 "--out", str(tmp_path / "cli")])  # fmt: skip
    assert code == 0
    result = ty.sweep(RUYITUO, {"facilities.0.reserved.drop_in": [2, 6]}, replications=2,
                      days=1, workers=1)  # fmt: skip
    result.save(tmp_path / "api", figures=False)
    for name in ("sweep.csv", "scenario.toml", "results.xlsx"):
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "api" / name).read_bytes()
    points = sorted(p.name for p in (tmp_path / "cli" / "points").iterdir())
    assert points == sorted(p.name for p in (tmp_path / "api" / "points").iterdir())
    cli, api = _summary(tmp_path / "cli"), _summary(tmp_path / "api")
    assert cli["point_ids"] == api["point_ids"] and cli["complete"] and api["complete"]


def test_tables_are_the_csv_files(tmp_path: Path) -> None:
    import pandas as pd

    run = ty.simulate(RUYITUO, replications=2, days=1, workers=1)
    folder = run.save(tmp_path / "o", figures=False)
    for name in run.table_names:
        frame = run.table(name)
        on_disk = pd.read_csv(folder / f"{name}.csv")
        assert list(frame.columns) == list(on_disk.columns), name
        assert len(frame) == len(on_disk), name
    assert set(run.tables) == set(run.table_names)
    with pytest.raises(KeyError, match="the tables are"):
        run.table("nope")


def test_a_notebook_shows_the_headline() -> None:
    run = ty.simulate(RUYITUO, replications=2, days=1, workers=1)
    page = run._repr_html_()
    assert run.scenario.name in page and "utilization" in page
    assert "utilization" in repr(run)
    figs = run.figures()
    assert "utilization_district" in figs


@pytest.mark.slow
def test_sites_as_a_geodataframe() -> None:
    pytest.importorskip("geopandas")
    opt = ty.optimize(RUYITUO)
    geo = opt.to_geo()
    assert len(geo) == len(opt.sites)
    assert geo.geometry.notna().all()


def test_bad_arguments_are_user_errors() -> None:
    with pytest.raises(ty.UserError, match="a Scenario or the path"):
        ty.simulate(42)  # type: ignore[arg-type]
    with pytest.raises(ty.ScenarioError):
        ty.simulate("no/such/file.toml")
    with pytest.raises(ty.UserError, match="max_iterations = 1"):
        ty.plan(RUYITUO, max_iterations=1)
    with pytest.raises(ty.UserError, match="non-empty list"):
        ty.sweep(RUYITUO, {"facilities.0.reserved.drop_in": []})
    with pytest.raises(ty.UserError, match="applies to objective max-coverage"):
        ty.optimize(RUYITUO, sites=2)
    with pytest.raises(ty.UserError, match="workers and dask"):
        ty.sweep(RUYITUO, ["facilities.0.reserved.drop_in=2"], workers=2, dask="tcp://x:1")


# -- the public names ---------------------------------------------------------------

DOC = ROOT / "docs" / "reference" / "python.md"


def _documented() -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    names = set(re.findall(r"^### `(\w+)", text, re.MULTILINE))
    names |= set(re.findall(r"^\| `(\w+)` \|", text, re.MULTILINE))
    names |= set(re.findall(r"^`(__\w+__)`", text, re.MULTILINE))
    return names


def test_every_public_name_is_documented_and_every_documented_name_is_public() -> None:
    assert set(ty.__all__) == _documented()


def test_every_public_name_loads() -> None:
    for name in ty.__all__:
        assert getattr(ty, name) is not None, name
    with pytest.raises(AttributeError):
        ty.no_such_name  # noqa: B018


def test_no_module_shadows_a_public_function() -> None:
    """Importing every submodule leaves ``tuoyu_sim.simulate`` etc. the API's functions
    (a submodule of the same name would replace the package attribute on import)."""
    for info in pkgutil.walk_packages(ty.__path__, "tuoyu_sim."):
        importlib.import_module(info.name)
    for name in ("simulate", "optimize", "plan", "sweep", "load_scenario"):
        assert callable(getattr(ty, name)), name
        assert not hasattr(getattr(ty, name), "__path__"), name
        assert getattr(ty, name).__module__ != f"tuoyu_sim.{name}", name
