"""Workbooks: results.xlsx (write_workbook) and scenario workbooks.

results.xlsx holds the CSV tables, one sheet each, headers in the report's
language; a scenario's tables may live in an .xlsx workbook, and writing a
built-in scenario to a workbook and reading it back loses nothing. Malformed
workbooks get one clear line naming the workbook, sheet, row and column.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tuoyu_sim.errors import UserError
from tuoyu_sim.output import column_header, sheet_names, write_workbook


def _sheets(path: Path) -> dict[str, list[list[Any]]]:
    wb = openpyxl.load_workbook(path)  # not read-only: rows keep their trailing empty cells
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


# -- results.xlsx --------------------------------------------------------------------


ROWS = [
    {"facility": "f1", "places": 8, "utilization": 0.5, "utilization_lo": 0.4, "x": np.int64(3)},
    {"facility": "=cmd()", "places": np.float64(9.0), "utilization": float("nan"), "extra": [1]},
]


def test_results_workbook_english_headers_are_the_csv_names(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "results.xlsx", {"facilities": ROWS}, lang="en")
    sheets = _sheets(path)
    assert list(sheets) == ["facilities"]
    header, first, second = sheets["facilities"]
    assert header == ["facility", "places", "utilization", "utilization_lo", "x", "extra"]
    assert first == ["f1", 8, 0.5, 0.4, 3, None]
    # NaN is an empty cell (as in the CSV); a list is JSON text; "=..." stays text
    assert second == ["=cmd()", 9, None, None, None, "[1]"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_results_workbook_chinese_headers(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "facility": ["f1"],
            "turn_away_rate_drop_in_hi": [0.1],
            "places_older": [3],
            "places_mystery": [1],
            "not_a_column_we_know": [2],
        }
    )
    path = write_workbook(tmp_path / "r.xlsx", {"plan": frame})
    header = _sheets(path)["plan"][0]
    assert header == [
        "机构",
        "拒收率：临时托（95%区间上限）",
        "托位：托大班",
        "托位：mystery",
        "not_a_column_we_know",
    ]


# The CSV headers the commands write (docs/reference/outputs.md; simulate, optimize,
# plan and sweep on small cases), with <class> and <type> for the varying parts.
_CSV_COLUMNS = """
facility name group places enrolled waitlist utilization utilization_lo utilization_hi
mean_occupancy turn_away_rate breach_day_share walk_in_arrivals walk_in_turned_away
walk_in_redirected redirected_in caregivers health_required health_short
care_type name_zh mode arrivals admitted redirected turned_away
day scope key time minute mean mean_lo mean_hi p05 p95 hour breach_minutes_per_day
caregivers_short walk_ins_refused_for_staff_per_day replication age_class arrival_min
departure_min stay_min outcome community site share population places_before places_after
per_1000_before per_1000_after kind places_<class> added_<class> walk_in_<class> teacher
nursery health added_teacher added_nursery added_health cost_cny added_places iteration seed
replications cost_cny worst_turn_away worst_breach_day_share holds confirmation new_sites
shortfalls changes places_optimizer places_final caregivers_optimizer caregivers_final why
point index turn_away_rate_<type> enrolled_demand places_per_1000 arrivals_<type>
turned_away_<type> error
"""
CSV_COLUMNS = _CSV_COLUMNS.split()


def test_every_csv_column_has_a_chinese_header() -> None:
    import tomllib

    root = Path(__file__).resolve().parents[1]
    labels = tomllib.loads((root / "src/tuoyu_sim/report/labels.toml").read_text("utf-8"))
    zh = labels["column_names"]["zh"]
    for column in CSV_COLUMNS:
        name = column.replace("<class>", "older").replace("<type>", "drop_in")
        assert column_header(name, zh, {}, {}) != name, f"{column} has no Chinese header"


def test_sheet_names_are_valid_and_unique() -> None:
    long = "a" * 40
    names = sheet_names([long, long.upper(), "x[1]:y", "History", "'q'"])
    assert all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == 5
    assert names[0] == "a" * 31 and names[1].endswith("~2")
    assert names[2] == "x_1__y" and names[3] == "History_" and names[4] == "q"


def test_results_workbook_is_reproducible(tmp_path: Path) -> None:
    a = write_workbook(tmp_path / "a.xlsx", {"facilities": ROWS, "empty": []})
    b = write_workbook(tmp_path / "b.xlsx", {"facilities": ROWS, "empty": []})
    assert a.read_bytes() == b.read_bytes()
    assert _sheets(a)["empty"] == []


def test_results_workbook_unknown_language(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="lang = 'fr': one of zh, en"):
        write_workbook(tmp_path / "r.xlsx", {"t": ROWS}, lang="fr")
    assert not (tmp_path / "r.xlsx").exists()


def test_workbook_floats_match_the_csv(tmp_path: Path) -> None:
    value = 1 / 3
    path = write_workbook(tmp_path / "r.xlsx", {"t": [{"v": value}]}, lang="en")
    assert math.isclose(_sheets(path)["t"][1][0], round(value, 10), rel_tol=0, abs_tol=0)


def test_a_table_longer_than_a_sheet_continues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tuoyu_sim.output as output

    monkeypatch.setattr(output, "EXCEL_MAX_ROWS", 3)  # a header and two rows per sheet
    rows = [{"day": d} for d in range(5)]
    sheets = _sheets(write_workbook(tmp_path / "r.xlsx", {"daily": rows}, lang="en"))
    assert list(sheets) == ["daily", "daily (2)", "daily (3)"]
    assert [r[0] for s in sheets.values() for r in s[1:]] == list(range(5))
    assert all(s[0] == ["day"] for s in sheets.values())
