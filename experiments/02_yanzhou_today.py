"""02 — Yanzhou today: utilization by subdistrict and town, the 1 km circle,
child-care deserts, and where places stand empty.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from _common import SCENARIOS, SYNTHETIC_CAVEAT, Experiment, fmt_ci, md_table, stat, yerr
from matplotlib.figure import Figure

from tuoyu_sim.geography import local_xy_m, pairs_within
from tuoyu_sim.metrics import Figures, summarize
from tuoyu_sim.scenario import load_scenario
from tuoyu_sim.simulation import simulate

QUESTION = (
    "In Yanzhou District today, how well are places used in each subdistrict and town; which "
    "communities lie outside the 1 km service circle; where are the child-care deserts; and "
    "where do places stand empty?"
)
DESERT_RATIO = 3.0
"""Children under 3 per place within the circle above which a community is a desert."""


def group_figure(rows: list[dict[str, Any]], district: dict[str, Any], cjk: bool) -> Figure:
    fig = Figure(figsize=(9, 5), layout="constrained")
    ax = fig.subplots()
    rows = sorted(rows, key=lambda r: r["utilization"]["mean"])
    y = np.arange(len(rows))
    m = np.array([r["utilization"]["mean"] for r in rows])
    colours = ["#1f77b4" if r["kind"] == "subdistrict" else "#2ca02c" for r in rows]
    ax.barh(y, m, xerr=yerr([r["utilization"] for r in rows]), color=colours, alpha=0.85, capsize=3)
    ax.set_yticks(y)
    ax.set_yticklabels(
        [f"{r['group']}（{r['places']}）" if cjk else f"{r['group']} ({r['places']})" for r in rows]
    )
    ax.axvline(
        district["mean"],
        color="black",
        ls="--",
        lw=1,
        label=(f"全区 {district['mean']:.0%}" if cjk else f"district {district['mean']:.0%}"),
    )
    ax.xaxis.set_major_formatter(__import__("matplotlib").ticker.PercentFormatter(1.0))
    ax.set_xlabel(
        "利用率（托位小时使用率，95% CI）" if cjk else "utilization (place-hours used, 95% CI)"
    )
    ax.set_title(
        "兖州区各街道（蓝）/镇（绿）托位利用率（括号内为托位数）"
        if cjk
        else "Utilization by subdistrict (blue) and town (green); places in brackets"
    )
    ax.legend(loc="lower right", fontsize=8)
    return fig


def map_figure(sc: Any, inside: np.ndarray, ratio: np.ndarray, cjk: bool) -> Figure:
    fig = Figure(figsize=(14, 6.8), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, sharex=True, sharey=True)
    # kilometres on one local plane (lon/lat projected about the communities' mean)
    points = [*sc.communities, *sc.facilities, *sc.candidate_sites]
    xy = local_xy_m(points) / 1000
    n_c, n_f = len(sc.communities), len(sc.facilities)
    cx, cy = xy[:n_c, 0], xy[:n_c, 1]
    kids = np.array([c.under3 for c in sc.communities])
    size = 8 + 120 * kids / kids.max()
    fx, fy = xy[n_c : n_c + n_f, 0], xy[n_c : n_c + n_f, 1]
    fp = np.array([f.total_places for f in sc.facilities], dtype=float)
    sx, sy = xy[n_c + n_f :, 0], xy[n_c + n_f :, 1]
    reach_km = sc.geography.service_radius_m / sc.geography.detour_factor / 1000
    for ax in (ax1, ax2):
        for x, y in zip(fx, fy, strict=True):
            ax.add_patch(
                __import__("matplotlib").patches.Circle(
                    (x, y), reach_km, color="#1f77b4", alpha=0.06, lw=0
                )
            )
        ax.scatter(
            fx,
            fy,
            s=10 + fp / 2,
            marker="^",
            color="black",
            zorder=4,
            label="托育机构（大小=托位）" if cjk else "facility (size = places)",
        )
        ax.set_aspect("equal")
        ax.set_xlabel("东（km）" if cjk else "east (km)")
    ax1.scatter(
        cx[inside],
        cy[inside],
        s=size[inside],
        color="#2ca02c",
        alpha=0.7,
        zorder=3,
        label="1 km 服务圈内社区" if cjk else "community inside the 1 km circle",
    )
    ax1.scatter(
        cx[~inside],
        cy[~inside],
        s=size[~inside],
        color="#d62728",
        alpha=0.8,
        zorder=3,
        label="服务圈外社区（大小=3岁以下儿童）"
        if cjk
        else "community outside (size = children under 3)",
    )
    ax1.scatter(
        sx,
        sy,
        s=25,
        marker="x",
        color="#9467bd",
        zorder=3,
        label="候选点" if cjk else "candidate site",
    )
    ax1.set_ylabel("北（km）" if cjk else "north (km)")
    ax1.set_title(
        f"1 km 步行服务圈（浅蓝圆 = 直线 {reach_km:.2f} km）"
        if cjk
        else f"1 km walking circle (pale discs: {reach_km:.2f} km straight line)"
    )
    ax1.legend(fontsize=8, loc="lower left")
    finite = np.where(np.isfinite(ratio), ratio, np.nan)
    desert = ~(ratio <= DESERT_RATIO)
    sc2 = ax2.scatter(
        cx[~desert],
        cy[~desert],
        s=size[~desert],
        c=finite[~desert],
        cmap="viridis",
        vmin=0,
        vmax=DESERT_RATIO,
        alpha=0.8,
        zorder=3,
    )
    ax2.scatter(
        cx[desert],
        cy[desert],
        s=size[desert],
        facecolor="none",
        edgecolor="#d62728",
        lw=1.5,
        zorder=3,
        label=f"托育荒漠（>{DESERT_RATIO:g} 名/托位或圈内无托位）"
        if cjk
        else f"desert (> {DESERT_RATIO:g} per place, or none in the circle)",
    )
    fig.colorbar(
        sc2,
        ax=ax2,
        shrink=0.7,
        label="每个圈内托位的3岁以下儿童" if cjk else "children under 3 per place in the circle",
    )
    ax2.set_title(
        "托育荒漠（改编自美国进步中心定义）"
        if cjk
        else "Child-care deserts (adapted from the Center for American Progress)"
    )
    ax2.legend(fontsize=8, loc="lower left")
    return fig


def empty_figure(rows: list[dict[str, Any]], cjk: bool) -> Figure:
    fig = Figure(figsize=(9, 0.32 * len(rows) + 1.5), layout="constrained")
    ax = fig.subplots()
    rows = rows[::-1]
    y = np.arange(len(rows))
    m = np.array([r["utilization"]["mean"] for r in rows])
    ax.barh(y, m, xerr=yerr([r["utilization"] for r in rows]), color="#ff7f0e", capsize=3)
    ax.set_yticks(y)
    ax.set_yticklabels(
        [
            f"{r['name']}（{r['places']}位，空 {r['empty_place_hours']:.0f} 位·时/日）"
            if cjk
            else f"{r['id']} ({r['places']} places, {r['empty_place_hours']:.0f} empty place-h/day)"
            for r in rows
        ],
        fontsize=8,
    )
    ax.xaxis.set_major_formatter(__import__("matplotlib").ticker.PercentFormatter(1.0))
    ax.set_xlabel("利用率（95% CI）" if cjk else "utilization (95% CI)")
    ax.set_title(
        "利用率最低的机构：托位空置" if cjk else "Where places stand empty: lowest utilization"
    )
    return fig


def main() -> int:
    exp = Experiment("02_yanzhou_today", QUESTION)
    reps, days = (2, 1) if exp.quick else (30, 10)
    sc = load_scenario(SCENARIOS / "yanzhou.toml").with_changes(
        {"simulation.replications": reps, "simulation.days": days}
    )
    exp.log(f"simulating Yanzhou: {reps} replications x {days} days")
    result = simulate(sc, workers=exp.workers)
    summary = summarize(result)
    fig = Figures(result)
    open_h = sc.simulation.open_minutes / 60

    # -- utilization by subdistrict and town ----------------------------------------
    subdistricts = {"龙桥", "鼓楼", "酒仙桥", "王因", "黄屯", "兴隆庄"}
    groups: dict[str, list[int]] = {}
    for j, f in enumerate(sc.facilities):
        groups.setdefault(f.group or "(none)", []).append(j)
    pop: dict[str, float] = {}
    kids: dict[str, float] = {}
    for c in sc.communities:
        pop[c.group] = pop.get(c.group, 0) + c.population
        kids[c.group] = kids.get(c.group, 0) + c.under3
    group_rows = []
    for g in sorted(set(pop) | set(groups)):
        js = groups.get(g, [])
        places = int(fig.places[js].sum()) if js else 0
        util = (
            stat(fig.mean_occupancy[:, js].sum(axis=1) / places)
            if places
            else {"mean": math.nan, "ci95": None}
        )
        group_rows.append(
            {
                "group": g,
                "kind": "subdistrict" if g in subdistricts else "town",
                "population": int(pop.get(g, 0)),
                "children_under3": kids.get(g, 0.0),
                "facilities": len(js),
                "places": places,
                "places_per_1000": 1000 * places / pop[g] if pop.get(g) else math.nan,
                "utilization": util,
                "turn_away": stat(_ratio_rows(fig, js)),
            }
        )
    district_util = summary["district"]["utilization"]
    exp.figure(
        group_figure(group_rows, district_util, exp.cjk),
        "utilization_by_group.png",
        "Utilization by subdistrict and town (mean over replications, 95% CI); dashed: district.",
    )
    exp.csv(
        "utilization_by_group.csv",
        [
            {
                **{k: v for k, v in r.items() if k not in ("utilization", "turn_away")},
                "utilization": r["utilization"]["mean"],
                "utilization_lo": (r["utilization"]["ci95"] or [None, None])[0],
                "utilization_hi": (r["utilization"]["ci95"] or [None, None])[1],
                "walk_in_turn_away": r["turn_away"]["mean"],
            }
            for r in group_rows
        ],
    )

    # -- the 1 km circle -------------------------------------------------------------
    radius = sc.geography.service_radius_m
    pairs = pairs_within(sc, sc.communities, sc.facilities, radius)
    n_comm = len(sc.communities)
    places_in = np.zeros(n_comm)
    np.add.at(places_in, pairs.rows, [sc.facilities[j].total_places for j in pairs.cols])
    inside = np.zeros(n_comm, dtype=bool)
    inside[pairs.rows] = True
    under3 = np.array([c.under3 for c in sc.communities])
    with np.errstate(divide="ignore"):
        ratio = np.where(places_in > 0, under3 / np.maximum(places_in, 1), np.inf)
    outside_rows = sorted(
        (
            {
                "id": c.id,
                "name": c.name,
                "group": c.group,
                "population": c.population,
                "children_under3": round(c.under3, 1),
            }
            for i, c in enumerate(sc.communities)
            if not inside[i]
        ),
        key=lambda r: -r["children_under3"],
    )
    exp.csv("communities_outside_circle.csv", outside_rows)
    desert = ~(ratio <= DESERT_RATIO)
    desert_rows = sorted(
        (
            {
                "id": c.id,
                "name": c.name,
                "group": c.group,
                "children_under3": round(c.under3, 1),
                "places_in_circle": int(places_in[i]),
                "children_per_place": (
                    round(float(ratio[i]), 2) if np.isfinite(ratio[i]) else "no place"
                ),
            }
            for i, c in enumerate(sc.communities)
            if desert[i]
        ),
        key=lambda r: -r["children_under3"],
    )
    exp.csv("deserts.csv", desert_rows)
    exp.figure(
        map_figure(sc, inside, ratio, exp.cjk),
        "map.png",
        "Left: communities inside (green) and outside (red) the 1 km walking circle of "
        "every facility (triangles); purple crosses are candidate sites. Right: children "
        "under 3 per place within each community's circle; red rings are deserts.",
    )

    # -- where places stand empty ---------------------------------------------------------
    fac_rows = []
    for f in summary["facilities"]:
        u = f["utilization"]
        fac_rows.append(
            {
                "id": f["id"],
                "name": f["name"] or f["id"],
                "group": f["group"],
                "places": f["places"],
                "enrolled": f["enrolled"],
                "utilization": u,
                "empty_place_hours": f["places"] * open_h * (1 - (u["mean"] or 0)),
            }
        )
    fac_rows.sort(key=lambda r: r["utilization"]["mean"])
    lowest = fac_rows[:12]
    exp.figure(
        empty_figure(lowest, exp.cjk),
        "empty_places.png",
        "The 12 facilities with the lowest utilization (95% CI) and their empty "
        "place-hours per open day.",
    )
    exp.csv(
        "facilities_by_utilization.csv",
        [
            {
                **{k: v for k, v in r.items() if k != "utilization"},
                "utilization": r["utilization"]["mean"],
                "utilization_lo": (r["utilization"]["ci95"] or [None, None])[0],
                "utilization_hi": (r["utilization"]["ci95"] or [None, None])[1],
            }
            for r in fac_rows
        ],
    )
    empty_total = sum(r["empty_place_hours"] for r in fac_rows)
    empty_low = sum(r["empty_place_hours"] for r in lowest)

    # -- summary ---------------------------------------------------------------------------
    kids_out = float(under3[~inside].sum())
    kids_desert = float(under3[desert].sum())
    no_place = int(np.sum(~np.isfinite(ratio)))
    no_place_50 = int(np.sum(~np.isfinite(ratio) & (under3 > 50)))
    g_sorted = sorted(group_rows, key=lambda r: r["utilization"]["mean"])
    group_table = md_table(
        [
            {
                "group": r["group"],
                "kind": r["kind"],
                "pop": f"{r['population']:,}",
                "places": r["places"],
                "per1000": f"{r['places_per_1000']:.2f}",
                "util": fmt_ci(r["utilization"]),
                "ta": fmt_ci(r["turn_away"]),
            }
            for r in g_sorted
        ],
        [
            ("group", "subdistrict / town"),
            ("kind", "kind"),
            ("pop", "population"),
            ("places", "places"),
            ("per1000", "places per 1,000"),
            ("util", "utilization (95% CI)"),
            ("ta", "walk-in turn-away"),
        ],
    )
    out_table = md_table(
        [{**r, "children_under3": f"{r['children_under3']:.0f}"} for r in outside_rows[:15]],
        [
            ("id", "id"),
            ("name", "community"),
            ("group", "group"),
            ("population", "population"),
            ("children_under3", "children under 3"),
        ],
    )
    low_table = md_table(
        [
            {
                "id": r["id"],
                "group": r["group"],
                "places": r["places"],
                "enrolled": r["enrolled"],
                "util": fmt_ci(r["utilization"]),
                "empty": f"{r['empty_place_hours']:.0f}",
            }
            for r in lowest
        ],
        [
            ("id", "facility"),
            ("group", "group"),
            ("places", "places"),
            ("enrolled", "enrolled"),
            ("util", "utilization (95% CI)"),
            ("empty", "empty place-hours / day"),
        ],
    )
    answer = f"""
**Utilization.** District-wide, {fmt_ci(district_util)} of place-hours are used over the
07:30–19:00 day ({summary["district"]["places"]:,} places, {summary["district"]["enrolled"]:,}
enrolled, walk-in turn-away {fmt_ci(summary["district"]["turn_away_rate"])}). The lowest is
{g_sorted[0]["group"]} at {fmt_ci(g_sorted[0]["utilization"])}, the highest
{g_sorted[-1]["group"]} at {fmt_ci(g_sorted[-1]["utilization"])}.

{group_table}

**Outside the 1 km circle.** {len(outside_rows)} of {n_comm} communities
({kids_out:,.0f} of {under3.sum():,.0f} children under 3, {kids_out / under3.sum():.0%})
have no facility within 1 km walking distance (straight line × detour factor
{sc.geography.detour_factor:g}). The largest (all in `communities_outside_circle.csv`):

{out_table}

**Child-care deserts.** Adapting the Center for American Progress definition (a census tract
with more than 3 children under 5 per licensed slot, or more than 50 children and no provider)
to children under 3 and the places within a community's 1 km circle:
{len(desert_rows)} communities are deserts ({kids_desert:,.0f} children under 3,
{kids_desert / under3.sum():.0%}); {no_place} of them have no place at all within 1 km
({no_place_50} of these with more than 50 children under 3, the CAP "no provider"
threshold), the rest
more than {DESERT_RATIO:g} children per place (list in `deserts.csv`). For scale: the district as
a whole has {under3.sum() / sc.total_places:.2f} children under 3 per place, so at 5.66 places
per 1,000 a community needs more than its share of nearby places not to count as a desert.

**Where places stand empty.** Over a day the district leaves {empty_total:,.0f} place-hours
empty ({empty_total / (sc.total_places * open_h):.0%} of place-hours); the 12 facilities with
the lowest utilization account for {empty_low:,.0f} of them:

{low_table}
"""
    method = f"""
The built-in Yanzhou scenario ({len(sc.facilities)} facilities, {sc.total_places:,} places,
{len(sc.communities)} communities) is simulated for
ordinary days; utilization (place-hours used over place-hours open) is summed per subdistrict or
town from each replication and given with a 95% Student-t interval over replications. The
1 km circle and the deserts come from `tuoyu_sim.geography.pairs_within` (walking distance =
straight line × detour factor), with no simulation.
"""
    caveats = [
        SYNTHETIC_CAVEAT,
        "Per-division and per-community populations and positions were not found; the "
        "scenario has the real divisions and their committee counts, but the residents per "
        "community and the lon/lat positions are synthetic (scripts/make_yanzhou.py).",
        "The desert rule counts every place within a community's circle for that community, "
        "even where neighbouring communities share the same places (as the CAP tract rule "
        "does); it is a screening figure, not an allocation.",
        "Utilization is over opening hours 07:30–19:00, so even a full full-day class "
        "(about 9 hours) shows about 78%.",
    ]
    exp.summary(method, answer, caveats)
    return 0


def _ratio_rows(fig: Figures, js: list[int]) -> np.ndarray:
    """Per replication: walk-in turn-away pooled over facilities ``js``."""
    if not js:
        return np.full(fig.counts.shape[0], np.nan)
    walk = list(fig.result.model.walk_in_types)
    c = fig.counts[:, js][:, :, walk, :]
    arrivals = c[..., 0].sum(axis=(1, 2)).astype(float)
    turned = c[..., 3].sum(axis=(1, 2)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(arrivals > 0, turned / np.maximum(arrivals, 1), np.nan)


if __name__ == "__main__":
    raise SystemExit(main())
