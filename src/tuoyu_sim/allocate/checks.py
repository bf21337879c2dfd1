"""When targets cannot be met: explanations with numbers, before and after solving.

:func:`check_cover_all` and :func:`check_min_cost` run before a model is built
and find what makes it infeasible on its face (a community no site reaches,
too little capacity within reach, a budget below a lower bound of the cost).
:func:`explain_infeasible` runs after a min-cost solve came back infeasible: it
re-solves with one target block switched off at a time to find which block
fails, and reports what is reachable: the least budget that meets the
targets, or the most coverage and places per 1,000 that the budget buys.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from tuoyu_sim.allocate.instance import Instance
from tuoyu_sim.allocate.mincost import MinCostOptions, build_min_cost, solve_min_cost
from tuoyu_sim.allocate.solvers import SolverSpec
from tuoyu_sim.errors import InfeasibleError
from tuoyu_sim.geography import distance_m, sites

_SHOW = 8


def _yuan(x: float) -> str:
    return f"{x:,.0f} yuan"


def unreachable(inst: Instance) -> np.ndarray:
    """Indices of communities with no facility or candidate site within the radius."""
    has = np.zeros(inst.n_communities, dtype=bool)
    has[inst.pairs.rows] = True
    return np.flatnonzero(~has)


def _nearest_text(inst: Instance, i: int) -> str:
    sc = inst.scenario
    targets = sites(sc)
    if not targets:
        return "no facility or site at all"
    c = sc.communities[i]
    d = [distance_m(sc, c, t) for t in targets]
    k = int(np.argmin(d))
    return f"nearest is {targets[k].id} at {d[k]:,.0f} m"


def _list_unreachable(inst: Instance, idx: np.ndarray, what: str) -> list[str]:
    lines = []
    for i in idx[:_SHOW]:
        lines.append(
            f"  community {inst.community_ids[i]} ({inst.under3[i]:,.1f} children under 3, "
            f"{what} {inst.demand[i]:,.2f} places): no facility or candidate site within "
            f"{inst.radius_m:,.0f} m; {_nearest_text(inst, int(i))}"
        )
    if idx.size > _SHOW:
        lines.append(f"  ... and {idx.size - _SHOW} more")
    return lines


def check_cover_all(inst: Instance) -> None:
    """Raise :class:`InfeasibleError` if some community lies beyond every site's radius."""
    idx = unreachable(inst)
    if idx.size:
        raise InfeasibleError(
            [
                f"cover-all cannot cover every community: {idx.size} of {inst.n_communities} "
                f"communities have no facility or candidate site within {inst.radius_m:,.0f} m",
                *_list_unreachable(inst, idx, "demand"),
                "Add candidate sites near them or widen the service radius (radius_m).",
            ]
        )


def cost_lower_bound(inst: Instance, extra_places: float) -> float:
    """A lower bound (yuan) on the cost of adding ``extra_places`` places anywhere."""
    if extra_places <= 0:
        return 0.0
    n = math.ceil(extra_places - 1e-9)
    cost = inst.place_cost * n
    # caregivers: hires >= sum_j (sum_a (p0 + x) / ratio - existing direct staff)
    work = float((inst.places0 / inst.ratio[None, :]).sum()) + n / float(inst.ratio.max())
    direct = max(0, math.ceil(work - float(inst.staff0[:, :2].sum()) - 1e-9))
    cost += direct * float(min(inst.role_cost[0], inst.role_cost[1]))
    # sites: places beyond what existing facilities can add come from new sites,
    # at no less than the cheapest site cost per place (fractional knapsack)
    beyond = n - int(inst.add_cap[: inst.n_existing].sum())
    cand = [j for j in range(inst.n_existing, inst.n_sites) if inst.add_cap[j] > 0]
    if beyond > 0 and cand:
        cand.sort(key=lambda j: inst.site_cost[j] / inst.add_cap[j])
        left = float(beyond)
        for j in cand:
            take = min(left, float(inst.add_cap[j]))
            cost += inst.site_cost[j] * take / float(inst.add_cap[j])
            left -= take
            if left <= 0:
                break
    return cost


def check_min_cost(inst: Instance, opts: MinCostOptions) -> None:
    """Raise :class:`InfeasibleError` when the targets are infeasible on their face."""
    problems: list[str] = []
    demand = inst.demand
    total = float(demand.sum())
    idx = unreachable(inst)
    if opts.cover_every_community and idx.size:
        problems.append(
            f"every community within the circle: {idx.size} of {inst.n_communities} communities "
            f"have no facility or candidate site within {inst.radius_m:,.0f} m"
        )
        problems += _list_unreachable(inst, idx, "demand")
    idx_dem = idx[demand[idx] > 0]
    best_decay = np.zeros(inst.n_communities)
    np.maximum.at(best_decay, inst.pairs.rows, inst.decay)
    reachable = float((demand * best_decay).sum())
    if opts.coverage_share > 0 and total > 0 and reachable < opts.coverage_share * total - 1e-9:
        problems.append(
            f"coverage target {opts.coverage_share:.1%} of demand "
            f"({opts.coverage_share * total:,.1f} places) cannot be met: only {reachable:,.1f} "
            f"of {total:,.1f} places' worth of demand "
            f"({reachable / total:.1%}) lies within {inst.radius_m:,.0f} m of a facility or "
            f"candidate site"
            + (
                f" (weighted by {inst.decay_kind} distance decay)"
                if inst.decay_kind != "off"
                else ""
            )
        )
        problems += _list_unreachable(inst, idx_dem, "demand")
    if opts.min_community_share > 0 and idx_dem.size:
        problems.append(
            f"per-community floor {opts.min_community_share:.1%} cannot be met: {idx_dem.size} "
            f"communities with demand have no facility or candidate site within "
            f"{inst.radius_m:,.0f} m"
        )
        problems += _list_unreachable(inst, idx_dem, "demand")
    cap = inst.places0.sum(axis=1) + inst.add_cap
    beta = inst.max_turn_away
    floor_need = inst.enrolled.sum(axis=1) + inst.walk_in.sum(axis=1) * (1.0 - min(beta, 1.0))
    if opts.coverage_share > 0 and total > 0:
        need = opts.coverage_share * float(floor_need.sum())
        if float(cap.sum()) < need - 1e-9:
            problems.append(
                f"capacity: serving {opts.coverage_share:.1%} of demand needs at least "
                f"{need:,.1f} places, but facilities and candidate sites can hold at most "
                f"{float(cap.sum()):,.0f}"
            )
    if opts.min_community_share > 0:
        reach_cap = np.zeros(inst.n_communities)
        np.add.at(reach_cap, inst.pairs.rows, cap[inst.pairs.cols])
        short = np.flatnonzero(opts.min_community_share * floor_need > reach_cap + 1e-9)
        short = short[np.isin(short, idx_dem, invert=True)]
        for i in short[:_SHOW]:
            problems.append(
                f"capacity within reach of community {inst.community_ids[i]}: "
                f"{opts.min_community_share:.1%} of its demand needs "
                f"{opts.min_community_share * floor_need[i]:,.1f} places, but sites within "
                f"{inst.radius_m:,.0f} m can hold at most {reach_cap[i]:,.0f} in all"
            )
    add_needed = inst.places_needed_per_1000(opts.places_per_1000)
    pop = float(inst.population.sum())
    if add_needed > 0:
        can_add = float(inst.add_cap.sum())
        if can_add < add_needed - 1e-9:
            best = 1000.0 * (inst.places0_total + can_add) / pop
            problems.append(
                f"places-per-1,000 target {opts.places_per_1000:g} needs {math.ceil(add_needed):,} "
                f"more places (from {1000.0 * inst.places0_total / pop:.2f}), but existing "
                f"facilities (by floor area) and candidate sites can add at most {can_add:,.0f}; "
                f"the most reachable is {best:.2f} per 1,000"
            )
    if opts.budget_cny is not None and add_needed > 0:
        lb = cost_lower_bound(inst, add_needed)
        if lb > opts.budget_cny + 1e-6:
            problems.append(
                f"budget: reaching {opts.places_per_1000:g} places per 1,000 means "
                f"{math.ceil(add_needed):,} more places, which costs at least {_yuan(lb)} "
                f"(places, their caregivers over {inst.scenario.costs.years:g} years and sites); "
                f"the budget is {_yuan(opts.budget_cny)}"
            )
    if inst.max_turn_away <= 0 and float(inst.walk_in.sum()) > 0:
        problems.append(
            "targets.max_turn_away = 0: no finite number of walk-in places turns nobody away "
            "(Erlang B is positive for every size); allow a small share such as 0.05"
        )
    if problems:
        raise InfeasibleError(["the min-cost targets cannot all be met:", *problems])


def explain_infeasible(inst: Instance, opts: MinCostOptions, spec: SolverSpec) -> list[str]:
    """Which target block fails, and what is reachable (re-solves the model).

    Returns message lines for an :class:`InfeasibleError`.
    """
    lines = ["the min-cost targets cannot all be met:"]
    if opts.budget_cny is not None:
        free = solve_min_cost(build_min_cost(inst, replace(opts, budget_cny=None)), spec)
        if free.outcome.has_solution and free.outcome.objective is not None:
            need = float(free.outcome.objective)
            lines.append(
                f"budget: the targets need at least {_yuan(need)}"
                + (
                    ""
                    if free.outcome.status == "optimal"
                    else f" (best found; gap {free.outcome.gap or 0:.2%})"
                )
                + f"; the budget {_yuan(opts.budget_cny)} is {_yuan(need - opts.budget_cny)} short"
            )
            lines += _within_budget(inst, opts, spec)
            return lines
    relaxed = replace(opts, budget_cny=None)
    blocks = {
        "coverage": replace(relaxed, coverage_share=0.0),
        "floor": replace(relaxed, min_community_share=0.0),
        "per1000": replace(relaxed, places_per_1000=None),
        "walk-in": replace(relaxed, walk_in=False),
    }
    failing = []
    for name, variant in blocks.items():
        if name == "floor" and opts.min_community_share <= 0:
            continue
        if name == "coverage" and opts.coverage_share <= 0:
            continue
        if name == "per1000" and not inst.places_needed_per_1000(opts.places_per_1000):
            continue
        if name == "walk-in" and not np.any(inst.walk_in > 0):
            continue
        sol = solve_min_cost(build_min_cost(inst, variant), spec)
        if sol.outcome.has_solution:
            failing.append(name)
    best = _reachable(inst, MinCostOptions(objective="coverage", walk_in=opts.walk_in), spec)
    total = float(inst.demand.sum())
    if ("coverage" in failing or not failing) and best is not None and total > 0:
        lines.append(
            f"coverage: at most {best / total:.1%} of demand ({best:,.1f} of {total:,.1f} "
            f"places' worth) can be served within {inst.radius_m:,.0f} m; the target is "
            f"{opts.coverage_share:.1%}"
        )
    if "floor" in failing:
        lines.append(
            f"per-community floor {opts.min_community_share:.1%}: some community cannot get that "
            f"share within {inst.radius_m:,.0f} m with the capacity in reach"
        )
    if "per1000" in failing:
        most = _reachable(inst, MinCostOptions(objective="places", walk_in=opts.walk_in), spec)
        if most is not None:
            pop = float(inst.population.sum())
            lines.append(
                f"places per 1,000: at most {1000.0 * (inst.places0_total + most) / pop:.2f} "
                f"is reachable together with the other targets' capacity; the target is "
                f"{opts.places_per_1000:g}"
            )
    if "walk-in" in failing:
        lines.append(
            f"walk-in sizing: the places within reach cannot keep turn-away at or below "
            f"{inst.max_turn_away:.1%} (Erlang B) for the walk-in load that must be served"
        )
    if len(failing) != 1:
        lines.append(
            "no single target block is to blame: the targets together exceed what "
            "the sites within reach can hold"
        )
    return lines


def _reachable(inst: Instance, opts: MinCostOptions, spec: SolverSpec) -> float | None:
    sol = solve_min_cost(build_min_cost(inst, opts), spec)
    if not sol.outcome.has_solution or sol.outcome.objective is None:
        return None
    return float(sol.outcome.objective)


def _within_budget(inst: Instance, opts: MinCostOptions, spec: SolverSpec) -> list[str]:
    total = float(inst.demand.sum())
    out = []
    cov = _reachable(
        inst,
        replace(
            opts,
            objective="coverage",
            coverage_share=0.0,
            min_community_share=0.0,
            places_per_1000=None,
        ),
        spec,
    )
    if cov is not None and total > 0:
        out.append(
            f"within the budget the most demand served within {inst.radius_m:,.0f} m is "
            f"{cov / total:.1%} ({cov:,.1f} of {total:,.1f} places' worth); the target is "
            f"{opts.coverage_share:.1%}"
        )
    if opts.places_per_1000 is not None:
        most = _reachable(
            inst,
            replace(
                opts,
                objective="places",
                coverage_share=0.0,
                min_community_share=0.0,
                places_per_1000=None,
            ),
            spec,
        )
        if most is not None:
            pop = float(inst.population.sum())
            out.append(
                f"within the budget the most places per 1,000 is "
                f"{1000.0 * (inst.places0_total + most) / pop:.2f}; the target is "
                f"{opts.places_per_1000:g}"
            )
    return out
