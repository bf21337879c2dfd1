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


# The CSV headers the commands write (docs/reference/outputs.md; simulate, optimize, access,
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
children_<class> places_in_reach_<class> g2sfca_<class> e2sfca_<class> children_per_place_<class>
desert_<class> children_all places_in_reach_all g2sfca_all e2sfca_all children_per_place_all
desert_all desert_any scenario children places_per_child communities no_place_in_reach
children_no_place_in_reach deserts children_in_deserts children_in_deserts_share
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


# -- scenario workbooks ------------------------------------------------------------------

from conftest import MINIMAL, SCENARIOS  # noqa: E402
from tuoyu_sim.cli import main  # noqa: E402
from tuoyu_sim.output import write_scenario_workbook  # noqa: E402
from tuoyu_sim.scenario import Scenario, load_scenario  # noqa: E402

BUILT_IN = sorted(SCENARIOS.rglob("*.toml"))


def _same(a: Scenario, b: Scenario) -> None:
    da, db = a.to_dict(), b.to_dict()
    # a matrix travels as distances.csv beside the workbook (as in a results folder)
    for d in (da, db):
        d["geography"].pop("matrix_csv", None)
    assert da == db
    assert a.matrix() == b.matrix()


@pytest.mark.parametrize("path", BUILT_IN, ids=lambda p: p.relative_to(SCENARIOS).as_posix())
def test_round_trip_through_a_workbook(path: Path, tmp_path: Path) -> None:
    """scenario -> workbook (+ settings TOML) -> scenario -> workbook: nothing lost."""
    scenario = load_scenario(path)
    toml = write_scenario_workbook(tmp_path / "district.toml", scenario)
    workbook = tmp_path / "district.xlsx"
    assert list(_sheets(workbook)) == ["communities", "facilities", "candidate_sites"]
    again = load_scenario(toml)
    _same(scenario, again)
    second = again.to_workbook(tmp_path / "second.xlsx")
    assert second.read_bytes() == workbook.read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_workbook_holds_what_the_frames_hold(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS / "examples" / "tables_csv.toml")
    sheets = _sheets(scenario.to_workbook(tmp_path / "t.xlsx"))
    frames = scenario.to_frames()
    fac = sheets["facilities"]
    assert fac[0] == list(frames["facilities"].columns)
    assert fac[1][:6] == ["f1", "Centre station", "A", 100, 100, 10]
    assert fac[2][fac[0].index("reserved.drop_in")] is None  # an empty cell


def _template(tmp_path: Path) -> tuple[Path, Path]:
    toml = write_scenario_workbook(tmp_path / "district.toml", load_scenario(MINIMAL))
    return toml, tmp_path / "district.xlsx"


def _edit(workbook: Path, change: Any) -> None:
    wb = openpyxl.load_workbook(workbook)
    change(wb)
    wb.save(workbook)


def _cell(sheet: str, column: str, row: int, value: Any) -> Any:
    def change(wb: Any) -> None:
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        ws.cell(row=row, column=header.index(column) + 1).value = value  # None clears

    return change


def _copy_row(sheet: str, src: int, dst: int) -> Any:
    def change(wb: Any) -> None:
        ws = wb[sheet]
        for cell in ws[src]:
            ws.cell(row=dst, column=cell.column, value=cell.value)

    return change


def _both(*changes: Any) -> Any:
    def change(wb: Any) -> None:
        for c in changes:
            c(wb)

    return change


def _rename_header(sheet: str, old: str, new: Any) -> Any:
    def change(wb: Any) -> None:
        ws = wb[sheet]
        for cell in ws[1]:
            if cell.value == old:
                cell.value = new

    return change


def _delete_column(sheet: str, name: str) -> Any:
    def change(wb: Any) -> None:
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        ws.delete_cols(header.index(name) + 1)

    return change


def _replace_file(data: bytes) -> Any:
    return data


# name -> (change to the template workbook, substrings the one line must hold)
WORKBOOK_CORPUS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "wrong_type": (
        _cell("communities", "population", 2, "many"),
        ("district.xlsx, sheet communities, row 2, column population, cell F2", '"many"'),
    ),
    "negative_places": (
        _cell("facilities", "places.older", 2, -3),
        ("sheet facilities, row 2, column places.older, cell F2", "-3", "greater than or equal"),
    ),
    "empty_required_cell": (
        _cell("candidate_sites", "max_places", 2, None),
        ("sheet candidate_sites, row 2, column max_places, cell F2", "an empty cell"),
    ),
    "missing_column": (
        _delete_column("communities", "population"),
        ("sheet communities, row 1 (header)", "missing column population"),
    ),
    "unknown_column": (
        _rename_header("facilities", "area_m2", "area"),
        ("sheet facilities, row 1 (header), column area", "unknown key"),
    ),
    "duplicate_id": (
        _copy_row("facilities", 2, 3),
        ("sheet facilities, row 3, column id, cell A3", '"f1"', "unique"),
    ),
    "blank_rows_keep_excel_numbers": (
        _both(
            _copy_row("communities", 2, 5),
            _cell("communities", "id", 5, "c5"),
            _cell("communities", "age_mix.older", 5, 1.5),
        ),
        ("sheet communities, row 5, column age_mix.older, cell H5", "1.5"),
    ),
    "duplicate_header": (
        _rename_header("facilities", "area_m2", "x_m"),
        ("sheet facilities, row 1 (header), column", "x_m appears twice"),
    ),
    "value_without_a_column_name": (
        lambda wb: wb["candidate_sites"].cell(row=2, column=20, value="note"),
        ("sheet candidate_sites, row 2, cell T2", '"note"', "without a name"),
    ),
    "sheet_missing": (
        lambda wb: wb.remove(wb["candidate_sites"]),
        ("district.xlsx: no sheet named 'candidate_sites'", "communities, facilities"),
    ),
}


def _one_line(toml: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["validate", str(toml)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("name", sorted(WORKBOOK_CORPUS))
def test_malformed_workbook(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    change, needles = WORKBOOK_CORPUS[name]
    toml, workbook = _template(tmp_path)
    _edit(workbook, change)
    line = _one_line(toml, capsys)
    for needle in needles:
        assert needle in line, f"{needle!r} missing from: {line}"


def test_a_misspelt_column_is_one_line_for_all_its_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = load_scenario(SCENARIOS / "examples" / "workbook.toml")
    toml = write_scenario_workbook(tmp_path / "district.toml", scenario)
    _edit(
        tmp_path / "district.xlsx", _rename_header("communities", "age_mix.older", "age_mix.oldr")
    )
    line = _one_line(toml, capsys)
    assert "sheet communities, rows 2, 3, 4, 5, column age_mix.oldr" in line
    assert '(communities[*].age_mix.oldr) = "oldr": an age class: one of older, toddler' in line


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        (None, ("tables.communities", '"district.xlsx"', "no such file")),
        (b"not a zip file", ("district.xlsx: not an Excel workbook",)),
    ],
    ids=["missing_file", "not_a_workbook"],
)
def test_unreadable_workbook(
    content: bytes | None,
    needles: tuple[str, ...],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    toml, workbook = _template(tmp_path)
    workbook.unlink()
    if content is not None:
        workbook.write_bytes(content)
    line = _one_line(toml, capsys)
    for needle in needles:
        assert needle in line, line


def test_an_xls_workbook_is_named_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml, workbook = _template(tmp_path)
    workbook.rename(tmp_path / "district.xls")
    toml.write_text(toml.read_text("utf-8").replace("district.xlsx", "district.xls"), "utf-8")
    assert "save it as .xlsx" in _one_line(toml, capsys)


def test_sheet_named_in_tables_and_numeric_ids(tmp_path: Path) -> None:
    """``"file.xlsx#社区"`` reads that sheet; an id typed as a number is text."""
    toml, workbook = _template(tmp_path)
    _edit(workbook, _both(_cell("facilities", "id", 2, 101)))
    wb = openpyxl.load_workbook(workbook)
    wb["communities"].title = "社区"
    wb.save(workbook)
    text = toml.read_text("utf-8").replace(
        'communities = "district.xlsx"', 'communities = "district.xlsx#社区"'
    )
    toml.write_text(text, "utf-8")
    s = load_scenario(toml)
    assert s.communities[0].name == "白衣堂社区"
    assert s.facilities[0].id == "101"


def test_rows_a_user_left_blank_are_skipped(tmp_path: Path) -> None:
    toml, workbook = _template(tmp_path)
    _edit(workbook, _both(_copy_row("communities", 2, 6), _cell("communities", "id", 6, "c6")))
    s = load_scenario(toml)
    assert [c.id for c in s.communities] == ["c1", "c6"]


# -- GIS tables (GeoPackage, Shapefile) ----------------------------------------------------


def frames_tables() -> tuple[str, ...]:
    return ("communities", "facilities", "candidate_sites")


def _gis_scenario(tmp_path: Path, suffix: str, crs: str) -> Path:
    """minimal.toml with its three tables in a GIS file (GeoPackage: one file, three layers)."""
    gpd = pytest.importorskip("geopandas")
    scenario = load_scenario(MINIMAL)
    frames = scenario.to_frames()
    refs = {}
    # Shapefile field names are cut at 10 characters (age_mix.older would not survive):
    # the candidate sites only, as a Shapefile
    tables = ("candidate_sites",) if suffix == ".shp" else frames_tables()
    for table in tables:
        frame = frames[table]  # type: ignore[literal-required]
        points = gpd.points_from_xy(frame["x_m"] + 330_000, frame["y_m"] + 3_935_000)
        gdf = gpd.GeoDataFrame(frame.drop(columns=["x_m", "y_m"]), geometry=points, crs=crs)
        if suffix == ".gpkg":
            gdf.to_file(tmp_path / "district.gpkg", layer=table, driver="GPKG")
            refs[table] = "district.gpkg"
        else:
            gdf = gdf.drop(columns=["fixed_cost_cny"])  # 14 characters
            gdf.to_file(tmp_path / f"{table}.shp")
            refs[table] = f"{table}.shp"
    from tuoyu_sim.scenario import dump_toml

    toml = tmp_path / "district.toml"
    toml.write_text(dump_toml(scenario, tables=refs), "utf-8")
    return toml


def test_geopackage_tables(tmp_path: Path) -> None:
    s = load_scenario(_gis_scenario(tmp_path, ".gpkg", "EPSG:32650"))
    assert (s.communities[0].x_m, s.candidate_sites[0].x_m) == (330_000.0, 330_800.0)
    assert s.communities[0].name == "白衣堂社区"
    assert s.facilities[0].places == {"older": 8}


def test_shapefile_tables(tmp_path: Path) -> None:
    s = load_scenario(_gis_scenario(tmp_path, ".shp", "EPSG:32650"))
    assert s.candidate_sites[0].max_places == 60
    assert s.candidate_sites[0].x_m == 330_800.0


def test_gis_errors_name_the_layer_and_feature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = _gis_scenario(tmp_path, ".gpkg", "EPSG:4326")
    line = _one_line(toml, capsys)
    assert "district.gpkg, layer communities: CRS EPSG:4326 is geographic" in line
    gpd = pytest.importorskip("geopandas")
    for layer in ("a", "b"):
        gpd.GeoDataFrame(
            {"id": ["x"]}, geometry=gpd.points_from_xy([0], [0]), crs="EPSG:32650"
        ).to_file(tmp_path / "other.gpkg", layer=layer, driver="GPKG")
    toml.write_text(toml.read_text("utf-8").replace('"district.gpkg"', '"other.gpkg"'), "utf-8")
    line = _one_line(toml, capsys)
    assert "other.gpkg: no layer named communities (the layers are: a, b)" in line
    assert '"other.gpkg#LAYER"' in line


def test_without_geopandas_a_gis_table_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = _gis_scenario(tmp_path, ".gpkg", "EPSG:32650")
    monkeypatch.setitem(__import__("sys").modules, "geopandas", None)  # import fails
    line = _one_line(toml, capsys)
    assert "district.gpkg" in line and "pip install 'tuoyu-sim[gis]'" in line


def test_geojson_needs_no_geopandas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "geopandas", None)
    s = load_scenario(SCENARIOS / "examples" / "geojson_haversine.toml")
    assert s.communities[0].lon is not None


def test_the_example_workbook_holds_the_csv_example() -> None:
    """scenarios/examples/workbook/district.xlsx is written by
    scripts/make_example_workbook.py from the CSV example's tables."""
    from_workbook = load_scenario(SCENARIOS / "examples" / "workbook.toml")
    from_csv = load_scenario(SCENARIOS / "examples" / "tables_csv.toml")
    for table in ("communities", "facilities", "candidate_sites"):
        assert getattr(from_workbook, table) == getattr(from_csv, table)


def test_sheet_names_ignore_case_as_excel_does(tmp_path: Path) -> None:
    toml, workbook = _template(tmp_path)
    wb = openpyxl.load_workbook(workbook)
    ws = wb["facilities"]
    ws.title = "renamed"  # openpyxl would call it Facilities1 straight away
    ws.title = "Facilities"
    wb.save(workbook)
    assert load_scenario(toml).facilities == load_scenario(MINIMAL).facilities
