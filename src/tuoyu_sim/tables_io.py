"""Scenario tables in and out: CSV, GeoJSON, Excel workbooks, GIS files, DataFrames.

A scenario's communities, facilities and candidate sites are tables: one row per
record, one column per key, a dotted column name nesting (``places.infant`` is
``places = { infant = ... }``). This module reads every form a planner keeps them
in into those rows, each with where it came from, so that a bad value is
reported as ``district.xlsx, sheet facilities, row 5, column places.older, cell
F5``; and it writes a scenario back out as DataFrames or a workbook.

Sources, chosen by the file's suffix (``[tables]``) or given directly:

- ``.csv``: UTF-8 text cells (the schema converts ``"12"`` to 12);
- ``.geojson`` / ``.json``: a FeatureCollection of Points, read here without any
  extra (properties become keys, the coordinates ``x_m``/``y_m`` when
  ``geography.distance = "euclidean"`` and ``lon``/``lat`` otherwise);
- ``.xlsx`` (openpyxl): one sheet per table, named after it (``communities``,
  ``facilities``, ``candidate_sites``) or given as ``"file.xlsx#sheet"``; row 1
  names the columns; rows are numbered as Excel shows them;
- ``.gpkg`` / ``.shp`` (GeoPandas with pyogrio, the ``[gis]`` extra): a point
  layer, named after the table or given as ``"file.gpkg#layer"``;
- pandas DataFrames and GeoDataFrames (:meth:`Scenario.from_frames`).

Point geometries (GIS files, GeoDataFrames) are placed with pyproj: a projected
CRS gives ``x_m``/``y_m`` in metres (and ``lon``/``lat`` too when the scenario's
distance is ``"haversine"``); a geographic CRS gives ``lon``/``lat`` in WGS 84
degrees, and is refused for ``"euclidean"`` distances (a plane in degrees is not
a plane in metres: reproject first). Without a CRS the coordinates are taken as
they are, as for GeoJSON.

Every source goes through the same steps: the header is checked once (a
missing, unknown or clashing column is one message naming the table and column,
not one per row), cells are cleaned (empty cells are left out, so the key takes
its default; numbers in ``id``/``name``/``group`` become text), dotted names
nest, and the rows are validated with the rest of the scenario by
:func:`tuoyu_sim.scenario.validate_data`, which names the row and column of each
problem through the rows' :class:`~tuoyu_sim.scenario.Origin`.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import json
import math
import sys
import typing
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from pydantic import BaseModel

from tuoyu_sim.errors import ScenarioError
from tuoyu_sim.scenario import (
    CandidateSite,
    Community,
    Facility,
    Origin,
    Scenario,
    _show,
    matrix_from_rows,
    read_scenario_toml,
    set_path,
    validate_data,
)

if TYPE_CHECKING:
    import pandas as pd

TABLES: tuple[str, ...] = ("communities", "facilities", "candidate_sites")
"""The scenario's tables, in the order they are written (also the sheet names)."""

MODELS: dict[str, type[Community] | type[Facility] | type[CandidateSite]] = {
    "communities": Community,
    "facilities": Facility,
    "candidate_sites": CandidateSite,
}

WORKBOOK_SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm")
GIS_SUFFIXES: tuple[str, ...] = (".gpkg", ".shp")
TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".geojson", ".json", *WORKBOOK_SUFFIXES, *GIS_SUFFIXES)
"""File suffixes a ``[tables]`` entry may have."""

GIS_EXTRA = "pip install 'tuoyu-sim[gis]'"
"""How to install GeoPandas, pyogrio and pyproj."""

MATRIX_FILE = "distances.csv"
"""The distance matrix's file name when a scenario built from frames names none
(the name :func:`tuoyu_sim.output.write_scenario` writes it under)."""

TEXT_KEYS: frozenset[str] = frozenset({"id", "name", "group"})
"""Keys whose cells are text even when a spreadsheet stores a number (id 101)."""

_COORDS: dict[str, tuple[str, str]] = {"euclidean": ("x_m", "y_m"), "haversine": ("lon", "lat")}
_WGS84 = "EPSG:4326"


class ScenarioFrames(TypedDict):
    """A scenario as DataFrames (:meth:`Scenario.to_frames`).

    ``Scenario.from_frames(**frames)`` gives the scenario back.
    """

    communities: pd.DataFrame
    facilities: pd.DataFrame
    candidate_sites: pd.DataFrame
    settings: dict[str, Any]
    """Everything else, as the TOML file's keys (``simulation``, ``geography``, ...)."""
    distances: NotRequired[pd.DataFrame]
    """The user-supplied distance matrix (``from``, ``to``, ``distance_m``), if any."""


@dataclass
class RawTable:
    """A table as read, before its header is checked and its rows nested."""

    header: str
    """Where the column names are, for messages (``x.csv, row 1 (header)``)."""
    columns: list[str]
    records: list[tuple[Origin, dict[str, Any]]] = field(default_factory=list)
    text: bool = False
    """Cells are text (CSV): surrounding spaces are dropped."""


# -- cells and rows ----------------------------------------------------------------


class _Missing:
    """An empty cell: the key is left out and takes its default."""


MISSING = _Missing()


def clean_cell(value: Any, column: str, *, text: bool = False) -> Any:
    """A cell as the schema reads it, or :data:`MISSING` for an empty one.

    Empty: ``None``, blank text, NaN, ``pd.NA``, ``NaT``. NumPy scalars become
    Python numbers. In ``id``, ``name`` and ``group`` a number becomes text
    (``101`` -> ``"101"``, ``7.0`` -> ``"7"``): spreadsheets store numeric ids as
    numbers.
    """
    if value is None:
        return MISSING
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return MISSING
        return stripped if text else value
    if isinstance(value, Mapping | list | tuple):
        return value
    if hasattr(value, "item") and callable(value.item):
        with contextlib.suppress(TypeError, ValueError):
            value = value.item()  # numpy scalars
    if isinstance(value, float) and math.isnan(value):
        return MISSING
    if not isinstance(value, bool | int | float | str) and _is_na(value):
        return MISSING
    if column in TEXT_KEYS and isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return value


def _is_na(value: Any) -> bool:
    if "pandas" not in sys.modules:
        return False
    try:
        return bool(sys.modules["pandas"].isna(value))
    except (TypeError, ValueError):
        return False


_NESTED_EXAMPLE = {"communities": "age_mix.older", "facilities": "places.older"}


def _required(section: str) -> list[tuple[str, str]]:
    """``(key, how to name its column)`` of every key a row of ``section`` needs."""
    out = []
    for name, info in MODELS[section].model_fields.items():
        if not info.is_required():
            continue
        if typing.get_origin(info.annotation) is dict:
            out.append((name, f"{name}.<class> (one per age class, e.g. {name}.older)"))
        else:
            out.append((name, name))
    return out


def _has(columns: Sequence[str], key: str) -> bool:
    return any(c == key or c.startswith(key + ".") for c in columns)


def _sub_keys(annotation: Any) -> list[str] | None:
    """The keys of a section with fixed keys (``staff``), or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return None


def check_header(table: RawTable, section: str, distance: Any) -> None:
    """One message for a header that cannot work: a column missing or unknown.

    Checked only when the table has rows (an empty sheet is an empty table).
    """
    if not table.records:
        return
    cols = table.columns
    model = MODELS[section]
    for col in cols:
        if not col:
            continue  # a column without a name: its cells must be empty (nest_rows)
        top = col.split(".")[0]
        if top not in model.model_fields:
            known = ", ".join(k for k in model.model_fields)
            nested = _NESTED_EXAMPLE.get(section)
            hint = f"; a dotted name such as {nested} nests" if nested else ""
            raise ScenarioError(
                f"{table.header}, column {col}: unknown key (a {section} column is one of "
                f"{known}{hint})"
            )
        keys = _sub_keys(model.model_fields[top].annotation)  # staff.teacher, ...
        parts = col.split(".")
        if keys is not None and len(parts) > 1 and parts[1] not in keys:
            raise ScenarioError(
                f"{table.header}, column {col}: unknown key ({top}.* is one of "
                f"{', '.join(f'{top}.{k}' for k in keys)})"
            )
    missing = [shown for key, shown in _required(section) if not _has(cols, key)]
    if section == "communities" and not (
        _has(cols, "children_under3") or _has(cols, "births_per_1000")
    ):
        missing.append("children_under3 or births_per_1000")
    coords = _COORDS.get(distance) if isinstance(distance, str) else None
    if coords and not all(_has(cols, c) for c in coords):
        missing.append(f'{coords[0]} and {coords[1]} (geography.distance = "{distance}")')
    if missing:
        found = ", ".join(cols) if cols else "none"
        plural = len(missing) > 1 or " and " in missing[0]
        raise ScenarioError(
            f"{table.header}: missing {'columns' if plural else 'column'} "
            f"{'; '.join(missing)}; the columns are: {found}"
        )


def nest_rows(
    table: RawTable, section: str, distance: Any
) -> tuple[list[dict[str, Any]], list[Origin]]:
    """Rows of nested dicts and their origins; the header checked first."""
    check_header(table, section, distance)
    rows: list[dict[str, Any]] = []
    origins: list[Origin] = []
    for origin, cells in table.records:
        row: dict[str, Any] = {}
        filled: list[str] = []
        for col in table.columns:
            value = clean_cell(cells.get(col), col, text=table.text)
            if value is MISSING:
                continue
            if not col:
                raise ScenarioError(
                    f"{origin.where} = {_show(value)}: a value in a column without a name "
                    "(the header row names the columns)"
                )
            for other in filled:
                if other.startswith(col + ".") or col.startswith(other + "."):
                    raise ScenarioError(
                        f"{origin.where}, columns {other} and {col}: a key holds either one "
                        "value or one value per name (age_mix or age_mix.older), not both"
                    )
            filled.append(col)
            set_path(row, col, value)
        rows.append(row)
        origins.append(origin)
    return rows, origins


# -- reading files -----------------------------------------------------------------


def split_ref(ref: str) -> tuple[str, str | None]:
    """``"district.xlsx#社区"`` -> ``("district.xlsx", "社区")``; other names unchanged."""
    if "#" in ref:
        file, part = ref.rsplit("#", 1)
        if Path(file).suffix.lower() in (*WORKBOOK_SUFFIXES, *GIS_SUFFIXES):
            return file, part
    return ref, None


def read_table_file(
    path: Path, section: str, distance: Any, part: str | None = None
) -> tuple[list[dict[str, Any]], list[Origin]]:
    """The rows of one scenario table file, with their origins.

    ``part`` is the sheet of a workbook or the layer of a GeoPackage (default:
    the one named after ``section``).
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = read_csv_table(path)
    elif suffix in (".geojson", ".json"):
        raw = read_geojson_table(path, distance)
    elif suffix in WORKBOOK_SUFFIXES:
        raw = read_workbook_table(path, part or section)
    elif suffix in GIS_SUFFIXES:
        raw = read_gis_table(path, section, distance, part)
    elif suffix == ".xls":
        raise ScenarioError(
            f"{path}: an Excel 97-2003 workbook (.xls); save it as .xlsx "
            "(Excel or WPS: File > Save As > Excel Workbook)"
        )
    else:
        raise ScenarioError(
            f"{path}: a table is a .csv, .geojson, .xlsx, .gpkg or .shp file "
            f"(found {suffix or 'no suffix'})"
        )
    return nest_rows(raw, section, distance)


def read_csv_table(path: Path) -> RawTable:
    """A CSV table: UTF-8 (a BOM is fine), a header row, text cells."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None:
                raise ScenarioError(f"{path}: an empty table; the first row names the columns")
            columns = [c.strip() for c in reader.fieldnames]
            table = RawTable(f"{path}, row 1 (header)", columns, text=True)
            _check_names(table, [str(i + 1) for i in range(len(columns))])
            for line_no, raw in enumerate(reader, start=2):
                if None in raw:
                    raise ScenarioError(f"{path}, row {line_no}: more cells than column names")
                cells = {c.strip(): v for c, v in raw.items() if c is not None}
                table.records.append((Origin(str(path), f"row {line_no}"), cells))
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return table


def read_geojson_table(path: Path, distance: Any) -> RawTable:
    """A GeoJSON FeatureCollection of Points (no extra needed)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}: not valid JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ScenarioError(f"{path}: a GeoJSON FeatureCollection is expected")
    keys = _COORDS["euclidean"] if distance == "euclidean" else _COORDS["haversine"]
    table = RawTable(f"{path}, properties", [])
    seen: set[str] = set()
    for i, feat in enumerate(doc.get("features") or []):
        where = f"{path}, features[{i}]"
        if not isinstance(feat, dict):
            raise ScenarioError(f"{where} = {_show(feat)}: a GeoJSON Feature")
        geom = feat.get("geometry") or {}
        if not isinstance(geom, dict) or geom.get("type") != "Point":
            kind = geom.get("type") if isinstance(geom, dict) else geom
            raise ScenarioError(f"{where}.geometry.type = {_show(kind)}: Point")
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            raise ScenarioError(f"{where}.properties = {_show(props)}: an object of keys")
        cells = dict(props)
        coords = geom.get("coordinates") or []
        if isinstance(coords, list) and len(coords) >= 2:
            cells[keys[0]], cells[keys[1]] = coords[0], coords[1]
        for key in cells:
            if key not in seen:
                seen.add(key)
                table.columns.append(key)
        table.records.append((Origin(str(path), f"features[{i}]"), cells))
    return table


def _check_names(table: RawTable, labels: Sequence[str]) -> None:
    """Column names are non-empty and appear once."""
    seen: set[str] = set()
    for col, label in zip(table.columns, labels, strict=True):
        if col == "":
            continue  # a column without a name: its cells must be empty (checked per row)
        if col in seen:
            raise ScenarioError(f"{table.header}, column {label}: {col} appears twice")
        seen.add(col)


def read_workbook_table(path: Path, sheet: str) -> RawTable:
    """One sheet of an .xlsx workbook: row 1 names the columns; blank rows are skipped."""
    import openpyxl
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ScenarioError(
            f"{path}: not an Excel workbook (.xlsx) that can be read ({exc})"
        ) from None
    try:
        same = [n for n in wb.sheetnames if n.lower() == sheet.lower()]
        if sheet not in wb.sheetnames and len(same) == 1:
            sheet = same[0]  # Excel's sheet names ignore case
        if sheet not in wb.sheetnames:
            raise ScenarioError(
                f"{path}: no sheet named {sheet!r} (the sheets are: {', '.join(wb.sheetnames)}); "
                f'name the sheet {sheet}, or name yours in [tables]: "{path.name}#SHEET"'
            )
        ws = wb[sheet]
        if not hasattr(ws, "iter_rows"):
            raise ScenarioError(f"{path}, sheet {sheet}: a chart, not a worksheet")
        ws.reset_dimensions()  # the stored dimensions of some writers are wrong
        where_sheet = f"{path}, sheet {sheet}"
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return RawTable(f"{where_sheet}, row 1 (header)", [])
        columns = [
            "" if h is None else (h.strip() if isinstance(h, str) else str(h)) for h in header
        ]
        letters = [get_column_letter(i + 1) for i in range(len(columns))]
        table = RawTable(f"{where_sheet}, row 1 (header)", [c for c in columns if c])
        _check_names(
            RawTable(table.header, columns),
            [f"{L} ({c})" for L, c in zip(letters, columns, strict=True)],
        )
        by_name = {c: L for c, L in zip(columns, letters, strict=True) if c}
        for row_no, values in enumerate(rows, start=2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            cells: dict[str, Any] = {}
            for j, value in enumerate(values):
                name = columns[j] if j < len(columns) else ""
                if name:
                    cells[name] = value
                elif value is not None and not (isinstance(value, str) and not value.strip()):
                    raise ScenarioError(
                        f"{where_sheet}, row {row_no}, cell {get_column_letter(j + 1)}{row_no} "
                        f"= {_show(value)}: a value in a column without a name (row 1 names "
                        "the columns)"
                    )
            table.records.append(
                (Origin(where_sheet, f"row {row_no}", excel_row=row_no, letters=by_name), cells)
            )
        return table
    finally:
        wb.close()


def _geopandas(path: Path | str) -> Any:
    try:
        import geopandas
        import pyogrio  # noqa: F401  (the engine read_file is given)
    except ImportError:
        raise ScenarioError(
            f"{path}: GIS tables (.gpkg, .shp) are read with GeoPandas and pyogrio, "
            f"which are not installed: {GIS_EXTRA}"
        ) from None
    return geopandas


def read_gis_table(path: Path, section: str, distance: Any, layer: str | None) -> RawTable:
    """A point layer of a GeoPackage or Shapefile, through GeoPandas and pyogrio."""
    gpd = _geopandas(path)
    import pyogrio

    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        raise ScenarioError(f"{path}: cannot be read as a GIS file ({exc})") from None
    if layer is None:
        if section in layers:
            layer = section
        elif len(layers) == 1:
            layer = layers[0]
        else:
            raise ScenarioError(
                f"{path}: no layer named {section} "
                f"(the layers are: {', '.join(layers) or 'none'}); "
                f'name the layer in [tables]: "{path.name}#LAYER"'
            )
    elif layer not in layers:
        raise ScenarioError(
            f"{path}: no layer named {layer!r} (the layers are: {', '.join(layers) or 'none'})"
        )
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio", fid_as_index=True)
    except Exception as exc:
        raise ScenarioError(f"{path}, layer {layer}: cannot be read ({exc})") from None
    where = f"{path}, layer {layer}"
    return frame_table(gdf, section, distance, label=where, row_name=lambda fid: f"feature {fid}")


# -- frames ------------------------------------------------------------------------


def _is_geoframe(frame: Any) -> bool:
    gpd = sys.modules.get("geopandas")
    return gpd is not None and isinstance(frame, gpd.GeoDataFrame)


def frame_table(
    frame: Any,
    section: str,
    distance: Any,
    *,
    label: str | None = None,
    row_name: Callable[[Any], str] | None = None,
) -> RawTable:
    """A DataFrame or GeoDataFrame as a raw table (a GeoDataFrame's points placed).

    ``label`` names the frame in messages (default ``"communities frame"`` and so
    on); ``row_name`` names a row from its index label (default ``"row 3"``).
    """
    import pandas as pd

    label = label or f"{section} frame"
    header = f"{label}, columns"
    row_name = row_name or (lambda idx: f"row {idx}")
    if (
        isinstance(frame, Sequence)
        and not isinstance(frame, str)
        and all(isinstance(r, Mapping) for r in frame)
    ):
        frame = pd.DataFrame(list(frame))
    if not isinstance(frame, pd.DataFrame):
        raise ScenarioError(
            f"{label} = {type(frame).__name__}: a pandas DataFrame or GeoDataFrame "
            "(one row per record, one column per key)"
        )
    if isinstance(frame.columns, pd.MultiIndex):
        raise ScenarioError(f"{header}: one header row of key names (found a MultiIndex)")
    geo_col = frame.geometry.name if _is_geoframe(frame) else None
    columns: list[str] = []
    for col in frame.columns:
        if col == geo_col:
            continue
        if not isinstance(col, str):
            raise ScenarioError(
                f"{header}, column {col!r}: column names are keys such as population or "
                "places.older"
            )
        columns.append(col)
    table = RawTable(header, list(columns))
    _check_names(table, columns)
    points: list[dict[str, float]] | None = None
    if geo_col is not None:
        points = _points(frame, distance, label, lambda idx: f"{label}, {row_name(idx)}")
        for key in points[0] if points else ():
            if key not in table.columns:
                table.columns.append(key)
    for i, (idx, *values) in enumerate(frame.drop(columns=geo_col or []).itertuples(name=None)):
        cells = dict(zip(columns, values, strict=True))
        if points is not None:
            cells.update(points[i])
        table.records.append((Origin(label, row_name(idx)), cells))
    return table


def _points(
    gdf: Any, distance: Any, label: str, row_where: Callable[[Any], str]
) -> list[dict[str, float]]:
    """Coordinate keys of every row of a GeoDataFrame, placed with pyproj.

    Projected CRS: ``x_m``/``y_m`` in metres (+ ``lon``/``lat`` for haversine).
    Geographic CRS: ``lon``/``lat`` in WGS 84 degrees (refused for euclidean).
    No CRS: the coordinates as they are, as for GeoJSON.
    """
    geom_col = gdf.geometry.name
    problems = []
    for idx, geom in zip(gdf.index, gdf.geometry, strict=True):
        kind = None if geom is None or geom.is_empty else geom.geom_type
        if kind != "Point":
            shown = "an empty geometry" if kind is None else _show(kind)
            problems.append(
                f"{row_where(idx)}, column {geom_col} = {shown}: a Point (for areas or lines, "
                "take a point inside: gdf.geometry = gdf.representative_point())"
            )
    if problems:
        raise ScenarioError(problems)
    xs = [float(g.x) for g in gdf.geometry]
    ys = [float(g.y) for g in gdf.geometry]
    crs = gdf.crs
    if crs is None:
        keys = _COORDS["euclidean"] if distance == "euclidean" else _COORDS["haversine"]
        return [{keys[0]: x, keys[1]: y} for x, y in zip(xs, ys, strict=True)]
    name = crs.to_string()
    if crs.is_geographic:
        if distance == "euclidean":
            raise ScenarioError(
                f"{label}: CRS {name} is geographic (degrees), and geography.distance = "
                '"euclidean" needs metres: reproject to a projected CRS '
                "(gdf.to_crs(gdf.estimate_utm_crs()), or the district's CGCS2000 Gauss-Kruger "
                'zone), or set distance = "haversine"'
            )
        lon, lat = _to_wgs84(crs, xs, ys, label)
        return [{"lon": a, "lat": b} for a, b in zip(lon, lat, strict=True)]
    if not crs.is_projected:
        raise ScenarioError(
            f"{label}: CRS {name} is neither geographic (lon/lat) nor projected (metres); "
            "reproject the layer, e.g. to EPSG:4326 or a UTM zone"
        )
    axis = crs.axis_info[0] if crs.axis_info else None
    factor = getattr(axis, "unit_conversion_factor", None)
    if not factor or not math.isfinite(factor):
        raise ScenarioError(f"{label}: CRS {name} has no linear unit that converts to metres")
    out = [{"x_m": x * factor, "y_m": y * factor} for x, y in zip(xs, ys, strict=True)]
    if distance == "haversine":
        lon, lat = _to_wgs84(crs, xs, ys, label)
        for row, a, b in zip(out, lon, lat, strict=True):
            row["lon"], row["lat"] = a, b
    return out


def _to_wgs84(
    crs: Any, xs: list[float], ys: list[float], label: str
) -> tuple[list[float], list[float]]:
    from pyproj import CRS, Transformer

    target = CRS.from_user_input(_WGS84)
    if crs.equals(target, ignore_axis_order=True):
        return xs, ys
    transformer = Transformer.from_crs(crs, target, always_xy=True)
    lon, lat = transformer.transform(xs, ys)
    lon, lat = [float(v) for v in lon], [float(v) for v in lat]
    if not all(math.isfinite(v) for v in (*lon, *lat)):
        raise ScenarioError(
            f"{label}: some points cannot be placed in WGS 84 from CRS {crs.to_string()} "
            "(outside the CRS's area?)"
        )
    return lon, lat


def frame_rows(
    frame: Any, section: str, distance: Any
) -> tuple[list[dict[str, Any]], list[Origin]]:
    """Rows of a DataFrame/GeoDataFrame as scenario records, with their origins."""
    return nest_rows(frame_table(frame, section, distance), section, distance)


def matrix_from_frame(frame: Any, speed_m_per_min: float) -> dict[tuple[str, str], float]:
    """A distance matrix from a frame with ``from``, ``to`` and ``distance_m`` or ``minutes``."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise ScenarioError(
            f"distances frame = {type(frame).__name__}: a pandas DataFrame with columns from, "
            "to and distance_m (or minutes)"
        )
    cols = [str(c) for c in frame.columns]
    records = []
    for idx, *values in frame.itertuples(name=None):
        cells = {}
        for col, value in zip(cols, values, strict=True):
            v = clean_cell(value, col)
            cells[col] = "" if v is MISSING else (v if isinstance(v, str) else str(v))
        records.append((f"distances frame, row {idx}", cells))
    return matrix_from_rows(records, cols, "distances frame", speed_m_per_min)


def scenario_from_frames(
    *,
    communities: Any = None,
    facilities: Any = None,
    candidate_sites: Any = None,
    settings: Mapping[str, Any] | str | Path,
    distances: Any = None,
    base_dir: str | Path | None = None,
) -> Scenario:
    """A scenario from DataFrames (or GeoDataFrames) and its settings.

    See :meth:`tuoyu_sim.scenario.Scenario.from_frames`.
    """
    frames = {
        "communities": communities,
        "facilities": facilities,
        "candidate_sites": candidate_sites,
    }
    source: Path | None
    if isinstance(settings, str | Path):
        source = Path(settings)
        data = read_scenario_toml(source)
        label, folder = str(source), source.parent
    elif isinstance(settings, Mapping):
        source = None
        data = copy.deepcopy(dict(settings))
        label = "settings"
        folder = Path(base_dir) if base_dir is not None else Path.cwd()
    else:
        raise ScenarioError(
            f"settings = {type(settings).__name__}: a dict of the scenario's keys (as in its "
            "TOML file) or the path of a TOML file"
        )
    given = [s for s, f in frames.items() if f is not None]
    tables = data.get("tables")
    for section in given:
        data.pop(section, None)
        if isinstance(tables, dict):
            tables.pop(section, None)
    from tuoyu_sim.scenario import merge_tables

    origins = merge_tables(data, folder, label)
    distance = _distance(data)
    for section in given:
        rows, where = frame_rows(frames[section], section, distance)
        data[section] = rows
        origins.update({(section, i): o for i, o in enumerate(where)})
    matrix = None
    if distances is not None:
        geo = data.setdefault("geography", {})
        speed = geo.get("walk_speed_m_per_min", 80.0) if isinstance(geo, dict) else 80.0
        if not isinstance(speed, int | float) or isinstance(speed, bool) or speed <= 0:
            speed = 80.0  # validation reports the bad speed itself
        matrix = matrix_from_frame(distances, float(speed))
        if isinstance(geo, dict) and not geo.get("matrix_csv"):
            geo["matrix_csv"] = MATRIX_FILE
    return validate_data(data, source, base_dir=folder, origins=origins, matrix=matrix, label=label)


def _distance(data: Mapping[str, Any]) -> Any:
    geo = data.get("geography")
    return geo.get("distance", "euclidean") if isinstance(geo, dict) else "euclidean"


# -- writing -----------------------------------------------------------------------


def flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested keys as dotted column names (the inverse of how tables are read)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _columns(section: str, flat: list[dict[str, Any]], scenario: Scenario) -> list[str]:
    """Columns in the schema's field order; a template's columns for an empty table."""
    model = MODELS[section]
    if not flat:
        return _template_columns(section, scenario)
    cols: list[str] = []
    seen: set[str] = set()
    for name in model.model_fields:
        for row in flat:
            for key in row:
                if key not in seen and (key == name or key.startswith(name + ".")):
                    seen.add(key)
                    cols.append(key)
    return cols


def _template_columns(section: str, scenario: Scenario) -> list[str]:
    """The columns a planner fills in for an empty table, for this scenario."""
    coords = list(_COORDS.get(scenario.geography.distance, _COORDS["euclidean"]))
    ages = list(scenario.age_groups)
    head = ["id", "name", "group", *coords]
    if section == "communities":
        return [
            *head,
            "population",
            "children_under3",
            "births_per_1000",
            *(f"age_mix.{a}" for a in ages),
            *(f"demand.{t}" for t in scenario.care_types),
        ]
    if section == "facilities":
        return [
            *head,
            *(f"places.{a}" for a in ages),
            "staff.teacher",
            "staff.nursery",
            "staff.health",
            "area_m2",
        ]
    return [*head, "max_places", "area_m2", "fixed_cost_cny"]


def _frame(section: str, rows: list[dict[str, Any]], scenario: Scenario) -> pd.DataFrame:
    import pandas as pd

    flat = [flatten(r) for r in rows]
    cols = _columns(section, flat, scenario)
    frame = pd.DataFrame(flat, columns=cols)
    for col in cols:
        values = [r[col] for r in flat if col in r]
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            frame[col] = pd.array([r.get(col) for r in flat], dtype="Int64")
    return frame


def scenario_to_frames(scenario: Scenario) -> ScenarioFrames:
    """See :meth:`tuoyu_sim.scenario.Scenario.to_frames`."""
    import pandas as pd

    data = scenario.to_dict()
    tables = {s: _frame(s, data.pop(s, []), scenario) for s in TABLES}
    frames = ScenarioFrames(
        communities=tables["communities"],
        facilities=tables["facilities"],
        candidate_sites=tables["candidate_sites"],
        settings=data,
    )
    matrix = scenario.matrix()
    if matrix is not None:
        frames["distances"] = pd.DataFrame(
            [(a, b, d) for (a, b), d in sorted(matrix.items())],
            columns=["from", "to", "distance_m"],
        )
    return frames


def tables_workbook_bytes(scenario: Scenario) -> bytes:
    """The scenario's tables as an .xlsx workbook, one sheet per table."""
    from tuoyu_sim.output import workbook_bytes

    frames = scenario_to_frames(scenario)
    tables = {
        "communities": frames["communities"],
        "facilities": frames["facilities"],
        "candidate_sites": frames["candidate_sites"],
    }
    sheets = []
    for section, frame in tables.items():
        rows = (list(r) for r in frame.astype(object).itertuples(index=False, name=None))
        sheets.append((section, [str(c) for c in frame.columns], rows))
    return workbook_bytes(sheets)


def write_tables_workbook(path: str | Path, scenario: Scenario) -> Path:
    """Write the scenario's tables as an .xlsx workbook atomically; see
    :meth:`tuoyu_sim.scenario.Scenario.to_workbook`."""
    from tuoyu_sim.output import atomic_write_bytes

    return atomic_write_bytes(path, tables_workbook_bytes(scenario))
