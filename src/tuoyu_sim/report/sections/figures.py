"""The figures of a simulation, drawn from its CSV tables and summary.

Utilization through the day (district, and by group), walk-in turn-away by
facility, the ratio-breach heat map, and the day of the (at most three)
facilities that miss the most targets.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tuoyu_sim.report.figures import _figure
from tuoyu_sim.report.formatting import _num
from tuoyu_sim.report.page import _Page
from tuoyu_sim.report.sections.facilities import _facility_flags


def _figures(page: _Page, facs: Sequence[Mapping[str, Any]]) -> None:
    from tuoyu_sim.plots.heatmap import breach_heatmap
    from tuoyu_sim.plots.simulation import group_curves, turn_away_by_facility, utilization_curve

    t = page.t
    res = page.results
    lang = page.lang
    jobs: list[tuple[str, str, Callable[[], Any]]] = []
    if res.curves:
        jobs.append(
            (
                "utilization_district",
                t["fig_district"],
                lambda: utilization_curve(res.curves, "district", "all", lang=lang),
            )
        )
        if any(r.get("scope") == "group" for r in res.curves):
            jobs.append(
                (
                    "utilization_by_group",
                    t["fig_groups"],
                    lambda: group_curves(res.curves, lang=lang),
                )
            )
    sim = res.simulation
    if sim and facs and all("walk_in_arrivals" in f for f in facs):
        mt = _num(page.targets.get("max_turn_away"))
        jobs.append(
            (
                "turn_away_by_facility",
                t["fig_turn"],
                lambda: turn_away_by_facility({"facilities": list(facs)}, mt, lang=lang),
            )
        )
    if res.breach_by_hour:
        names = {str(f.get("id")): str(f.get("name") or "") for f in facs}
        jobs.append(
            (
                "breach_heatmap",
                t["fig_heat"],
                lambda: breach_heatmap(res.breach_by_hour, names, top=20, lang=lang),
            )
        )
    if res.curves and facs:
        have = {r.get("key") for r in res.curves if r.get("scope") == "facility"}
        worst = [f for f in facs if f.get("id") in have and _facility_flags(f, page.targets)]
        for f in worst[:3]:
            fid = str(f.get("id"))
            label = f"{f.get('name') or fid} ({fid})"

            draw_facility = functools.partial(
                utilization_curve,
                res.curves,
                "facility",
                fid,
                lang=lang,
                title=t["fig_facility_title"].format(name=label),
            )
            jobs.append(
                (f"utilization_facility_{fid}", t["fig_facility"].format(name=label), draw_facility)
            )
    if not jobs:
        return
    body = [_figure(page, name, caption, draw) for name, caption, draw in jobs]
    page.section("figures", t["figures"], body)
