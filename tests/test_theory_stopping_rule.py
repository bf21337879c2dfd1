"""The stopping rule of the plan loop: p-values, Holm, and its false-alarm rate.

A network exactly at its targets must be called short at most at the
documented family-wise rate (alpha), whatever the number of facilities; a
network clearly over its targets must be called short.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr

from tuoyu_sim.stopping import StoppingRule, holm, judge, p_value


def test_p_value_is_one_at_or_below_the_target_and_small_far_above() -> None:
    assert p_value([0.01, 0.02, 0.03], 0.05)[1] == 1.0
    mean, p, n = p_value([0.20, 0.21, 0.19, 0.20], 0.05)
    assert n == 4 and mean == pytest.approx(0.20)
    assert p < 1e-4
    assert p_value([math.nan, math.nan], 0.05) == (pytest.approx(math.nan, nan_ok=True), 1.0, 0)


def test_holm_rejects_in_order_and_stops_at_the_first_it_keeps() -> None:
    # m = 4, alpha = 0.05: thresholds 0.0125, 0.0167, 0.025, 0.05
    assert holm([0.001, 0.015, 0.03, 0.2], 0.05).tolist() == [True, True, False, False]
    assert holm([0.02, 0.001], 0.05).tolist() == [True, True]  # 0.001 <= .025, 0.02 <= .05
    assert not holm([0.02, 0.02, 0.02], 0.05).any()  # 0.02 > 0.05/3


def _network_at_target(
    rng: np.random.Generator, facilities: int, reps: int, target: float, k: float = 40.0
) -> np.ndarray:
    """Per-replication shares with mean exactly ``target`` (beta draws); ``k`` is the
    concentration, about the walk-ins (or days) a replication sees."""
    return rng.beta(target * k, (1 - target) * k, size=(reps, facilities))


def _sd(target: float, k: float) -> float:
    """Standard deviation of one replication's share (beta with concentration k)."""
    return math.sqrt(target * (1 - target) / (k + 1))


def _calls_short(rng: np.random.Generator, rule: StoppingRule, facilities: int, k: float) -> bool:
    """One judged network at its targets, with the rule's sequential rounds."""
    ids = [f"f{j}" for j in range(facilities)]
    targets = {"turn_away": 0.05, "breach": 0.02}
    reps = 10
    values = {lv: _network_at_target(rng, facilities, reps, t, k) for lv, t in targets.items()}
    for round_ in range(1, rule.max_rounds + 1):
        last = round_ == rule.max_rounds
        verdicts = judge(ids, values, targets, rule, last_round=last)
        if last or not any(v.verdict == "undecided" for v in verdicts):
            return any(v.verdict == "short" for v in verdicts)
        more = {
            lv: _network_at_target(rng, facilities, len(v), targets[lv], k)
            for lv, v in values.items()
        }
        values = {lv: np.vstack([values[lv], more[lv]]) for lv in values}
    raise AssertionError


@pytest.mark.slow
@pytest.mark.parametrize(("facilities", "k"), [(5, 40.0), (60, 400.0)])
def test_a_network_exactly_at_its_targets_is_called_short_at_most_the_documented_rate(
    facilities: int, k: float
) -> None:
    rule = StoppingRule()
    rng = np.random.default_rng(12345 + facilities)
    trials = 600
    alarms = sum(_calls_short(rng, rule, facilities, k) for _ in range(trials))
    rate = alarms / trials
    # the documented rate: alpha from the test, plus per facility the chance that its
    # estimate after the last look (10 x 2**(rounds-1) replications) is more than
    # delta above its target (normal approximation; an upper bound)
    n_last = 10 * 2 ** (rule.max_rounds - 1)
    last_look = sum(
        facilities * float(ndtr(-rule.indifference * math.sqrt(n_last) / _sd(t, k)))
        for t in (0.05, 0.02)
    )
    documented = rule.alpha + last_look
    assert rate <= documented + 3 * math.sqrt(documented * (1 - documented) / trials)


def test_a_facility_clearly_over_its_target_is_called_short() -> None:
    rng = np.random.default_rng(7)
    values = {
        "turn_away": np.column_stack(
            [_network_at_target(rng, 1, 10, 0.05)[:, 0], _network_at_target(rng, 1, 10, 0.15)[:, 0]]
        ),
        "breach": np.zeros((10, 2)),
    }
    verdicts = judge(
        ["ok", "over"], values, {"turn_away": 0.05, "breach": 0.02}, StoppingRule(), last_round=True
    )
    short = {v.facility for v in verdicts if v.verdict == "short"}
    assert short == {"over"}
