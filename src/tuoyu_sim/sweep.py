"""What-if sweeps: a grid of scenario variants, simulated in parallel, resumable.

A sweep is the cartesian product of ``--set KEY=V1,V2,...`` axes over a base
scenario. Each *point* of the grid is the base scenario with one value of every
axis applied (:meth:`Scenario.with_changes`), validated before anything runs.

Keys
    A dotted key path into the scenario (``care_types.drop_in.stay.mean_hours``);
    ``*`` addresses every element of a list (or every entry of a table), so
    ``communities.*.demand.drop_in`` sets the value in every community. A key
    ending in ``*`` right after a name (``communities.*.demand.drop_in*``) is a
    *scale*: each value multiplies the current value at every matched path
    (a whole-number value stays a whole number, rounded half to even).
Values
    TOML scalars: numbers, ``true``/``false``, ``"quoted strings"``; a bare word
    is read as a string. Commas inside quotes do not split values.

Common random numbers: every point runs with the same seed, and replication k
of every point sees the same random streams for the same facility
(:mod:`tuoyu_sim.streams`), so differences between points are not luck.

Resuming: a point's id is a stable hash of its parameters and of the complete
scenario it simulates (which includes seed, replications and days). A finished
point is written to ``points/<id>.json`` atomically; a later run with the same
results folder skips every point whose file exists and matches. Nothing here
depends on where a point ran, so a local pool and a Dask cluster give the same
figures.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import itertools
import json
import logging
import math
import re
import signal
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuoyu_sim.errors import ScenarioError, UserError
from tuoyu_sim.scenario import Scenario, split_path

log = logging.getLogger(__name__)

FORMAT = 1
"""Version of the point-file layout; a point file of another format is recomputed."""

POINTS_DIR = "points"

_MISSING = object()


# -- grid ------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """One ``--set KEY=V1,V2,...``: a key path and the values it takes.

    Attributes
    ----------
    key
        The key exactly as written (the CSV column name), e.g.
        ``communities.*.demand.drop_in*``.
    path
        The key path without a trailing scale ``*``.
    values
        The values, parsed as TOML scalars, in the order given.
    scale
        Whether each value multiplies the current value (key ended in ``*``).
    """

    key: str
    path: str
    values: tuple[Any, ...]
    scale: bool = False


def _split_values(text: str) -> list[str]:
    """Split ``1,2,"a,b"`` at commas outside quotes and brackets."""
    parts: list[str] = []
    buf: list[str] = []
    quote: str | None = None
    depth = 0
    for ch in text:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append("".join(buf).strip())
            buf = []
            continue
        buf.append(ch)
    parts.append("".join(buf).strip())
    return parts


_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-:]*$")


def parse_value(text: str, key: str) -> Any:
    """One value as a TOML scalar (number, boolean, string); a bare word is a string.

    Raises
    ------
    UserError
        The value is empty, an array or table, a date, or not a scalar at all.
    """
    if text == "":
        raise UserError(f"--set {key}: an empty value; give numbers, true/false or strings")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        if _BARE.match(text):
            return text
        raise UserError(
            f"--set {key}={text}: not a TOML scalar; give a number (2, 1.5), "
            'true/false, or a string ("lognormal")'
        ) from None
    if isinstance(value, bool | int | float | str):
        return value
    raise UserError(
        f"--set {key}={text}: a {type(value).__name__} is not allowed; "
        "a value is a number, true/false or a string"
    )


def parse_set(text: str) -> Axis:
    """Parse one ``KEY=V1,V2,...`` into an :class:`Axis`.

    Raises
    ------
    UserError
        No ``=``, an empty key or value list, a repeated value, an unparsable
        value, or a scale (``KEY*``) with a value that is not a number ≥ 0.
    """
    if "=" not in text:
        raise UserError(
            f"--set {text}: expected KEY=V1,V2,... "
            "(e.g. care_types.drop_in.stay.mean_hours=1.5,2,3)"
        )
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key:
        raise UserError(f"--set {text}: the key path before '=' is empty")
    scale = key.endswith("*") and len(key) > 1 and key[-2] not in ".]*"
    path = key[:-1] if scale else key
    if not split_path(path):
        raise UserError(f"--set {text}: {key!r} is not a dotted key path")
    if not raw.strip():
        raise UserError(f"--set {key}=: no values after '='; give V1,V2,...")
    values = [parse_value(v, key) for v in _split_values(raw)]
    if scale:
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise UserError(
                    f"--set {key}={_show(v)}: a scale (key ending in '*') takes numbers ≥ 0"
                )
            if v < 0:
                raise UserError(f"--set {key}={_show(v)}: a scale factor must be ≥ 0")
    seen: set[str] = set()
    for v in values:
        mark = json.dumps(v)
        if mark in seen:
            raise UserError(f"--set {key}={_show(v)}: the value is given twice")
        seen.add(mark)
    return Axis(key=key, path=path, values=tuple(values), scale=scale)


def parse_grid(texts: Sequence[str]) -> list[Axis]:
    """Every ``--set``, in order; the same key twice is an error."""
    if not texts:
        raise UserError("--set KEY=V1,V2,...: at least one is needed")
    axes = [parse_set(t) for t in texts]
    keys = [a.key for a in axes]
    for k in keys:
        if keys.count(k) > 1:
            raise UserError(f"--set {k}: the same key is given twice; put all values in one --set")
    return axes


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


def _fmt_path(parts: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in parts)


def _expand(
    node: Any, parts: Sequence[str | int], done: tuple[str | int, ...], key: str
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Concrete paths matched by ``parts`` (``*`` over lists and tables) and their values."""
    if not parts:
        yield done, node
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(node, list):
            for i, item in enumerate(node):
                yield from _expand(item, rest, (*done, i), key)
        elif isinstance(node, dict):
            for name, item in node.items():
                yield from _expand(item, rest, (*done, name), key)
        elif node is _MISSING:
            raise UserError(f"--set {key}: nothing at {_fmt_path(done)} for '*' to address")
        else:
            raise UserError(
                f"--set {key}: '*' addresses a list or table, but {_fmt_path(done)} "
                f"is a {type(node).__name__}"
            )
        return
    if isinstance(node, list):
        if not isinstance(head, int):
            raise UserError(
                f"--set {key}: {_fmt_path(done)} is a list; address an element by index "
                f"(0–{len(node) - 1}) or '*'"
            )
        if not 0 <= head < len(node):
            raise UserError(
                f"--set {key}: index {head} is out of range "
                f"({_fmt_path(done)} has {len(node)} elements, 0–{len(node) - 1})"
            )
        yield from _expand(node[head], rest, (*done, head), key)
    elif isinstance(node, dict):
        name = str(head)
        yield from _expand(node.get(name, _MISSING), rest, (*done, name), key)
    elif node is _MISSING:
        yield from _expand(_MISSING, rest, (*done, head), key)
    else:
        raise UserError(
            f"--set {key}: {_fmt_path(done)} is a value ({_show(node)}), not a table to go into"
        )


def _assign(data: Any, parts: Sequence[str | int], value: Any) -> None:
    node = data
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node.setdefault(str(p), {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[str(parts[-1])] = value


def axis_changes(data: Any, axis: Axis, value: Any) -> dict[str, Any]:
    """The concrete ``{path: value}`` changes of one axis value, applied to ``data`` in place.

    A scale multiplies the current value at every matched path; a path where
    the value is absent is left alone (an absent demand is zero demand).

    Raises
    ------
    UserError
        The path addresses nothing, goes through a value, or a scaled value is
        not a number.
    """
    matches = list(_expand(data, split_path(axis.path), (), axis.key))
    if not matches:
        raise UserError(f"--set {axis.key}: '*' addresses no element here (the list is empty)")
    changes: dict[str, Any] = {}
    for parts, current in matches:
        if axis.scale:
            if current is _MISSING:
                continue
            if isinstance(current, bool) or not isinstance(current, int | float):
                raise UserError(
                    f"--set {axis.key}={_show(value)}: {_fmt_path(parts)} = {_show(current)} "
                    "is not a number, so it cannot be scaled"
                )
            new: Any = current * value
            if isinstance(current, int):
                new = round(new)
        else:
            new = value
        changes[_fmt_path(parts)] = new
        _assign(data, parts, new)
    if axis.scale and not changes:
        raise UserError(
            f"--set {axis.key}: no value at {axis.path} in the scenario to scale "
            "(check the key path; scaling needs an existing number)"
        )
    return changes


@dataclass(frozen=True)
class SweepSolver:
    """The solver and relative gap of ``--optimize`` (the allocation's defaults:
    ``tuoyu_sim.allocate.solvers.DEFAULT_SOLVER`` and ``DEFAULT_GAP``, repeated
    here so that a sweep without ``--optimize`` does not import the solvers; a
    test holds them equal)."""

    name: str = "highs"
    gap: float = 0.001


@dataclass(frozen=True)
class Point:
    """One grid point: its parameters, the scenario it simulates, and its stable id."""

    index: int
    params: dict[str, Any]
    """``{axis key: value}`` in axis order."""
    changes: dict[str, Any]
    """Concrete ``{dotted path: value}`` applied to the base scenario."""
    scenario: Scenario
    id: str


def point_id(
    params: Mapping[str, Any],
    scenario: Scenario,
    optimize: bool,
    solver: SweepSolver | None = None,
) -> str:
    """A stable hash of a point's parameters and the whole scenario it runs (16 hex digits).

    The scenario's content includes seed, replications and days (and the rows
    of its tables and distance matrix), so changing any of them gives new ids;
    the grid index does not enter, so adding a value to an axis keeps the ids
    of the other points. With ``optimize``, a solver or gap other than the
    defaults gives new ids too.
    """
    doc: dict[str, Any] = {
        "format": FORMAT,
        "params": dict(params),
        "optimize": bool(optimize),
        "scenario": scenario.to_dict(),
        "matrix": sorted([a, b, d] for (a, b), d in (scenario.matrix() or {}).items()),
    }
    if optimize and solver is not None and solver != SweepSolver():
        doc["solver"] = [solver.name, solver.gap]
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def expand_grid(
    base: Scenario,
    axes: Sequence[Axis],
    optimize: bool = False,
    solver: SweepSolver | None = None,
) -> list[Point]:
    """Every point of the grid, each scenario validated, before anything runs.

    A problem is named with the ``--set`` key and value that cause it when that
    value is invalid on its own, and with the whole grid point when only the
    combination is (e.g. more reserved places than the point's places).

    Raises
    ------
    UserError
        One line per problem: the ``--set`` key, the value, and what is allowed.
    """
    base_data = base.to_dict()
    problems: list[str] = []
    for axis in axes:  # key paths and scale targets, independent of the other axes
        for value in axis.values:
            try:
                axis_changes(copy.deepcopy(base_data), axis, value)
            except UserError as exc:
                problems.extend(exc.problems)
    if problems:
        raise UserError(_dedupe(problems))
    alone: dict[tuple[int, str], list[str]] = {}

    def problems_alone(i: int, value: Any) -> list[str]:
        mark = (i, json.dumps(value))
        if mark not in alone:
            try:
                base.with_changes(axis_changes(copy.deepcopy(base_data), axes[i], value))
                alone[mark] = []
            except ScenarioError as exc:
                alone[mark] = [_strip_label(p, base) for p in exc.problems]
        return alone[mark]

    points: list[Point] = []
    failures: list[tuple[tuple[Any, ...], dict[str, Any], list[str]]] = []
    for index, combo in enumerate(itertools.product(*(a.values for a in axes))):
        data = copy.deepcopy(base_data)
        changes: dict[str, Any] = {}
        for axis, value in zip(axes, combo, strict=True):
            changes.update(axis_changes(data, axis, value))
        params = {a.key: v for a, v in zip(axes, combo, strict=True)}
        try:
            scenario = base.with_changes(changes)
        except ScenarioError as exc:
            failures.append((combo, params, [_strip_label(p, base) for p in exc.problems]))
            continue
        points.append(
            Point(
                index=index,
                params=params,
                changes=changes,
                scenario=scenario,
                id=point_id(params, scenario, optimize, solver),
            )
        )
    if failures:
        # A value is to blame on its own when it fails alone and in every combination.
        n_points = math.prod(len(a.values) for a in axes)
        failed: dict[tuple[int, str], int] = {}
        for combo, _, _ in failures:
            for i, v in enumerate(combo):
                failed[(i, json.dumps(v))] = failed.get((i, json.dumps(v)), 0) + 1
        for combo, params, probs in failures:
            where = ", ".join(f"{k}={_show(v)}" for k, v in params.items())
            for prob in probs:
                culprit = next(
                    (
                        f"--set {axes[i].key}={_show(v)}"
                        for i, v in enumerate(combo)
                        if failed[(i, json.dumps(v))] == n_points // len(axes[i].values)
                        and prob in problems_alone(i, v)
                    ),
                    f"--set {where} (this combination)",
                )
                problems.append(f"{culprit}: {prob}")
        lines = _dedupe(problems)
        if len(lines) > 20:
            lines = [*lines[:20], f"... and {len(lines) - 20} more problems"]
        raise UserError(lines)
    return points


def _strip_label(problem: str, base: Scenario) -> str:
    label = f"{base.source}: " if base.source is not None else "<scenario>: "
    return problem.removeprefix(label)


def _dedupe(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))


# -- one point -------------------------------------------------------------------


@dataclass(frozen=True)
class PointTask:
    """What a worker needs to run one point (picklable)."""

    id: str
    index: int
    params: dict[str, Any]
    scenario: Scenario
    optimize: bool = False
    solver: SweepSolver = SweepSolver()


def headline(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The figures of one point that go into ``sweep.csv`` (flat, CSV-ready).

    District utilization and walk-in turn-away with 95% intervals, turn-away
    per walk-in care type, breach day share, waitlist, enrolled, places and
    places per 1,000.
    """
    d = summary["district"]
    row: dict[str, Any] = {}
    row.update(_flat("utilization", d["utilization"]))
    row.update(_flat("turn_away_rate", d["turn_away_rate"]))
    for t, v in summary["care_types"].items():
        if v.get("mode") == "walk_in":
            row.update(_flat(f"turn_away_rate_{t}", v["turn_away_rate"]))
    row.update(_flat("breach_day_share", d["breach_day_share"]))
    row["waitlist"] = d["waitlist"]
    row["enrolled"] = d["enrolled"]
    row["enrolled_demand"] = d["enrolled_demand"]
    row["places"] = d["places"]
    row["places_per_1000"] = d["places_per_1000"]
    for t, v in summary["care_types"].items():
        if v.get("mode") == "walk_in":
            row[f"arrivals_{t}"] = v["arrivals"]
            row[f"turned_away_{t}"] = v["turned_away"]
    return row


def _flat(name: str, value: Mapping[str, Any]) -> dict[str, Any]:
    ci = value.get("ci95") or [None, None]
    return {name: value.get("mean"), f"{name}_lo": ci[0], f"{name}_hi": ci[1]}


def run_point(task: PointTask) -> dict[str, Any]:
    """Optimize (if asked) and simulate one point in this process; return its record.

    The simulation is single-process: parallelism is across points. A
    :class:`UserError` of the point itself (e.g. an infeasible optimization)
    is recorded in the record's ``error``, so the rest of the sweep goes on.
    """
    from tuoyu_sim.metrics import summarize
    from tuoyu_sim.simulate import simulate

    started = time.perf_counter()
    cpu_started = time.process_time()
    record: dict[str, Any] = {
        "format": FORMAT,
        "id": task.id,
        "params": task.params,
        "optimize": task.optimize,
        "scenario": task.scenario.name,
        "seed": task.scenario.simulation.seed,
        "replications": task.scenario.simulation.replications,
        "days": task.scenario.simulation.days,
        "error": None,
    }
    try:
        scenario = task.scenario
        if task.optimize:
            scenario, record["plan"] = _optimize(scenario, task.solver)
        result = simulate(scenario, workers=1)
        summary = summarize(result)
        summary.pop("versions", None)
        summary["command"] = "sweep-point"
        record["headline"] = headline(summary)
        record["summary"] = summary
    except UserError as exc:
        record["error"] = "; ".join(exc.problems)
        record["headline"] = {}
    record["seconds"] = round(time.perf_counter() - started, 3)
    record["cpu_seconds"] = round(time.process_time() - cpu_started, 3)
    return _plain(record)


def _optimize(scenario: Scenario, solver: SweepSolver) -> tuple[Scenario, dict[str, Any]]:
    """Min-cost plan of ``scenario`` (one thread); the planned scenario and plan figures."""
    from tuoyu_sim.allocate import OptimizeOptions, SolverSpec, optimize, planned_scenario

    spec = SolverSpec(solver.name, gap=solver.gap, threads=1)  # type: ignore[arg-type]
    plan = optimize(scenario, OptimizeOptions(objective="min-cost"), spec)
    planned = planned_scenario(plan, scenario)
    figures = {
        "plan_status": plan.status,
        "plan_cost_cny": round(plan.cost_cny, 2),
        "plan_new_sites": len(plan.new_sites),
        "plan_added_places": plan.added_places,
    }
    return planned, figures


def _plain(value: Any) -> Any:
    """Plain JSON types (numpy scalars to Python, NaN/inf to None)."""
    return json.loads(json.dumps(value, default=_default, allow_nan=True), parse_constant=_nan)


def _default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _nan(_: str) -> None:
    return None


# -- results folder --------------------------------------------------------------


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
    return rows, [*columns, *figure_cols, "error"]


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


# -- backends --------------------------------------------------------------------


def _ignore_sigint() -> None:  # pragma: no cover - runs in worker processes
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def local_results(tasks: Sequence[PointTask], workers: int) -> Iterator[dict[str, Any]]:
    """Run points on a local process pool; yield records as they finish.

    ``workers == 1`` runs in this process. Closing the iterator early (or an
    interrupt while it waits) cancels pending points and stops the workers.
    """
    if workers <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield run_point(t)
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(tasks)), mp_context=ctx, initializer=_ignore_sigint
    )
    finished = False
    try:
        pending: set[Future[dict[str, Any]]] = {pool.submit(run_point, t) for t in tasks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield f.result()
        finished = True
    finally:
        if not finished:
            _stop_pool(pool)
        pool.shutdown(wait=finished, cancel_futures=True)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel queued points and end the worker processes running the others."""
    # The executor has no public way to stop running calls; its workers are ours.
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.terminate()
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.join(timeout=5)


def dask_client(address: str, timeout_s: float = 10.0) -> Any:
    """A client of the Dask scheduler at ``address`` that has at least one worker.

    Raises
    ------
    UserError
        dask.distributed is not installed, the scheduler cannot be reached, or
        it has no workers.
    """
    try:
        from distributed import Client
    except ImportError:
        raise UserError(
            f"--dask {address}: dask.distributed is not installed; "
            "install it with: pip install 'tuoyu-sim[dask]'"
        ) from None
    try:
        client = Client(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UserError(
            f"--dask {address}: cannot reach the Dask scheduler ({exc}); start one with "
            "`dask scheduler` and give its address, e.g. tcp://10.0.0.5:8786"
        ) from None
    try:
        client.wait_for_workers(1, timeout=timeout_s)
    except (TimeoutError, OSError):
        client.close()
        raise UserError(
            f"--dask {address}: the scheduler has no workers after {timeout_s:g} s; "
            f"start some with `dask worker {address}`"
        ) from None
    return client


def dask_results(tasks: Sequence[PointTask], client: Any) -> Iterator[dict[str, Any]]:
    """Run points on a Dask cluster; yield records as they finish.

    Each point is one task running :func:`run_point` (single-threaded inside).
    Closing the iterator early, or an interrupt, cancels the points not finished.
    """
    from distributed import as_completed

    futures = [
        client.submit(run_point, t, key=f"tuoyu-sweep-point-{t.id}", pure=False) for t in tasks
    ]
    finished = False
    try:
        for fut in as_completed(futures, loop=client.loop):
            yield fut.result()
        finished = True
    finally:
        if not finished:
            with contextlib.suppress(Exception):
                client.cancel(futures, force=True)


# -- a whole sweep ---------------------------------------------------------------


@dataclass
class SweepRun:
    """What :func:`run_sweep` did."""

    records: dict[str, dict[str, Any]]
    """Finished points by id (resumed and computed)."""
    resumed: list[str]
    """Ids found finished on start and not recomputed."""
    computed: list[str]
    """Ids computed by this run, in finishing order."""
    seconds: float


def run_sweep(
    points: Sequence[Point],
    axes: Sequence[Axis],
    out_dir: Path,
    results: Callable[[Sequence[PointTask]], Iterable[dict[str, Any]]],
    *,
    optimize: bool = False,
    solver: SweepSolver = SweepSolver(),
    on_start: Callable[[int, int], None] | None = None,
    on_point: Callable[[dict[str, Any]], None] | None = None,
) -> SweepRun:
    """Run the points not yet finished in ``out_dir``; stream each to disk as it finishes.

    Parameters
    ----------
    points, axes
        From :func:`expand_grid` and :func:`parse_grid`.
    out_dir
        The results folder (created by the caller).
    results
        A backend: tasks in, records out as they finish (:func:`local_results`
        or :func:`dask_results` with their options bound).
    optimize, solver
        Optimize each point first (min-cost), with this solver and gap.
    on_start
        Called with (points already finished, points to run).
    on_point
        Called with each record after it is written.

    After each point ``points/<id>.json`` is written, and ``sweep.csv`` is
    rewritten from the finished points at most every :data:`CSV_EVERY_S` seconds
    and at the end (also when interrupted), all atomically: an interruption at any
    moment leaves only whole files, and rewriting a large table after every
    point would make the sweep quadratic in its size.
    """
    started = time.perf_counter()
    records = load_finished(out_dir, points)
    resumed = list(records)
    todo = [p for p in points if p.id not in records]
    if on_start:
        on_start(len(resumed), len(todo))
    write_sweep_csv(out_dir, points, axes, records)
    computed: list[str] = []
    tasks = [
        PointTask(
            id=p.id,
            index=p.index,
            params=p.params,
            scenario=p.scenario,
            optimize=optimize,
            solver=solver,
        )
        for p in todo
    ]
    stream = iter(results(tasks)) if tasks else iter(())
    written = time.perf_counter()
    try:
        with contextlib.closing(stream) as it:  # type: ignore[type-var]
            for record in it:
                save_point(out_dir, record)
                records[record["id"]] = record
                computed.append(record["id"])
                if time.perf_counter() - written >= CSV_EVERY_S:
                    write_sweep_csv(out_dir, points, axes, records)
                    written = time.perf_counter()
                if on_point:
                    on_point(record)
    finally:
        if computed:
            write_sweep_csv(out_dir, points, axes, records)
    return SweepRun(
        records=records,
        resumed=resumed,
        computed=computed,
        seconds=time.perf_counter() - started,
    )


def sweep_summary(
    base: Scenario,
    axes: Sequence[Axis],
    points: Sequence[Point],
    run: SweepRun | None,
    *,
    optimize: bool,
    backend: str,
    complete: bool,
    solver: SweepSolver = SweepSolver(),
) -> dict[str, Any]:
    """The ``summary.json`` of ``sweep``."""
    import platform

    from tuoyu_sim import __version__

    finished = [p.id for p in points if run is not None and p.id in run.records]
    failed = [
        p.id for p in points if run is not None and (run.records.get(p.id) or {}).get("error")
    ]
    return {
        "command": "sweep",
        "scenario": base.name,
        "scenario_file": str(base.source) if base.source else None,
        "seed": base.simulation.seed,
        "replications": base.simulation.replications,
        "days": base.simulation.days,
        "optimize": optimize,
        "optimize_solver": {"name": solver.name, "gap": solver.gap} if optimize else None,
        "backend": backend,
        "grid": [
            {"key": a.key, "path": a.path, "scale": a.scale, "values": list(a.values)} for a in axes
        ],
        "points": len(points),
        "points_finished": len(finished),
        "points_resumed": len(run.resumed) if run else 0,
        "points_computed": len(run.computed) if run else 0,
        "points_failed": len(failed),
        "complete": complete,
        "run_seconds": round(run.seconds, 3) if run else 0.0,
        "point_ids": [p.id for p in points],
        "versions": {"tuoyu_sim": __version__, "python": platform.python_version()},
    }
