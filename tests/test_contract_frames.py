"""Scenarios from and to pandas DataFrames and GeoDataFrames (Scenario.from_frames).

Round trip: every built-in scenario -> frames -> scenario is the same scenario.
Malformed frames get one line naming the frame, the row (index label) and the
column, as a malformed TOML file gets one naming the file and key path.
GeoDataFrames are placed with pyproj: projected CRS -> x_m/y_m in metres,
geographic -> lon/lat; a geographic CRS with euclidean distances is refused.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from conftest import MINIMAL, SCENARIOS
from tuoyu_sim.errors import ScenarioError
from tuoyu_sim.scenario import Scenario, load_scenario

BUILT_IN = sorted(SCENARIOS.rglob("*.toml"))


@pytest.mark.parametrize("path", BUILT_IN, ids=lambda p: p.relative_to(SCENARIOS).as_posix())
def test_round_trip_through_frames(path: Path) -> None:
    scenario = load_scenario(path)
    frames = scenario.to_frames()
    again = Scenario.from_frames(**frames)
    assert again.to_dict() == scenario.to_dict()
    assert again.matrix() == scenario.matrix()
    assert set(frames) >= {"communities", "facilities", "candidate_sites", "settings"}
    assert ("distances" in frames) == (scenario.matrix() is not None)
    # frames of frames: the same frames
    second = again.to_frames()
    for name in ("communities", "facilities", "candidate_sites"):
        pd.testing.assert_frame_equal(second[name], frames[name])


def test_frames_have_dotted_columns_and_integer_columns() -> None:
    frames = load_scenario(SCENARIOS / "examples" / "tables_csv.toml").to_frames()
    fac = frames["facilities"]
    assert list(fac.columns[:5]) == ["id", "name", "group", "x_m", "y_m"]
    assert "places.older" in fac.columns and "staff.teacher" in fac.columns
    assert str(fac["places.older"].dtype) == "Int64"
    assert fac["reserved.drop_in"].isna().sum() == 1  # f2 reserves nothing
    assert "communities" not in frames["settings"]
    assert (
        frames["settings"]["simulation"]["seed"] == 11 or "seed" in frames["settings"]["simulation"]
    )


def test_an_empty_table_has_the_columns_to_fill_in() -> None:
    frames = load_scenario(SCENARIOS / "examples" / "no_facilities.toml").to_frames()
    fac = frames["facilities"]
    assert len(fac) == 0
    assert {"id", "x_m", "y_m", "staff.teacher"} <= set(fac.columns)
    assert any(c.startswith("places.") for c in fac.columns)


def _base() -> dict[str, Any]:
    frames = load_scenario(MINIMAL).to_frames()
    return dict(frames)


def test_settings_may_be_a_toml_path_and_a_frame_replaces_its_table() -> None:
    base = _base()
    communities = pd.concat([base["communities"]] * 2, ignore_index=True)
    communities.loc[1, "id"] = "c2"
    communities.loc[1, "population"] = 5000
    s = Scenario.from_frames(communities=communities, settings=MINIMAL)
    assert [c.id for c in s.communities] == ["c1", "c2"]
    assert s.communities[1].population == 5000
    assert s.facilities == load_scenario(MINIMAL).facilities  # kept from the file
    assert s.source == MINIMAL


def test_records_instead_of_a_frame() -> None:
    base = _base()
    records = base["communities"].to_dict(orient="records")
    s = Scenario.from_frames(communities=records, settings=MINIMAL)
    assert s.communities == load_scenario(MINIMAL).communities


def test_numeric_ids_become_text() -> None:
    base = _base()
    fac = base["facilities"].copy()
    fac["id"] = [101]
    s = Scenario.from_frames(**{**base, "facilities": fac})
    assert s.facilities[0].id == "101"


def test_a_distances_frame_is_the_matrix() -> None:
    frames = load_scenario(SCENARIOS / "examples" / "matrix.toml").to_frames()
    settings = frames["settings"]
    settings["geography"].pop("matrix_csv")
    dist = frames["distances"]
    s = Scenario.from_frames(
        communities=frames["communities"],
        facilities=frames["facilities"],
        candidate_sites=frames["candidate_sites"],
        settings=settings,
        distances=dist,
    )
    assert s.matrix() == {(a, b): d for a, b, d in dist.itertuples(index=False)}
    assert s.geography.matrix_csv == "distances.csv"


# -- malformed frames: one line naming the frame, row and column -----------------------


def _with(table: str, change: Any) -> dict[str, Any]:
    base = _base()
    frame = base[table].copy()
    base[table] = change(frame)
    return base


def _bigger(frame: pd.DataFrame, n: int = 4) -> pd.DataFrame:
    out = pd.concat([frame] * n, ignore_index=True)
    out["id"] = [f"{frame.loc[0, 'id']}_{i}" for i in range(n)]
    return out


def _set(frame: pd.DataFrame, row: int, col: str, value: Any) -> pd.DataFrame:
    frame[col] = frame[col].astype(object)
    frame.loc[row, col] = value
    return frame


CORPUS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "wrong_type": (
        lambda: _with("communities", lambda f: _set(f, 0, "population", "many")),
        ("communities frame, row 0, column population", '"many"', "integer"),
    ),
    "negative": (
        lambda: _with("communities", lambda f: _set(_bigger(f), 3, "population", -5)),
        ("communities frame, row 3, column population", "= -5", "greater than or equal to 0"),
    ),
    "missing_column": (
        lambda: _with("facilities", lambda f: f.drop(columns=["places.older"])),
        ("facilities frame, columns", "missing column places.<class>"),
    ),
    "missing_coordinates": (
        lambda: _with("candidate_sites", lambda f: f.drop(columns=["x_m", "y_m"])),
        ("candidate_sites frame, columns", "x_m and y_m", "euclidean"),
    ),
    "unknown_column": (
        lambda: _with("communities", lambda f: f.rename(columns={"population": "popluation"})),
        ("communities frame, columns, column popluation", "unknown key"),
    ),
    "duplicate_id": (
        lambda: _with("facilities", lambda f: pd.concat([f, f], ignore_index=True)),
        ("facilities frame, row 1, column id", '"f1"', "unique"),
    ),
    "empty_required_cell": (
        lambda: _with("candidate_sites", lambda f: _set(f, 0, "max_places", None)),
        ("candidate_sites frame, row 0, column max_places", "required", "empty cell"),
    ),
    "share_too_big": (
        lambda: _with("communities", lambda f: _set(f, 0, "age_mix.older", 1.4)),
        ("communities frame, row 0, column age_mix.older", "1.4"),
    ),
    "undefined_class": (
        lambda: _with("facilities", lambda f: f.rename(columns={"places.older": "places.babies"})),
        ("facilities frame, row 0, column places.babies", "babies", "older"),
    ),
    "misspelt_class_on_every_row": (
        lambda: _with(
            "facilities", lambda f: _bigger(f, 8).rename(columns={"places.older": "places.oldr"})
        ),
        (
            "facilities frame, rows 0, 1, 2, 3, 4 and 3 more, column places.oldr",
            "(facilities[*].places.oldr)",
            "one of older",
        ),
    ),
    "misspelt_staff_column": (
        lambda: _with("facilities", lambda f: f.rename(columns={"staff.teacher": "staff.teachr"})),
        ("facilities frame, columns, column staff.teachr: unknown key", "staff.teacher"),
    ),
    "not_a_frame": (
        lambda: _with("communities", lambda f: "communities.csv"),
        ("communities frame = str", "DataFrame"),
    ),
    "column_not_text": (
        lambda: _with("communities", lambda f: f.rename(columns={"name": 0})),
        ("communities frame, columns, column 0", "column names are keys"),
    ),
    "settings_not_a_dict": (
        lambda: {**_base(), "settings": 42},
        ("settings = int", "TOML"),
    ),
    "settings_file_missing": (
        lambda: {**_base(), "settings": "no_such_dir/district.toml"},
        ("no_such_dir/district.toml: no such file",),
    ),
    "settings_bad_value": (
        lambda: {**_base(), "settings": {**_base()["settings"], "name": ""}},
        ("settings: name", "at least 1 character"),
    ),
    "distances_bad_value": (
        lambda: {
            **_base(),
            "distances": pd.DataFrame({"from": ["c1"], "to": ["f1"], "distance_m": ["far"]}),
        },
        ("distances frame, row 0, column distance_m", '"far"', "a number"),
    ),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_malformed_frame(name: str) -> None:
    make, needles = CORPUS[name]
    with pytest.raises(ScenarioError) as exc:
        Scenario.from_frames(**make())
    problems = exc.value.problems
    assert len(problems) == 1, problems
    for needle in needles:
        assert needle in problems[0], f"{needle!r} missing from: {problems[0]}"


# -- GeoDataFrames -----------------------------------------------------------------------

gpd = pytest.importorskip("geopandas")
shapely_geometry = pytest.importorskip("shapely.geometry")

YANZHOU_LON_LAT = (116.79, 35.55)
"""About the centre of Yanzhou (UTM zone 50N)."""


def _geo(frame: pd.DataFrame, crs: str | None, xy: list[tuple[float, float]]) -> Any:
    points = [shapely_geometry.Point(x, y) for x, y in xy]
    return gpd.GeoDataFrame(frame.drop(columns=["x_m", "y_m"]), geometry=points, crs=crs)


def test_projected_crs_gives_metres() -> None:
    base = _base()
    # EPSG:32650, UTM zone 50N (metres): the points 800 m apart, as in minimal.toml
    comm = _geo(base["communities"], "EPSG:32650", [(330_000.0, 3_935_000.0)])
    site = _geo(base["candidate_sites"], "EPSG:32650", [(330_800.0, 3_935_000.0)])
    s = Scenario.from_frames(**{**base, "communities": comm, "candidate_sites": site})
    assert (s.communities[0].x_m, s.communities[0].y_m) == (330_000.0, 3_935_000.0)
    assert s.candidate_sites[0].x_m == 330_800.0


def test_projected_crs_in_feet_is_converted_to_metres() -> None:
    base = _base()
    comm = _geo(base["communities"], "EPSG:2263", [(1000.0, 2000.0)])  # US survey feet
    s = Scenario.from_frames(**{**base, "communities": comm})
    assert s.communities[0].x_m == pytest.approx(304.8006, rel=1e-6)


def test_geographic_crs_gives_lon_lat_for_haversine() -> None:
    base = _base()
    settings = {**base["settings"], "geography": {"distance": "haversine"}}
    lon, lat = YANZHOU_LON_LAT
    comm = _geo(base["communities"], "EPSG:4326", [(lon, lat)])
    fac = _geo(base["facilities"], "EPSG:4490", [(lon + 0.001, lat)])  # CGCS2000
    site = _geo(base["candidate_sites"], "EPSG:4326", [(lon, lat + 0.005)])
    s = Scenario.from_frames(
        communities=comm, facilities=fac, candidate_sites=site, settings=settings
    )
    assert (s.communities[0].lon, s.communities[0].lat) == (lon, lat)
    assert s.facilities[0].lon == pytest.approx(lon + 0.001, abs=1e-6)
    assert s.communities[0].x_m is None


def test_projected_crs_with_haversine_gives_lon_lat_too() -> None:
    base = _base()
    settings = {**base["settings"], "geography": {"distance": "haversine"}}
    points = gpd.GeoSeries.from_xy([YANZHOU_LON_LAT[0]], [YANZHOU_LON_LAT[1]], crs="EPSG:4326")
    utm = points.to_crs("EPSG:32650")
    frames = {}
    for table in ("communities", "facilities", "candidate_sites"):
        frames[table] = _geo(base[table], "EPSG:32650", [(utm.x[0], utm.y[0])])
    s = Scenario.from_frames(**frames, settings=settings)
    c = s.communities[0]
    assert c.lon == pytest.approx(YANZHOU_LON_LAT[0], abs=1e-9)
    assert c.lat == pytest.approx(YANZHOU_LON_LAT[1], abs=1e-9)
    assert c.x_m == pytest.approx(utm.x[0]) and math.isfinite(c.y_m or math.nan)


def test_no_crs_takes_coordinates_as_they_are() -> None:
    base = _base()
    comm = _geo(base["communities"], None, [(12.0, 34.0)])
    s = Scenario.from_frames(**{**base, "communities": comm})
    assert (s.communities[0].x_m, s.communities[0].y_m) == (12.0, 34.0)


GEO_CORPUS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "geographic_with_euclidean": (
        lambda f: _geo(f, "EPSG:4326", [YANZHOU_LON_LAT]),
        ("communities frame: CRS EPSG:4326 is geographic", "euclidean", "to_crs"),
    ),
    "polygon": (
        lambda f: gpd.GeoDataFrame(
            f.drop(columns=["x_m", "y_m"]),
            geometry=[shapely_geometry.box(0, 0, 10, 10)],
            crs="EPSG:32650",
        ),
        ("communities frame, row 0, column geometry", '"Polygon"', "a Point"),
    ),
    "empty_geometry": (
        lambda f: gpd.GeoDataFrame(f.drop(columns=["x_m", "y_m"]), geometry=[None], crs=None),
        ("communities frame, row 0, column geometry", "an empty geometry", "a Point"),
    ),
    "geocentric_crs": (
        lambda f: _geo(f, "EPSG:4978", [(1.0, 2.0)]),
        ("communities frame: CRS EPSG:4978", "neither geographic (lon/lat) nor projected"),
    ),
}


@pytest.mark.parametrize("name", sorted(GEO_CORPUS))
def test_malformed_geoframe(name: str) -> None:
    make, needles = GEO_CORPUS[name]
    base = _base()
    with pytest.raises(ScenarioError) as exc:
        Scenario.from_frames(**{**base, "communities": make(base["communities"])})
    problems = exc.value.problems
    assert len(problems) == 1, problems
    for needle in needles:
        assert needle in problems[0], f"{needle!r} missing from: {problems[0]}"


# -- any table: a scenario or one clean message, never a traceback ------------------------

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

_COLUMNS = [
    "id", "name", "population", "places.older", "places.", "", ".x", "age_mix.older",
    "staff.teacher", "staff", "x_m", "y_m", "a..b", "[0]", "places.0", "reserved.drop_in.older",
    "reserved.drop_in", "shifts.day", "area_m2",
]  # fmt: skip
_CELLS = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dictionaries(st.text(max_size=3), st.integers(-3, 3), max_size=2),
)


@pytest.mark.slow
@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(
    columns=st.lists(st.sampled_from(_COLUMNS), min_size=1, max_size=6, unique=True),
    cells=st.lists(st.lists(_CELLS, min_size=6, max_size=6), min_size=0, max_size=3),
)
def test_any_facilities_frame_gives_a_scenario_or_one_clean_error(
    columns: list[str], cells: list[list[Any]]
) -> None:
    base = _base()
    frame = pd.DataFrame([row[: len(columns)] for row in cells], columns=columns, dtype=object)
    try:
        Scenario.from_frames(**{**base, "facilities": frame})
    except ScenarioError as exc:
        assert exc.problems and all(p.strip() for p in exc.problems)
