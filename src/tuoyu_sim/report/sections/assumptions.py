"""The assumptions: what the scenario file in the results folder says.

Opening hours and simulation set-up, distances and the service circle, classes
and staff ratios, care-type patterns, communities and their demand, staff,
targets and costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuoyu_sim.report.formatting import _kv, _mapping, _num, fmt_g, fmt_int, fmt_num, fmt_pct
from tuoyu_sim.report.labels import (
    COST_NAMES,
    SHARE_TARGETS,
    TARGET_NAMES,
    _age_name,
    _role_name,
    _type_name,
)
from tuoyu_sim.report.markup import Html, el
from tuoyu_sim.report.page import _Page
from tuoyu_sim.report.tables import _deflist, _table


def _stay_text(stay: Any, lang: str) -> str:
    if not isinstance(stay, Mapping):
        return "—"
    h = "小时" if lang == "zh" else "h"
    parts = [str(stay.get("dist", "?"))]
    names = {
        "mean_hours": "mean" if lang == "en" else "均值",
        "sd_hours": "sd" if lang == "en" else "标准差",
        "min_hours": "min" if lang == "en" else "最短",
        "max_hours": "max" if lang == "en" else "最长",
    }
    for key, label in names.items():
        if stay.get(key) is not None:
            parts.append(f"{label} {fmt_g(stay[key])} {h}")
    return ", ".join(parts)


def _window_text(ct: Mapping[str, Any]) -> str:
    if isinstance(ct.get("window"), list):
        return "–".join(str(x) for x in ct["window"])
    sessions = ct.get("sessions")
    if isinstance(sessions, list):
        out = []
        for s in sessions:
            if isinstance(s, Mapping) and isinstance(s.get("window"), list):
                text = "–".join(str(x) for x in s["window"])
                if s.get("until"):
                    text += f" (→{s['until']})"
                out.append(text)
        return "; ".join(out)
    return "—"


def _assumptions(page: _Page) -> None:
    t = page.t
    res = page.results
    lang = page.lang
    if res.scenario is None:
        msg = (
            t["bad_scenario"].format(f=res.scenario_file, why=res.scenario_problem)
            if res.scenario_problem
            else t["no_scenario"]
        )
        page.section("assumptions", t["assumptions"], el("p", msg, cls="note warn"))
        return
    sc = res.scenario
    body: list[Html] = [el("p", t["assumptions_from"].format(f=res.scenario_file), cls="note")]
    sim = _mapping(sc.get("simulation"))
    geo = _mapping(sc.get("geography"))
    yes_no = {True: t["yes"], False: t["no"]}
    facts = [
        (t["opening"], f"{sim.get('open', '?')}–{sim.get('close', '?')}"),
        (
            t["sim_setup"],
            t["sim_setup_value"].format(
                days=sim.get("days", "?"),
                reps=sim.get("replications", "?"),
                seed=sim.get("seed", "?"),
                step=sim.get("curve_step_minutes", 15),
            ),
        ),
        (t["distance"], geo.get("distance", "euclidean")),
        (t["detour"], fmt_num(geo.get("detour_factor", 1.0), 2)),
        (t["radius"], f"{fmt_num(geo.get('service_radius_m', 1000), 0)} m"),
    ]
    if geo.get("cutoff_m") is not None:
        facts.append((t["cutoff"], f"{fmt_num(geo.get('cutoff_m'), 0)} m"))
    if geo.get("assignment"):
        decay = geo.get("decay")
        text = str(geo["assignment"])
        if geo["assignment"] == "decay" and isinstance(decay, Mapping):
            text += " (" + ", ".join(f"{k} {v}" for k, v in decay.items()) + ")"
        facts.append((t["assignment"], text))
    if geo.get("walk_speed_m_per_min") is not None:
        facts.append((t["walk_speed"], f"{fmt_num(geo['walk_speed_m_per_min'], 0)} m/min"))
    body.append(_deflist(facts))

    ages = sc.get("age_groups")
    if isinstance(ages, Mapping) and ages:
        rows = []
        for key, a in ages.items():
            if not isinstance(a, Mapping):
                continue
            months = a.get("months")
            rows.append(
                [
                    _age_name(str(key), lang),
                    "–".join(str(m) for m in months) if isinstance(months, list) else "—",
                    f"1:{a.get('ratio', '?')}",
                    fmt_int(a.get("class_size")),
                    fmt_num(a.get("area_m2_per_child"), 1),
                ]
            )
        body.append(el("h3", t["age_groups"]))
        body.append(
            _table(
                [t["age_group"], t["months"], t["ratio"], t["class_size"], t["area"]],
                rows,
                [False, True, True, True, True],
            )
        )

    cts = sc.get("care_types")
    if isinstance(cts, Mapping) and cts:
        rows = []
        for key, ct in cts.items():
            if not isinstance(ct, Mapping):
                continue
            walk = ct.get("mode") == "walk_in"
            profile = ct.get("profile", "flat")
            prof = (
                t["flat"]
                if profile == "flat"
                else (
                    ", ".join(fmt_g(p) for p in profile)
                    if isinstance(profile, list)
                    else str(profile)
                )
            )
            rows.append(
                [
                    _type_name(str(key), lang),
                    t["mode_walk_in"] if walk else t["mode_enrolled"],
                    _window_text(ct),
                    prof,
                    _stay_text(ct.get("stay"), lang),
                    "—" if walk else fmt_pct(ct.get("attendance", 1.0), 0),
                    yes_no[bool(ct.get("redirect", False))],
                    ct.get("until") or "—",
                    fmt_num(ct.get("place_share"), 2) if ct.get("place_share") is not None else "—",
                ]
            )
        body.append(el("h3", t["care_patterns"]))
        body.append(
            _table(
                [
                    t["care_type"],
                    t["mode"],
                    t["window"],
                    t["profile"],
                    t["stay"],
                    t["attendance"],
                    t["redirect"],
                    t["until"],
                    t["place_share"],
                ],
                rows,
            )
        )

    communities = [c for c in sc.get("communities") or [] if isinstance(c, Mapping)]
    if communities:
        type_keys = list(cts) if isinstance(cts, Mapping) else []
        rows = []
        for c in communities:
            demand = _mapping(c.get("demand"))
            under3 = c.get("children_under3")
            if under3 is None and c.get("births_per_1000") is not None:
                under3 = (
                    3.0
                    * (_num(c["births_per_1000"]) or 0)
                    * (_num(c.get("population")) or 0)
                    / 1000
                )
            rows.append(
                [
                    str(c.get("id")),
                    c.get("name") or "",
                    c.get("group") or "",
                    fmt_int(c.get("population")),
                    fmt_num(under3, 0),
                ]
                + [fmt_g(demand.get(k)) if demand.get(k) is not None else "—" for k in type_keys]
            )
        head = ["ID", t["community"], t["group"], t["population"], t["under3"]] + [
            _type_name(str(k), lang) for k in type_keys
        ]
        body.append(el("h3", t["communities"]))
        body.append(
            el(
                "details",
                el("summary", t["communities_summary"].format(n=len(communities))),
                el("p", t["demand_note"], cls="note"),
                _table(head, rows, [False, False, False] + [True] * (2 + len(type_keys))),
            )
        )

    staff = sc.get("staff")
    if isinstance(staff, Mapping):
        shifts = []
        if isinstance(staff.get("shift"), list):
            shifts.append("–".join(str(x) for x in staff["shift"]))
        if isinstance(staff.get("shifts"), Mapping):
            for name, s in staff["shifts"].items():
                if isinstance(s, Mapping):
                    shifts.append(
                        f"{name}: {s.get('start')}–{s.get('end')} "
                        f"({fmt_pct(s.get('share', 1.0), 0)})"
                    )
        items = [
            (t["shifts"], "; ".join(shifts) or f"{sim.get('open', '?')}–{sim.get('close', '?')}"),
            (t["absence"], fmt_pct(staff.get("absence_probability", 0.0), 1)),
            (t["min_health"], fmt_int(staff.get("min_health_per_facility", 0))),
            (
                t["full_time_health"],
                "≥ " + fmt_int(staff.get("full_time_health_from_children", 150)),
            ),
        ]
        body.append(el("h3", t["staff"]))
        body.append(_deflist(items))

    tg = sc.get("targets")
    if isinstance(tg, Mapping) and tg:
        names = TARGET_NAMES[lang]
        items = []
        for key, v in tg.items():
            value = "—" if v is None else (fmt_pct(v, 1) if key in SHARE_TARGETS else fmt_num(v, 2))
            items.append((names.get(str(key), str(key)), value))
        body.append(el("h3", t["targets"]))
        body.append(_deflist(items))

    costs = sc.get("costs")
    if isinstance(costs, Mapping) and costs:
        items = []
        for key, v in costs.items():
            value = _kv(v, lang, _role_name) if isinstance(v, Mapping) else fmt_g(v)
            items.append((COST_NAMES[lang].get(str(key), str(key)), value))
        body.append(el("h3", t["costs"]))
        body.append(_deflist(items))
    page.section("assumptions", t["assumptions"], body)
