"""The optimize–simulate loop: a plan that holds when simulated.

The allocation model and the simulation staff a facility by one rule
(:mod:`tuoyu_sim.staffing`) and size walk-in places by one loss-system sizing
(:mod:`tuoyu_sim.allocate.walkin`), so the optimizer's plan is close to what
the simulation needs. :func:`run_plan` closes the gap that is left:

1. optimize (``min-cost``) once and apply the plan;
2. simulate the planned network with a fresh seed and judge every facility by
   the stopping rule of :mod:`tuoyu_sim.stopping` (a one-sided test per
   facility and service level, Holm's procedure across them, more replications
   where a facility is undecided);
3. re-size each facility found short **by cause**, in one step
   (:func:`resize`): walk-ins refused for want of a place get the places the
   load they met needs (the loss-system sizing, calibrated to the turn-away the
   simulation saw, redirected children counted); walk-ins refused for want of a
   caregiver, and ratio breaches, get caregivers on the shift that was short
   (breaches: from the distribution of the shortfall by hour); a waitlist gets
   enrolled places; every facility whose places change is rostered again by the
   staffing rule. A facility that cannot grow (floor area, ``max_places``) is
   said once and left;
4. when a pass finds nothing short, the same plan is simulated once more with a
   fresh seed (the confirmation); if that holds too, the loop has converged.

Every pass is reported (cost, worst turn-away, what changed and why).

Over several years (:func:`run_phased_plan`) the loop runs for every year of the
horizon on that year's network under that year's demand
(:func:`tuoyu_sim.projection.scenario_for_year`). What a year needed beyond the
phased plan becomes a floor for that year and the phased plan is solved again
with the floors, so the years stay one plan (a place added in 2027 is there, and
paid for, in 2028), until no year needs more or ``max_rounds`` is reached.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tuoyu_sim.metrics import Figures, summarize, tables
from tuoyu_sim.scenario import DIRECT_ROLES, ROLES, WALK_IN_POOL, Scenario
from tuoyu_sim.simulation import SimulationResult, build_model, simulate
from tuoyu_sim.staffing import (
    facility_enrolled,
    facility_places,
    shift_counts,
    shift_names,
    staffing_rule,
)
from tuoyu_sim.stopping import Judgement, StoppingRule, judge

SEED_STRIDE = 7919
"""Pass i simulates with seed + i x SEED_STRIDE: fresh luck every time."""


@dataclass(frozen=True)
class Shortfall:
    """A facility that misses a service level in simulation."""

    facility: str
    kind: str
    """``turn_away``, ``waitlist`` or ``breach``."""
    value: float
    target: float
    cause: str = ""
    """What the simulation saw behind it (e.g. the share of refusals for want of a
    caregiver)."""

    def describe(self) -> str:
        why = f" ({self.cause})" if self.cause else ""
        if self.kind == "waitlist":
            return f"{self.facility}: waitlist {self.value:.0f} > {self.target:.0f}{why}"
        what = "turn-away" if self.kind == "turn_away" else "breach days"
        return f"{self.facility}: {what} {self.value:.1%} > {self.target:.1%}{why}"


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
    replications: int = 0
    confirmation: bool = False
    """This pass simulated, with a fresh seed, a plan the pass before found holding."""

    @property
    def holds(self) -> bool:
        return not self.shortfalls

    def record(self) -> dict[str, Any]:
        return {
            "iteration": self.number,
            "seed": self.seed,
            "replications": self.replications,
            "cost_cny": self.cost_cny,
            "new_sites": list(self.new_sites),
            "worst_turn_away": self.worst_turn_away,
            "worst_breach_day_share": self.worst_breach_day_share,
            "waitlist": self.waitlist,
            "holds": self.holds,
            "confirmation": self.confirmation,
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
    first_planned: Scenario | None = None
    """The optimizer's plan applied, before any re-sizing."""
    needs: list[dict[str, Any]] = field(default_factory=list)
    """What each facility needed beyond the optimizer's plan, and why."""


def shortfalls(
    summary: Mapping[str, Any],
    scenario: Scenario,
    judgements: Sequence[Judgement] | None = None,
) -> list[Shortfall]:
    """Facilities that miss the scenario's service levels.

    With ``judgements`` (:func:`tuoyu_sim.stopping.judge`) a turn-away or breach
    shortfall is a verdict of the stopping rule; without, the simulated mean
    above the target. A waitlist above ``targets.max_waitlist`` counts when the
    scenario sets that target; otherwise only while the district enrols less of
    the demand within reach than ``targets.coverage_share`` asks (a plan may
    leave the rest unserved by design).
    """
    tg = scenario.targets
    d = summary["district"]
    wanting = d["enrolled_demand"] - d["unreached_enrolled"]
    served = d["enrolled"] / wanting if wanting > 0 else 1.0
    # a scenario that sets max_waitlist asks for it; otherwise a waitlist is a
    # shortfall only while the coverage target is missed
    check_waitlist = "max_waitlist" in tg.model_fields_set or served + 1e-9 < tg.coverage_share
    verdict = {(j.facility, j.level): j.verdict for j in judgements or ()}
    out = []
    for f in summary["facilities"]:
        ta = f["turn_away_rate"]["mean"]
        if f["walk_in_arrivals"] > 0 and ta is not None:
            short = (
                verdict.get((f["id"], "turn_away")) == "short"
                if judgements is not None
                else ta > tg.max_turn_away
            )
            if short:
                refused = f.get("walk_in_turned_away", 0) + f.get("walk_in_redirected", 0)
                staff = f.get("walk_in_refused_for_staff", 0) / refused if refused else 0.0
                cause = (
                    f"{1 - staff:.0%} of refusals for want of a place, {staff:.0%} of a caregiver"
                )
                out.append(Shortfall(f["id"], "turn_away", ta, tg.max_turn_away, cause))
        if check_waitlist and f["waitlist"] > tg.max_waitlist:
            out.append(Shortfall(f["id"], "waitlist", f["waitlist"], tg.max_waitlist))
        br = f["breach_day_share"]["mean"]
        if br is not None:
            short = (
                verdict.get((f["id"], "breach")) == "short"
                if judgements is not None
                else br > tg.max_breach_day_share
            )
            if short:
                out.append(
                    Shortfall(f["id"], "breach", br, tg.max_breach_day_share, "caregivers short")
                )
    return out


def _room(scenario: Scenario, facility_index: int) -> int:
    """Places the floor area still allows (a large number if no area is given)."""
    f = scenario.facilities[facility_index]
    if f.area_m2 is None:
        return 10**6
    used = sum(n * scenario.age_groups[a].area_m2_per_child for a, n in f.places.items())
    smallest = min(scenario.age_groups[a].area_m2_per_child for a in scenario.age_groups)
    return max(0, math.floor((f.area_m2 - used) / smallest + 1e-9))


def _spread(extra: int, weights: np.ndarray) -> np.ndarray:
    """``extra`` split over classes in proportion to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    if w.sum() <= 0:
        w = np.ones_like(w)
    exact = extra * w / w.sum()
    add = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - add), kind="stable")[: extra - int(add.sum())]:
        add[i] += 1
    return add


def _walk_in_places(scenario: Scenario, j: int) -> np.ndarray:
    """Places held for walk-ins at facility ``j`` by class (its reserved places)."""
    f = scenario.facilities[j]
    ages = list(scenario.age_groups)
    places = facility_places(scenario, f).astype(np.int64)
    out = np.zeros(len(ages))
    for r in f.reserved.values():
        if isinstance(r, Mapping):
            out += np.array([r.get(a, 0) for a in ages], dtype=float)
        else:
            out += _spread(int(r), places)
    return out


def _walk_in_load(scenario: Scenario, arrivals_per_day: float) -> float:
    """Mean walk-in load (erlangs, as the allocation model counts it) of
    ``arrivals_per_day`` walk-ins, with the district's mix of walk-in types."""
    from tuoyu_sim.demand import stay_distribution

    sim = scenario.simulation
    walk = {t: ct for t, ct in scenario.care_types.items() if ct.mode == "walk_in"}
    per_day = {t: sum(c.under3 * c.demand.get(t, 0.0) for c in scenario.communities) for t in walk}
    total = sum(per_day.values()) or 1.0
    erlangs = 0.0
    for t, ct in walk.items():
        lo, hi = ct.window if ct.window is not None else (sim.open, sim.close)
        erlangs += per_day[t] / total * stay_distribution(ct.stay).mean_minutes / (hi - lo)
    return arrivals_per_day * erlangs


def _calibrated_load(scenario: Scenario, places_now: int, load: float, seen: float) -> float:
    """The walk-in load (erlangs) that ``places_now`` places would meet with the
    turn-away ``seen`` the simulation showed, by the model's sizing (Erlang B, or
    the day's turn-away with an hourly profile); never below ``load``, and at most
    ten times it (more is noise, not a calibration)."""
    from tuoyu_sim.allocate.walkin import walk_in_shape
    from tuoyu_sim.queueing import erlang_b

    shape = walk_in_shape(scenario)

    def turn_away(c: int, w: float) -> float:
        return erlang_b(c, w) if shape is None else shape.turn_away(c, w)

    w = max(load, 1e-6)
    if places_now <= 0 or turn_away(places_now, w) >= seen:
        return w
    cap = 10.0 * max(load, 0.1)
    lo, hi = w, max(2.0 * w, 1.0)
    while turn_away(places_now, hi) < seen and hi < cap:
        hi *= 2.0
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if turn_away(places_now, mid) < seen else (lo, mid)
    return min(hi, cap)


def resize(
    scenario: Scenario,
    result: SimulationResult,
    summary: Mapping[str, Any],
    breach_rows: Sequence[Mapping[str, Any]],
    found: Sequence[Shortfall],
    capped: set[str] | None = None,
) -> tuple[Scenario, list[str], list[str]]:
    """Re-size every facility found short, by the cause the simulation saw.

    Returns the re-sized scenario, what changed (with why), and what could not
    be fixed (no floor area left). Facilities in ``capped`` (said before to be
    unable to grow) get no more places; each newly capped one is added to it.
    """
    capped = set() if capped is None else capped
    ages = list(scenario.age_groups)
    index = {f.id: j for j, f in enumerate(scenario.facilities)}
    by_id = {f["id"]: f for f in summary["facilities"]}
    runs = summary["replications"] * summary["days"]
    rule = staffing_rule(scenario)
    walk_types = [t for t, ct in scenario.care_types.items() if ct.mode == "walk_in"]
    names = list(shift_names(scenario))
    changes: dict[str, Any] = {}
    said: list[str] = []
    unfixable: list[str] = []
    spill: list[tuple[int, np.ndarray]] = []
    for fid in dict.fromkeys(s.facility for s in found):
        j = index[fid]
        f = scenario.facilities[j]
        fs = by_id[fid]
        fd = result.model.plan.facilities[j]
        kinds = {s.kind: s for s in found if s.facility == fid}
        places = facility_places(scenario, f).astype(np.int64)
        walk_places = _walk_in_places(scenario, j)
        add_walk = np.zeros(len(ages), dtype=np.int64)
        add_enrol = np.zeros(len(ages), dtype=np.int64)
        pool_walk = walk_places
        shifts = np.array(shift_counts(scenario, f), dtype=np.int64)
        why: list[str] = []
        if "turn_away" in kinds:
            arrivals = fs["walk_in_arrivals"]
            refused = fs["walk_in_turned_away"] + fs["walk_in_redirected"]
            for_staff = fs.get("walk_in_refused_for_staff", 0)
            for_place = refused - for_staff
            # the load this facility met: its own walk-ins and those sent on to it
            load = _walk_in_load(scenario, (arrivals + fs["redirected_in"]) / runs)
            if for_place > 0 and for_place >= 0.25 * refused:
                from tuoyu_sim.allocate.walkin import places_for_load, walk_in_shape

                # the places walk-ins could use: their pool, else every place not enrolled
                free = np.maximum(0, places - fd.enrolled.sum(axis=0))
                held = walk_places if walk_places.sum() else free.astype(float)
                w = _calibrated_load(scenario, int(held.sum()), load, for_place / max(1, arrivals))
                # each age class has its own places: sized for its share of the load
                mix = fd.walk_in_per_day.sum(axis=0)
                mix = mix / mix.sum() if mix.sum() else np.zeros(len(ages))
                shape = walk_in_shape(scenario)
                beta = scenario.targets.max_turn_away
                need = np.array([places_for_load(w * m, beta, shape) if m > 0 else 0 for m in mix])
                add_walk = np.maximum(0, need - held.astype(np.int64))
                if not add_walk.sum():
                    add_walk[int(np.argmax(mix))] += 1
                extra = int(add_walk.sum())
                # the pool holds them all from now on, so enrolment cannot take them
                pool_walk = (held + add_walk).astype(float)  # max(need, held), one more if none
                why.append(f"+{extra} walk-in places (turn-away for want of a place)")
            if for_staff > 0 and for_staff >= 0.25 * refused:
                h = _refusal_shift(scenario, fid, breach_rows)
                shifts[h] += 1
                why.append(
                    f"+1 caregiver on the {names[h]} shift (walk-ins refused for want of one)"
                )
        if "waitlist" in kinds:
            n = int(fs["waitlist"])
            add_enrol = np.asarray(fd.waitlist_by_age, dtype=np.int64)
            if add_enrol.sum() != n:  # pragma: no cover - the plan keeps both
                add_enrol = _spread(n, fd.enrolled.sum(axis=0) if fd.enrolled.sum() else places)
            why.append(f"+{n} enrolled places (waitlist)")
        extra_places = int(add_walk.sum() + add_enrol.sum())
        if extra_places:
            room = 0 if fid in capped else _room(scenario, j)
            if extra_places > room:
                if fid not in capped:
                    unfixable.append(
                        f"{fid}: needs {extra_places} more places but its floor area "
                        f"({f.area_m2:g} m²) allows {room}"
                    )
                    capped.add(fid)
                scale = room / extra_places
                left_enrol = add_enrol.copy()
                add_walk = np.floor(add_walk * scale).astype(np.int64)
                add_enrol = np.floor(add_enrol * scale).astype(np.int64)
                left_enrol -= add_enrol
                if left_enrol.sum():
                    # the waitlisted children are near: a neighbour with room takes them
                    spill.append((j, left_enrol))
                why = [w for w in why if "places" not in w]
                if add_walk.sum() + add_enrol.sum():
                    why.append(
                        f"+{int(add_walk.sum() + add_enrol.sum())} places (all the room left)"
                    )
        new_places = places + add_walk + add_enrol
        new_walk = np.minimum(pool_walk, new_places)
        if add_walk.sum() == 0 and not walk_places.sum():
            # no pool: the places its walk-in load needs, within the places not enrolled
            from tuoyu_sim.allocate.walkin import places_for_load, walk_in_shape

            daily = float(fd.walk_in_per_day.sum())
            sized = places_for_load(
                _walk_in_load(scenario, daily),
                scenario.targets.max_turn_away,
                walk_in_shape(scenario),
            )
            free = max(0, int(new_places.sum()) - fs["enrolled"])
            new_walk = _spread(min(sized, free), fd.walk_in_per_day.sum(axis=0)).astype(float)
        # rostered again by the staffing rule for the places and children it now has
        enrolled = facility_enrolled(scenario, fd.enrolled)
        if add_enrol.sum():
            # new enrolled places held like the facility's present mix of types
            mix = fd.enrolled.sum(axis=1)
            share = mix / mix.sum() if mix.sum() else np.zeros_like(mix, dtype=float)
            enrolled = enrolled + share[:, None] * add_enrol[None, :]
        before = np.array(shift_counts(scenario, f), dtype=np.int64)
        by_rule = np.array(rule.roster(new_places, enrolled, new_walk, before.tolist()))
        if by_rule.sum() > before.sum():
            why.append(f"+{int(by_rule.sum() - before.sum())} caregiver(s) by the staffing rule")
        if "breach" in kinds:
            # the shortfall distribution already counts the days caregivers were absent;
            # what the rule adds on a shift counts towards it
            for name, n in _breach_staff(scenario, f.id, breach_rows).items():
                h = names.index(name)
                more = max(0, int(before[h] + n - max(by_rule[h], shifts[h])))
                shifts[h] += n
                if more:
                    why.append(f"+{more} caregiver(s) on the {name} shift (ratio breaches)")
        roster = np.maximum(by_rule, shifts)
        add_direct = int(roster.sum()) - f.staff.direct
        if (new_places != places).any():
            changes[f"facilities.{j}.places"] = {
                a: int(n) for a, n in zip(ages, new_places, strict=True) if n > 0 or a in f.places
            }
        if add_walk.sum():
            pool = WALK_IN_POOL if len(walk_types) > 1 else walk_types[0]
            changes[f"facilities.{j}.reserved"] = {
                pool: {a: int(n) for a, n in zip(ages, new_walk, strict=True) if n > 0}
            }
        if add_direct > 0 or (roster != np.array(shift_counts(scenario, f))).any():
            staff = f.staff.model_dump()
            staff["nursery"] += max(0, add_direct)
            changes[f"facilities.{j}.staff"] = staff
            if scenario.staff.shifts:
                changes[f"facilities.{j}.shifts"] = dict(
                    zip(names, (int(x) for x in roster), strict=True)
                )
        if why:
            said.append(f"{fid}: " + "; ".join(why))
    if not changes and not spill:
        return scenario, said, unfixable
    resized = scenario.with_changes(changes) if changes else scenario
    if spill:
        resized = _spill(resized, result, spill, capped, said)
    return resized, said, unfixable


def _spill(
    scenario: Scenario,
    result: SimulationResult,
    spill: Sequence[tuple[int, np.ndarray]],
    capped: set[str],
    said: list[str],
) -> Scenario:
    """Enrolled places a facility at its floor area could not take go to the nearest
    other facility within reach of the waitlisted children that has room, rostered
    again by the rule."""
    from tuoyu_sim.geography import distance_m

    plan = result.model.plan
    rule = staffing_rule(scenario)
    names = list(shift_names(scenario))
    changes: dict[str, Any] = {}
    opened_sites: list[dict[str, Any]] = []
    for j, extra in spill:
        f = scenario.facilities[j]
        # facilities every waitlisted community can reach, nearest to this one first
        origins = plan.facilities[j].waitlist_from
        common = (
            set.intersection(*(set(plan.reach[i].tolist()) for i in origins)) if origins else set()
        )
        near = sorted(
            (distance_m(scenario, f, scenario.facilities[k]), k)
            for k in common
            if k != j and scenario.facilities[k].id not in capped
        )
        for d, k in near:
            if _room(scenario, k) < int(extra.sum()):
                continue
            g = scenario.facilities[k]
            places = facility_places(scenario, g).astype(np.int64) + extra
            before = np.array(shift_counts(scenario, g), dtype=np.int64)
            mix = facility_enrolled(scenario, result.model.plan.facilities[k].enrolled)
            roster = np.array(
                rule.roster(places, mix, _walk_in_places(scenario, k), before.tolist())
            )
            changes[f"facilities.{k}.places"] = {
                a: int(n)
                for a, n in zip(scenario.age_groups, places, strict=True)
                if n > 0 or a in g.places
            }
            staff = g.staff.model_dump()
            staff["nursery"] += max(0, int(roster.sum()) - g.staff.direct)
            changes[f"facilities.{k}.staff"] = staff
            if scenario.staff.shifts:
                changes[f"facilities.{k}.shifts"] = dict(
                    zip(names, (int(x) for x in roster), strict=True)
                )
            said.append(
                f"{g.id}: +{int(extra.sum())} enrolled places for the waitlist of {f.id} "
                f"({d:,.0f} m away; {f.id} has no floor area left)"
            )
            break
        else:
            opened = _open_site(scenario, j, extra, origins, opened_sites)
            if opened is not None:
                opened_sites.append(opened)
                said.append(
                    f"{opened['id']}: opened with {int(extra.sum())} enrolled places for the "
                    f"waitlist of {f.id} (no facility within reach has room)"
                )
    data = scenario.with_changes(changes).to_dict() if changes else scenario.to_dict()
    if opened_sites:
        taken = {o["id"] for o in opened_sites}
        data["facilities"] = [*data["facilities"], *opened_sites]
        data["candidate_sites"] = [
            c for c in data.get("candidate_sites", []) if c["id"] not in taken
        ]
    if not changes and not opened_sites:
        return scenario
    from tuoyu_sim.scenario import validate_data

    return validate_data(
        data, scenario.source, base_dir=scenario.source.parent if scenario.source else None
    )


def _open_site(
    scenario: Scenario,
    j: int,
    extra: np.ndarray,
    origins: Sequence[int],
    taken: Sequence[Mapping[str, Any]],
) -> dict[str, Any] | None:
    """The nearest candidate site to facility ``j`` within reach of every waitlisted
    community and with room for ``extra`` places, as a facility (places, staff by
    the staffing rule, the health minimum); None if there is none."""
    from tuoyu_sim.geography import distance_m

    f = scenario.facilities[j]
    reach = scenario.geography.reach_m
    ages = list(scenario.age_groups)
    need_area = float(
        sum(n * scenario.age_groups[a].area_m2_per_child for a, n in zip(ages, extra, strict=True))
    )
    used = {t["id"] for t in taken}
    options = sorted(
        (distance_m(scenario, f, c), k)
        for k, c in enumerate(scenario.candidate_sites)
        if c.id not in used
        and c.max_places >= int(extra.sum())
        and (c.area_m2 is None or c.area_m2 >= need_area)
        and all(distance_m(scenario, scenario.communities[i], c) <= reach for i in origins)
    )
    if not options:
        return None
    site = scenario.candidate_sites[options[0][1]]
    rule = staffing_rule(scenario)
    # the enrolled mix of the facility whose waitlist it takes
    mix = np.ones((len(scenario.care_types), len(ages)))
    roster = rule.roster(extra.astype(float), mix, np.zeros(len(ages)))
    fac: dict[str, Any] = {
        k: v
        for k, v in site.model_dump(mode="json", exclude_none=True).items()
        if k in ("id", "name", "group", "x_m", "y_m", "lon", "lat", "area_m2")
    }
    fac["places"] = {a: int(n) for a, n in zip(ages, extra, strict=True) if n > 0}
    health = scenario.staff.min_health_per_facility
    fac["staff"] = {"teacher": 0, "nursery": int(sum(roster)), "health": health}
    if scenario.staff.shifts:
        fac["shifts"] = dict(zip(shift_names(scenario), (int(x) for x in roster), strict=True))
    return fac


def _refusal_shift(
    scenario: Scenario, facility_id: str, hour_rows: Sequence[Mapping[str, Any]]
) -> int:
    """The shift on duty for the most walk-ins refused for want of a caregiver
    (index into the scenario's shifts), from the by-hour rows of
    :func:`tuoyu_sim.metrics.tables`."""
    rule = staffing_rule(scenario)
    counts = np.zeros(len(rule.shift_names))
    for r in hour_rows:
        if r["facility"] != facility_id:
            continue
        mid = 60 * int(r["hour"][:2]) + int(r["hour"][3:5]) + 30
        for h, (start, end) in enumerate(rule.shift_times):
            if start <= mid < end:
                counts[h] += float(r.get("walk_ins_refused_for_staff_per_day", 0.0))
    return int(np.argmax(counts))


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


def _evaluate(
    planned: Scenario, seed: int, workers: int, rule: StoppingRule
) -> tuple[SimulationResult, list[Judgement]]:
    """Simulate ``planned`` with ``seed`` and judge it, adding replications (as many
    again each round) while a facility is undecided (:mod:`tuoyu_sim.stopping`)."""
    trial = planned.with_changes({"simulation.seed": seed})
    model = build_model(trial)
    result = simulate(trial, workers=workers, model=model)
    tg = planned.targets
    targets = {"turn_away": tg.max_turn_away, "breach": tg.max_breach_day_share}
    ids = [f.id for f in planned.facilities]
    for round_ in range(1, rule.max_rounds + 1):
        fig = Figures(result)
        values = {"turn_away": fig.turn_away, "breach": fig.breach_share}
        last = round_ == rule.max_rounds
        verdicts = judge(ids, values, targets, rule, last_round=last)
        if last or not any(v.verdict == "undecided" for v in verdicts):
            return result, verdicts
        have = len(result.replications)
        more = simulate(trial, workers=workers, model=model, replications=range(have, 2 * have))
        result = result.extended(more)
    raise AssertionError("unreachable")  # pragma: no cover


def judge_network(
    planned: Scenario,
    *,
    workers: int = 1,
    seed: int | None = None,
    stopping: StoppingRule | None = None,
) -> tuple[dict[str, Any], list[Shortfall]]:
    """Simulate a network and judge it as a pass of the loop does: the stopping rule's
    verdicts (more replications while a facility is undecided), then :func:`shortfalls`.
    Returns the simulation's summary and the shortfalls (none: the network holds)."""
    rule = stopping or StoppingRule()
    result, verdicts = _evaluate(
        planned, planned.simulation.seed if seed is None else seed, workers, rule
    )
    summary = summarize(result)
    return summary, shortfalls(summary, planned, verdicts)


def run_plan(
    scenario: Scenario,
    optimize_fn: Callable[[Scenario], Any],
    apply_fn: Callable[[Any, Scenario], Scenario],
    *,
    workers: int = 1,
    max_iterations: int = 8,
    report: Callable[[Iteration], None] | None = None,
    stopping: StoppingRule | None = None,
) -> PlanOutcome:
    """Optimize once, then simulate, judge and re-size until the plan holds and a
    confirmation with a fresh seed agrees.

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
        At most this many simulate–judge passes (≥ 2: a plan must hold twice).
    report
        Called after every pass.
    stopping
        How a simulated network is judged (default :class:`~tuoyu_sim.stopping.StoppingRule`).
    """
    rule = stopping or StoppingRule()
    seed = scenario.simulation.seed
    first_plan = optimize_fn(scenario)
    planned = apply_fn(first_plan, scenario)
    outcome = PlanOutcome(
        original=scenario, final=planned, first_plan=first_plan, first_planned=planned
    )
    capped: set[str] = set()
    confirming = False
    for number in range(1, max(2, max_iterations) + 1):
        it_seed = seed + number * SEED_STRIDE
        result, verdicts = _evaluate(planned, it_seed, workers, rule)
        summary = summarize(result)
        tabs = tables(result, summary)
        found = shortfalls(summary, planned, verdicts)
        facs = summary["facilities"]
        cost = scenario_cost(scenario, planned)
        changes: list[str] = []
        current = planned
        if found:
            current, changes, unfixable = resize(
                planned, result, summary, tabs["breach_by_hour"], found, capped
            )
            outcome.notes.extend(u for u in unfixable if u not in outcome.notes)
        iteration = Iteration(
            number=number,
            seed=it_seed,
            cost_cny=cost["cost_cny"],
            new_sites=tuple(cost["new_sites"]),
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
            replications=len(result.replications),
            confirmation=confirming,
        )
        outcome.iterations.append(iteration)
        if report:
            report(iteration)
        outcome.final = planned
        outcome.final_summary = summary
        outcome.final_tables = tabs
        if not found:
            if confirming:
                outcome.converged = True
                break
            confirming = True
            continue
        confirming = False
        if not changes:
            outcome.notes.append("re-sizing found nothing more it could change; stopping")
            break
        planned = current
    outcome.needs = facility_needs(outcome)
    return outcome


def facility_needs(outcome: PlanOutcome) -> list[dict[str, Any]]:
    """What each facility needed beyond the optimizer's plan, and why (one row each)."""
    first = {f.id: f for f in (outcome.first_planned or outcome.original).facilities}
    whys: dict[str, list[str]] = {}
    for it in outcome.iterations:
        for c in it.changes:
            fid, _, what = c.partition(": ")
            whys.setdefault(fid, []).append(f"pass {it.number}: {what}")
    rows = []
    for f in outcome.final.facilities:
        before = first.get(f.id)
        if before is None or f.id not in whys:
            continue
        rows.append(
            {
                "facility": f.id,
                "places_optimizer": before.total_places,
                "places_final": f.total_places,
                "caregivers_optimizer": before.staff.direct,
                "caregivers_final": f.staff.direct,
                "why": " | ".join(whys[f.id]),
            }
        )
    return rows


# -- over several years -------------------------------------------------------------


def network_key(scenario: Scenario) -> tuple[Any, ...]:
    """What makes a network: every facility's places, reserved places and staff."""
    return tuple(
        (
            f.id,
            tuple(sorted(f.places.items())),
            repr(f.reserved),
            tuple(f.staff.model_dump().items()),
        )
        for f in scenario.facilities
    )


@dataclass
class PhasedOutcome:
    """What :func:`run_phased_plan` found: the last phased plan, each year's network
    as simulated and re-sized, and each year's loop."""

    scenario: Scenario
    years: tuple[int, ...]
    variant: str
    phased: Any = None
    """The last :class:`~tuoyu_sim.allocate.phased.PhasedPlan` solved (with the floors)."""
    first_phased: Any = None
    """The first one (no floors): the optimizer's plan before any simulation."""
    networks: dict[int, Scenario] = field(default_factory=dict)
    """Each year's final network under that year's demand (what ``phases.csv`` accounts)."""
    outcomes: dict[int, PlanOutcome] = field(default_factory=dict)
    """Each year's optimize–simulate loop, on the last round it ran."""
    rounds: int = 0
    converged: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def failing_years(self) -> list[int]:
        """Years whose network does not hold in simulation, first to last."""
        return [y for y in self.years if not self.outcomes[y].converged]

    @property
    def first_failing_year(self) -> int | None:
        failing = self.failing_years
        return failing[0] if failing else None


def run_phased_plan(
    scenario: Scenario,
    years: Sequence[int],
    variant: str,
    optimize_fn: Callable[[Mapping[int, Scenario]], Any],
    *,
    workers: int = 1,
    max_iterations: int = 8,
    max_rounds: int = 3,
    report: Callable[[int, Iteration], None] | None = None,
    on_round: Callable[[int, Any], None] | None = None,
    stopping: StoppingRule | None = None,
) -> PhasedOutcome:
    """The optimize–simulate–re-size loop for every year of a horizon.

    Parameters
    ----------
    scenario
        The base-year scenario with a ``[projection]``.
    years, variant
        The horizon and the births variant.
    optimize_fn
        Floors (year → network whose places and staff are lower bounds that
        year) → a :class:`~tuoyu_sim.allocate.phased.PhasedPlan`.
    max_iterations
        Each year's loop, as in :func:`run_plan`.
    max_rounds
        Most phased solves: after each, every year whose network changed is
        simulated again; a year that needed more becomes a floor.
    report
        Called with (year, pass) after every simulated pass.
    on_round
        Called with (round, phased plan) after every phased solve.
    """
    from tuoyu_sim.allocate import planned_scenario
    from tuoyu_sim.projection import scenario_for_year

    years = tuple(years)
    out = PhasedOutcome(scenario=scenario, years=years, variant=variant)
    demand = {y: scenario_for_year(scenario, y, variant) for y in years}
    floors: dict[int, Scenario] = {}
    done: dict[int, tuple[tuple[Any, ...], PlanOutcome]] = {}
    for round_ in range(1, max(1, max_rounds) + 1):
        phased = optimize_fn(dict(floors))
        out.phased = phased
        out.first_phased = out.first_phased or phased
        out.rounds = round_
        if on_round is not None:
            on_round(round_, phased)
        more = False
        for y in years:
            net = planned_scenario(phased.plans[y], demand[y])
            key = network_key(net)
            if y in done and done[y][0] == key:
                outcome = done[y][1]
            else:
                year_plan = phased.plans[y]
                outcome = run_plan(
                    demand[y],
                    lambda _s, p=year_plan: p,
                    planned_scenario,
                    workers=workers,
                    max_iterations=max_iterations,
                    report=None if report is None else (lambda it, y=y: report(y, it)),
                    stopping=stopping,
                )
                done[y] = (key, outcome)
            out.outcomes[y] = outcome
            out.networks[y] = outcome.final
            if network_key(outcome.final) != key:
                floors[y] = outcome.final
                more = True
        if not more:
            break
    else:
        out.notes.append(
            f"after {out.rounds} phased solves some years still needed more than the phased "
            "plan; the networks reported are the re-sized ones (they hold), costed as they are"
        )
    out.converged = not out.failing_years
    if not out.converged:
        out.notes.append(
            f"the network of {out.failing_years[0]} does not hold in simulation "
            f"(years failing: {', '.join(map(str, out.failing_years))})"
        )
    return out


__all__ = [
    "DIRECT_ROLES",
    "Iteration",
    "PhasedOutcome",
    "PlanOutcome",
    "Shortfall",
    "facility_needs",
    "judge_network",
    "network_key",
    "resize",
    "run_phased_plan",
    "run_plan",
    "scenario_cost",
    "shortfalls",
]
