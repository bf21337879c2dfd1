"""Headline figures: one card per district figure, judged against the scenario's targets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuoyu_sim.report.formatting import _num, fmt_ci, fmt_int, fmt_num, fmt_pct, judge
from tuoyu_sim.report.markup import Html, el
from tuoyu_sim.report.page import _Page


def _card(
    title: str,
    value: str,
    detail: Any = None,
    verdict: str | None = None,
    t: Mapping[str, str] | None = None,
) -> Html:
    badge = None
    if verdict and t is not None:
        badge = el(
            "span",
            ("✓ " if verdict == "ok" else "✗ " if verdict == "miss" else "? ") + t[verdict],
            cls=f"badge {verdict}",
        )
    return el(
        "div",
        el("div", title, cls="card-title"),
        el("div", value, cls="card-value"),
        el("div", detail, cls="card-detail") if detail else None,
        badge,
        cls=f"card {verdict or ''}".strip(),
    )


def _headline(page: _Page) -> None:
    sim = page.results.simulation
    t = page.t
    tg = page.targets
    if sim is None:
        return
    d = sim.get("district") or {}
    cards: list[Html] = []
    cards.append(
        _card(
            t["district_places"],
            fmt_int(d.get("places")),
            t["places_facilities"].format(n=fmt_int(d.get("facilities"))),
        )
    )
    per = _num(d.get("places_per_1000"))
    target = _num(tg.get("places_per_1000"))
    cards.append(
        _card(
            t["per_1000"],
            fmt_num(per, 2),
            t["target_min"].format(t=fmt_num(target, 2)) if target is not None else None,
            judge(per, target, at_most=False),
            t,
        )
    )
    cards.append(_card(t["utilization"], fmt_ci(d.get("utilization")), t["utilization_note"]))
    mt = _num(tg.get("max_turn_away"))
    cards.append(
        _card(
            t["turn_away"],
            fmt_ci(d.get("turn_away_rate")),
            t["target_max"].format(t=fmt_pct(mt)) if mt is not None else None,
            judge(d.get("turn_away_rate"), mt, at_most=True),
            t,
        )
    )
    enrolled, demand = _num(d.get("enrolled")), _num(d.get("enrolled_demand"))
    share = enrolled / demand if enrolled is not None and demand else None
    cov = _num(tg.get("coverage_share"))
    detail = t["enrolled_share"].format(p=fmt_pct(share))
    if cov:
        detail += " · " + t["target_min"].format(t=fmt_pct(cov))
    cards.append(
        _card(
            t["enrolled"],
            f"{fmt_int(enrolled)} / {fmt_int(demand)}",
            detail,
            judge(share, cov, at_most=False) if cov else None,
            t,
        )
    )
    mw = _num(tg.get("max_waitlist"))
    cards.append(
        _card(
            t["waitlist"],
            t["children"].format(n=fmt_int(d.get("waitlist"))),
            t["target_max"].format(t=fmt_int(mw)) if mw is not None else None,
            judge(_num(d.get("waitlist")), mw, at_most=True),
            t,
        )
    )
    cards.append(
        _card(
            t["out_of_reach"],
            t["children"].format(n=fmt_int(d.get("unreached_enrolled"))),
            t["out_of_reach_value"].format(
                e=fmt_int(d.get("unreached_enrolled")),
                w=fmt_num(d.get("unreached_walk_in_per_day"), 1),
            ),
        )
    )
    mb = _num(tg.get("max_breach_day_share"))
    detail_b = t["breach_note"]
    if mb is not None:
        detail_b += " · " + t["target_max"].format(t=fmt_pct(mb))
    cards.append(
        _card(
            t["breach"],
            fmt_ci(d.get("breach_day_share")),
            detail_b,
            judge(d.get("breach_day_share"), mb, at_most=True),
            t,
        )
    )
    page.section(
        "headline", t["headline"], el("div", *cards, cls="cards"), el("p", t["ci_note"], cls="note")
    )
