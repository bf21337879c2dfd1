"""A plan over several years (``optimize``/``plan --years``): the years, the phases, the figures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuoyu_sim.report.figures import _figure, _figure_html
from tuoyu_sim.report.formatting import fmt_int, fmt_num, fmt_pct
from tuoyu_sim.report.markup import Html, el
from tuoyu_sim.report.page import _Page
from tuoyu_sim.report.tables import _deflist, _table


def _phases(page: _Page) -> None:
    res = page.results
    s = res.summary or {}
    if not res.is_phased:
        return
    t = page.t
    years = [int(y) for y in s["years"]]
    title = t["phases"].format(first=years[0], last=years[-1])
    per_year = res.years_rows
    holds = s.get("converged")
    items: list[tuple[str, Any]] = [
        (t["phases_variant"], s.get("variant")),
        (t["status"], s.get("status")),
        (t["solver"], s.get("solver")),
        (t["gap"], fmt_num(s.get("gap"), 4) if s.get("gap") is not None else "—"),
        (t["solve_seconds"], fmt_num(s.get("solve_seconds"), 1)),
        (t["phases_present_cost"], fmt_num(s.get("present_cost_cny"), 0)),
        (t["phases_discount"], fmt_pct(s.get("discount_rate"))),
    ]
    if holds is not None:
        first = s.get("first_failing_year")
        items.append(
            (t["phases_holds"], t["yes"] if holds else t["phases_fails"].format(year=first))
        )
    body: list[Html] = [_deflist(items)]
    if per_year:
        simulated = "utilization" in per_year[0]
        head = [
            t["phases_year"],
            t["phases_under3"],
            t["phases_demand"],
            t["places"],
            t["phases_new_sites"],
            t["phases_expected_util"],
        ]
        if simulated:
            head += [t["phases_sim_util"], t["phases_year_holds"]]
        head += [t["cost"], t["phases_discounted"]]
        rows = []
        for r in per_year:
            row = [
                str(r.get("year")),
                fmt_int(r.get("under3")),
                fmt_int(r.get("enrolled_demand")),
                fmt_int(r.get("places")),
                fmt_int(r.get("new_sites")),
                fmt_pct(r.get("expected_utilization")),
            ]
            if simulated:
                ok = r.get("holds")
                row += [
                    fmt_pct(r.get("utilization")),
                    t["yes"] if ok in (True, "True") else t["no"],
                ]
            row += [fmt_num(r.get("cost_cny"), 0), fmt_num(r.get("discounted_cny"), 0)]
            rows.append(row)
        body.append(el("h3", t["phases_by_year"]))
        body.append(_table(head, rows, [True] * len(head)))
        band = s.get("variant_band") if isinstance(s.get("variant_band"), Mapping) else None
        from tuoyu_sim.plots.phases import trajectory

        body.append(
            _figure(
                page,
                "trajectory",
                t["fig_trajectory"],
                lambda: trajectory(
                    per_year,
                    band,
                    name=str(s.get("scenario", "")),
                    variant=str(s.get("variant", "")),
                    lang=page.lang,
                ),
            )
        )
    actions = _by_year_and_action(res.phases_rows)
    if actions:
        body.append(el("h3", t["phases_actions"]))
        head = [t["phases_year"], t["phases_action"], t["phases_count"], t["cost"]]
        rows = [
            [str(y), t.get(f"action_{a}", a), fmt_num(n, 0), fmt_num(c, 0)]
            for (y, a), (n, c) in actions.items()
        ]
        body.append(_table(head, rows, [True, False, True, True]))
    opened = s.get("new_sites_by_year")
    if isinstance(opened, Mapping) and any(opened.values()):
        body.append(
            el(
                "ul",
                [
                    el("li", f"{y}: {', '.join(map(str, ids))}")
                    for y, ids in opened.items()
                    if isinstance(ids, list) and ids
                ],
            )
        )
    if res.phased_map_png is not None:
        body.append(_figure_html("map_phased", t["fig_map_phased"], res.phased_map_png))
    notes = s.get("notes")
    if isinstance(notes, list) and notes:
        body.append(el("ul", [el("li", str(n)) for n in notes], cls="note"))
    body.append(el("p", t["phases_files"], cls="note"))
    page.section("phases", title, body)


def _by_year_and_action(rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[float, float]]:
    """Count and cost of each action in each year, in the order they first appear."""
    from tuoyu_sim.runs import action_count

    out: dict[tuple[str, str], tuple[float, float]] = {}
    for r in rows:
        key = (str(r.get("year")), str(r.get("action")))
        n, c = out.get(key, (0.0, 0.0))
        out[key] = (n + action_count(r), c + float(r.get("cost_cny") or 0.0))
    return dict(sorted(out.items(), key=lambda kv: kv[0][0]))
