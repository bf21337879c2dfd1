"""The optimize–simulate loop: a plan that holds when simulated.

The allocation model sizes places with steady-state formulas; the day model
shows what a real day does with them (start-of-day ramps, shift gaps, absent
caregivers, walk-ins that cluster). :func:`run_plan` closes the loop:

1. optimize (``min-cost``) the current scenario and apply the plan;
2. simulate the planned scenario with a fresh seed;
3. find facilities that miss a service level — walk-in turn-away above
   ``targets.max_turn_away``, a waitlist above ``targets.max_waitlist`` while the
   district enrols less than ``targets.coverage_share`` of the demand within
   reach, ratio breaches on a larger share of days than
   ``targets.max_breach_day_share``;
4. re-size them (:func:`resize`): walk-in places from Erlang B on the load the
   simulation saw, places for the waitlist, one more caregiver on the shift with
   the most breach minutes — within the floor area — and go back to 1;
5. stop when a plan meets every level in two simulations in a row (each with
   fresh seeds), or after ``max_iterations``.

Every iteration is reported (cost, worst turn-away, what changed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tuoyu_sim.metrics import summarize, tables
from tuoyu_sim.queueing import erlang_b_servers
from tuoyu_sim.scenario import DIRECT_ROLES, ROLES, Scenario
from tuoyu_sim.simulate import build_model, facility_shifts, simulate

SEED_STRIDE = 7919
"""Iteration i simulates with seed + i x SEED_STRIDE: fresh luck every time."""


@dataclass(frozen=True)
class Shortfall:
    """A facility that misses a service level in simulation."""

    facility: str
    kind: str
    """``turn_away``, ``waitlist`` or ``breach``."""
    value: float
    target: float

    def describe(self) -> str:
        if self.kind == "waitlist":
            return f"{self.facility}: waitlist {self.value:.0f} > {self.target:.0f}"
        what = "turn-away" if self.kind == "turn_away" else "breach days"
        return f"{self.facility}: {what} {self.value:.1%} > {self.target:.1%}"


@dataclass(frozen=True)
class Iteration:
    """One pass of the loop."""

    number: int
    seed: int
    cost_cny: float
    new_sites: tuple[str, ...]
    worst_turn_away: float
    worst_breach_day_share: float
    waitlist: int
    shortfalls: tuple[Shortfall, ...]
    changes: tuple[str, ...]

    @property
    def holds(self) -> bool:
        return not self.shortfalls

    def record(self) -> dict[str, Any]:
        return {
            "iteration": self.number,
            "seed": self.seed,
            "cost_cny": self.cost_cny,
            "new_sites": list(self.new_sites),
            "worst_turn_away": self.worst_turn_away,
            "worst_breach_day_share": self.worst_breach_day_share,
            "waitlist": self.waitlist,
            "holds": self.holds,
            "shortfalls": [s.describe() for s in self.shortfalls],
            "changes": list(self.changes),
        }


@dataclass
class PlanOutcome:
    """Where the loop ended."""

    original: Scenario
    final: Scenario
    first_plan: Any
    iterations: list[Iteration] = field(default_factory=list)
    final_summary: dict[str, Any] = field(default_factory=dict)
    final_tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    converged: bool = False
    notes: list[str] = field(default_factory=list)


def shortfalls(summary: Mapping[str, Any], scenario: Scenario) -> list[Shortfall]:
    """Facilities whose simulated means miss the scenario's service levels.

    A waitlist counts only while the district enrols less of the demand within
    reach than ``targets.coverage_share`` asks: a plan may leave the rest unserved
    by design.
    """
    tg = scenario.targets
    d = summary["district"]
    wanting = d["enrolled_demand"] - d["unreached_enrolled"]
    served = d["enrolled"] / wanting if wanting > 0 else 1.0
    check_waitlist = served + 1e-9 < tg.coverage_share
    out = []
    for f in summary["facilities"]:
        ta = f["turn_away_rate"]["mean"]
        if f["walk_in_arrivals"] > 0 and ta is not None and ta > tg.max_turn_away:
            out.append(Shortfall(f["id"], "turn_away", ta, tg.max_turn_away))
        if check_waitlist and f["waitlist"] > tg.max_waitlist:
            out.append(Shortfall(f["id"], "waitlist", f["waitlist"], tg.max_waitlist))
        br = f["breach_day_share"]["mean"]
        if br is not None and br > tg.max_breach_day_share:
            out.append(Shortfall(f["id"], "breach", br, tg.max_breach_day_share))
    return out


def _room(scenario: Scenario, facility_index: int) -> int:
    """Places the floor area still allows (a large number if no area is given)."""
    f = scenario.facilities[facility_index]
    if f.area_m2 is None:
        return 10**6
    used = sum(n * scenario.age_groups[a].area_m2_per_child for a, n in f.places.items())
    smallest = min(scenario.age_groups[a].area_m2_per_child for a in scenario.age_groups)
    return max(0, math.floor((f.area_m2 - used) / smallest + 1e-9))


def _spread_places(places: Mapping[str, int], extra: int, ages: Sequence[str]) -> dict[str, int]:
    """Add ``extra`` places over age classes in proportion to today's places."""
    current = np.array([places.get(a, 0) for a in ages], dtype=float)
    weights = current if current.sum() > 0 else np.ones(len(ages))
    exact = extra * weights / weights.sum()
    add = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - add), kind="stable")[: extra - int(add.sum())]:
        add[i] += 1
    return {a: int(places.get(a, 0) + add[i]) for i, a in enumerate(ages)}


def caregivers_for(scenario: Scenario, places: Mapping[str, int]) -> int:
    """Direct caregivers the ratios ask for a full house: sum of ceil(places / ratio)."""
    return sum(math.ceil(n / scenario.age_groups[a].ratio) for a, n in places.items())


def resize(
    scenario: Scenario,
    summary: Mapping[str, Any],
    breach_rows: Sequence[Mapping[str, Any]],
    found: Sequence[Shortfall],
) -> tuple[Scenario, list[str], list[str]]:
    """Add places and caregivers where the simulation found them short.

    Returns the re-sized scenario, what changed, and what could not be fixed
    (no floor area left).
    """
    sim = scenario.simulation
    ages = list(scenario.age_groups)
    index = {f.id: j for j, f in enumerate(scenario.facilities)}
    by_id = {f["id"]: f for f in summary["facilities"]}
    walk_types = [k for k, t in scenario.care_types.items() if t.mode == "walk_in"]
    arrivals = {t: summary["care_types"][t]["arrivals"] for t in walk_types}
    total_arrivals = sum(arrivals.values())
    from tuoyu_sim.demand import stay_distribution

    mean_stay = (
        sum(
            arrivals[t] * stay_distribution(scenario.care_types[t].stay).mean_minutes
            for t in walk_types
        )
        / total_arrivals
        if total_arrivals
        else 0.0
    )
    runs = summary["replications"] * summary["days"]
    changes: dict[str, Any] = {}
    said: list[str] = []
    unfixable: list[str] = []
    for fid in dict.fromkeys(s.facility for s in found):
        j = index[fid]
        f = scenario.facilities[j]
        fs = by_id[fid]
        kinds = {s.kind: s for s in found if s.facility == fid}
        places = dict(f.places)
        extra = 0
        if "turn_away" in kinds:
            load = fs["walk_in_arrivals"] / runs * mean_stay / sim.open_minutes
            need = erlang_b_servers(load, scenario.targets.max_turn_away)
            free_now = max(0, sum(places.values()) - fs["enrolled"])
            extra = max(extra, need - free_now, 1)
        if "waitlist" in kinds:
            extra += int(fs["waitlist"])
        room = _room(scenario, j)
        if extra > room:
            unfixable.append(
                f"{fid}: needs {extra} more places but its floor area ({f.area_m2:g} m²) "
                f"allows {room}"
            )
            extra = room
        staff = f.staff.model_dump()
        if extra:
            places = _spread_places(places, extra, ages)
            changes[f"facilities.{j}.places"] = places
            said.append(f"{fid}: +{extra} places ({', '.join(k for k in kinds if k != 'breach')})")
        absent = scenario.staff.absence_probability
        names = list(scenario.staff.shifts) if scenario.staff.shifts else ["all"]
        shifts = dict(zip(names, (n for (_, _, n) in facility_shifts(scenario, f)), strict=True))
        if "breach" in kinds:
            for name, n in _breach_staff(scenario, f.id, breach_rows).items():
                extra_n = math.ceil(n / (1.0 - absent)) if absent > 0 else n
                shifts[name] += extra_n
        # a full house must stay within the ratios (the optimizer's rule)
        need_direct = caregivers_for(scenario, places)
        short_total = need_direct - sum(shifts.values())
        if short_total > 0:
            first = next(iter(shifts))
            shifts[first] += short_total
        add_direct = sum(shifts.values()) - f.staff.direct
        if add_direct > 0:
            staff["nursery"] = staff["nursery"] + add_direct
            changes[f"facilities.{j}.staff"] = staff
            if scenario.staff.shifts:
                changes[f"facilities.{j}.shifts"] = shifts
                where = ", ".join(f"{k} {v}" for k, v in shifts.items())
                said.append(f"{fid}: +{add_direct} nursery caregiver(s) (shifts now {where})")
            else:
                said.append(f"{fid}: +{add_direct} nursery caregiver(s)")
    if not changes:
        return scenario, said, unfixable
    return scenario.with_changes(changes), said, unfixable


def _breach_staff(
    scenario: Scenario, facility_id: str, breach_rows: Sequence[Mapping[str, Any]]
) -> dict[str, int]:
    """Extra caregivers per shift that would remove the breaches the simulation saw.

    Each open hour needs ``caregivers_short`` more caregivers (see
    :func:`tuoyu_sim.metrics.caregivers_short`). Greedily, the hour with the
    largest remaining need gets that many on the shift that covers it and the
    most other needy hours; every hour that shift covers is then served.
    """
    named = scenario.staff.shifts
    need = {
        60 * int(r["hour"][:2]) + int(r["hour"][3:5]) + 30: int(r["caregivers_short"])
        for r in breach_rows
        if r["facility"] == facility_id and r["caregivers_short"] > 0
    }
    if not need:
        need = {0: 1}  # breaches were seen, but not on most days of any hour
    if not named:
        return {"all": max(need.values())}
    added = dict.fromkeys(named, 0)
    while any(v > 0 for v in need.values()):
        hour = max(need, key=lambda m: need[m])
        covering = [n for n, s in named.items() if s.start <= hour < s.end] or list(named)
        best = max(
            covering,
            key=lambda n: sum(
                1 for m, v in need.items() if v > 0 and named[n].start <= m < named[n].end
            ),
        )
        amount = need[hour]
        added[best] += amount
        for m in need:
            if named[best].start <= m < named[best].end or m == hour:
                need[m] = max(0, need[m] - amount)
    return {k: v for k, v in added.items() if v}


def scenario_cost(original: Scenario, final: Scenario) -> dict[str, Any]:
    """What turning ``original`` into ``final`` costs (new sites, places, caregivers).

    Sites in ``final`` that are not facilities in ``original`` are new; their
    fixed cost comes from the candidate site (or ``costs.per_site_cny``).
    """
    costs = final.costs
    before = {f.id: f for f in original.facilities}
    sites = {s.id: s for s in original.candidate_sites}
    added_places = 0
    added_staff = dict.fromkeys(ROLES, 0)
    site_cost = 0.0
    new_sites = []
    for f in final.facilities:
        old = before.get(f.id)
        if old is None:
            new_sites.append(f.id)
            s = sites.get(f.id)
            fixed = s.fixed_cost_cny if (s is not None and s.fixed_cost_cny is not None) else None
            site_cost += fixed if fixed is not None else costs.per_site_cny
            added_places += f.total_places
            for r in ROLES:
                added_staff[r] += getattr(f.staff, r)
        else:
            added_places += max(0, f.total_places - old.total_places)
            for r in ROLES:
                added_staff[r] += max(0, getattr(f.staff, r) - getattr(old.staff, r))
    staff_cost = sum(
        added_staff[r] * getattr(costs.per_caregiver_year_cny, r) * costs.years for r in ROLES
    )
    total = site_cost + added_places * costs.per_place_cny + staff_cost
    return {
        "new_sites": new_sites,
        "added_places": added_places,
        "added_caregivers": added_staff,
        "site_cost_cny": site_cost,
        "place_cost_cny": added_places * costs.per_place_cny,
        "staff_cost_cny": staff_cost,
        "cost_cny": total,
    }


def run_plan(
    scenario: Scenario,
    optimize_fn: Callable[[Scenario], Any],
    apply_fn: Callable[[Any, Scenario], Scenario],
    *,
    workers: int = 1,
    max_iterations: int = 6,
    report: Callable[[Iteration], None] | None = None,
) -> PlanOutcome:
    """Optimize, simulate, re-size and repeat until the plan holds twice in a row.

    Parameters
    ----------
    scenario
        The starting scenario (its ``[targets]`` are the service levels).
    optimize_fn
        Scenario → plan (min-cost); raises InfeasibleError when targets cannot be met.
    apply_fn
        (plan, scenario) → the scenario with the plan applied.
    workers
        Simulation processes; results do not depend on it.
    max_iterations
        At most this many optimize–simulate passes (≥ 2).
    report
        Called after every iteration.
    """
    seed = scenario.simulation.seed
    current = scenario
    first_plan = None
    outcome = PlanOutcome(original=scenario, final=scenario, first_plan=None)
    held_before = False
    for number in range(1, max(2, max_iterations) + 1):
        plan = optimize_fn(current)
        if first_plan is None:
            first_plan = plan
        planned = apply_fn(plan, current)
        it_seed = seed + number * SEED_STRIDE
        trial = planned.with_changes({"simulation.seed": it_seed})
        result = simulate(trial, workers=workers, model=build_model(trial))
        summary = summarize(result)
        tabs = tables(result, summary)
        found = shortfalls(summary, planned)
        facs = summary["facilities"]
        cost = scenario_cost(scenario, planned)["cost_cny"]
        changes: list[str] = []
        if found:
            current, changes, unfixable = resize(planned, summary, tabs["breach_by_hour"], found)
            outcome.notes.extend(u for u in unfixable if u not in outcome.notes)
        else:
            current = planned
        iteration = Iteration(
            number=number,
            seed=it_seed,
            cost_cny=cost,
            new_sites=tuple(scenario_cost(scenario, planned)["new_sites"]),
            worst_turn_away=max(
                (f["turn_away_rate"]["mean"] or 0.0 for f in facs if f["walk_in_arrivals"]),
                default=0.0,
            ),
            worst_breach_day_share=max(
                (f["breach_day_share"]["mean"] or 0.0 for f in facs), default=0.0
            ),
            waitlist=int(summary["district"]["waitlist"]),
            shortfalls=tuple(found),
            changes=tuple(changes),
        )
        outcome.iterations.append(iteration)
        if report:
            report(iteration)
        outcome.final = planned
        outcome.final_summary = summary
        outcome.final_tables = tabs
        if not found:
            if held_before:
                outcome.converged = True
                break
            held_before = True
        else:
            held_before = False
            if changes == [] and found:
                outcome.notes.append("re-sizing found nothing more it could change; stopping")
                break
    outcome.first_plan = first_plan
    return outcome


__all__ = [
    "DIRECT_ROLES",
    "Iteration",
    "PlanOutcome",
    "Shortfall",
    "resize",
    "run_plan",
    "scenario_cost",
    "shortfalls",
]
