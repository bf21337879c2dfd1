"""Subdistricts and towns: facilities summed by group, joined with the communities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tuoyu_sim.report.formatting import _mean, _num, fmt_int, fmt_num, fmt_pct
from tuoyu_sim.report.page import _Page
from tuoyu_sim.report.sections.facilities import _facility_flags
from tuoyu_sim.report.tables import _table


def _groups(page: _Page, facs: Sequence[Mapping[str, Any]]) -> None:
    t = page.t
    groups: dict[str, dict[str, float]] = {}
    sc = page.results.scenario or {}
    for c in sc.get("communities") or []:
        if isinstance(c, Mapping):
            groups.setdefault(str(c.get("group") or ""), {})
    for f in sorted(facs, key=lambda f: str(f.get("id"))):
        g = str(f.get("group") or "")
        rec = groups.setdefault(g, {})
        rec["facilities"] = rec.get("facilities", 0) + 1
        for key in ("places", "enrolled", "waitlist", "walk_in_arrivals", "walk_in_turned_away"):
            rec[key] = rec.get(key, 0) + (_num(f.get(key)) or 0.0)
        rec["occupancy"] = rec.get("occupancy", 0) + (_mean(f.get("mean_occupancy")) or 0.0)
        rec["missing"] = rec.get("missing", 0) + (1 if _facility_flags(f, page.targets) else 0)
    for c in sc.get("communities") or []:
        if not isinstance(c, Mapping):
            continue
        g = str(c.get("group") or "")
        rec = groups.setdefault(g, {})
        rec["population"] = rec.get("population", 0) + (_num(c.get("population")) or 0.0)
        under3 = _num(c.get("children_under3"))
        if under3 is None and _num(c.get("births_per_1000")) is not None:
            under3 = 3.0 * float(c["births_per_1000"]) * (_num(c.get("population")) or 0) / 1000
        rec["under3"] = rec.get("under3", 0) + (under3 or 0.0)
    named = [g for g in groups if g]
    if not named:
        return
    rows = []
    for g in sorted(groups, key=lambda k: k == ""):
        r = groups[g]
        pop = r.get("population")
        places = r.get("places", 0.0)
        per = 1000 * places / pop if pop else None
        util = r["occupancy"] / places if places and "occupancy" in r else None
        ta = r["walk_in_turned_away"] / r["walk_in_arrivals"] if r.get("walk_in_arrivals") else None
        rows.append(
            [
                g or "—",
                fmt_int(pop),
                fmt_num(r.get("under3"), 0) if "under3" in r else "—",
                fmt_int(r.get("facilities", 0)),
                fmt_int(places),
                fmt_num(per, 2),
                fmt_int(r.get("enrolled")),
                fmt_int(r.get("waitlist")),
                fmt_pct(util),
                fmt_pct(ta),
                fmt_int(r.get("missing", 0)),
            ]
        )
    head = [
        t["group"],
        t["population"],
        t["under3"],
        t["facilities_n"],
        t["places"],
        t["per_1000_col"],
        t["enrolled_col"],
        t["waitlist_col"],
        t["utilization_col"],
        t["turned_away_share"],
        t["facilities_missing"],
    ]
    page.section("groups", t["groups"], _table(head, rows, [False] + [True] * 10))
