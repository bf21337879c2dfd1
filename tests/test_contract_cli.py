"""The command line: console script, ``python -m``, usage errors, and what simulate writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MINIMAL
from tuoyu_sim import __version__
from tuoyu_sim.cli import main

SMALL = ["--replications", "3", "--days", "2", "--workers", "1"]


def _console_script() -> list[str]:
    found = shutil.which("tuoyu-sim") or str(Path(sys.executable).parent / "tuoyu-sim")
    assert Path(found).exists(), "the tuoyu-sim console script is not installed"
    return [found]


LAUNCHERS = {
    "console-script": _console_script,
    "python-m": lambda: [sys.executable, "-m", "tuoyu_sim"],
}


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MPLBACKEND="Agg", COLUMNS="200")
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_validate_ok(launcher: str, tmp_path: Path) -> None:
    proc = _run([*LAUNCHERS[launcher](), "validate", str(MINIMAL)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout
    assert "One drop-in room" in proc.stdout
    assert proc.stderr == ""


@pytest.mark.slow
@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_simulate_writes_results(launcher: str, tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = _run(
        [
            *LAUNCHERS[launcher](),
            "simulate",
            str(MINIMAL),
            *SMALL,
            "--out",
            str(out),
            "--quiet",
            "--no-figures",
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["replications"] == 3
    assert summary["days"] == 2
    assert list(out.glob("*.csv"))  # PNGs are checked in-process below


USAGE_ERRORS = [
    [],  # no command
    ["simulate"],  # missing scenario
    ["frobnicate", str(MINIMAL)],  # unknown command
    ["simulate", str(MINIMAL), "--replications", "zero"],
    ["simulate", str(MINIMAL), "--days", "0"],
    ["simulate", str(MINIMAL), "--seed", "-3"],
    ["simulate", str(MINIMAL), "--bogus-option"],
    ["validate"],
]


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_usage_errors_exit_2(launcher: str, tmp_path: Path) -> None:
    base = LAUNCHERS[launcher]()
    for argv in (USAGE_ERRORS[0], USAGE_ERRORS[1], USAGE_ERRORS[4]):
        proc = _run([*base, *argv], tmp_path)
        assert proc.returncode == 2, (argv, proc.stderr)
        assert "usage:" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("argv", USAGE_ERRORS, ids=lambda a: " ".join(a[:1] + a[2:]) or "none")
def test_main_usage_errors_exit_2(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_version(launcher: str, tmp_path: Path) -> None:
    proc = _run([*LAUNCHERS[launcher](), "--version"], tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"tuoyu-sim {__version__}"


def test_main_usage_error_names_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["simulate", str(MINIMAL), "--replications", "-1"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--replications" in err


def test_main_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"tuoyu-sim {__version__}"


def _is_ci(value: object) -> bool:
    """A ``{"mean": number, "ci95": [lo, hi]}`` figure with lo <= mean <= hi."""
    assert isinstance(value, dict), value
    mean, interval = value["mean"], value["ci95"]
    assert isinstance(mean, int | float)
    assert isinstance(interval, list) and len(interval) == 2
    lo, hi = interval
    return bool(lo <= mean + 1e-12 and mean <= hi + 1e-12)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "out"
    code = main(["simulate", str(MINIMAL), *SMALL, "--out", str(out), "--quiet"])
    assert code == 0
    return out


@pytest.mark.slow
def test_summary_contract(simulated: Path) -> None:
    """summary.json holds the spec's contract keys, consistent with the scenario."""
    s = json.loads((simulated / "summary.json").read_text(encoding="utf-8"))
    assert s["scenario"] == "One drop-in room"
    assert s["seed"] == 7
    assert s["replications"] == 3
    assert s["days"] == 2
    d = s["district"]
    assert d["population"] == 10_000
    assert d["children_under3"] == pytest.approx(300.0)
    assert d["places"] == 8
    assert d["places_per_1000"] == pytest.approx(0.8)
    assert _is_ci(d["utilization"])
    drop = s["care_types"]["drop_in"]
    for key in ("arrivals", "admitted", "redirected", "turned_away"):
        assert isinstance(drop[key], int) and drop[key] >= 0
    assert drop["arrivals"] == drop["admitted"] + drop["redirected"] + drop["turned_away"]
    assert drop["arrivals"] > 0
    assert drop["redirected"] == 0  # redirect = false in minimal.toml
    assert _is_ci(drop["turn_away_rate"])
    assert len(s["facilities"]) == 1
    f = s["facilities"][0]
    assert f["id"] == "f1"
    assert f["places"] == 8
    assert f["enrolled"] == 0  # full_day demand is 0.0
    assert f["waitlist"] == 0
    for key in ("utilization", "mean_occupancy", "turn_away_rate", "breach_day_share"):
        assert _is_ci(f[key]), key
    assert 0.0 <= f["utilization"]["mean"] <= 1.0
    assert f["utilization"]["mean"] == pytest.approx(f["mean_occupancy"]["mean"] / 8)
    assert f["breach_day_share"]["mean"] == pytest.approx(0.0, abs=1e-12)  # walk-ins only


def test_simulate_writes_tables_figures_and_no_partial_files(simulated: Path) -> None:
    names = {p.name for p in simulated.iterdir()}
    for csv_name in ("facilities.csv", "care_types.csv", "daily.csv", "curves.csv"):
        assert csv_name in names
        header = (simulated / csv_name).read_text(encoding="utf-8").splitlines()[0]
        assert "," in header
    pngs = sorted(simulated.glob("*.png"))
    assert pngs
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [n for n in names if n.endswith(".tmp") or n.startswith(".")], names
    # the scenario actually simulated is saved, and validates again
    assert "scenario.toml" in names
    assert main(["validate", str(simulated / "scenario.toml")]) == 0


def test_simulate_summary_printed_unless_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o"
    assert main(["simulate", str(MINIMAL), *SMALL, "--out", str(out), "--no-figures"]) == 0
    captured = capsys.readouterr()
    assert "One drop-in room" in captured.out
    assert not list(out.glob("*.png"))
    assert (out / "summary.json").exists()


def test_facility_table_shows_every_interval_whole_at_80_columns(
    simulated: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log file or a narrow terminal (rich's 80 columns) folds a long facility
    name onto a second line; no confidence interval is cut to an ellipsis."""
    from rich.cells import cell_len

    from tuoyu_sim.cli import fmt_ci, print_simulation_summary

    monkeypatch.setenv("COLUMNS", "80")
    s = json.loads((simulated / "summary.json").read_text(encoding="utf-8"))
    f = s["facilities"][0]
    f["name"] = "龙桥街道社区托育服务中心"
    f["utilization"] = {"mean": 0.679, "ci95": [0.667, 0.691]}
    f["turn_away_rate"] = {"mean": 0.273, "ci95": [0.228, 0.317]}
    f["breach_day_share"] = {"mean": 0.12, "ci95": [0.046, 0.194]}
    print_simulation_summary(s, simulated, max_turn_away=0.05)
    out = capsys.readouterr().out
    assert "…" not in out
    assert max(cell_len(line) for line in out.splitlines() if "│" in line) <= 80
    for key in ("utilization", "turn_away_rate", "breach_day_share"):
        assert fmt_ci(f[key]).split(" ")[1] in out, key


def test_help_lists_every_command_and_every_command_module_imports() -> None:
    """The commands are an explicit table of modules (no import is skipped silently):
    a module that fails to import fails ``import tuoyu_sim.cli`` itself."""
    import importlib

    from tuoyu_sim.cli import COMMANDS

    run = subprocess.run(
        [sys.executable, "-m", "tuoyu_sim", "--help"], capture_output=True, text=True, check=True
    )
    for name, module in COMMANDS.items():
        assert f"    {name} " in run.stdout, name
        assert importlib.import_module(module.__name__) is module
        assert callable(module.run) and callable(module.add_arguments) and module.HELP
    assert set(COMMANDS) == {
        "validate", "simulate", "optimize", "plan", "sweep", "access", "report",
    }  # fmt: skip


def test_the_cli_computes_nothing() -> None:
    """The command modules parse and print: no records, no figures, no file writing."""
    root = Path(__file__).resolve().parent.parent / "src" / "tuoyu_sim" / "cli"
    for path in root.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in ("write_csv", "write_json", "save_figure", "summarize(", "prepare_out_dir"):
            assert word not in text, f"{path.name}: {word}"
