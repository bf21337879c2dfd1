"""Theory tests: the SimPy day model against exact queueing results.

Every expected value comes from :mod:`tuoyu_sim.queueing` (the finite-horizon
forward-equation solution of the admission CTMC, or Erlang B) or from Little's
law, never from a previous run. A test passes when the exact value lies inside
a 99% Student-t interval over independent replications, and the interval is
narrow enough (a few % of the value) for that to mean something. Where a
plausible wrong model (no caregiver limit, a different admission rule) gives a
clearly different value, the test also checks that value lies *outside* the
interval, so a simulation that implemented the wrong rule would fail.

Estimators, per replication (the replications are independent):

* turn-away fraction: turned away / arrivals over all its days (the pooled
  fraction, which estimates E[blocked] / E[arrivals], what
  :attr:`TransientResult.blocking_fraction_total` is);
* mean occupancy: child-minutes / (days x opening minutes) — the spec's
  ``mean_occupancy``, checked against :attr:`TransientResult.mean_occupancy_total`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from conftest import assert_in_ci, build, ci, walk_in_dict
from tuoyu_sim.metrics import Figures
from tuoyu_sim.queueing import LossSystem, erlang_b, transient
from tuoyu_sim.simulation import SimulationResult, simulate
from tuoyu_sim.theory_cases import littles_law_data


def _run(data: dict[str, Any]) -> tuple[SimulationResult, np.ndarray, np.ndarray]:
    """Simulate; return the result, per-replication counts (R, F, K, 5) and occupancy (R, F, K)."""
    result = simulate(build(data), workers=1)
    counts = np.stack([r.counts for r in result.replications])
    occ = np.stack([r.occupancy_min for r in result.replications])
    return result, counts, occ


def _turn_away(counts: np.ndarray) -> np.ndarray:
    arrivals = counts[:, :, :, 0].sum(axis=(1, 2)).astype(float)
    turned = counts[:, :, :, 3].sum(axis=(1, 2)).astype(float)
    assert np.all(arrivals > 0)
    return turned / arrivals


def _occupancy(occ: np.ndarray, days: int, open_min: float) -> np.ndarray:
    return occ.sum(axis=(1, 2)) / (days * open_min)


OPEN, CLOSE = "07:30", "19:00"
T_DAY = 19 * 60 - (7 * 60 + 30)  # 690 opening minutes


# -- finite-horizon loss systems (start empty at opening, flat profile) ---------


def test_places_binding_matches_transient() -> None:
    """(a) 8 places, caregivers never binding: turn-away and occupancy = exact day."""
    days, reps, per_day, stay_min = 150, 30, 60.0, 90.0
    data = walk_in_dict(
        places={"older": 8},
        arrivals_per_day={"older": per_day},
        caregivers=100,
        stay={"dist": "exponential", "mean_hours": stay_min / 60},
        days=days,
        replications=reps,
        seed=11,
    )
    exact = transient(
        LossSystem(places=(8,), ratios=(7,), caregivers=100, mean_stay_min=(stay_min,)),
        [(T_DAY, [per_day / T_DAY])],
    )
    assert 0.1 < exact.blocking_fraction_total < 0.3  # places really bind
    result, counts, occ = _run(data)
    assert_in_ci(
        _turn_away(counts),
        exact.blocking_fraction_total,
        max_rel_half_width=0.04,
        what="turn-away fraction",
    )
    assert_in_ci(
        _occupancy(occ, days, T_DAY),
        exact.mean_occupancy_total,
        max_rel_half_width=0.01,
        what="mean occupancy",
    )
    # the spec's figures (metrics.Figures) are the same estimators
    fig = Figures(result)
    np.testing.assert_allclose(fig.turn_away[:, 0], _turn_away(counts), rtol=1e-12)
    np.testing.assert_allclose(fig.mean_occupancy[:, 0], _occupancy(occ, days, T_DAY), rtol=1e-12)
    np.testing.assert_allclose(fig.utilization[:, 0], _occupancy(occ, days, T_DAY) / 8, rtol=1e-12)
    # expected arrivals per day are what the community's demand says
    assert_in_ci(
        counts[:, 0, 0, 0] / days,
        exact.arrivals.sum(),
        max_rel_half_width=0.02,
        what="arrivals per day",
    )


def test_caregivers_binding_matches_transient() -> None:
    """(b) 2 caregivers at 1:5 with 30 places: at most 10 children, the ratio binds."""
    days, reps, per_day, stay_min = 150, 30, 80.0, 90.0
    data = walk_in_dict(
        places={"toddler": 30},
        arrivals_per_day={"toddler": per_day},
        caregivers=2,
        ratios={"toddler": 5},
        stay={"dist": "exponential", "mean_hours": stay_min / 60},
        days=days,
        replications=reps,
        seed=12,
    )
    rate = [per_day / T_DAY]
    exact = transient(LossSystem((30,), (5,), 2, (stay_min,)), [(T_DAY, rate)])
    places_only = transient(LossSystem((30,), (5,), None, (stay_min,)), [(T_DAY, rate)])
    _, counts, occ = _run(data)
    ta = _turn_away(counts)
    mo = _occupancy(occ, days, T_DAY)
    assert_in_ci(ta, exact.blocking_fraction_total, max_rel_half_width=0.04, what="turn-away")
    assert_in_ci(mo, exact.mean_occupancy_total, max_rel_half_width=0.01, what="mean occupancy")
    # a model that ignored the ratio would turn almost nobody away
    _, lo, hi = ci(ta)
    assert not lo <= places_only.blocking_fraction_total <= hi
    _, lo, hi = ci(mo)
    assert not lo <= places_only.mean_occupancy_total <= hi


@pytest.mark.slow
def test_two_age_classes_share_caregivers_per_class_ceil() -> None:
    """(c) infants 1:3 and toddlers 1:5 share 3 caregivers; need = sum of per-class ceil."""
    days, reps, stay_min = 150, 30, 90.0
    per_day = {"infant": 30.0, "toddler": 50.0}
    data = walk_in_dict(
        places={"infant": 6, "toddler": 10},
        arrivals_per_day=per_day,
        caregivers=3,
        ratios={"infant": 3, "toddler": 5},
        stay={"dist": "exponential", "mean_hours": stay_min / 60},
        days=days,
        replications=reps,
        seed=13,
    )
    sc = build(data)
    ages = tuple(sc.age_groups)
    rates = [per_day[a] / T_DAY for a in ages]
    places = tuple(sc.facilities[0].places[a] for a in ages)
    ratios = tuple(sc.age_groups[a].ratio for a in ages)
    exact = transient(LossSystem(places, ratios, 3, (stay_min, stay_min)), [(T_DAY, rates)])
    no_ratio = transient(LossSystem(places, ratios, None, (stay_min, stay_min)), [(T_DAY, rates)])
    _, counts, occ = _run(data)
    ta = _turn_away(counts)
    mo = _occupancy(occ, days, T_DAY)
    assert_in_ci(ta, exact.blocking_fraction_total, max_rel_half_width=0.04, what="turn-away")
    assert_in_ci(mo, exact.mean_occupancy_total, max_rel_half_width=0.01, what="mean occupancy")
    _, lo, hi = ci(ta)
    assert not lo <= no_ratio.blocking_fraction_total <= hi


# -- steady state on a 24-hour day -------------------------------------------------


DAYS_LONG = 3


def _long_day(stay: dict[str, Any], *, places: int, load: float, seed: int) -> dict[str, Any]:
    """00:00-24:00, short stays (1.8 min mean): 800 mean stays per day.

    Starting empty biases a day's turn-away down; with exponential stays the
    exact day differs from Erlang B by 0.15% here (asserted below), far inside
    the interval's half-width.
    """
    mean_min = 1.8
    return walk_in_dict(
        places={"older": places},
        arrivals_per_day={"older": load / mean_min * 1440.0},
        caregivers=100,
        stay=stay,
        open_="00:00",
        close="24:00",
        days=DAYS_LONG,
        replications=40,
        seed=seed,
    )


def test_long_day_steady_state_is_erlang_b() -> None:
    """Exponential stays, 5 places, 4 erlangs: turn-away = B(5, 4), occupancy = a(1 - B)."""
    places, load = 5, 4.0
    b = erlang_b(places, load)
    # the start-empty bias over a 24-hour day is small: exact day vs steady state
    day = transient(LossSystem((places,), (7,), 100, (1.8,)), [(1440.0, [load / 1.8])])
    assert abs(day.blocking_fraction_total - b) < 0.002 * b
    data = _long_day({"dist": "exponential", "mean_hours": 0.03}, places=places, load=load, seed=21)
    _, counts, occ = _run(data)
    assert_in_ci(_turn_away(counts), b, max_rel_half_width=0.03, what="turn-away vs Erlang B")
    assert_in_ci(
        _occupancy(occ, DAYS_LONG, 1440.0),
        load * (1 - b),
        max_rel_half_width=0.01,
        what="occupancy vs a(1 - B)",
    )


@pytest.mark.parametrize(
    "stay",
    [
        {"dist": "lognormal", "mean_hours": 0.03, "sd_hours": 0.045},
        {"dist": "fixed", "mean_hours": 0.03},
        {"dist": "uniform", "min_hours": 0.006, "max_hours": 0.054},
    ],
    ids=["lognormal", "fixed", "uniform"],
)
def test_insensitivity_blocking_depends_only_on_mean_stay(stay: dict[str, Any]) -> None:
    """Erlang B is insensitive: any stay law with a 1.8-minute mean gives B(5, 4)."""
    places, load = 5, 4.0
    b = erlang_b(places, load)
    _, counts, occ = _run(_long_day(stay, places=places, load=load, seed=22))
    assert_in_ci(_turn_away(counts), b, max_rel_half_width=0.03, what=f"{stay['dist']} turn-away")
    assert_in_ci(
        _occupancy(occ, DAYS_LONG, 1440.0),
        load * (1 - b),
        max_rel_half_width=0.01,
        what=f"{stay['dist']} occupancy",
    )


# -- Little's law ----------------------------------------------------------------


def test_littles_law_occupancy_is_admitted_rate_times_mean_stay() -> None:
    """L = lambda_admitted x W, with lognormal stays and places binding.

    Walk-ins arrive 00:00-12:00 on a 00:00-24:00 day and stay 1 h on average
    (sd 1 h): a child admitted by noon is still present at midnight with
    probability below 1e-5, so truncation at closing is negligible and every
    admitted child's whole stay is inside the day.
    """
    days, reps, stay_min = 100, 30, 60.0
    data = littles_law_data(days=days, replications=reps, seed=31)
    _, counts, occ = _run(data)
    admitted = counts[:, 0, 0, 1].astype(float)
    turned = counts[:, 0, 0, 3].sum()
    assert turned > 0.1 * counts[:, 0, 0, 0].sum()  # the admitted rate is not the arrival rate
    horizon = days * 1440.0
    mean_occupancy = occ[:, 0, 0] / horizon
    admitted_rate = admitted / horizon
    assert_in_ci(
        mean_occupancy / (admitted_rate * stay_min),
        1.0,
        max_rel_half_width=0.01,
        what="L / (lambda_admitted W)",
    )
