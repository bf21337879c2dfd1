"""``tuoyu-sim sweep``: grid parsing and validation, common random numbers,
resuming after SIGKILL, Ctrl-C, and identical figures on 1 worker, 2 workers and Dask.

Points are tiny (a few replications of a few days of ``scenarios/minimal.toml``)
so the whole file runs in well under a minute on two cores.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuoyu_sim.cli import main
from tuoyu_sim.errors import UserError
from tuoyu_sim.scenario import Scenario, load_scenario, validate_data
from tuoyu_sim.simulation import simulate
from tuoyu_sim.sweeps import (
    Axis,
    SweepSolver,
    dask_client,
    expand_grid,
    parse_grid,
    parse_set,
    sweep_rows,
)

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "scenarios" / "minimal.toml"
TINY = ["--replications", "3", "--days", "3", "--quiet"]
FIGURE_COLUMNS = ("utilization", "turn_away_rate", "turn_away_rate_drop_in", "breach_day_share")


def two_communities() -> Scenario:
    """minimal.toml with a second community (different demand and population)."""
    data = tomllib.loads(MINIMAL.read_text(encoding="utf-8"))
    second = copy.deepcopy(data["communities"][0])
    second.update(id="c2", name="second", population=7001, x_m=300, demand={"drop_in": 0.2})
    data["communities"].append(second)
    return validate_data(data, MINIMAL)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def tmp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


# -- parsing ---------------------------------------------------------------------


def test_values_parse_as_toml_scalars() -> None:
    axis = parse_set('care_types.drop_in.stay.dist="lognormal",fixed, exponential')
    assert axis.values == ("lognormal", "fixed", "exponential")
    assert not axis.scale
    axis = parse_set("care_types.drop_in.redirect=true,false")
    assert axis.values == (True, False)
    axis = parse_set("care_types.drop_in.stay.mean_hours=1.5,2,3")
    assert axis.values == (1.5, 2, 3)
    assert isinstance(axis.values[1], int)
    axis = parse_set('name="a,b","c"')
    assert axis.values == ("a,b", "c")


def test_trailing_star_is_a_scale_but_star_segment_is_not() -> None:
    scale = parse_set("communities.*.demand.drop_in*=0.8,1.0,1.2")
    assert scale.scale and scale.path == "communities.*.demand.drop_in"
    assert scale.key == "communities.*.demand.drop_in*"
    every = parse_set("communities.*=1")
    assert not every.scale and every.path == "communities.*"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("care_types.drop_in.stay.mean_hours", "expected KEY=V1,V2"),
        ("care_types.drop_in.stay.mean_hours=", "no values"),
        ("=1,2", "key path before '=' is empty"),
        ("facilities.0.places.older=[1,2]", "a list is not allowed"),
        ("facilities.0.places.older=1,,2", "an empty value"),
        ("facilities.0.places.older=4,4", "given twice"),
        ("communities.*.demand.drop_in*=high", "takes numbers ≥ 0"),
        ("communities.*.demand.drop_in*=-1", "must be ≥ 0"),
        ("facilities.0.places.older=1.2.3.", "not a TOML scalar"),
    ],
)
def test_bad_set_is_named(text: str, expected: str) -> None:
    with pytest.raises(UserError) as err:
        parse_set(text)
    message = str(err.value)
    assert expected in message
    assert message.startswith("--set ")


scalars = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 6)),
    st.booleans(),
    st.text(st.characters(exclude_categories=("Cc", "Cs"), exclude_characters='"\\'), max_size=8),
)


@given(st.lists(scalars, min_size=1, max_size=6, unique_by=json.dumps))
@settings(max_examples=150, deadline=None)
def test_values_written_as_toml_come_back(values: list[object]) -> None:
    text = ",".join(f'"{v}"' if isinstance(v, str) else str(v).lower() for v in values)
    axis = parse_set(f"care_types.drop_in.stay.mean_hours={text}")
    assert len(axis.values) == len(values)
    for got, want in zip(axis.values, values, strict=True):
        assert type(got) is type(want)
        assert got == want


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3))
@settings(max_examples=20, deadline=None)
def test_grid_size_is_the_product_of_axis_lengths(lengths: list[int]) -> None:
    base = load_scenario(MINIMAL)
    keys = [
        "facilities.0.places.older",
        "care_types.drop_in.stay.mean_hours",
        "staff.absence_probability",
    ]
    sets = [
        f"{k}={','.join(str(v + 1 if i == 0 else (v + 1) / 10) for v in range(n))}"
        for i, (k, n) in enumerate(zip(keys, lengths, strict=False))
    ]
    points = expand_grid(base, parse_grid(sets))
    assert len(points) == int(np.prod(lengths))
    assert len({p.id for p in points}) == len(points)


def test_the_same_key_twice_is_an_error() -> None:
    with pytest.raises(UserError, match="the same key is given twice"):
        parse_grid(["facilities.0.places.older=1", "facilities.0.places.older=2"])


# -- the grid ------------------------------------------------------------------------


def test_grid_is_the_cartesian_product_and_every_point_validates() -> None:
    base = load_scenario(MINIMAL)
    axes = parse_grid(
        [
            "facilities.0.places.older=4,8,12",
            "care_types.drop_in.stay.mean_hours=1.5,2,3",
            "care_types.drop_in.redirect=true,false",
        ]
    )
    points = expand_grid(base, axes)
    assert len(points) == 3 * 3 * 2
    assert [p.index for p in points] == list(range(18))
    for p in points:
        assert isinstance(p.scenario, Scenario)
        assert p.scenario.facilities[0].places["older"] == p.params[axes[0].key]
        assert p.scenario.care_types["drop_in"].stay.mean_hours == p.params[axes[1].key]
        assert p.scenario.care_types["drop_in"].redirect is p.params[axes[2].key]
    assert len({p.id for p in points}) == len(points)
    # ids are stable across runs and do not depend on the grid index
    again = expand_grid(base, [axes[0]])
    more = expand_grid(base, [Axis(axes[0].key, axes[0].path, (2, 4, 8, 12))])
    assert [p.id for p in again] == [p.id for p in more][1:]
    # ... but change with the seed, replications or days
    reseeded = expand_grid(base.with_changes({"simulation.seed": 8}), [axes[0]])
    assert not {p.id for p in again} & {p.id for p in reseeded}


def test_star_scale_multiplies_every_community() -> None:
    base = two_communities()
    axes = parse_grid(["communities.*.demand.drop_in*=0.5,2", "communities.*.population*=0.9"])
    points = expand_grid(base, axes)
    assert len(points) == 2
    for p in points:
        factor = p.params["communities.*.demand.drop_in*"]
        for before, after in zip(base.communities, p.scenario.communities, strict=True):
            assert after.demand["drop_in"] == pytest.approx(before.demand["drop_in"] * factor)
            # a whole number stays a whole number
            assert after.population == round(before.population * 0.9)
            assert isinstance(after.population, int)
    # a plain value with '*' sets every community
    (point,) = expand_grid(base, parse_grid(["communities.*.demand.drop_in=0.05"]))
    assert [c.demand["drop_in"] for c in point.scenario.communities] == [0.05, 0.05]


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        (
            ["care_types.drop_in.stay.mean_hours=2,30"],
            "--set care_types.drop_in.stay.mean_hours=30: care_types.drop_in.stay.mean_hours"
            " = 30: input should be less than or equal to 24",
        ),
        (
            ["care_types.drop_in.stay.mean_hourz=2"],
            "--set care_types.drop_in.stay.mean_hourz=2: care_types.drop_in.stay.mean_hourz = 2:"
            " unknown key",
        ),
        (
            ["facilities.3.places.older=1"],
            "--set facilities.3.places.older: index 3 is out of range",
        ),
        (
            ["communities.*.demand.hourly*=1.2"],
            "--set communities.*.demand.hourly*: no value at communities.*.demand.hourly",
        ),
        (
            ["facilities.0.places.older=x"],
            '--set facilities.0.places.older="x": facilities[0].places.older = "x": input should'
            " be a valid integer",
        ),
        (
            ["communities.*.name*=2"],
            '--set communities.*.name*=2: communities.0.name = "白衣堂社区" is not a number',
        ),
        (
            ["facilities.0.places.older=2,20", "facilities.0.reserved.drop_in=1,10"],
            "--set facilities.0.places.older=2, facilities.0.reserved.drop_in=10 "
            "(this combination): facilities[0].reserved.drop_in = 10: "
            "a whole number from 0 to the 2 places",
        ),
    ],
)
def test_bad_grid_names_key_value_and_allowed_and_writes_nothing(
    sets: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["sweep", str(MINIMAL), *[a for s in sets for a in ("--set", s)], "--out", str(out)]
    assert main([*argv, *TINY]) == 1
    err = capsys.readouterr().err
    assert expected in err, err
    assert "Traceback" not in err
    assert not out.exists()


def test_workers_and_dask_exclude_each_other(tmp_path: Path) -> None:
    argv = ["sweep", str(MINIMAL), "--set", "facilities.0.places.older=4", "--workers", "2"]
    assert main([*argv, "--dask", "tcp://127.0.0.1:1", "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


def test_unreachable_scheduler_is_a_user_error() -> None:
    pytest.importorskip("distributed")
    with pytest.raises(UserError, match="cannot reach the Dask scheduler"):
        dask_client("tcp://127.0.0.1:1", timeout_s=0.5)


# -- common random numbers -----------------------------------------------------------


def test_points_share_luck_arrivals_identical_in_every_replication() -> None:
    base = load_scenario(MINIMAL).with_changes({"simulation.replications": 4, "simulation.days": 5})
    small, large = expand_grid(base, parse_grid(["facilities.0.places.older=3,12"]))
    a, b = simulate(small.scenario), simulate(large.scenario)
    walk = list(a.model.walk_in_types)
    for k, (ra, rb) in enumerate(zip(a.replications, b.replications, strict=True)):
        assert ra.replication == rb.replication == k
        np.testing.assert_array_equal(ra.counts[:, walk, 0], rb.counts[:, walk, 0])
        np.testing.assert_array_equal(ra.daily[..., 0], rb.daily[..., 0])
    # same arrivals, different places: fewer turned away with more places
    turned = [sum(int(r.counts[:, walk, 3].sum()) for r in res.replications) for res in (a, b)]
    assert turned[0] > turned[1]


# -- running, resuming, interrupting ---------------------------------------------------


@pytest.mark.slow
def test_sweep_writes_csv_summary_and_figure(tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = [
        "sweep",
        str(MINIMAL),
        "--set",
        "facilities.0.places.older=4,8",
        "--set",
        "communities.*.demand.drop_in*=0.8,1.2",
        "--out",
        str(out),
        "--workers",
        "1",
    ]
    assert main([*argv, *TINY]) == 0
    rows = read_csv(out / "sweep.csv")
    assert len(rows) == 4
    for col in (
        "point",
        "facilities.0.places.older",
        "communities.*.demand.drop_in*",
        "utilization_lo",
        "turn_away_rate_hi",
        "turn_away_rate_drop_in",
        "breach_day_share",
        "waitlist",
        "enrolled",
        "places",
        "places_per_1000",
    ):
        assert col in rows[0]
    assert [r["facilities.0.places.older"] for r in rows] == ["4", "4", "8", "8"]
    assert [int(r["places"]) for r in rows] == [4, 4, 8, 8]
    for r in rows:
        assert float(r["utilization_lo"]) <= float(r["utilization"]) <= float(r["utilization_hi"])
        assert (out / "points" / f"{r['point']}.json").is_file()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["command"] == "sweep"
    assert summary["scenario"] == "One drop-in room"
    assert summary["seed"] == 7
    assert summary["points"] == summary["points_finished"] == summary["points_computed"] == 4
    assert summary["complete"] is True
    assert [g["key"] for g in summary["grid"]] == [
        "facilities.0.places.older",
        "communities.*.demand.drop_in*",
    ]
    assert (out / "response_curves.png").stat().st_size > 1000
    assert not tmp_files(out)
    # more demand, more turn-away (same luck, so even 3x3 days show it)
    by = {(r["facilities.0.places.older"], r["communities.*.demand.drop_in*"]): r for r in rows}
    assert float(by[("4", "1.2")]["turn_away_rate"]) >= float(by[("4", "0.8")]["turn_away_rate"])

    # a further value on an axis: only the new points run
    argv[3] = "facilities.0.places.older=4,8,12"
    assert main([*argv, *TINY]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["points_resumed"], summary["points_computed"]) == (4, 2)
    assert len(read_csv(out / "sweep.csv")) == 6


def _sweep_cmd(out: Path, workers: int, console_script: bool = False) -> list[str]:
    head = (
        [str(Path(sys.executable).parent / "tuoyu-sim")]
        if console_script
        else [sys.executable, "-m", "tuoyu_sim"]
    )
    return [
        *head,
        "sweep",
        str(MINIMAL),
        "--set",
        "facilities.0.places.older=2,4,6,8,10,12",
        "--replications",
        "10",
        "--days",
        "80",
        "--workers",
        str(workers),
        "--out",
        str(out),
        "--quiet",
    ]


def _start(cmd: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: kill it and its workers at once
        # an interactive Ctrl-C: SIGINT handled even if this test runs with it ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for_points(proc: subprocess.Popen[str], out: Path, n: int = 1) -> list[Path]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = sorted((out / "points").glob("*.json")) if (out / "points").is_dir() else []
        if len(found) >= n:
            return found
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("no point finished within 60 s")


@pytest.mark.slow
def test_sigkill_then_resume_recomputes_no_finished_point(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _start(_sweep_cmd(out, workers=1))
    _wait_for_points(proc, out)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    # a kill in the middle of an atomic write may leave its temporary file (never the
    # result file half-written); the next run removes it
    finished = {p.name: p.stat().st_mtime_ns for p in (out / "points").glob("*.json")}
    assert 1 <= len(finished) < 6, "the sweep finished before it could be killed"
    rows = read_csv(out / "sweep.csv")  # whole, parseable, the points finished so far
    assert len(rows) <= len(finished)

    argv = _sweep_cmd(out, workers=2)[3:]
    assert main(argv) == 0
    for name, mtime in finished.items():
        assert (out / "points" / name).stat().st_mtime_ns == mtime, f"{name} was recomputed"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["points_resumed"] == len(finished)
    assert summary["points_computed"] == 6 - len(finished)
    rows = read_csv(out / "sweep.csv")
    assert [r["facilities.0.places.older"] for r in rows] == ["2", "4", "6", "8", "10", "12"]
    for r in rows:
        assert all(r[c] != "" for c in FIGURE_COLUMNS)
        assert r["error"] == ""
    assert len(list((out / "points").glob("*.json"))) == 6
    assert not tmp_files(out)


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_with_130(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _start(_sweep_cmd(out, workers=2, console_script=True))
    _wait_for_points(proc, out)
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:  # pragma: no cover - only if the test fails
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "run the same command again to resume" in err
    assert "Traceback" not in err
    assert not tmp_files(out)
    kept = list((out / "points").glob("*.json"))
    assert kept
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["complete"] is False
    assert summary["points_finished"] == len(kept) < summary["points"] == 6
    for p in kept:
        assert json.loads(p.read_text(encoding="utf-8"))["headline"]


# -- the same figures wherever points run ----------------------------------------------


def test_one_worker_two_workers_and_dask_give_identical_csv(tmp_path: Path) -> None:
    args = [
        "sweep",
        str(MINIMAL),
        "--set",
        "facilities.0.places.older=4,8,12",
        "--set",
        "care_types.drop_in.stay.mean_hours=1.5,2.5",
        "--no-figures",
        *TINY,
    ]
    assert main([*args, "--workers", "1", "--out", str(tmp_path / "w1")]) == 0
    assert main([*args, "--workers", "2", "--out", str(tmp_path / "w2")]) == 0
    one = (tmp_path / "w1" / "sweep.csv").read_text(encoding="utf-8")
    assert one == (tmp_path / "w2" / "sweep.csv").read_text(encoding="utf-8")
    assert len(read_csv(tmp_path / "w1" / "sweep.csv")) == 6

    pytest.importorskip("distributed")
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        assert main([*args, "--dask", address, "--out", str(tmp_path / "dask")]) == 0
    assert one == (tmp_path / "dask" / "sweep.csv").read_text(encoding="utf-8")
    summary = json.loads((tmp_path / "dask" / "summary.json").read_text(encoding="utf-8"))
    assert summary["backend"] == f"dask {address}"


# -- --optimize and the figure -----------------------------------------------------------


def test_optimize_then_simulate_the_planned_scenario(tmp_path: Path) -> None:
    out = tmp_path / "opt"
    argv = ["sweep", str(MINIMAL), "--set", "targets.places_per_1000=4.5,9", "--optimize"]
    assert main([*argv, "--workers", "1", "--no-figures", "--out", str(out), *TINY]) == 0
    rows = read_csv(out / "sweep.csv")
    assert [r["plan_status"] for r in rows] == ["optimal", "optimal"]
    # the planned scenario meets the per-1000 target, and it is what was simulated
    for r in rows:
        assert float(r["places_per_1000"]) >= float(r["targets.places_per_1000"]) - 1e-9
    assert int(rows[1]["places"]) > int(rows[0]["places"])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["optimize_solver"] == {"name": "highs", "gap": 0.001}


def test_optimize_passes_the_solver_and_gap_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sweep --optimize --solver/--gap reach the solver; a point's id depends on them."""
    import tuoyu_sim.allocate as allocate

    seen = []
    real = allocate.optimize

    def spy(scenario, opts, spec):  # type: ignore[no-untyped-def]
        seen.append((spec.name, spec.gap))
        return real(scenario, opts, spec)

    monkeypatch.setattr(allocate, "optimize", spy)  # one worker: in this process
    out = tmp_path / "cbc"
    argv = ["sweep", str(MINIMAL), "--set", "targets.places_per_1000=4.5", "--optimize"]
    argv += ["--solver", "cbc", "--gap", "0", "--workers", "1", "--no-figures", "--out", str(out)]
    assert main([*argv, *TINY]) == 0
    assert seen == [("cbc", 0.0)]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["optimize_solver"] == {"name": "cbc", "gap": 0.0}
    base = load_scenario(MINIMAL)
    axes = parse_grid(["targets.places_per_1000=4.5"])
    (default,) = expand_grid(base, axes, optimize=True)
    (same,) = expand_grid(base, axes, optimize=True, solver=SweepSolver())
    (cbc,) = expand_grid(base, axes, optimize=True, solver=SweepSolver("cbc", 0.0))
    assert default.id == same.id != cbc.id


def test_response_curves_draw_one_panel_per_figure_and_parameter() -> None:
    from matplotlib.figure import Figure

    from tuoyu_sim.plots.sweep import response_curves

    base = load_scenario(MINIMAL).with_changes({"simulation.replications": 2})
    axes = parse_grid(["facilities.0.places.older=4,8", 'care_types.drop_in.stay.dist="fixed"'])
    points = expand_grid(base, axes)
    records = {
        p.id: {
            "headline": {
                "turn_away_rate": 0.1 * p.index,
                "turn_away_rate_lo": 0.0,
                "turn_away_rate_hi": 0.2,
                "utilization": 0.5,
                "utilization_lo": None,
                "utilization_hi": None,
            }
        }
        for p in points
    }
    rows, columns = sweep_rows(points, axes, records)
    assert columns[:4] == ["point", "index", axes[0].key, axes[1].key]
    fig = response_curves(rows, [a.key for a in axes], lang="en")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2 * 2
    assert fig.axes[0].get_xlabel() == axes[0].key
    empty = response_curves([], [a.key for a in axes], lang="en")
    assert isinstance(empty, Figure)


def test_tiny_point_records_are_plain_json(tmp_path: Path) -> None:
    from tuoyu_sim.sweeps import PointTask, run_point

    base = load_scenario(MINIMAL).with_changes({"simulation.replications": 2, "simulation.days": 2})
    (point,) = expand_grid(base, parse_grid(["facilities.0.places.older=4"]))
    record = run_point(PointTask(point.id, point.index, point.params, point.scenario))
    text = json.dumps(record, allow_nan=False)
    again = json.loads(text)
    assert again["id"] == point.id and again["error"] is None
    assert set(again["headline"]) >= {"utilization", "turn_away_rate", "places"}
    assert isinstance(record["summary"]["district"]["utilization"]["mean"], float)
