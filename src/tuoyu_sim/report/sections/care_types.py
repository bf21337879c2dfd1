"""Care types: arrivals, admissions and turn-away of each care type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuoyu_sim.report.formatting import _num, fmt_ci, fmt_int, judge
from tuoyu_sim.report.labels import _type_name
from tuoyu_sim.report.page import _Page
from tuoyu_sim.report.results import _nest
from tuoyu_sim.report.tables import _table


def _care_types(page: _Page) -> None:
    sim = page.results.simulation
    t = page.t
    types: Mapping[str, Any] | None = sim.get("care_types") if sim else None
    if not types and page.results.care_types_csv:
        types = {
            str(r["care_type"]): _nest(r, ("turn_away_rate", "mean_occupancy"))
            for r in page.results.care_types_csv
        }
    if not types:
        return
    mt = _num(page.targets.get("max_turn_away"))
    rows, classes = [], []
    for key, v in types.items():
        walk = v.get("mode") == "walk_in"
        verdict = judge(v.get("turn_away_rate"), mt, at_most=True) if walk else None
        rate = fmt_ci(v.get("turn_away_rate")) if walk else "—"
        if verdict == "miss":
            rate = "✗ " + rate
        rows.append(
            [
                _type_name(key, page.lang),
                t["mode_walk_in"] if walk else t["mode_enrolled"],
                fmt_int(v.get("enrolled")) if not walk else "—",
                fmt_int(v.get("arrivals")),
                fmt_int(v.get("admitted")),
                fmt_int(v.get("redirected")),
                fmt_int(v.get("turned_away")),
                rate,
                fmt_ci(v.get("mean_occupancy"), pct=False),
            ]
        )
        classes.append("miss" if verdict == "miss" else None)
    head = [
        t["care_type"],
        t["mode"],
        t["enrolled_col"],
        t["arrivals"],
        t["admitted"],
        t["redirected"],
        t["turned_away"],
        t["turn_away_rate"],
        t["mean_occupancy"],
    ]
    page.section(
        "care-types", t["care_types"], _table(head, rows, [False, False] + [True] * 7, classes)
    )
