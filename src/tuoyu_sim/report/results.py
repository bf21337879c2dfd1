"""Reading a results folder: :class:`Results` and :func:`load_results`.

:func:`load_results` reads whatever a results folder holds (``simulate``:
``summary.json``, ``facilities.csv``, ``care_types.csv``, ``curves.csv``,
``breach_by_hour.csv``, ``scenario.toml``; ``optimize``/``plan``:
``summary.json`` with ``objective``, ``plan.csv``, ``scenario.planned.toml``;
``sweep``: ``sweep.csv``; ``access``: ``access.csv``, ``access_planned.csv``,
``by_class.csv`` and the map PNGs of :data:`ACCESS_FIGURES`, which ``simulate``,
``optimize`` and ``plan`` folders hold too).
"""

from __future__ import annotations

import csv
import json
import logging
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuoyu_sim.errors import UserError

log = logging.getLogger("tuoyu_sim.report")  # one logger name for the whole report


#: Columns of the results CSV files that hold text, never numbers.
TEXT_COLUMNS = frozenset(
    {
        "scope",
        "key",
        "care_type",
        "time",
        "facility",
        "name",
        "group",
        "hour",
        "mode",
        "name_zh",
        "site",
        "kind",
        "id",
        "status",
        "point",
        "error",
        "community",
        "age_class",
    }
)

#: The PNG figures of accessibility (``access``, ``simulate``, ``optimize``, ``plan``),
#: in page order; the report redraws them in its language from the folder's scenarios
#: where it can, else embeds them as written (the maps need the 2SFCA arrays and the
#: coordinates, which the CSV tables do not hold).
ACCESS_FIGURES = (
    "access_map",
    "access_map_core",
    "access_map_planned",
    "access_map_planned_core",
    "deserts_before_after",
)


@dataclass(frozen=True)
class Results:
    """What a results folder holds (``None`` or empty where a file is absent)."""

    folder: Path
    summary: dict[str, Any] | None = None
    facilities_csv: list[dict[str, Any]] = field(default_factory=list)
    care_types_csv: list[dict[str, Any]] = field(default_factory=list)
    curves: list[dict[str, Any]] = field(default_factory=list)
    breach_by_hour: list[dict[str, Any]] = field(default_factory=list)
    plan_rows: list[dict[str, str]] = field(default_factory=list)
    iterations: list[dict[str, str]] = field(default_factory=list)
    places_by_group: list[dict[str, Any]] = field(default_factory=list)
    sweep_rows: list[dict[str, Any]] = field(default_factory=list)
    map_png: bytes | None = None
    access_rows: list[dict[str, Any]] = field(default_factory=list)
    access_planned_rows: list[dict[str, Any]] = field(default_factory=list)
    by_class_rows: list[dict[str, Any]] = field(default_factory=list)
    years_rows: list[dict[str, Any]] = field(default_factory=list)
    phases_rows: list[dict[str, Any]] = field(default_factory=list)
    phased_map_png: bytes | None = None
    access_pngs: dict[str, bytes] = field(default_factory=dict)
    scenario: dict[str, Any] | None = None
    scenario_file: str | None = None
    scenario_problem: str | None = None
    planned_scenario: bool = False
    files: tuple[str, ...] = ()

    @property
    def simulation(self) -> dict[str, Any] | None:
        """The simulation part of the summary (``simulate``, or ``plan``'s last check)."""
        s = self.summary or {}
        if isinstance(s.get("district"), dict):
            return s
        inner = s.get("simulation")
        if isinstance(inner, dict) and isinstance(inner.get("district"), dict):
            merged = dict(inner)  # ``plan`` keeps the facilities and versions at the top
            for key in ("facilities", "versions", "scenario_file"):
                if key not in merged and key in s:
                    merged[key] = s[key]
            return merged
        return None

    @property
    def optimization(self) -> dict[str, Any] | None:
        s = self.summary or {}
        return s if "objective" in s else None

    @property
    def is_phased(self) -> bool:
        """A folder of ``optimize``/``plan --years``: ``summary.json`` lists the years."""
        return isinstance((self.summary or {}).get("years"), list) and bool(self.years_rows)

    @property
    def is_access(self) -> bool:
        """A folder of ``access``: ``summary.json`` says so, or ``access.csv`` is there
        without a simulation or a plan (a ``simulate``/``optimize``/``plan`` folder that
        carries the accessibility is not an access folder: see :attr:`has_access`)."""
        if (self.summary or {}).get("command") == "access":
            return True
        return bool(self.access_rows) and self.simulation is None and self.optimization is None

    @property
    def access(self) -> dict[str, Any]:
        """The accessibility record: ``access``'s whole summary, or the ``access`` part
        of a simulate/optimize/plan summary (empty when there is none)."""
        s = self.summary or {}
        if s.get("command") == "access":
            return s
        record = s.get("access")
        return record if isinstance(record, dict) else {}

    @property
    def has_access(self) -> bool:
        """The folder carries accessibility: an access folder, access tables, or an
        ``access`` record in the summary (which may say why it was skipped)."""
        return self.is_access or bool(self.access_rows) or bool(self.access)


_NP_REPR = re.compile(r"^np\.\w+\((.*)\)$")


def _value(text: str) -> Any:
    """A CSV cell as a number where it is one (``""`` → None)."""
    text = text.strip()
    m = _NP_REPR.match(text)
    if m:  # a numpy scalar's repr, e.g. ``np.float64(3.0)``
        text = m.group(1)
    if text == "":
        return None
    if text in ("True", "False"):
        return text == "True"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_csv(path: Path, typed: bool = True) -> list[dict[str, Any]]:
    """Rows of a results CSV; numbers parsed except in :data:`TEXT_COLUMNS`."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{path}: cannot read it as a CSV table ({exc})") from None
    if not typed:
        return [{k: (v or "") for k, v in r.items() if k is not None} for r in rows]
    return [
        {k: (v if k in TEXT_COLUMNS else _value(v or "")) for k, v in r.items() if k is not None}
        for r in rows
    ]


def _read_png(path: Path, files: list[str]) -> bytes | None:
    """A PNG figure written by another command (``optimize``'s map), if it is one."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        log.warning("%s is not a PNG file; left out of the report", path)
        return None
    files.append(path.name)
    return data


def _read_toml(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return None, str(exc)


def load_results(folder: str | Path) -> Results:
    """Read a results folder of ``simulate``, ``optimize``, ``plan`` or ``sweep``.

    Raises
    ------
    UserError
        The folder does not exist, is not a folder, holds neither
        ``summary.json`` nor ``sweep.csv``, or ``summary.json`` is not valid JSON.
    """
    folder = Path(folder)
    if not folder.exists():
        raise UserError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder (give the results folder of a run)")
    summary_path = folder / "summary.json"
    sweep_path = folder / "sweep.csv"
    if not summary_path.is_file() and not sweep_path.is_file():
        raise UserError(
            f"{folder}: not a results folder — it has no summary.json (written by simulate, "
            "optimize or plan) and no sweep.csv (written by sweep); "
            f"run e.g. `tuoyu-sim simulate SCENARIO --out {folder}` first"
        )
    files: list[str] = []
    summary: dict[str, Any] | None = None
    if summary_path.is_file():
        try:
            data = json.loads(summary_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{summary_path}: cannot read it ({exc})") from None
        except json.JSONDecodeError as exc:
            raise UserError(
                f"{summary_path}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg}); re-run the command that wrote it"
            ) from None
        if not isinstance(data, dict):
            raise UserError(f"{summary_path}: expected a JSON object, found {type(data).__name__}")
        summary = data
        files.append("summary.json")

    def table(name: str, typed: bool = True) -> list[dict[str, Any]]:
        path = folder / name
        if not path.is_file():
            return []
        files.append(name)
        return read_csv(path, typed)

    scenario = None
    scenario_file = None
    problem = None
    for name in ("scenario.toml", "scenario.planned.toml"):
        path = folder / name
        if path.is_file():
            scenario_file = name
            scenario, problem = _read_toml(path)
            files.append(name)
            break
    planned = (folder / "scenario.planned.toml").is_file()
    if planned and "scenario.planned.toml" not in files:
        files.append("scenario.planned.toml")
    # a phased folder's facilities.csv has a row per facility and year: its
    # section shows the years, not one year's facilities
    phased = isinstance((summary or {}).get("years"), list)
    return Results(
        folder=folder,
        summary=summary,
        facilities_csv=[] if phased else table("facilities.csv"),
        care_types_csv=table("care_types.csv"),
        curves=table("curves.csv"),
        breach_by_hour=table("breach_by_hour.csv"),
        plan_rows=table("plan.csv", typed=False),
        iterations=table("iterations.csv", typed=False),
        places_by_group=table("places_by_group.csv"),
        sweep_rows=table("sweep.csv"),
        map_png=_read_png(folder / "map.png", files),
        access_rows=table("access.csv"),
        access_planned_rows=table("access_planned.csv"),
        by_class_rows=table("by_class.csv"),
        years_rows=table("years.csv"),
        phases_rows=table("phases.csv"),
        phased_map_png=_read_png(folder / "map_phased.png", files),
        access_pngs={
            name: png
            for name in ACCESS_FIGURES
            if (png := _read_png(folder / f"{name}.png", files)) is not None
        },
        scenario=scenario,
        scenario_file=scenario_file,
        scenario_problem=problem,
        planned_scenario=planned,
        files=tuple(files),
    )


def _nest(row: Mapping[str, Any], stats: Sequence[str]) -> dict[str, Any]:
    """A flat CSV row (``x``, ``x_lo``, ``x_hi``) as summary-style ``{"mean", "ci95"}``."""
    out = dict(row)
    for s in stats:
        if s in row:
            lo, hi = row.get(f"{s}_lo"), row.get(f"{s}_hi")
            out[s] = {"mean": row.get(s), "ci95": [lo, hi] if lo is not None else None}
    return out
