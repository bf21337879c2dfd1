"""Tables and definition lists of the page."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tuoyu_sim.report.formatting import _num, fmt_num
from tuoyu_sim.report.markup import Html, el
from tuoyu_sim.report.results import _value


def _table(
    head: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    numeric: Sequence[bool] | None = None,
    row_classes: Sequence[str | None] | None = None,
    cls: str = "",
) -> Html:
    numeric = numeric or [False] * len(head)
    thead = el(
        "thead",
        el(
            "tr",
            [el("th", h, cls="num" if n else None) for h, n in zip(head, numeric, strict=True)],
        ),
    )
    body = []
    for i, row in enumerate(rows):
        rc = row_classes[i] if row_classes else None
        body.append(
            el(
                "tr",
                [
                    el("td", _ci_cell(c), cls="num" if n else None)
                    for c, n in zip(row, numeric, strict=True)
                ],
                cls=rc,
            )
        )
    return el("div", el("table", thead, el("tbody", body), cls=cls or None), cls="table-wrap")


_CI_TEXT = re.compile(r"(.+) (\[[^\[\]]*\])")


def _ci_cell(value: Any) -> Any:
    """``mean [lo–hi]`` with the interval kept on one line (it may wrap below the mean)."""
    if isinstance(value, str) and not isinstance(value, Html):
        m = _CI_TEXT.fullmatch(value)
        if m:
            return [m.group(1), " ", el("span", m.group(2), cls="ci")]
    return value


def _generic_table(rows: Sequence[Mapping[str, str]], limit: int | None = None) -> Html:
    cols = list(rows[0].keys()) if rows else []
    shown = rows[:limit] if limit else rows
    numeric = [
        all(_num(_value(r.get(c) or "")) is not None or not r.get(c) for r in shown) for c in cols
    ]
    body = [[_cell(r.get(c, "")) for c in cols] for r in shown]
    return _table(cols, body, numeric)


def _cell(text: str) -> str:
    v = _value(text or "")
    if isinstance(v, float):
        return fmt_num(v, 4 if abs(v) < 1 else 2)
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}" if abs(v) >= 10_000 else str(v)
    return "" if v is None else str(v)


def _deflist(items: Sequence[tuple[str, Any]]) -> Html:
    return el(
        "dl",
        [[el("dt", k), el("dd", "—" if v in (None, "") else v)] for k, v in items],
        cls="facts",
    )
