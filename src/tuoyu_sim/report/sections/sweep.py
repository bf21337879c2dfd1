"""The what-if sweep: a row per point of ``sweep.csv``, response curves where it has intervals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuoyu_sim.report.figures import _figure
from tuoyu_sim.report.formatting import fmt_ci, fmt_g
from tuoyu_sim.report.markup import Html, el
from tuoyu_sim.report.page import _Page
from tuoyu_sim.report.results import Results
from tuoyu_sim.report.tables import _table


def _sweep_params(res: Results) -> list[str]:
    """The swept keys: from ``summary.json``'s grid, else the dotted columns of ``sweep.csv``."""
    grid = (res.summary or {}).get("grid")
    cols = list(res.sweep_rows[0]) if res.sweep_rows else []
    if isinstance(grid, list):
        keys = [str(g.get("key")) for g in grid if isinstance(g, Mapping) and g.get("key")]
        if keys and all(k in cols for k in keys):
            return keys
    return [c for c in cols if "." in c]


def _sweep(page: _Page) -> None:
    res = page.results
    rows = res.sweep_rows
    if not rows:
        return
    t = page.t
    params = _sweep_params(res)
    cols = list(rows[0])
    ci_cols = [c for c in cols if f"{c}_lo" in cols and f"{c}_hi" in cols and c not in params]
    skip = {"point", "index", "error", *params, *ci_cols}
    skip |= {f"{c}_lo" for c in ci_cols} | {f"{c}_hi" for c in ci_cols}
    other = [c for c in cols if c not in skip]
    has_error = any(r.get("error") for r in rows)
    head = ["#", *params, *ci_cols, *other] + (["error"] if has_error else [])
    limit = 200
    table_rows = []
    for r in rows[:limit]:
        cells: list[Any] = [fmt_g(r.get("index"))]
        cells += [str(r.get(k)) if r.get(k) is not None else "—" for k in params]
        for c in ci_cols:
            stat = {"mean": r.get(c), "ci95": [r.get(f"{c}_lo"), r.get(f"{c}_hi")]}
            share = any(w in c for w in ("rate", "share", "utilization"))
            cells.append(fmt_ci(stat, pct=share, digits=1 if share else 2))
        cells += [fmt_g(r.get(c)) for c in other]
        if has_error:
            cells.append(r.get("error") or "")
        table_rows.append(cells)
    body: list[Html] = [el("p", t["sweep_rows"].format(n=len(rows)), cls="note")]
    finished = [r for r in rows if not r.get("error")]
    figures = [f for f in ("turn_away_rate", "utilization") if f in cols]
    if finished and params and figures:
        from tuoyu_sim.plots.sweep import response_curves

        body.append(
            _figure(
                page,
                "response_curves",
                t["fig_sweep"],
                lambda: response_curves(finished, params, figures, lang=page.lang),
            )
        )
    if len(rows) > limit:
        body.append(el("p", t["sweep_truncated"].format(n=limit), cls="note"))
    numeric = [True] + [False] * len(params) + [True] * (len(ci_cols) + len(other))
    numeric += [False] if has_error else []
    body.append(_table(head, table_rows, numeric))
    page.section("sweep", t["sweep"], body)
