"""08 — Which subsidy, fee cap or allowance fills Yanzhou's empty places, and at what cost?

Yanzhou with fees and a take-up model (:mod:`tuoyu_sim.takeup`), calibrated so
that take-up at today's fees is the scenario's demand as written
(:func:`tuoyu_sim.takeup.calibrated`). Then one lever at a time: an operating
subsidy per enrolled child a month (passed on to families), a 普惠 fee cap on
half of the facilities, the family allowance halved away or doubled, and new
sites for the children out of reach. For each: enrolled children, district
utilization (simulated, 95% interval), public cost a year and public cost per
additional enrolled child. Fees and subsidies are set with
``Scenario.with_changes``; ``scenarios/yanzhou.toml`` is not edited.
"""

from __future__ import annotations

import math
from typing import Any

from _common import SCENARIOS, SYNTHETIC_CAVEAT, Experiment, fmt_ci, md_table, yerr
from matplotlib.figure import Figure

from tuoyu_sim.demand import plan_demand
from tuoyu_sim.geography import pairs_within
from tuoyu_sim.metrics import summarize
from tuoyu_sim.scenario import Scenario, load_scenario
from tuoyu_sim.simulation import simulate
from tuoyu_sim.takeup import calibrated

QUESTION = (
    "Nearly half of all childcare places stand empty. In Yanzhou, which lever fills them — an "
    "operating subsidy per enrolled child, a 普惠 fee cap, or the family allowance — at what "
    "public cost per additional enrolled child, and how does that compare with opening new sites?"
)

MONTHLY_CNY = {"full_day": 1900.0, "half_day": 1100.0, "extended": 2400.0}
"""Fees a month: full day the 2025 national average (FACTS.md); the others assumptions."""
HOURLY_CNY = {"hourly": 30.0, "drop_in": 35.0}
"""Fees an hour: assumptions (no source)."""
SUBSIDIES_CNY = (200.0, 300.0, 500.0, 1000.0)
"""Operating subsidies per child a month seen: Sichuan 200, Shanxi 300 / 500, Beijing E-Town
1,000 (FACTS.md)."""
CAPS_CNY = (1500.0, 1200.0, 1000.0)
"""Full-day 普惠 caps tried (assumptions; other enrolled types capped in proportion)."""
SITE_PLACES_MIN = 10
"""Smallest new site opened for children out of reach (assumption)."""


def curve(fee: float) -> dict[str, float]:
    """The full-day default logistic (m = 1570, s = 510 at a 1,900-yuan fee) scaled to
    another fee: an assumption for every type but full day."""
    return {"midpoint_cny": round(fee * 1570 / 1900, 2), "scale_cny": round(fee * 510 / 1900, 2)}


def priced(sc: Scenario) -> Scenario:
    """Yanzhou with fees and take-up, calibrated to today's demand at today's fees."""
    response = {t: curve(f) for t, f in {**MONTHLY_CNY, **HOURLY_CNY}.items()}
    response.pop("full_day")  # the scenario's sourced default
    changes: dict[str, Any] = {
        "fees": {"monthly_cny": MONTHLY_CNY, "hourly_cny": HOURLY_CNY},
        "subsidies": {"family_allowance_per_child_year_cny": 3600.0},
        # over 90% of parents accept a trip of up to 3 km (FACTS.md): no distance response
        "takeup": {"distance": "off", "choice": "nearest", "fee_response": response},
    }
    return calibrated(sc.with_changes(changes))


def capped(base: Scenario, cap: float) -> dict[str, Any]:
    """Every second facility (half of them: about half of places are 普惠 nationally) capped."""
    changes: dict[str, Any] = {
        "fees.cap_monthly_cny": {t: round(f * cap / 1900, 2) for t, f in MONTHLY_CNY.items()}
    }
    for j in range(0, len(base.facilities), 2):
        changes[f"facilities.{j}.affordable"] = True
    return changes


def new_sites(base: Scenario) -> tuple[dict[str, Any], float, int]:
    """Candidate sites opened for the enrolled children out of reach of every facility.

    Each community with no facility within the cut-off sends its enrolled demand
    to its nearest candidate site within reach; a site opens with that many
    places by class (at least :data:`SITE_PLACES_MIN`, at most its ``max_places``)
    and the caregivers the ratios ask. Returns the changes, the public cost a year
    (sites and places over ``costs.years``: the public builds, operators run them
    on fees, an assumption) and the places added.
    """
    plan = plan_demand(base)
    ages = list(base.age_groups)
    reach = base.geography.reach_m
    pairs = pairs_within(base, base.communities, base.candidate_sites, reach)
    want: dict[int, dict[str, float]] = {}
    for i, c in enumerate(base.communities):
        if plan.reach[i].size:
            continue
        js, _ = pairs.targets_of(i)
        if not js.size:
            continue
        site = want.setdefault(int(js[0]), dict.fromkeys(ages, 0.0))
        for t, p in c.demand.items():
            if base.care_types[t].mode == "enrolled":
                for a, share in c.age_mix.items():
                    site[a] += c.under3 * share * p * base.place_share(t)
    facilities = [f.model_dump(mode="json", exclude_none=True) for f in base.facilities]
    cost = 0.0
    added = 0
    for j, need in sorted(want.items()):
        s = base.candidate_sites[j]
        places = {a: math.ceil(n) for a, n in need.items() if n > 0}
        total = sum(places.values())
        if total < SITE_PLACES_MIN and places:
            a = max(places, key=places.__getitem__)
            places[a] += SITE_PLACES_MIN - total
        while sum(places.values()) > s.max_places:
            a = max(places, key=places.__getitem__)
            places[a] -= 1
        teachers = sum(math.ceil(n / base.age_groups[a].ratio) for a, n in places.items())
        row = s.model_dump(mode="json", exclude_none=True)
        for key in ("max_places", "fixed_cost_cny"):
            row.pop(key, None)
        facilities.append({**row, "places": places, "staff": {"teacher": teachers}})
        site_cost = s.fixed_cost_cny if s.fixed_cost_cny is not None else base.costs.per_site_cny
        cost += site_cost + base.costs.per_place_cny * sum(places.values())
        added += sum(places.values())
    left = [
        c.model_dump(mode="json", exclude_none=True)
        for j, c in enumerate(base.candidate_sites)
        if j not in want
    ]
    return {"facilities": facilities, "candidate_sites": left}, cost / base.costs.years, added


def run(sc: Scenario, days: int, reps: int) -> dict[str, Any]:
    s = summarize(
        simulate(
            sc.with_changes({"simulation.days": days, "simulation.replications": reps}), workers=1
        )
    )
    return {
        "enrolled": s["finance"]["enrolled"],
        "places": s["district"]["places"],
        "waitlist": s["district"]["waitlist"],
        "unreached": s["district"]["unreached_enrolled"],
        "utilization": s["district"]["utilization"],
        "public": s["finance"]["public_cost_cny_per_year"],
        "revenue": s["finance"]["revenue_cny_per_year"]["mean"],
    }


def main() -> int:
    exp = Experiment("08_fees_and_subsidies", QUESTION)
    days, reps = (2, 2) if exp.quick else (20, 5)
    subsidies = SUBSIDIES_CNY[1:3] if exp.quick else SUBSIDIES_CNY
    caps = CAPS_CNY[1:2] if exp.quick else CAPS_CNY
    base = priced(load_scenario(SCENARIOS / "yanzhou.toml"))
    levers: list[tuple[str, str, dict[str, Any], float]] = [("today", "today's fees", {}, 0.0)]
    for v in subsidies:
        levers.append(
            (
                "subsidy",
                f"subsidy {v:,.0f}/child-month",
                {"subsidies.operator_per_child_month_cny": v},
                0.0,
            )
        )
    for v in caps:
        levers.append(("cap", f"普惠 cap {v:,.0f} (half of facilities)", capped(base, v), 0.0))
    levers.append(
        ("allowance", "allowance 0", {"subsidies.family_allowance_per_child_year_cny": 0.0}, 0.0)
    )
    levers.append(
        (
            "allowance",
            "allowance 7,200",
            {"subsidies.family_allowance_per_child_year_cny": 7200.0},
            0.0,
        )
    )
    site_changes, site_cost, site_places = new_sites(base)
    levers.append(("sites", f"new sites (+{site_places:,} places)", site_changes, site_cost))
    rows: list[dict[str, Any]] = []
    for kind, label, changes, extra_cost in levers:
        sc = base.with_changes(changes) if changes else base
        r = run(sc, days, reps)
        r["public"] += extra_cost
        rows.append({"kind": kind, "lever": label, **r})
        exp.log(f"{label}: enrolled {r['enrolled']:,}, public {r['public']:,.0f} yuan a year")
    first = rows[0]
    for r in rows:
        gain = r["enrolled"] - first["enrolled"]
        r["extra_enrolled"] = gain
        r["extra_public"] = r["public"] - first["public"]
        r["per_extra_child"] = r["extra_public"] / gain if gain > 0 else None
        r["empty_places"] = r["places"] - r["enrolled"]
    exp.csv(
        "levers.csv",
        [
            {
                "kind": r["kind"],
                "lever": r["lever"],
                "enrolled": r["enrolled"],
                "extra_enrolled": r["extra_enrolled"],
                "places": r["places"],
                "places_minus_enrolled": r["empty_places"],
                "waitlist": r["waitlist"],
                "unreached_enrolled": r["unreached"],
                "utilization": r["utilization"]["mean"],
                "utilization_lo": (r["utilization"]["ci95"] or [None, None])[0],
                "utilization_hi": (r["utilization"]["ci95"] or [None, None])[1],
                "public_cost_cny_per_year": round(r["public"], 0),
                "extra_public_cost_cny_per_year": round(r["extra_public"], 0),
                "public_cost_per_extra_child_cny": None
                if r["per_extra_child"] is None
                else round(r["per_extra_child"], 0),
                "operators_revenue_cny_per_year": round(r["revenue"], 0),
            }
            for r in rows
        ],
    )

    cjk = exp.cjk
    fig = Figure(figsize=(12, 5), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    colours = {"today": "k", "subsidy": "#08519c", "cap": "#238b45", "allowance": "#cb181d"}
    colours["sites"] = "#6a51a3"
    for r in rows[1:]:
        ax1.scatter(r["extra_enrolled"], r["extra_public"] / 1e4, color=colours[r["kind"]])
        ax1.annotate(r["lever"], (r["extra_enrolled"], r["extra_public"] / 1e4), fontsize=7)
    ax1.axhline(0, color="0.6", lw=0.8)
    ax1.axvline(0, color="0.6", lw=0.8)
    ax1.set_xlabel("新增在托儿童（人）" if cjk else "additional enrolled children")
    ax1.set_ylabel("新增财政支出（万元/年）" if cjk else "additional public cost (10k yuan a year)")
    ax1.set_title(
        "各项政策：新增在托与财政支出" if cjk else "each lever: extra children, extra cost"
    )
    util = [r["utilization"] for r in rows]
    x = range(len(rows))
    ax2.bar(
        x,
        [u["mean"] for u in util],
        yerr=yerr(util),
        color=[colours[r["kind"]] for r in rows],
        capsize=3,
    )
    ax2.set_xticks(list(x))
    ax2.set_xticklabels([r["lever"] for r in rows], rotation=60, ha="right", fontsize=7)
    ax2.set_ylabel("全区托位利用率" if cjk else "district utilization")
    ax2.set_title("托位利用率（95% 置信区间）" if cjk else "utilization (95% CI)")
    exp.figure(fig, "levers.png", "Extra enrolled children against extra public cost; utilization")

    table = md_table(
        [
            {
                "lever": r["lever"],
                "enrolled": f"{r['enrolled']:,}",
                "extra": f"{r['extra_enrolled']:+,}",
                "util": fmt_ci(r["utilization"]),
                "public": f"{r['public'] / 1e4:,.0f}",
                "per": "–" if r["per_extra_child"] is None else f"{r['per_extra_child']:,.0f}",
                "revenue": f"{(r['revenue'] - rows[0]['revenue']) / 1e4:+,.0f}",
            }
            for r in rows
        ],
        [
            ("lever", "lever"),
            ("enrolled", "enrolled"),
            ("extra", "extra enrolled"),
            ("util", "utilization (95% CI)"),
            ("public", "public cost (10k yuan a year)"),
            ("per", "public cost per extra child (yuan a year)"),
            ("revenue", "operators' revenue change (10k yuan a year)"),
        ],
    )
    today = rows[0]
    paid = [r for r in rows if r["per_extra_child"] is not None and r["extra_public"] > 0]
    cheapest = min(paid, key=lambda r: r["per_extra_child"]) if paid else None
    by_kind = {k: [r for r in rows if r["kind"] == k] for k in colours}
    parts = [
        f"Today {today['enrolled']:,} children are enrolled in {today['places']:,} places "
        f"(utilization {fmt_ci(today['utilization'])}); {today['unreached']:,} children who want "
        "a place live out of reach of every facility."
    ]
    if cheapest is not None:
        parts.append(
            f"Of the levers that cost public money, **{cheapest['lever']}** buys an extra enrolled "
            f"child most cheaply: {cheapest['extra_enrolled']:+,} children for "
            f"{cheapest['per_extra_child']:,.0f} yuan a year each."
        )
    for r in by_kind["cap"]:
        parts.append(
            f"A **{r['lever']}** brings {r['extra_enrolled']:+,} children at no public cost; "
            f"operators' revenue changes by {(r['revenue'] - today['revenue']) / 1e4:+,.0f} "
            "(10k yuan a year)."
        )
    up = [r for r in by_kind["allowance"] if r["extra_enrolled"] > 0]
    for r in up:
        parts.append(
            f"**{r['lever']}** brings {r['extra_enrolled']:+,} children for "
            f"{r['per_extra_child']:,.0f} yuan a year each: paid for every child under three, "
            "most of it goes to families who do not use care."
        )
    for r in by_kind["sites"]:
        per = "–" if r["per_extra_child"] is None else f"{r['per_extra_child']:,.0f}"
        parts.append(
            f"**{r['lever']}** reach {r['extra_enrolled']:+,} children out of reach today, for "
            f"{per} yuan a year each (sites and places over the scenario's years), and leave "
            f"utilization at {fmt_ci(r['utilization'])}: new sites do not fill empty places, "
            "a lower net fee does."
        )
    answer = " ".join(parts) + "\n\n" + table
    method = (
        "Yanzhou (`scenarios/yanzhou.toml`, not edited) with fees "
        f"{', '.join(f'{t} {v:,.0f}' for t, v in MONTHLY_CNY.items())} yuan a month and "
        f"{', '.join(f'{t} {v:,.0f}' for t, v in HOURLY_CNY.items())} yuan an hour, the national "
        "allowance of 3,600 yuan a year, and a logistic take-up (`[takeup]`, no distance "
        "response, nearest facility), calibrated so that take-up at these fees is the "
        "scenario's demand as written (`tuoyu_sim.takeup.calibrated`). Each lever is set with "
        "`Scenario.with_changes` and simulated "
        f"({reps} replications × {days} days). Public cost a year: operating subsidies and the "
        "allowance (to every child under three); for new sites also sites and places over "
        "`costs.years` (the public builds; an assumption). New sites: for each community with "
        "no facility within the cut-off, its nearest candidate site opens with its enrolled "
        f"demand in places (at least {SITE_PLACES_MIN}) and the caregivers the ratios ask."
    )
    caveats = [
        SYNTHETIC_CAVEAT,
        "The take-up curve is an assumption: full day goes through two sourced points "
        "(over 70% accept under 2,000 yuan; 12% enrolled of 35% wanting care at about 1,900), "
        "read as acceptance among families wanting care; other types use the same shape "
        "scaled to their fee. Fees other than full day's 1,900 are assumptions.",
        "Counting the allowance against the fee (the net fee) is an assumption: it is cash, "
        "not a price cut. Without that, the allowance would move no demand at all.",
        "Enrolled children are placed nearest first within capacity; a community's children "
        "do not cross to a cheaper facility farther away (choice = nearest).",
        "Which half of the facilities is 普惠 (every second one in the table) is an assumption.",
        "Costs of new sites come from the scenario's `[costs]` (assumptions); staff are paid "
        "by operators from fees and are not counted as public cost.",
    ]
    exp.summary(method, answer, caveats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
