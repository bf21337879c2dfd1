"""The grid of a sweep: ``KEY=V1,V2,...`` axes, their points, and each point's stable id.

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
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tuoyu_sim.errors import ScenarioError, UserError
from tuoyu_sim.scenario import Scenario, split_path
from tuoyu_sim.sweeps.store import FORMAT

_MISSING = object()


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


DEFAULT_SWEEP_SOLVER = SweepSolver()
"""``--optimize`` without ``--solver`` or ``--gap``."""


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
    years: tuple[int, ...] = (),
) -> str:
    """A stable hash of a point's parameters and the whole scenario it runs (16 hex digits).

    The scenario's content includes seed, replications and days (and the rows
    of its tables and distance matrix), so changing any of them gives new ids;
    the grid index does not enter, so adding a value to an axis keeps the ids
    of the other points. With ``optimize``, a solver or gap other than the
    defaults gives new ids too, and so do ``years`` (a point over several years).
    """
    doc: dict[str, Any] = {
        "format": FORMAT,
        "params": dict(params),
        "optimize": bool(optimize),
        "scenario": scenario.to_dict(),
        "matrix": sorted([a, b, d] for (a, b), d in (scenario.matrix() or {}).items()),
    }
    if optimize and solver is not None and solver != DEFAULT_SWEEP_SOLVER:
        doc["solver"] = [solver.name, solver.gap]
    if years:
        doc["years"] = list(years)
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def expand_grid(
    base: Scenario,
    axes: Sequence[Axis],
    optimize: bool = False,
    solver: SweepSolver | None = None,
    years: tuple[int, ...] = (),
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
        raise UserError(list(dict.fromkeys(problems)))
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
                id=point_id(params, scenario, optimize, solver, years),
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
        lines = list(dict.fromkeys(problems))  # each problem once, in order
        if len(lines) > 20:
            lines = [*lines[:20], f"... and {len(lines) - 20} more problems"]
        raise UserError(lines)
    return points


def _strip_label(problem: str, base: Scenario) -> str:
    label = f"{base.source}: " if base.source is not None else "<scenario>: "
    return problem.removeprefix(label)
