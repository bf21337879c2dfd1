"""Malformed scenarios are rejected cleanly by the command line.

Each file in ``tests/bad_scenarios/`` holds one mistake (most are
``scenarios/minimal.toml`` with one value broken). Both ``validate`` and
``simulate --out DIR`` must exit non-zero with a message on stderr that names
the file, the key path and the value; no traceback; and ``simulate`` must not
write anything, not even create the results folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import BAD_SCENARIOS, MINIMAL
from tuoyu_sim.cli import main

# file -> (substrings every message must contain: key path and value, expected lines)
EXPECTED: dict[str, tuple[tuple[str, ...], int]] = {
    "places_wrong_type.toml": (("facilities[0].places.older", '"eight"', "integer"), 1),
    "places_negative.toml": (("facilities[0].places.older", "-3", "greater than or equal to 0"), 1),
    "unknown_key.toml": (("simulation.replicatoins", "unknown key"), 1),
    "age_mix_not_one.toml": (("communities[0].age_mix", "0.7", "add up to 1"), 1),
    "close_before_open.toml": (("simulation.close", "07:00", "after open"), 1),
    "undefined_age_class.toml": (("facilities[0].places.babies", "babies", "older"), 1),
    "nan_coordinate.toml": (("facilities[0].x_m", "NaN", "finite"), 1),
    "duplicate_facility_id.toml": (("facilities[1].id", '"f1"', "unique"), 1),
    "negative_population.toml": (("communities[0].population", "-10000"), 1),
    "days_wrong_type.toml": (("simulation.days", '"fifty"'), 1),
    "bad_clock.toml": (("simulation.open", '"25:30"'), 1),
    "stay_missing_mean.toml": (("care_types.drop_in.stay", "mean_hours"), 1),
    # the undefined type also leaves the community's demand for full_day undefined
    "unknown_care_type.toml": (("care_types.nap_time", "nap_time"), 2),
    "demand_undefined_type.toml": (("communities[0].demand.hourly", "hourly"), 1),
    "ratio_zero.toml": (("age_groups.older.ratio", "= 0"), 1),
    "absence_above_one.toml": (("staff.absence_probability", "1.5"), 1),
    "window_outside_hours.toml": (("care_types.full_day.window", "06:00", "07:30"), 1),
    "table_outside_folder.toml": (("tables.facilities", "../../scenarios", "inside"), 1),
    "table_absolute_path.toml": (("tables.facilities", "/etc/hostname", "inside"), 1),
    "table_bad_value.toml": (("bad_facilities.csv", "row 2", "places.older", "-2"), 1),
    "shift_reversed.toml": (("staff.shift", "19:00", "end after it starts"), 1),
    "window_reversed.toml": (("care_types.full_day.window", "08:30", "end after it starts"), 1),
    "profile_not_numbers.toml": (("care_types.drop_in.profile[1]", '"a"', "number"), 1),
    "places_not_a_table.toml": (("facilities[0].places", "= 8"), 1),
    # the class's reserved places and the facility's total are both over
    "reserved_above_places.toml": (("facilities[0].reserved.drop_in.older", "20", "at most"), 2),
    "matrix_file_missing.toml": (("geography.matrix_csv", "no_such_matrix.csv", "no such file"), 1),
    "broken_toml.toml": (("not valid TOML", "line"), 1),
    "empty.toml": (("empty",), 1),
    "not_utf8.toml": (("UTF-8",), 1),
    "projection_horizon_outside_births.toml": (
        ("projection.horizon", "[2026, 2031]", "no births for 2031 (variant central)"),
        1,
    ),
    "projection_negative_births.toml": (("projection.births.observed.2024", "-3400", "≥ 0"), 1),
    "fee_negative.toml": (("fees.monthly_cny.full_day", "-100", "greater than or equal to 0"), 1),
    "subsidy_above_fee.toml": (
        ("subsidies.operator_per_child_month_cny", "2000", "1500-yuan full_day fee", "f1"),
        1,
    ),
    "takeup_bad_curve.toml": (
        ("takeup.fee_response.drop_in.scale_cny", "= 0", "greater than 0"),
        1,
    ),
    "takeup_wrong_curve_parameters.toml": (
        ("takeup.fee_response.drop_in", "midpoint_cny", 'not of curve = "elasticity"'),
        1,
    ),
    "projection_before_base_year.toml": (
        ("projection.horizon", "[2024, 2030]", "from the base year (2025)"),
        1,
    ),
}

CORPUS = sorted(p.name for p in BAD_SCENARIOS.glob("*.toml"))

# Where the message names the file holding the mistake rather than the scenario.
NAMED_FILE = {"table_bad_value.toml": "bad_facilities.csv"}


def test_corpus_is_complete() -> None:
    """Every file in the corpus has an expectation, and every expectation a file."""
    assert set(CORPUS) == set(EXPECTED)


def _params() -> list[object]:
    out: list[object] = []
    for name in CORPUS:
        for command in ("validate", "simulate"):
            out.append(pytest.param(name, command, id=f"{command}-{name}"))
    return out


def _check_rejected(
    code: int,
    err: str,
    out_dir: Path,
    command: str,
    file_label: str,
    needles: tuple[str, ...],
    lines_expected: int,
) -> None:
    assert code != 0
    assert code == 1  # input errors exit 1; 2 is for usage errors
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == lines_expected, err
    for line in lines:
        assert line.startswith(f"tuoyu-sim {command}: "), line
    assert file_label in lines[0], f"the file is not named: {err}"
    for needle in needles:
        assert needle in lines[0], f"{needle!r} missing from: {lines[0]}"
    assert not out_dir.exists(), "a rejected scenario must not create the results folder"


@pytest.mark.parametrize(("name", "command"), _params())
def test_bad_scenario_rejected(
    name: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = BAD_SCENARIOS / name
    out_dir = tmp_path / "out"
    argv = [command, str(path)]
    if command == "simulate":
        argv += [
            "--out",
            str(out_dir),
            "--replications",
            "2",
            "--days",
            "1",
            "--workers",
            "1",
            "--quiet",
            "--no-figures",
        ]
    code = main(argv)
    captured = capsys.readouterr()
    needles, n_lines = EXPECTED[name]
    label = NAMED_FILE.get(name, str(path))
    _check_rejected(code, captured.err, out_dir, command, label, needles, n_lines)
    assert captured.out == ""


@pytest.mark.parametrize("command", ["validate", "simulate"])
def test_missing_file(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "no_such_scenario.toml"
    out_dir = tmp_path / "out"
    argv = [command, str(path)] + (["--out", str(out_dir)] if command == "simulate" else [])
    code = main(argv)
    err = capsys.readouterr().err
    _check_rejected(code, err, out_dir, command, str(path), ("no such file",), 1)


@pytest.mark.parametrize("command", ["validate", "simulate"])
def test_folder_instead_of_file(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out"
    argv = [command, str(BAD_SCENARIOS)]
    if command == "simulate":
        argv += ["--out", str(out_dir)]
    code = main(argv)
    err = capsys.readouterr().err
    _check_rejected(code, err, out_dir, command, str(BAD_SCENARIOS), ("folder",), 1)


def test_bad_override_on_command_line_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A usage error (--workers 0) exits 2 before anything is written."""
    out_dir = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["simulate", str(MINIMAL), "--workers", "0", "--out", str(out_dir)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--workers" in err
    assert "Traceback" not in err
    assert not out_dir.exists()


def test_out_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--out pointing at an existing file is a user error, not a traceback."""
    target = tmp_path / "taken"
    target.write_text("keep me")
    code = main(
        [
            "simulate",
            str(MINIMAL),
            "--out",
            str(target),
            "--replications",
            "2",
            "--days",
            "1",
            "--workers",
            "1",
            "--quiet",
            "--no-figures",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert str(target) in err
    assert target.read_text() == "keep me"
