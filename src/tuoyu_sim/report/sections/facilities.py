"""Facilities, worst first, each with the targets it misses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuoyu_sim.report.formatting import _mean, _num, fmt_ci, fmt_int
from tuoyu_sim.report.markup import el
from tuoyu_sim.report.page import _Page
from tuoyu_sim.report.results import Results, _nest
from tuoyu_sim.report.tables import _table


def _facility_records(results: Results) -> list[dict[str, Any]]:
    sim = results.simulation
    if sim and isinstance(sim.get("facilities"), list):
        return [f for f in sim["facilities"] if isinstance(f, dict)]
    stats = ("utilization", "mean_occupancy", "turn_away_rate", "breach_day_share")
    out = []
    for r in results.facilities_csv:
        rec = _nest(r, stats)
        rec["id"] = r.get("facility")
        out.append(rec)
    return out


def _facility_flags(f: Mapping[str, Any], targets: Mapping[str, Any]) -> list[str]:
    flags = []
    mt, mb, mw = (
        _num(targets.get(k)) for k in ("max_turn_away", "max_breach_day_share", "max_waitlist")
    )
    ta = _mean(f.get("turn_away_rate"))
    if mt is not None and ta is not None and ta > mt + 1e-12:
        flags.append("turn_away")
    br = _mean(f.get("breach_day_share"))
    if mb is not None and br is not None and br > mb + 1e-12:
        flags.append("breach")
    wl = _num(f.get("waitlist"))
    if mw is not None and wl is not None and wl > mw:
        flags.append("waitlist")
    if f.get("health_short") is True:
        flags.append("health")
    return flags


def _facilities(page: _Page) -> list[dict[str, Any]]:
    t = page.t
    facs = _facility_records(page.results)
    if not facs:
        return []
    tg = page.targets

    def badness(f: Mapping[str, Any]) -> tuple[float, ...]:
        return (
            -len(_facility_flags(f, tg)),
            -(_mean(f.get("turn_away_rate")) or 0.0),
            -(_mean(f.get("breach_day_share")) or 0.0),
            -(_num(f.get("waitlist")) or 0.0),
        )

    ordered = sorted(facs, key=badness)
    rows, classes = [], []
    for f in ordered:
        flags = _facility_flags(f, tg)

        def mark(text: str, flag: str, flags: list[str] = flags) -> str:
            return f"✗ {text}" if flag in flags else text

        health = "—"
        if f.get("staff") is not None or f.get("health_required") is not None:
            have = (
                (f.get("staff") or {}).get("health")
                if isinstance(f.get("staff"), Mapping)
                else None
            )
            health = mark(f"{fmt_int(have)} / {fmt_int(f.get('health_required'))}", "health")
        rows.append(
            [
                f.get("id"),
                f.get("name") or "",
                f.get("group") or "",
                fmt_int(f.get("places")),
                fmt_int(f.get("enrolled")),
                mark(fmt_int(f.get("waitlist")), "waitlist"),
                fmt_ci(f.get("utilization")),
                mark(fmt_ci(f.get("turn_away_rate")), "turn_away"),
                mark(fmt_ci(f.get("breach_day_share")), "breach"),
                fmt_ci(f.get("breach_minutes_per_day"), pct=False)
                if f.get("breach_minutes_per_day") is not None
                else "—",
                health,
                "、".join(t[f"flag_{x}"] for x in flags)
                if page.lang == "zh"
                else ", ".join(t[f"flag_{x}"] for x in flags),
            ]
        )
        classes.append("miss" if flags else None)
    head = [
        "ID",
        t["facility"],
        t["group"],
        t["places"],
        t["enrolled_col"],
        t["waitlist_col"],
        t["utilization_col"],
        t["turn_away_rate"],
        t["breach_share"],
        t["breach_minutes"],
        t["health"],
        t["flags"],
    ]
    numeric = [False, False, False] + [True] * 8 + [False]
    page.section(
        "facilities",
        t["facilities"],
        el("p", t["facilities_note"], cls="note"),
        _table(head, rows, numeric, classes, cls="facilities"),
    )
    return ordered
