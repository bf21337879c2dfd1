"""Figures from a simulation: per-replication values, confidence intervals, tables.

Every headline figure is computed once per replication and reported as the
mean over replications with a 95% Student-t confidence interval
(:func:`ci95`, from the project's one interval, :func:`mean_ci`). Counts are
totals over all replications and days.

Definitions (SPEC "Figures"):

* ``mean_occupancy`` — time-average children present over opening hours;
* ``utilization`` — place-hours used over place-hours open (mean occupancy / places);
* ``turn_away_rate`` — turned-away walk-in arrivals over walk-in arrivals;
* ``breach_day_share`` — share of facility-days with any minute of ratio breach.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import stdtrit

from tuoyu_sim import __version__
from tuoyu_sim.fees import finance, priced
from tuoyu_sim.scenario import CARE_TYPE_NAMES_ZH, format_clock
from tuoyu_sim.simulation import COUNTS, HIST_BINS, SimulationResult

SHARE = (0.0, 1.0)
"""Bounds of a share (utilization, turn-away rate, breach-day share)."""


def mean_ci(
    values: Sequence[float] | np.ndarray, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean and Student-t interval ``(mean, low, high)`` over replications.

    The one confidence interval of the project: :func:`ci95` reports it in a
    summary, the theory cases (:mod:`tuoyu_sim.theory_cases`) check exact values
    against it.

    Parameters
    ----------
    values
        One finite value per independent replication, at least two.
    level
        Confidence level in (0, 1).

    Raises
    ------
    ValueError
        With fewer than two values, a value that is not finite, or a level
        outside (0, 1).
    """
    v = np.asarray(values, dtype=float)
    if v.size < 2 or not np.all(np.isfinite(v)):
        raise ValueError(f"an interval needs at least two finite values, got {v!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    mean = float(v.mean())
    half = float(stdtrit(v.size - 1, 0.5 + level / 2) * v.std(ddof=1) / math.sqrt(v.size))
    return mean, mean - half, mean + half


def ci95(
    values: Sequence[float] | np.ndarray, bounds: tuple[float, float] | None = None
) -> dict[str, Any]:
    """Mean and 95% Student-t interval over replications (NaN values are left out).

    The interval of :func:`mean_ci`, as a summary record ``{"mean", "ci95", "n"}``.
    With fewer than two values the interval is ``null``: one replication says
    nothing about its own spread. ``bounds`` clips the interval to the range the
    figure can take (a share lies in [0, 1]); the t-interval of a share near 0 or
    1 would otherwise reach past it.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": None, "ci95": None, "n": 0}
    if v.size < 2:
        return {"mean": float(v.mean()), "ci95": None, "n": int(v.size)}
    mean, lo, hi = mean_ci(v)
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return {"mean": mean, "ci95": [lo, hi], "n": int(v.size)}


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def quantile_from_hist(hist: np.ndarray, q: float) -> np.ndarray:
    """Quantile of utilization from day counts per 0.025-wide bin (last axis)."""
    cum = np.cumsum(hist, axis=-1)
    total = cum[..., -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = cum / np.where(total > 0, total, 1)
    idx = np.argmax(frac >= q, axis=-1)
    prev = np.take_along_axis(
        np.concatenate([np.zeros_like(frac[..., :1]), frac], -1), idx[..., None], -1
    )[..., 0]
    here = np.take_along_axis(frac, idx[..., None], -1)[..., 0]
    within = np.where(here > prev, (q - prev) / np.where(here > prev, here - prev, 1), 0.5)
    out = (idx + np.clip(within, 0, 1)) * 0.025
    out = np.where(idx == HIST_BINS - 1, 1.0, out)
    return np.where(total[..., 0] > 0, out, np.nan)


class Figures:
    """Per-replication figures of a :class:`SimulationResult` (arrays over replications)."""

    def __init__(self, result: SimulationResult) -> None:
        self.result = result
        model = result.model
        sc = result.scenario
        reps = result.replications
        self.days = sc.simulation.days
        self.open_min = sc.simulation.open_minutes
        self.places = np.array([sum(s.places) for s in model.specs], dtype=float)
        self.counts = np.stack([r.counts for r in reps])  # (R, F, K, 6)
        self.occ = np.stack([r.occupancy_min for r in reps])  # (R, F, K)
        self.breach_days = np.stack([r.breach_days for r in reps])  # (R, F)
        self.breach_min = np.stack([r.breach_min for r in reps])
        span = self.open_min * self.days
        self.mean_occupancy = self.occ.sum(axis=2) / span  # (R, F)
        self.utilization = _ratio(self.mean_occupancy, self.places[None, :])
        walk = list(model.walk_in_types)
        arrivals_w = self.counts[:, :, walk, 0].sum(axis=2)
        turned_w = self.counts[:, :, walk, 3].sum(axis=2)
        self.turn_away = _ratio(turned_w.astype(float), arrivals_w.astype(float))  # (R, F)
        self.breach_share = self.breach_days / self.days
        total_places = self.places.sum()
        self.district_utilization = (
            self.mean_occupancy.sum(axis=1) / total_places
            if total_places
            else np.full(len(reps), np.nan)
        )
        district_walk = self.counts[:, :, walk, :].sum(axis=1)  # (R, Kw, 6)
        self.district_turn_away = _ratio(
            district_walk[..., 3].sum(axis=1).astype(float),
            district_walk[..., 0].sum(axis=1).astype(float),
        )
        self.type_counts = self.counts.sum(axis=1)  # (R, K, 6)
        self.type_turn_away = _ratio(
            self.type_counts[..., 3].astype(float), self.type_counts[..., 0].astype(float)
        )
        self.type_occupancy = self.occ.sum(axis=1) / span  # (R, K)


def facility_health(result: SimulationResult) -> list[dict[str, Any]]:
    """Health staff per facility against the scenario's minimum and the 150-child rule."""
    sc = result.scenario
    out = []
    for j, f in enumerate(sc.facilities):
        enrolled = int(result.model.plan.facilities[j].enrolled.sum())
        need = sc.staff.min_health_per_facility
        if enrolled >= sc.staff.full_time_health_from_children:
            need = max(need, 1)
        out.append({"required": need, "staff": f.staff.health, "short": f.staff.health < need})
    return out


def _version(package: str) -> str:
    """An installed package's version, without importing it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def summarize(result: SimulationResult, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``summary.json`` of ``simulate``: every headline figure, machine-readable."""
    sc = result.scenario
    model = result.model
    plan = model.plan
    fig = Figures(result)
    types = plan.care_types
    health = facility_health(result)
    totals = fig.counts.sum(axis=0)  # (F, K, 6)
    enrolled = np.array([fd.enrolled.sum() for fd in plan.facilities])
    care_types: dict[str, Any] = {}
    for k, t in enumerate(types):
        row = {name: int(totals[:, k, i].sum()) for i, name in enumerate(COUNTS[:4])}
        care_types[t] = {
            "name_zh": CARE_TYPE_NAMES_ZH.get(t, t),
            "mode": sc.care_types[t].mode,
            **row,
            "enrolled": int(sum(fd.enrolled[k].sum() for fd in plan.facilities)),
            "turn_away_rate": ci95(fig.type_turn_away[:, k], SHARE)
            if sc.care_types[t].mode == "walk_in"
            else ci95(np.zeros(len(result.replications))),
            "mean_occupancy": ci95(fig.type_occupancy[:, k]),
        }
    facilities = []
    for j, f in enumerate(sc.facilities):
        walk = list(model.walk_in_types)
        facilities.append(
            {
                "id": f.id,
                "name": f.name,
                "group": f.group,
                "places": int(fig.places[j]),
                "places_by_age": {a: int(f.places.get(a, 0)) for a in plan.ages},
                "enrolled": int(enrolled[j]),
                "waitlist": int(plan.facilities[j].waitlist),
                "utilization": ci95(fig.utilization[:, j], SHARE),
                "mean_occupancy": ci95(fig.mean_occupancy[:, j]),
                "turn_away_rate": ci95(fig.turn_away[:, j], SHARE),
                "breach_day_share": ci95(fig.breach_share[:, j], SHARE),
                "breach_minutes_per_day": ci95(fig.breach_min[:, j] / fig.days),
                "walk_in_arrivals": int(totals[j, walk, 0].sum()),
                "walk_in_turned_away": int(totals[j, walk, 3].sum()),
                "walk_in_redirected": int(totals[j, walk, 2].sum()),
                "redirected_in": int(totals[j, :, 4].sum()),
                "walk_in_refused_for_staff": int(totals[j, walk, 5].sum()),
                "caregivers": f.staff.direct,
                "staff": f.staff.model_dump(),
                "health_required": health[j]["required"],
                "health_short": health[j]["short"],
            }
        )
    n_reps = len(result.replications)
    summary: dict[str, Any] = {
        "command": "simulate",
        "scenario": sc.name,
        "scenario_file": str(sc.source) if sc.source else None,
        "seed": sc.simulation.seed,
        "replications": n_reps,
        "days": sc.simulation.days,
        "open": format_clock(sc.simulation.open),
        "close": format_clock(sc.simulation.close),
        "versions": {
            "tuoyu_sim": __version__,
            "python": platform.python_version(),
            **{name: _version(name) for name in ("simpy", "numpy", "scipy", "pulp")},
        },
        "district": {
            "population": sc.population,
            "children_under3": round(sc.children_under3, 3),
            "facilities": len(sc.facilities),
            "places": int(fig.places.sum()),
            "places_per_1000": sc.places_per_1000,
            "enrolled": int(enrolled.sum()),
            "enrolled_demand": plan.enrolled_demand,
            "waitlist": int(sum(fd.waitlist for fd in plan.facilities)),
            "unreached_enrolled": plan.unreached_enrolled,
            "unreached_walk_in_per_day": plan.unreached_walk_in_per_day,
            "utilization": ci95(fig.district_utilization, SHARE),
            "mean_occupancy": ci95(fig.mean_occupancy.sum(axis=1)),
            "turn_away_rate": ci95(fig.district_turn_away, SHARE),
            "breach_day_share": ci95(
                fig.breach_share.mean(axis=1) if fig.places.size else [], SHARE
            ),
            "facilities_short_of_health_staff": sum(1 for h in health if h["short"]),
        },
        "care_types": care_types,
        "facilities": facilities,
    }
    if priced(sc):  # [fees], [subsidies] or [takeup] written (tuoyu_sim.fees)
        walk_hours = fig.occ / 60.0 / fig.days  # (R, F, K) child-hours a day
        summary["finance"] = finance(sc, plan, walk_hours)
    if extra:
        summary.update(extra)
    return summary


def _flat(prefix: str, value: dict[str, Any]) -> dict[str, Any]:
    ci = value.get("ci95") or [None, None]
    return {prefix: value.get("mean"), f"{prefix}_lo": ci[0], f"{prefix}_hi": ci[1]}


def tables(result: SimulationResult, summary: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Tidy tables for CSV: facilities, care types, days, and occupancy curves."""
    model = result.model
    sc = result.scenario
    plan = model.plan
    types = plan.care_types
    fac_rows = []
    for f in summary["facilities"]:
        fac_rows.append(
            {
                "facility": f["id"],
                "name": f["name"],
                "group": f["group"],
                "places": f["places"],
                "enrolled": f["enrolled"],
                "waitlist": f["waitlist"],
                **_flat("utilization", f["utilization"]),
                **_flat("mean_occupancy", f["mean_occupancy"]),
                **_flat("turn_away_rate", f["turn_away_rate"]),
                **_flat("breach_day_share", f["breach_day_share"]),
                "walk_in_arrivals": f["walk_in_arrivals"],
                "walk_in_turned_away": f["walk_in_turned_away"],
                "walk_in_redirected": f["walk_in_redirected"],
                "redirected_in": f["redirected_in"],
                "caregivers": f["caregivers"],
                "health_required": f["health_required"],
                "health_short": f["health_short"],
            }
        )
    type_rows = []
    for t, v in summary["care_types"].items():
        type_rows.append(
            {
                "care_type": t,
                "name_zh": v["name_zh"],
                "mode": v["mode"],
                "arrivals": v["arrivals"],
                "admitted": v["admitted"],
                "redirected": v["redirected"],
                "turned_away": v["turned_away"],
                "enrolled": v["enrolled"],
                **_flat("turn_away_rate", v["turn_away_rate"]),
                **_flat("mean_occupancy", v["mean_occupancy"]),
            }
        )
    daily = np.mean([r.daily for r in result.replications], axis=0)  # (D, F, K, 4)
    day_rows = []
    open_min = sc.simulation.open_minutes
    for d in range(daily.shape[0]):
        for j, f in enumerate(sc.facilities):
            for k, t in enumerate(types):
                a, ad, ta, cm = daily[d, j, k]
                if a == 0 and cm == 0:
                    continue
                day_rows.append(
                    {
                        "day": d + 1,
                        "facility": f.id,
                        "care_type": t,
                        "arrivals": a,
                        "admitted": ad,
                        "turned_away": ta,
                        "mean_occupancy": cm / open_min,
                    }
                )
    curve_rows = curve_table(result)
    breach = np.mean([r.breach_by_hour for r in result.replications], axis=0) / sc.simulation.days
    refused = np.mean([r.refused_by_hour for r in result.replications], axis=0) / sc.simulation.days
    short_q = caregivers_short(result, level=1.0 - sc.targets.max_breach_day_share / 2.0)
    hours = result.model.hour_edges
    breach_rows = [
        {
            "facility": f.id,
            "group": f.group,
            "hour": format_clock(hours[h]),
            "breach_minutes_per_day": float(breach[j, h]),
            "caregivers_short": int(short_q[j, h]),
            "walk_ins_refused_for_staff_per_day": float(refused[j, h]),
        }
        for j, f in enumerate(sc.facilities)
        for h in range(hours.size - 1)
    ]
    out: dict[str, list[dict[str, Any]]] = {"breach_by_hour": breach_rows}
    if any(r.episodes is not None for r in result.replications):
        out["episodes"] = episode_table(result)
    return out | {
        "facilities": fac_rows,
        "care_types": type_rows,
        "daily": day_rows,
        "curves": curve_rows,
    }


def episode_table(result: SimulationResult) -> list[dict[str, Any]]:
    """One row per child and facility visited (``simulate --episodes``).

    ``outcome`` is ``enrolled``, ``admitted`` (a walk-in, here or redirected here),
    ``redirected`` (sent on from here) or ``turned_away``; times are minutes after
    midnight; a child who did not stay has ``stay_min`` 0.
    """
    model = result.model
    ids = [s.id for s in model.specs]
    types = model.plan.care_types
    ages = model.plan.ages
    rows = []
    for r in result.replications:
        for day, j, arrive, depart, k, age, outcome in r.episodes or ():
            rows.append(
                {
                    "replication": r.replication,
                    "day": day + 1,
                    "facility": ids[j],
                    "care_type": types[k],
                    "age_class": ages[age],
                    "arrival_min": arrive,
                    "departure_min": depart,
                    "stay_min": depart - arrive,
                    "outcome": outcome,
                }
            )
    return rows


def caregivers_short(result: SimulationResult, level: float) -> np.ndarray:
    """Caregivers short in each hour on all but the worst ``1 - level`` of days (F, H).

    From the daily maximum shortfall (caregivers needed by the ratios minus
    caregivers on shift) in each hour: the smallest number of extra caregivers
    that would have removed the breach in that hour on at least ``level`` of the
    replication-days.
    """
    hist = np.sum([r.short_by_hour for r in result.replications], axis=0)  # (F, H, S)
    cum = np.cumsum(hist, axis=-1)
    total = np.maximum(cum[..., -1:], 1)
    return np.argmax(cum / total >= level - 1e-12, axis=-1)


def curve_table(result: SimulationResult) -> list[dict[str, Any]]:
    """Occupancy curves by time of day: district, per group and per facility.

    ``mean`` is children present (mean over replication-days) with a 95% interval
    over replications; ``utilization`` divides by places; ``p05``/``p95`` bound the
    day-to-day spread of utilization (5th and 95th percentile over
    replication-days, for all care types together).
    """
    model = result.model
    sc = result.scenario
    types = model.plan.care_types
    days = sc.simulation.days
    edges = model.curve_edges
    curves = np.stack([r.curve for r in result.replications]) / days  # (R, F, K, B)
    places = np.array([sum(s.places) for s in model.specs], dtype=float)
    hist_f = np.sum([r.hist_facility for r in result.replications], axis=0)  # (F, B, H)
    hist_d = np.sum([r.hist_district for r in result.replications], axis=0)  # (B, H)
    rows: list[dict[str, Any]] = []
    scopes: list[tuple[str, str, np.ndarray, float, np.ndarray | None]] = []
    scopes.append(("district", "all", curves.sum(axis=1), places.sum(), hist_d))
    groups: dict[str, list[int]] = {}
    for j, f in enumerate(sc.facilities):
        groups.setdefault(f.group or "(none)", []).append(j)
    if len(groups) > 1:
        for g, js in groups.items():
            scopes.append(("group", g, curves[:, js].sum(axis=1), places[js].sum(), None))
    for j, f in enumerate(sc.facilities):
        scopes.append(("facility", f.id, curves[:, j], places[j], hist_f[j]))
    for scope, key, arr, n_places, hist in scopes:  # arr: (R, K, B)
        total = arr.sum(axis=1)
        p05 = quantile_from_hist(hist, 0.05) if hist is not None else None
        p95 = quantile_from_hist(hist, 0.95) if hist is not None else None
        for b in range(edges.size - 1):
            label = format_clock(edges[b])
            series = [("all", total[:, b])] + [(t, arr[:, k, b]) for k, t in enumerate(types)]
            for t, values in series:
                stat = ci95(values)
                util = stat["mean"] / n_places if n_places and stat["mean"] is not None else None
                ci = stat["ci95"] or [None, None]
                row = {
                    "scope": scope,
                    "key": key,
                    "care_type": t,
                    "time": label,
                    "minute": float(edges[b]),
                    "mean": stat["mean"],
                    "mean_lo": ci[0],
                    "mean_hi": ci[1],
                    "places": n_places,
                    "utilization": util,
                    "p05": float(p05[b]) if (p05 is not None and t == "all") else None,
                    "p95": float(p95[b]) if (p95 is not None and t == "all") else None,
                }
                rows.append(row)
    return rows
