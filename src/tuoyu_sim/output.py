"""Writing results atomically.

Every file a command writes goes through here: it is written to a temporary
file in the same folder and renamed into place, so an interrupted run leaves
either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuoyu_sim.errors import UserError

if TYPE_CHECKING:
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
    rows = ({"from": a, "to": b, "distance_m": d} for (a, b), d in sorted(matrix.items()))
    write_csv(path.parent / MATRIX_FILE, rows, ["from", "to", "distance_m"])
    return atomic_write_text(path, dump_toml(scenario, matrix_csv=MATRIX_FILE))
