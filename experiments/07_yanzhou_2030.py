"""07 — Yanzhou 2026–2030: a phased plan as births fall, against two naive policies.

Under each births variant (low, central, high) three policies make the district's
network for 2026–2030:

* **phased**: one min-cost plan over the five years (``tuoyu-sim optimize --years``);
* **myopic**: each year planned for that year alone, on the network the year before
  left (what a district does with a one-year tool);
* **build and hold**: planned for 2026, then held.

Each policy's networks are costed by the same accounting (``phases.csv``) and every
year is simulated under that year's demand. Reported: present cost, empty
place-years, and the years in which a target is missed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from _common import SCENARIOS, SYNTHETIC_CAVEAT, Experiment, md_table
from matplotlib.figure import Figure

import tuoyu_sim as ty
from tuoyu_sim.allocate.phased import phase_rows, phasing_of, present_cost
from tuoyu_sim.planning import judge_network
from tuoyu_sim.projection import scenario_for_year, with_network
from tuoyu_sim.scenario import Scenario

QUESTION = (
    "Yanzhou's births keep falling: what should the district open, add, convert or release "
    "in 2026–2030, what does that cost, and how does it compare with planning one year at a "
    "time or building once for 2026 and holding?"
)
POLICIES = ("phased", "myopic", "hold")
POLICY_NAMES = {
    "phased": "phased plan",
    "myopic": "myopic (year by year)",
    "hold": "build 2026 and hold",
}


def phased(
    base: Scenario, years: tuple[int, ...], variant: str, workers: int
) -> dict[int, Scenario]:
    """``plan --years``: the phased plan, every year simulated and re-sized."""
    run = ty.plan(base, years=years, variant=variant, workers=workers)
    return dict(run.networks)


def _target(base: Scenario, year: int) -> float | None:
    return phasing_of(base).per_1000_in(year, base.targets.places_per_1000)


def myopic(
    base: Scenario, years: tuple[int, ...], variant: str, workers: int
) -> dict[int, Scenario]:
    """``plan`` each year alone, on the network the year before left (a one-year tool)."""
    net = base
    out = {}
    for y in years:
        demand = with_network(scenario_for_year(base, y, variant), net)
        net = ty.plan(demand, target_per_1000=_target(base, y), workers=workers).final
        out[y] = net
    return out


def hold(base: Scenario, years: tuple[int, ...], variant: str, workers: int) -> dict[int, Scenario]:
    """``plan`` the first year, then hold that network."""
    first = scenario_for_year(base, years[0], variant)
    built = ty.plan(first, target_per_1000=_target(base, years[0]), workers=workers).final
    return {y: with_network(scenario_for_year(base, y, variant), built) for y in years}


def year_figures(net: Scenario, target_per_1000: float | None, workers: int) -> dict[str, Any]:
    """Simulate one year's network and judge it as the plan loop does (stopping rule,
    shortfalls); its empty places and the targets it misses."""
    s, short = judge_network(net, workers=workers)
    d = s["district"]
    walk_in_places = sum(f.reserved_places for f in net.facilities)
    missed = sorted({sh.kind.replace("_", "-") for sh in short})
    if target_per_1000 is not None and net.places_per_1000 < target_per_1000 - 1e-9:
        missed.append("places per 1,000")
    return {
        "places": d["places"],
        "enrolled": d["enrolled"],
        "enrolled_demand": d["enrolled_demand"],
        "empty_places": max(0, d["places"] - walk_in_places - d["enrolled"]),
        "utilization": d["utilization"]["mean"],
        "waitlist": d["waitlist"],
        "missed": missed,
    }


def main(argv: list[str] | None = None) -> None:
    ex = Experiment("07_yanzhou_2030", QUESTION, argv)
    variants: tuple[str, ...] = ("low", "central", "high")
    if ex.quick:
        # the tests' run: the same comparison on the small example district (seconds, not
        # the hours the five Yanzhou years take on two cores)
        base = ty.load_scenario(SCENARIOS / "examples" / "falling_births.toml")
        years: tuple[int, ...] = (2026, 2027, 2028)
        base = base.with_changes({"simulation.replications": 2, "simulation.days": 2})
    else:
        base = ty.load_scenario(SCENARIOS / "yanzhou.toml")
        years = (2026, 2027, 2028, 2029, 2030)
    ph = phasing_of(base)
    target = {y: ph.per_1000_in(y, base.targets.places_per_1000) for y in years}
    policies = {"phased": phased, "myopic": myopic, "hold": hold}
    table: list[dict[str, Any]] = []
    by_year: list[dict[str, Any]] = []
    for v in variants:
        for name, make in policies.items():
            ex.log(f"{v}: {name}")
            networks = make(base, years, v, ex.workers)
            rows = phase_rows(base, networks)
            figs = {y: year_figures(networks[y], target[y], ex.workers) for y in years}
            for y in years:
                by_year.append({"variant": v, "policy": name, "year": y, **figs[y],
                                "missed": "; ".join(figs[y]["missed"])})  # fmt: skip
            table.append(
                {
                    "variant": v,
                    "policy": name,
                    "present_cost_myuan": round(present_cost(rows) / 1e6, 2),
                    "sites_opened": sum(1 for r in rows if r["action"] == "open"),
                    "places_added": sum(r["count"] for r in rows if r["action"] == "add"),
                    "places_released": -sum(r["count"] for r in rows if r["action"] == "release"),
                    "empty_place_years": round(sum(figs[y]["empty_places"] for y in years)),
                    "years_missed": ", ".join(str(y) for y in years if figs[y]["missed"]) or "none",
                }
            )
    ex.csv("policies.csv", table)
    ex.csv("by_year.csv", by_year)
    ex.figure(_cost_figure(table, variants), "present_cost.png",
              "Present cost of the three policies under each births variant.")  # fmt: skip
    ex.figure(_places_figure(by_year, years), "places_by_year.png",
              "Places and enrolled children per year, central variant, by policy.")  # fmt: skip
    columns = [
        ("variant", "births variant"),
        ("policy", "policy"),
        ("present_cost_myuan", "present cost (M yuan)"),
        ("sites_opened", "sites opened"),
        ("places_added", "places added"),
        ("places_released", "places released"),
        ("empty_place_years", "empty place-years"),
        ("years_missed", "years with a target missed"),
    ]
    central = {r["policy"]: r for r in table if r["variant"] == "central"}
    p, m, h = central["phased"], central["myopic"], central["hold"]
    answer = (
        f"Central variant, {years[0]}–{years[-1]}: the phased plan costs "
        f"{p['present_cost_myuan']} M yuan at present value with {p['empty_place_years']} "
        f"empty place-years; planning year by year costs {m['present_cost_myuan']} M "
        f"({m['empty_place_years']} empty place-years) and building for {years[0]} and holding "
        f"{h['present_cost_myuan']} M ({h['empty_place_years']}). Years with a target missed — "
        f"phased: {p['years_missed']}; myopic: {m['years_missed']}; hold: {h['years_missed']}.\n\n"
        + md_table(table, columns)
    )
    method = (
        "Every policy runs the optimize–simulate–re-size loop: the phased plan with "
        "`plan --years`, the myopic policy with `plan` on each year's demand and the network "
        "the year before left, the hold policy with `plan` on the first year only. "
        "Each policy's networks are costed from phases.csv's accounting (site cost the year a "
        "site opens, places added or converted, releases, every caregiver's salary every year, "
        f"discounted at phasing.discount_rate = {ph.discount_rate}); every year's network is "
        "judged under that year's projected demand as a pass of the loop judges it (births "
        f"variant as named; {base.simulation.replications} replications × "
        f"{base.simulation.days} days, more where a facility is undecided): a year misses a "
        "target when a facility is found short (walk-in turn-away or ratio breaches by the "
        "stopping rule, a waitlist while the coverage target is missed) or its places per "
        "1,000 fall below that year's target. Empty place-years: enrolled places "
        "(not held for walk-ins) minus children enrolled, summed over the years."
    )
    caveats = [
        "Quick mode runs the comparison on scenarios/examples/falling_births.toml (a small "
        "illustrative district), not on Yanzhou."
        if ex.quick
        else SYNTHETIC_CAVEAT,
        "The births variants after 2025 are assumptions (scenarios/yanzhou.toml, [projection]).",
        "The myopic and hold policies never release places: they are what a one-year tool does.",
    ]
    ex.summary(method, answer, caveats)


def _cost_figure(table: list[dict[str, Any]], variants: tuple[str, ...]) -> Figure:
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / len(POLICIES)
    x = np.arange(len(variants))
    for k, pol in enumerate(POLICIES):
        cost = {r["variant"]: r["present_cost_myuan"] for r in table if r["policy"] == pol}
        vals = [cost[v] for v in variants]
        ax.bar(x + k * width, vals, width, label=POLICY_NAMES[pol])
    ax.set_xticks(x + width * (len(POLICIES) - 1) / 2, list(variants))
    ax.set_ylabel("present cost (M yuan)")
    ax.set_xlabel("births variant")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def _places_figure(by_year: list[dict[str, Any]], years: tuple[int, ...]) -> Figure:
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    rows = [r for r in by_year if r["variant"] == "central"]
    for pol in POLICIES:
        mine = [r for r in rows if r["policy"] == pol]
        ax.plot([r["year"] for r in mine], [r["places"] for r in mine], "o-",
                label=f"places — {POLICY_NAMES[pol]}")  # fmt: skip
    demand = [r for r in rows if r["policy"] == "phased"]
    ax.plot([r["year"] for r in demand], [r["enrolled_demand"] for r in demand], "k--",
            label="children who want an enrolled place")  # fmt: skip
    ax.set_xticks(list(years), [str(y) for y in years])
    ax.set_ylim(bottom=0)
    ax.set_ylabel("places / children")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    main()
