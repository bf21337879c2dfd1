"""Writing results atomically.

Every file a command writes goes through here: it is written to a temporary
file in the same folder and renamed into place, so an interrupted run leaves
either the old file or the new one, never half of one.

Workbooks (``results.xlsx``, scenario workbooks) are written by openpyxl into
memory, made byte-for-byte reproducible (fixed zip and document timestamps, so
the same results give the same file) and then written atomically like the rest.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape as xml_escape

from tuoyu_sim.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

    from tuoyu_sim.scenario import Scenario

MATRIX_FILE = "distances.csv"
"""Name of the distance matrix written beside a scenario file in a results folder."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; results are meant to be shared
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _jsonable(value.item())
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    return value


def write_json(path: str | Path, data: Any) -> Path:
    """Write JSON atomically; NaN and infinity become ``null``."""
    text = json.dumps(_jsonable(data), ensure_ascii=False, indent=2, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def write_csv(
    path: str | Path, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None
) -> Path:
    """Write dict rows as CSV atomically; columns default to the first row's keys."""
    rows = list(rows)
    if columns is None:
        columns = list(rows[0].keys()) if rows else []
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    return atomic_write_text(path, buf.getvalue())


def _cell(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return "" if not math.isfinite(value) else repr(round(value, 10))
    return value


def save_figure(fig: Any, path: str | Path, dpi: int = 150) -> Path:
    """Save a matplotlib figure as PNG atomically and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def prepare_out_dir(path: str | Path) -> Path:
    """Create the results folder (and parents); a file in the way is a user error.

    Temporary files that a killed run left behind (``.NAME.XXXX.tmp``, written by
    :func:`atomic_write_bytes` and never renamed) are removed: the finished files
    beside them are complete, and the temporaries are of no use to anyone.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"--out {path}: exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--out {path}: cannot create the folder ({exc.strerror})") from None
    for stale in path.rglob(".*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
    return path


def write_scenario(path: str | Path, scenario: Scenario) -> Path:
    """Write ``scenario`` as TOML at ``path`` so that it loads from that folder.

    A user-supplied distance matrix (``geography.matrix_csv``) is written beside
    it as ``distances.csv`` (metres) and referenced from it: the scenario's own
    matrix file lies in its folder, which a results folder is not.
    """
    from tuoyu_sim.scenario import dump_toml

    path = Path(path)
    matrix = scenario.matrix()
    if matrix is None:
        return atomic_write_text(path, dump_toml(scenario))
    _write_matrix(path.parent / MATRIX_FILE, matrix)
    return atomic_write_text(path, dump_toml(scenario, matrix_csv=MATRIX_FILE))


def _write_matrix(path: Path, matrix: Mapping[tuple[str, str], float]) -> Path:
    rows = ({"from": a, "to": b, "distance_m": d} for (a, b), d in sorted(matrix.items()))
    return write_csv(path, rows, ["from", "to", "distance_m"])


def write_scenario_workbook(
    path: str | Path, scenario: Scenario, *, workbook: str | None = None
) -> Path:
    """Write ``scenario`` as a TOML file of settings and an .xlsx workbook of its tables.

    The workbook (default: the TOML file's name with ``.xlsx``) lies beside the
    TOML file and holds one sheet per table (``communities``, ``facilities``,
    ``candidate_sites``); the TOML file's ``[tables]`` name it, so that
    ``load_scenario(path)`` gives the scenario back. This is the template a
    planner fills in: edit the sheets in Excel or WPS, keep row 1. A distance
    matrix is written beside them as ``distances.csv``, as by
    :func:`write_scenario`. The workbook is written before the TOML file, so a
    TOML file never names a workbook that is not there.

    Returns
    -------
    Path
        The TOML file.
    """
    from tuoyu_sim.scenario import TABLE_SECTIONS, dump_toml

    path = Path(path)
    name = workbook or path.with_suffix(".xlsx").name
    if Path(name).name != name or Path(name).suffix.lower() != ".xlsx":
        raise UserError(f"workbook = {name!r}: a file name ending in .xlsx, without a folder")
    scenario.to_workbook(path.parent / name)
    matrix = scenario.matrix()
    tables = dict.fromkeys(TABLE_SECTIONS, name)
    if matrix is None:
        return atomic_write_text(path, dump_toml(scenario, tables=tables))
    _write_matrix(path.parent / MATRIX_FILE, matrix)
    return atomic_write_text(path, dump_toml(scenario, matrix_csv=MATRIX_FILE, tables=tables))


# -- workbooks -------------------------------------------------------------------

WORKBOOK_LANGS: tuple[str, ...] = ("zh", "en")
"""Languages of :func:`write_workbook`'s column headers."""

EXCEL_MAX_ROWS = 1_048_576
"""Rows of an Excel sheet, the header included; a longer table continues on
further sheets (``episodes``, ``episodes (2)``, ...)."""

SHEET_NAME_MAX = 31
"""Excel's limit on the length of a sheet name."""

_EXCEL_MAX_TEXT = 32_767
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_FIXED_STAMP = "1980-01-01T00:00:00Z"
_CORE_STAMP = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def sheet_names(tables: Sequence[str]) -> list[str]:
    """Excel sheet names for ``tables``, in order: valid, at most 31 characters, unique.

    Characters Excel refuses (``[ ] : * ? / \\``) become ``_``; a name is cut to 31
    characters; a name that is taken (Excel ignores case) gets ``~2``, ``~3``, ...
    within the 31 characters.
    """
    out: list[str] = []
    taken: set[str] = set()
    for table in tables:
        name = _SHEET_FORBIDDEN.sub("_", str(table)).strip("'") or "Sheet"
        if name.lower() == "history":  # reserved by Excel
            name += "_"
        name = name[:SHEET_NAME_MAX]
        candidate, n = name, 1
        while candidate.lower() in taken:
            n += 1
            suffix = f"~{n}"
            candidate = name[: SHEET_NAME_MAX - len(suffix)] + suffix
        taken.add(candidate.lower())
        out.append(candidate)
    return out


def _column_labels(lang: str) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Header labels for ``lang`` and the Chinese names of classes and care types."""
    if lang == "en":
        return {}, {}, {}
    from importlib import resources

    text = resources.files("tuoyu_sim").joinpath("report/labels.toml").read_text("utf-8")
    labels = tomllib.loads(text)
    return (
        labels["column_names"][lang],
        labels.get("age_names_zh", {}),
        labels.get("care_type_names_zh", {}),
    )


def column_header(
    column: str,
    labels: Mapping[str, str],
    age_names: Mapping[str, str] | None = None,
    type_names: Mapping[str, str] | None = None,
) -> str:
    """The header of a CSV column in a workbook: its label, or its CSV name.

    ``X_lo`` / ``X_hi`` are the ends of ``X``'s interval; ``places_<class>``,
    ``turn_away_rate_<type>`` and the like name an age class or a care type
    (``labels`` keys written with ``<class>`` / ``<type>``).
    """
    if not labels:
        return column
    if column in labels:
        return labels[column]
    for end in ("lo", "hi"):
        template = labels.get(f"<column>_{end}")
        if template and column.endswith(f"_{end}") and len(column) > 3:
            inner = column_header(column[: -len(end) - 1], labels, age_names, type_names)
            return template.format(inner)
    for key, template in labels.items():
        for marker, names in (("<class>", age_names or {}), ("<type>", type_names or {})):
            if not key.endswith(marker) or key.startswith("<"):
                continue
            prefix = key[: -len(marker)]
            rest = column[len(prefix) :]
            if column.startswith(prefix) and rest:
                return template.format(names.get(rest, rest))
    return column


def _headers(columns: Sequence[str], lang: str) -> list[str]:
    labels, ages, types = _column_labels(lang)
    heads = [column_header(c, labels, ages, types) for c in columns]
    seen: dict[str, int] = {}
    for h in heads:
        seen[h] = seen.get(h, 0) + 1
    # two columns with one label: say which CSV column each is
    return [
        f"{h}（{c}）" if seen[h] > 1 and h != c else h for h, c in zip(heads, columns, strict=True)
    ]


def _table_columns_rows(
    data: Sequence[Mapping[str, Any]] | pd.DataFrame, columns: Sequence[str] | None
) -> tuple[list[str], list[Mapping[str, Any]]]:
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a pandas DataFrame
        cols = [str(c) for c in data.columns]
        records = data.to_dict(orient="records")
        rows: list[Mapping[str, Any]] = [{str(k): v for k, v in r.items()} for r in records]
    else:
        rows = list(data)
        cols = []
        seen: set[str] = set()
        for row in rows:
            for k in row:
                if k not in seen:
                    seen.add(k)
                    cols.append(k)
    return (list(columns) if columns is not None else cols), rows


def _xlsx_value(value: Any) -> Any:
    """A cell value as openpyxl writes it; ``None`` leaves the cell empty."""
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, str | bytes):
        with contextlib.suppress(TypeError, ValueError):
            value = value.item()  # numpy scalars
    if isinstance(value, float):
        return round(value, 10) if math.isfinite(value) else None
    if isinstance(value, Mapping | list | tuple):
        value = json.dumps(_jsonable(value), ensure_ascii=False)
    elif value is not None and not isinstance(value, bool | int | str):
        if _is_missing(value):
            return None
        value = str(value)
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if len(value) > _EXCEL_MAX_TEXT:
            value = value[: _EXCEL_MAX_TEXT - 1] + "…"
    return value


def _is_missing(value: Any) -> bool:
    """pandas' missing values (``pd.NA``, ``NaT``) of a scalar cell."""
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (ImportError, TypeError, ValueError):
        return False


def _header_cell(ws: Any, value: Any) -> Any:
    """A bold header cell; text, never a formula."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(ws, value=_xlsx_value(value))
    if isinstance(cell.value, str):
        cell.data_type = "s"  # a header starting with "=" is text, never a formula
    cell.font = Font(bold=True)
    return cell


def _rows_xml(rows: Iterable[Sequence[Any]], first_row: int) -> bytes:
    """``<row>`` elements of a worksheet's ``sheetData``, numbered from ``first_row``.

    openpyxl writes the workbook (sheets, styles, the bold header) but is slow on
    data rows without lxml (some 30,000 cells a second through its pure-Python
    XML writer, so a simulation's curves took seconds); the rows are plain
    OOXML, written here: numbers as ``t="n"``, booleans ``t="b"``, text as inline
    strings (never formulas, whatever they start with), empty cells left out.
    """
    from openpyxl.utils import get_column_letter

    letters: list[str] = []
    out: list[str] = []
    for r, row in enumerate(rows, start=first_row):
        while len(letters) < len(row):
            letters.append(get_column_letter(len(letters) + 1))
        cells = []
        for letter, raw in zip(letters, row, strict=False):
            kind = type(raw)
            if kind is int or (kind is float and math.isfinite(raw)):  # the common case
                value = raw if kind is int else round(raw, 10)
                cells.append(f'<c r="{letter}{r}" t="n"><v>{value!r}</v></c>')
                continue
            value = _xlsx_value(raw)
            if value is None:
                continue
            if isinstance(value, bool):
                cells.append(f'<c r="{letter}{r}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int | float):
                cells.append(f'<c r="{letter}{r}" t="n"><v>{value!r}</v></c>')
            else:
                text = xml_escape(str(value))
                keep = ' xml:space="preserve"' if text != text.strip() else ""
                cells.append(f'<c r="{letter}{r}" t="inlineStr"><is><t{keep}>{text}</t></is></c>')
        out.append(f'<row r="{r}">{"".join(cells)}</row>')
    return "".join(out).encode("utf-8")


def workbook_bytes(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """An .xlsx file of ``(sheet name, header, rows)``, reproducible byte for byte.

    The header row is bold and stays in view (frozen). Sheet names must already be
    valid (:func:`sheet_names`).
    """
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    data: dict[str, bytes] = {}
    for k, (name, header, rows) in enumerate(sheets, start=1):
        ws = wb.create_sheet(title=name)
        ws.freeze_panes = "A2"
        if header:
            ws.append([_header_cell(ws, h) for h in header])
        # write-only sheets are stored in order as sheet1.xml, sheet2.xml, ...
        data[f"xl/worksheets/sheet{k}.xml"] = _rows_xml(rows, 2 if header else 1)
    if not sheets:
        wb.create_sheet(title="Sheet")
    buf = io.BytesIO()
    wb.save(buf)
    return _reproducible_zip(buf.getvalue(), data)


def _reproducible_zip(data: bytes, rows: Mapping[str, bytes]) -> bytes:
    """The same zip with fixed timestamps (entries and the document's dates), and
    ``rows`` appended to the ``sheetData`` of the worksheets they name."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _CORE_STAMP.sub(rb"\g<1>" + _FIXED_STAMP.encode() + rb"\g<3>", body)
            if rows.get(info.filename):
                if body.count(b"</sheetData>") != 1:
                    raise RuntimeError(f"{info.filename}: unexpected worksheet XML from openpyxl")
                body = body.replace(b"</sheetData>", rows[info.filename] + b"</sheetData>")
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, body)
    return out.getvalue()


def write_workbook(
    path: str | Path,
    tables: Mapping[str, Sequence[Mapping[str, Any]] | pd.DataFrame],
    lang: str = "zh",
    *,
    columns: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Write result tables as one Excel workbook, one sheet per table, atomically.

    Parameters
    ----------
    path
        The ``.xlsx`` file (``results.xlsx`` in a results folder).
    tables
        Table name (the CSV file's stem) -> rows (dicts) or a DataFrame. The sheet
        is named after the table (cut to Excel's 31 characters, kept unique); a
        table longer than an Excel sheet continues on ``NAME (2)``, ...
    lang
        ``"zh"``: Chinese column headers (``[column_names.zh]`` in
        ``report/labels.toml``; a column not listed keeps its CSV name);
        ``"en"``: the CSV column names.
    columns
        Column order per table (default: a DataFrame's columns, or the rows'
        keys in order of first appearance), as ``write_csv`` takes it.

    Cells hold the CSV's values: numbers as numbers (floats rounded to 10
    digits as in the CSV), NaN and infinity as empty cells, lists and dicts as
    JSON text; text starting with ``=`` stays text.
    """
    if lang not in WORKBOOK_LANGS:
        raise UserError(f"lang = {lang!r}: one of {', '.join(WORKBOOK_LANGS)}")
    per_sheet = EXCEL_MAX_ROWS - 1
    specs: list[tuple[str, list[str], list[str], list[Mapping[str, Any]]]] = []
    for table, data in tables.items():
        cols, rows = _table_columns_rows(data, (columns or {}).get(table))
        heads = _headers(cols, lang)
        chunks = [rows[i : i + per_sheet] for i in range(0, len(rows), per_sheet)] or [[]]
        for k, chunk in enumerate(chunks):
            specs.append((table if k == 0 else f"{table} ({k + 1})", heads, cols, chunk))
    names = sheet_names([s[0] for s in specs])
    sheets = [
        (name, heads, ([r.get(c) for c in cols] for r in chunk))
        for name, (_, heads, cols, chunk) in zip(names, specs, strict=True)
    ]
    return atomic_write_bytes(path, workbook_bytes(sheets))
