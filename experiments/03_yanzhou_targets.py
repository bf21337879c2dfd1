"""03 — Yanzhou: the least-cost plans to 6.0 and to 10 places per 1,000.

Each target is tried with every community inside the 1 km circle; if that is
infeasible with the scenario's candidate sites the InfeasibleError message is
reported and the target is solved without it. Every plan is re-simulated.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from _common import SCENARIOS, SYNTHETIC_CAVEAT, Experiment, fmt_ci, md_table, yerr
from matplotlib.figure import Figure

from tuoyu_sim.allocate import OptimizeOptions, SolverSpec, optimize, planned_scenario
from tuoyu_sim.errors import InfeasibleError, SolverError
from tuoyu_sim.geography import distance_m, pairs_within
from tuoyu_sim.metrics import summarize
from tuoyu_sim.planning import run_plan, scenario_cost
from tuoyu_sim.scenario import Scenario, load_scenario
from tuoyu_sim.simulation import simulate

QUESTION = (
    "What is the least-cost plan to bring Yanzhou from 5.66 to 6.0 places per 1,000 residents, "
    "and to 10 per 1,000 (the level Anhui's 2025 draft standard asks of new residential "
    "districts), with every community inside the 1 km service circle — and how do the planned "
    "districts perform when simulated?"
)
TARGETS = (6.0, 10.0)


CIRCLE = ", every community in the circle"


def outside_share(sc: Scenario) -> tuple[int, float]:
    """Communities and share of children under 3 with no facility within the circle."""
    pairs = pairs_within(sc, sc.communities, sc.facilities, sc.geography.service_radius_m)
    inside = np.zeros(len(sc.communities), dtype=bool)
    inside[pairs.rows] = True
    kids = np.array([c.under3 for c in sc.communities])
    return int((~inside).sum()), float(kids[~inside].sum() / kids.sum())


def group_places(sc: Scenario) -> dict[str, float]:
    """Places by the group of each facility (its own, else the nearest community's)."""
    out: dict[str, float] = {}
    for f in sc.facilities:
        g = f.group
        if not g:
            near = min(sc.communities, key=lambda c: distance_m(sc, c, f))
            g = near.group
        out[g] = out.get(g, 0.0) + f.total_places
    return out


def plans_figure(rows: list[dict[str, Any]], cjk: bool) -> Figure:
    fig = Figure(figsize=(12, 4.8), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    labels = [r["label"] for r in rows]
    x = np.arange(len(rows))
    parts = [
        ("site_cost_cny", "#9467bd", "开办" if cjk else "sites"),
        ("place_cost_cny", "#1f77b4", "托位" if cjk else "places"),
        ("staff_cost_cny", "#ff7f0e", "人员（5年）" if cjk else "staff (5 years)"),
    ]
    bottom = np.zeros(len(rows))
    for key, colour, name in parts:
        v = np.array([r["cost"].get(key, 0.0) / 1e6 for r in rows])
        ax1.bar(x, v, bottom=bottom, color=colour, label=name)
        bottom += v
    ax1.set_ylabel("百万元" if cjk else "million yuan")
    ax1.set_title("方案成本" if cjk else "plan cost")
    ax1.legend(fontsize=8)
    for ax, key, title in (
        (ax2, "utilization", "模拟利用率（95% CI）" if cjk else "simulated utilization (95% CI)"),
        (ax3, "turn_away", "临时/计时托拒收率（95% CI）" if cjk else "walk-in turn-away (95% CI)"),
    ):
        stats_ = [r[key] for r in rows]
        ax.bar(
            x,
            [s["mean"] for s in stats_],
            yerr=yerr(stats_),
            color="#2ca02c",
            capsize=4,
            alpha=0.85,
        )
        ax.yaxis.set_major_formatter(__import__("matplotlib").ticker.PercentFormatter(1.0))
        ax.set_title(title)
    for ax in (ax1, ax2, ax3):
        ax.set_xticks(x)
        ax.set_xticklabels(labels, fontsize=8)
    fig.suptitle(
        "兖州区：达到 6.0 与 10 托位/千人的最低成本方案"
        if cjk
        else "Yanzhou: least-cost plans to 6.0 and 10 places per 1,000"
    )
    return fig


def groups_figure(before: Scenario, plans: list[tuple[str, Scenario]], cjk: bool) -> Figure:
    pop: dict[str, float] = {}
    for c in before.communities:
        pop[c.group] = pop.get(c.group, 0.0) + c.population
    groups = sorted(pop, key=lambda g: -pop[g])
    series = [("今天" if cjk else "today", before), *plans]
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(series)
    colours = ["#bdbdbd", "#6baed6", "#08519c", "#fd8d3c"]
    for i, (label, sc) in enumerate(series):
        gp = group_places(sc)
        v = [1000 * gp.get(g, 0.0) / pop[g] for g in groups]
        ax.bar(
            np.arange(len(groups)) + (i - (len(series) - 1) / 2) * width,
            v,
            width,
            color=colours[i % len(colours)],
            label=label,
        )
    for t in TARGETS:
        ax.axhline(t, color="#d62728", ls="--", lw=1)
    ax.set_xticks(np.arange(len(groups)))
    ax.set_xticklabels(groups)
    ax.set_ylabel("每千人托位" if cjk else "places per 1,000 residents")
    ax.set_title(
        "各街道/镇每千人托位：今天与各方案（虚线：6.0 与 10）"
        if cjk
        else "Places per 1,000 by subdistrict / town (dashed: 6.0 and 10)"
    )
    ax.legend(fontsize=8)
    return fig


def sim_figures(sc: Scenario, workers: int) -> dict[str, Any]:
    s = summarize(simulate(sc, workers=workers))
    d = s["district"]
    worst = max(
        (f["turn_away_rate"]["mean"] or 0.0) for f in s["facilities"] if f["walk_in_arrivals"]
    )
    return {
        "utilization": d["utilization"],
        "turn_away": d["turn_away_rate"],
        "breach": d["breach_day_share"],
        "enrolled": d["enrolled"],
        "waitlist": d["waitlist"],
        "unreached": d["unreached_enrolled"],
        "worst_turn_away": worst,
    }


def main() -> int:
    exp = Experiment("03_yanzhou_targets", QUESTION)
    reps, days = (2, 1) if exp.quick else (20, 5)
    spec = (
        SolverSpec("highs", time_limit_s=5, gap=0.05, threads=1)
        if exp.quick
        else SolverSpec("highs", time_limit_s=180, gap=0.01, threads=1)
    )
    base = load_scenario(SCENARIOS / "yanzhou.toml").with_changes(
        {"simulation.replications": reps, "simulation.days": days}
    )
    n_out, share_out = outside_share(base)
    exp.log("simulating today")
    today = sim_figures(base, exp.workers)
    rows: list[dict[str, Any]] = [
        {
            "label": "今天" if exp.cjk else "today",
            "target": None,
            "cover": None,
            "status": "—",
            "gap": None,
            "message": "",
            "cost": {"cost_cny": 0.0},
            "new_sites": [],
            "added_places": 0,
            "added_caregivers": {},
            "per_1000_before": base.places_per_1000,
            "per_1000_after": base.places_per_1000,
            "outside": (n_out, share_out),
            **today,
        }
    ]
    infeasible: dict[float, str] = {}
    planned_list: list[tuple[str, Scenario]] = []
    for target in TARGETS:
        for cover in (True, False):
            exp.log(f"optimizing {target} per 1,000, cover every community: {cover}")
            opts = OptimizeOptions(target_per_1000=target, cover_every_community=cover)
            try:
                # the full plan loop: optimize, simulate, re-size by cause until it holds
                outcome = run_plan(
                    base,
                    lambda sc, opts=opts: optimize(sc, opts, spec),
                    planned_scenario,
                    workers=exp.workers,
                    max_iterations=3 if exp.quick else 8,
                )
            except InfeasibleError as exc:
                infeasible[target] = str(exc)
                first = str(exc).splitlines()
                exp.log(f"infeasible: {first[1] if len(first) > 1 else exc}")
                continue
            except SolverError as exc:
                infeasible[target] = f"(solver) {exc}"
                continue
            plan = outcome.first_plan
            planned = outcome.final
            cost = scenario_cost(base, planned)
            first_cost = scenario_cost(base, outcome.first_planned or planned)["cost_cny"]
            exp.log(
                f"plan: {len(plan.new_sites)} new sites, {plan.added_places} places; "
                f"{len(outcome.iterations)} passes, converged: {outcome.converged}; simulating"
            )
            figs = sim_figures(planned, exp.workers)
            label = f"{target:.1f}/千人" if exp.cjk else f"{target:.1f} per 1,000"
            if not cover:
                label += "\n（不要求全覆盖）" if exp.cjk else "\n(circle not required)"
            planned_list.append((label, planned))
            rows.append(
                {
                    "label": label,
                    "target": target,
                    "cover": cover,
                    "status": plan.status,
                    "gap": plan.gap,
                    "converged": outcome.converged,
                    "passes": len(outcome.iterations),
                    "optimizer_cost_cny": first_cost,
                    "message": "",
                    "cost": cost,
                    "new_sites": plan.new_sites,
                    "added_places": plan.added_places,
                    "added_caregivers": plan.added_caregivers,
                    "per_1000_before": plan.places_per_1000_before,
                    "per_1000_after": planned.places_per_1000,
                    "outside": outside_share(planned),
                    **figs,
                }
            )
            break  # the covering version held; no need for the relaxed one
    exp.figure(
        plans_figure(rows, exp.cjk),
        "plans.png",
        "Cost of each plan (sites, places, five years of added staff) and the planned "
        "district simulated: utilization and walk-in turn-away with 95% CIs.",
    )
    exp.figure(
        groups_figure(base, planned_list, exp.cjk),
        "per_1000_by_group.png",
        "Places per 1,000 residents by subdistrict and town, today and after each plan.",
    )
    exp.csv(
        "plans.csv",
        [
            {
                "plan": r["label"].replace("\n", " "),
                "target_per_1000": r["target"],
                "every_community_in_circle": r["cover"],
                "status": r["status"],
                "gap": r["gap"],
                "converged": r.get("converged"),
                "passes": r.get("passes"),
                "optimizer_cost_cny": r.get("optimizer_cost_cny"),
                "cost_cny": r["cost"].get("cost_cny"),
                "site_cost_cny": r["cost"].get("site_cost_cny"),
                "place_cost_cny": r["cost"].get("place_cost_cny"),
                "staff_cost_cny": r["cost"].get("staff_cost_cny"),
                "new_sites": " ".join(r["new_sites"]),
                "n_new_sites": len(r["new_sites"]),
                "added_places": r["added_places"],
                **{f"added_{k}": v for k, v in r["added_caregivers"].items()},
                "per_1000_before": r["per_1000_before"],
                "per_1000_after": r["per_1000_after"],
                "communities_outside_circle": r["outside"][0],
                "children_outside_share": r["outside"][1],
                "utilization": r["utilization"]["mean"],
                "turn_away": r["turn_away"]["mean"],
                "breach_day_share": r["breach"]["mean"],
                "worst_facility_turn_away": r["worst_turn_away"],
            }
            for r in rows
        ],
    )

    def money(v: float | None) -> str:
        return "—" if v is None else f"{v / 1e6:,.1f} M"

    table = md_table(
        [
            {
                "plan": r["label"].replace("\n", " "),
                "status": r["status"]
                + (f", gap {100 * r['gap']:.2f}%" if r["gap"] is not None and r["gap"] > 0 else ""),
                "cost": money(r["cost"].get("cost_cny")) if r["target"] else "—",
                "sites": len(r["new_sites"]),
                "places": r["added_places"],
                "cg": sum(v for k, v in r["added_caregivers"].items() if k != "health"),
                "per": f"{r['per_1000_before']:.2f} → {r['per_1000_after']:.2f}",
                "out": f"{r['outside'][0]} ({r['outside'][1]:.0%})",
                "util": fmt_ci(r["utilization"]),
                "ta": fmt_ci(r["turn_away"]),
                "breach": fmt_ci(r["breach"]),
            }
            for r in rows
        ],
        [
            ("plan", "plan"),
            ("status", "solver status"),
            ("cost", "cost (yuan)"),
            ("sites", "new sites"),
            ("places", "added places"),
            ("cg", "added caregivers"),
            ("per", "places per 1,000"),
            ("out", "communities outside circle (children)"),
            ("util", "utilization after"),
            ("ta", "walk-in turn-away after"),
            ("breach", "ratio-breach days"),
        ],
    )
    infeasible_text = ""
    for target, msg in infeasible.items():
        lines = msg.splitlines()
        shown = "\n".join(lines[:8]) + ("\n…" if len(lines) > 8 else "")
        infeasible_text += (
            f"\n**{target:g} per 1,000 with every community in the circle is infeasible** with "
            f"the scenario's candidate sites; the optimizer says:\n\n```\n{shown}\n```\n"
        )
    done = [r for r in rows if r["target"] is not None]
    lines = []
    for r in done:
        lines.append(
            f"- **{r['target']:g} per 1,000**"
            f"{CIRCLE if r['cover'] else ' (without the every-community condition)'}: "
            f"{money(r['cost']['cost_cny'])} yuan ({r['status']}), "
            f"{len(r['new_sites'])} new sites, "
            f"{r['added_places']:,} added places; {r['per_1000_before']:.2f} → "
            f"{r['per_1000_after']:.2f} per 1,000. Simulated: utilization "
            f"{fmt_ci(r['utilization'])}, walk-in turn-away {fmt_ci(r['turn_away'])}, worst "
            f"facility {r['worst_turn_away']:.1%}."
        )
    answer = f"""
Today {n_out} of {len(base.communities)} communities ({share_out:.0%} of children under 3) have no
facility within the 1 km walking circle; the district is simulated at utilization
{fmt_ci(today["utilization"])} with walk-in turn-away {fmt_ci(today["turn_away"])}.
{infeasible_text}
{chr(10).join(lines) if lines else "No plan was found."}

{table}

Costs are site opening, place fit-out and five years of added caregivers at the scenario's
(assumed) unit costs, for the plan after the full plan loop (`tuoyu-sim plan`: the optimizer
staffs each shift by the same rule as the simulation, then the simulation re-sizes what is
still short, by cause); `plans.csv` also gives the optimizer's own cost before re-sizing.
Utilization falls as places are added faster than the (fixed) demand: more places per 1,000
without more families wanting care means more empty place-hours.
"""
    method = f"""
`tuoyu_sim.allocate.optimize` (min-cost, HiGHS, relative gap ≤ {spec.gap:.1%}, time limit
{spec.time_limit_s:g} s) chooses which of the {len(base.candidate_sites)} candidate sites to
open and how many places and caregivers to add so that the district reaches the target per
1,000, with `cover_every_community=True` first; `tuoyu_sim.planning.run_plan` then simulates
the plan, judges every facility and re-sizes what is short until the plan holds twice, and the
planned district is simulated ({reps} replications × {days} days, 95% Student-t
intervals over replications).
"""
    caveats = [
        SYNTHETIC_CAVEAT,
        "All costs (20,000 yuan per place, 300,000 per site unless the site says otherwise, "
        "60,000–90,000 yuan per person-year) are assumptions in the scenario.",
        "Demand is held at today's level: the plans add places, not families who want care, "
        "so simulated utilization falls. The 10 per 1,000 level is Anhui's draft for *new* "
        "residential districts, applied here to a whole existing district as a stress case.",
        "A plan that stops at the time limit is reported with its status and proven gap; "
        "the cost is then an upper bound on the least cost.",
    ]
    exp.summary(method, answer, caveats)
    return 0 if not math.isnan(base.places_per_1000) else 1


if __name__ == "__main__":
    raise SystemExit(main())
