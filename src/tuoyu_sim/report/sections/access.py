"""Accessibility and care deserts (``access``, and the access part of ``simulate``,
``optimize`` and ``plan`` folders): figures by class, worst communities, maps.

The figures per class come from ``summary.json`` (``access``'s ``current`` and,
with a plan, ``planned``), else from ``by_class.csv``; the communities from
``access.csv`` (and ``access_planned.csv``). The maps are redrawn in the page's
language when the folder's scenarios (``scenario.toml``, ``scenario.planned.toml``,
or the run's scenario file named in ``summary.json`` if it is still there),
measured again, give the folder's ``access.csv`` and ``access_planned.csv``;
otherwise the PNG files the run wrote are embedded as written. The deserts
before and after a plan are redrawn from ``by_class.csv``. The section ends
with the catchment, weights and desert thresholds from the summary's
``settings``, stated as assumptions.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuoyu_sim.errors import UserError
from tuoyu_sim.report.figures import _figure, _figure_html
from tuoyu_sim.report.formatting import _num, fmt_g, fmt_int, fmt_num, fmt_pct
from tuoyu_sim.report.labels import _age_name
from tuoyu_sim.report.markup import Html, el
from tuoyu_sim.report.page import _Page
from tuoyu_sim.report.results import ACCESS_FIGURES, Results
from tuoyu_sim.report.sections.headline import _card
from tuoyu_sim.report.tables import _table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from tuoyu_sim.runs import Accessibility
    from tuoyu_sim.scenario import Scenario

log = logging.getLogger("tuoyu_sim.report")

#: Communities in the table of the worst.
WORST_LIMIT = 15


def _by_class(res: Results, scenario: str) -> dict[str, Mapping[str, Any]]:
    """Figures per class (``all``, ``any`` included) of ``current`` or ``planned``."""
    record = res.access.get(scenario)
    if isinstance(record, Mapping) and isinstance(record.get("by_class"), Mapping):
        return {str(a): v for a, v in record["by_class"].items() if isinstance(v, Mapping)}
    return {str(r.get("age_class")): r for r in res.by_class_rows if r.get("scenario") == scenario}


def _classes(res: Results, current: Mapping[str, Any]) -> list[str]:
    """The age classes and ``all``, in the summary's order (else the CSV's)."""
    listed = res.access.get("classes")
    if isinstance(listed, list) and listed:
        return [str(a) for a in listed]
    if current:
        return [a for a in current if a != "any"]
    cols = list(res.access_rows[0]) if res.access_rows else []
    return [
        c.removeprefix("desert_") for c in cols if c.startswith("desert_") and c != "desert_any"
    ]


def _class_name(key: str, page: _Page) -> str:
    if key in ("all", "any"):
        return page.t[f"access_{key}"]
    return _age_name(key, page.lang)


def _before_after(before: Any, after: Any, fmt: Any, planned: bool) -> str:
    return f"{fmt(before)} → {fmt(after)}" if planned else fmt(before)


def _cards(
    page: _Page, current: Mapping[str, Any], planned: Mapping[str, Any] | None
) -> list[Html]:
    t = page.t
    cards = []
    for key in ("any", "all"):
        now = current.get(key)
        if not isinstance(now, Mapping):
            continue
        after = planned.get(key) if planned else None
        after = after if isinstance(after, Mapping) else {}
        value = _before_after(now.get("deserts"), after.get("deserts"), fmt_int, bool(planned))
        children = _before_after(
            now.get("children_in_deserts"), after.get("children_in_deserts"), fmt_int, bool(planned)
        )
        share = _before_after(
            now.get("children_in_deserts_share"),
            after.get("children_in_deserts_share"),
            fmt_pct,
            bool(planned),
        )
        detail = [
            t["access_of"].format(n=fmt_int(now.get("communities"))),
            " · ",
            t["access_children_in"].format(n=children, p=share),
        ]
        cards.append(_card(t[f"access_desert_{key}"], value, detail))
    return cards


def _class_table(
    page: _Page,
    classes: Sequence[str],
    current: Mapping[str, Any],
    planned: Mapping[str, Any] | None,
) -> Html:
    t = page.t
    head = [
        t["access_class"],
        t["access_children"],
        t["access_places"],
        t["access_places_per_child"],
        t["access_deserts"],
        t["access_children_in_deserts"],
        t["access_no_place"],
    ]
    rows = []
    for key in [*classes, "any"]:
        now = current.get(key)
        if not isinstance(now, Mapping):
            continue
        after = (planned or {}).get(key)
        after = after if isinstance(after, Mapping) else {}

        def pair(col: str, fmt: Any, now: Mapping[str, Any] = now, after: Any = after) -> str:
            return _before_after(now.get(col), after.get(col), fmt, planned is not None)

        rows.append(
            [
                _class_name(key, page),
                fmt_int(now.get("children")),
                pair("places", fmt_int),
                pair("places_per_child", lambda v: fmt_num(v, 3)),
                pair("deserts", fmt_int),
                f"{pair('children_in_deserts', fmt_int)} "
                f"({pair('children_in_deserts_share', fmt_pct)})",
                pair("no_place_in_reach", fmt_int),
            ]
        )
    return _table(head, rows, [False] + [True] * (len(head) - 1))


def _desert_classes(row: Mapping[str, Any] | None, classes: Sequence[str], page: _Page) -> str:
    if row is None:
        return ""
    names = [_class_name(a, page) for a in classes if row.get(f"desert_{a}") is True]
    return ("、" if page.lang == "zh" else ", ").join(names) or page.t["access_no_desert"]


def _worst(page: _Page, classes: Sequence[str]) -> list[Html]:
    t = page.t
    res = page.results
    rows = res.access_rows
    if not rows:
        return []

    def children(r: Mapping[str, Any]) -> float:
        return _num(r.get("children_all")) or 0.0

    worst = sorted(rows, key=lambda r: (r.get("desert_any") is not True, -children(r)))
    after = {str(r.get("community")): r for r in res.access_planned_rows}
    head = [
        "ID",
        t["access_community"],
        t["group"],
        t["access_children"],
        t["access_children_per_place"],
        t["access_score"],
        t["access_desert_classes"],
    ]
    if after:
        head.append(t["access_desert_classes_after"])
    table_rows = []
    for r in worst[:WORST_LIMIT]:
        cells = [
            r.get("community"),
            r.get("name"),
            r.get("group"),
            fmt_int(r.get("children_all")),
            fmt_num(r.get("children_per_place_all"), 1),
            fmt_num(r.get(f"{_score_column(res)}_all"), 3),
            _desert_classes(r, classes, page),
        ]
        if after:
            cells.append(_desert_classes(after.get(str(r.get("community"))), classes, page))
        table_rows.append(cells)
    numeric = [False, False, False, True, True, True, False] + ([False] if after else [])
    body = [el("h3", t["access_worst"]), _table(head, table_rows, numeric)]
    if len(rows) > WORST_LIMIT:
        body.append(el("p", t["access_worst_more"].format(n=WORST_LIMIT), cls="note"))
    return body


def _settings(res: Results) -> Mapping[str, Any]:
    s = res.access.get("settings")
    return s if isinstance(s, Mapping) else {}


def _score_column(res: Results) -> str:
    """``g2sfca`` or ``e2sfca``: the headline score the settings name."""
    return "e2sfca" if _settings(res).get("weight") == "steps" else "g2sfca"


def _assumptions_note(page: _Page) -> Html | None:
    t = page.t
    s = _settings(page.results)
    if not s:
        return None
    steps = s.get("steps")
    sep = "；" if page.lang == "zh" else "; "
    steps_text = (
        sep.join(
            t["access_steps_item"].format(m=fmt_int(st[0]), w=fmt_g(st[1]))
            for st in steps
            if isinstance(st, list | tuple) and len(st) == 2
        )
        if isinstance(steps, list)
        else "—"
    )
    method = "access_method_steps" if s.get("weight") == "steps" else "access_method_gaussian"
    text = t["access_assumptions"].format(
        catchment=f"{fmt_int(s.get('catchment_m'))} m",
        method=t[method],
        gaussian=s.get("gaussian") or "—",
        steps=steps_text,
        min=fmt_g(s.get("desert_min_children")),
        per=fmt_g(s.get("desert_children_per_place")),
    )
    return el("p", text, cls="note")


# -- the figures -----------------------------------------------------------------------


def _same(measured: Sequence[Mapping[str, Any]], written: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a measured ``access.csv`` is the written one: the same communities, the
    same desert flags, children and scores (to rounding)."""
    if len(measured) != len(written) or not written:
        return False
    for a, b in zip(measured, written, strict=True):
        if str(a["community"]) != str(b.get("community")):
            return False
        for key, value in a.items():
            if not key.startswith(("desert_", "children_", "g2sfca_", "e2sfca_")):
                continue
            other = b.get(key)
            if isinstance(value, bool) or value is None or other is None:
                if value != other:
                    return False
            elif not isinstance(other, int | float) or not math.isclose(
                float(value), float(other), rel_tol=1e-9, abs_tol=1e-9
            ):
                return False
    return True


def _scenario_files(res: Results, name: str) -> list[Path]:
    """Where the scenario of a map may be: in the folder, then (for the current
    scenario) the file the run read, as ``summary.json`` names it."""
    paths = [res.folder / name]
    source = res.access.get("scenario_file") or (res.summary or {}).get("scenario_file")
    if name == "scenario.toml" and isinstance(source, str) and source:
        paths.append(Path(source))
    return paths


def _measured_again(res: Results) -> Accessibility | None:
    """The folder's accessibility measured again from its scenarios, if that gives the
    folder's tables (so the maps drawn from it are the run's, in another language)."""
    from tuoyu_sim.runs import Accessibility
    from tuoyu_sim.scenario import load_scenario

    def found(name: str, written: Sequence[Mapping[str, Any]], base: Scenario | None) -> Any:
        for path in _scenario_files(res, name):
            if not path.is_file():
                continue
            try:
                sc = load_scenario(path)
                part = (
                    Accessibility.measure(sc) if base is None else Accessibility.measure(base, sc)
                )
            except UserError:
                continue
            result = part.result if base is None else part.planned_result
            if result is not None and _same(result.rows(), written):
                return part
        return None

    current = found("scenario.toml", res.access_rows, None)
    if current is None or not res.access_planned_rows:
        return current
    return found("scenario.planned.toml", res.access_planned_rows, current.scenario)


def _same_figure(fig: Figure) -> Figure:
    return fig


def _figures(page: _Page) -> list[Html]:
    t = page.t
    res = page.results
    try:
        part = _measured_again(res) if res.access_rows else None
    except (OSError, ValueError) as exc:  # a scenario that loads but cannot be measured
        log.warning("accessibility maps not redrawn: %s", exc)
        part = None
    if part is not None:
        figs = part.figures(page.lang)
        return [
            _figure(page, name, t[f"fig_{name}"], functools.partial(_same_figure, fig))
            for name, fig in figs.items()
        ]
    body = [
        _figure_html(name, t[f"fig_{name}"], res.access_pngs[name])
        for name in ACCESS_FIGURES
        if name in res.access_pngs and name != "deserts_before_after"
    ]
    maps = bool(body)
    if any(r.get("scenario") == "planned" for r in res.by_class_rows):
        from tuoyu_sim.plots.accessibility import deserts_before_after

        rows = res.by_class_rows
        body.append(
            _figure(
                page,
                "deserts_before_after",
                t["fig_deserts_before_after"],
                lambda: deserts_before_after(rows, page.lang),
            )
        )
    elif "deserts_before_after" in res.access_pngs:
        png = res.access_pngs["deserts_before_after"]
        body.append(_figure_html("deserts_before_after", t["fig_deserts_before_after"], png))
    if not maps:
        body.append(el("p", t["access_no_figures"], cls="note"))
    return body


def _access(page: _Page) -> None:
    res = page.results
    if not res.has_access:
        return
    t = page.t
    skipped = res.access.get("skipped")
    if skipped and not res.access_rows:
        why = t["access_skipped"].format(why=skipped)
        page.section("access", t["access"], [el("p", why, cls="note")])
        return
    current = _by_class(res, "current")
    planned_record = _by_class(res, "planned")
    planned = planned_record if (res.access_planned_rows or planned_record) else None
    classes = _classes(res, current)
    s = _settings(res)
    body: list[Html] = []
    if s:
        intro = t["access_intro"].format(
            min=fmt_g(s.get("desert_min_children")), per=fmt_g(s.get("desert_children_per_place"))
        )
        body.append(el("p", intro))
    if current:
        body.append(el("div", *_cards(page, current, planned), cls="cards"))
        title = t["access_by_class"]
        if planned:
            title += ("（" if page.lang == "zh" else " (") + t["access_before_after"]
            title += "）" if page.lang == "zh" else ")"
        body.append(el("h3", title))
        body.append(_class_table(page, classes, current, planned))
        if planned:
            body.append(el("p", t["access_planned_note"], cls="note"))
    body += _worst(page, classes)
    body += _figures(page)
    note = _assumptions_note(page)
    if note is not None:
        body.append(note)
    page.section("access", t["access"], body)
