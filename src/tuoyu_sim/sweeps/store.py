"""The results folder of a sweep: one JSON file per finished point, and ``sweep.csv``.

A finished point is written to ``points/<id>.json`` atomically; a later run with
the same folder skips every point whose file exists and matches, so a sweep
resumes where it was interrupted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuoyu_sim.sweeps.grid import Axis, Point

log = logging.getLogger(__name__)

FORMAT = 1
"""Version of the point-file layout; a point file of another format is recomputed."""

POINTS_DIR = "points"


def point_path(out_dir: Path, pid: str) -> Path:
    return out_dir / POINTS_DIR / f"{pid}.json"


def load_finished(out_dir: Path, points: Sequence[Point]) -> dict[str, dict[str, Any]]:
    """Records of points already finished in ``out_dir`` (file exists and matches)."""
    done: dict[str, dict[str, Any]] = {}
    for p in points:
        path = point_path(out_dir, p.id)
        if not path.is_file():
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("%s: unreadable; the point is recomputed", path)
            continue
        if (
            isinstance(record, dict)
            and record.get("format") == FORMAT
            and record.get("id") == p.id
            and "headline" in record
        ):
            done[p.id] = record
    return done


def save_point(out_dir: Path, record: Mapping[str, Any]) -> Path:
    """Write one finished point atomically."""
    from tuoyu_sim.output import write_json

    return write_json(point_path(out_dir, str(record["id"])), record)


def sweep_rows(
    points: Sequence[Point], axes: Sequence[Axis], records: Mapping[str, Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows and columns of ``sweep.csv``: finished points in grid order."""
    columns = ["point", "index", *[a.key for a in axes]]
    figure_cols: list[str] = []
    rows = []
    for p in points:
        rec = records.get(p.id)
        if rec is None:
            continue
        row: dict[str, Any] = {"point": p.id, "index": p.index}
        for a in axes:
            v = p.params[a.key]
            row[a.key] = str(v).lower() if isinstance(v, bool) else v
        figures = {**rec.get("headline", {}), **rec.get("plan", {})}
        for k in figures:
            if k not in figure_cols:
                figure_cols.append(k)
        row.update(figures)
        row["error"] = rec.get("error") or ""
        rows.append(row)
    if "public_cost_cny_per_year" in figure_cols:  # priced points (tuoyu_sim.fees)
        from tuoyu_sim.fees import cost_per_extra_child

        extra = cost_per_extra_child(rows)
        for row, value in zip(rows, extra, strict=True):
            row[EXTRA_CHILD] = value
        figure_cols.append(EXTRA_CHILD)
    return rows, [*columns, *figure_cols, "error"]


EXTRA_CHILD = "public_cost_per_extra_child_cny"
"""Column of ``sweep.csv``: public cost a year per additional enrolled child
against the sweep's first point (:func:`tuoyu_sim.fees.cost_per_extra_child`)."""


CSV_EVERY_S = 2.0
"""Least seconds between two rewrites of ``sweep.csv`` while a sweep runs."""


def write_sweep_csv(
    out_dir: Path,
    points: Sequence[Point],
    axes: Sequence[Axis],
    records: Mapping[str, Mapping[str, Any]],
) -> Path:
    """Rewrite ``sweep.csv`` atomically from the finished points."""
    from tuoyu_sim.output import write_csv

    rows, columns = sweep_rows(points, axes, records)
    return write_csv(out_dir / "sweep.csv", rows, columns)
