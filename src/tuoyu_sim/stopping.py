r"""Judging a simulated network against its targets when every figure is noisy.

With dozens of facilities each held to a hard threshold, some miss it by chance
in any one simulation, however good the plan. The plan loop
(:mod:`tuoyu_sim.planning`) therefore judges each facility by a test, not by its
point estimate, and controls the error over the whole network.

The rule
--------
For every facility :math:`f` and service level :math:`m` (walk-in turn-away
against ``targets.max_turn_away``, the share of days with a ratio breach
against ``targets.max_breach_day_share``), with per-replication values
:math:`x_{f,m,1..n}` (each the figure of one replication of ``days`` days):

1. **Test.** :math:`H_0: \mu_{f,m} \le \tau_m` against :math:`\mu_{f,m} >
   \tau_m`, one-sided Student t on the replication values (replications are
   independent, so the t test is exact for normal values and close for these
   averages of many days), p-value :math:`p_{f,m}`.
2. **Holm.** The p-values of all facilities and levels are put through Holm's
   step-down procedure at level :math:`\alpha / R` (default :math:`\alpha` =
   0.05, :math:`R` = ``max_rounds`` = 3 looks at the data): a facility is
   **short** when one of its hypotheses is rejected. Spending :math:`\alpha`
   over the looks (Bonferroni) and Holm over the facilities, a network whose
   every facility is exactly at its targets is called short with probability
   at most :math:`\alpha`, whatever the number of facilities.
3. **Sequential replications.** A facility whose estimate lies above its target
   but is not rejected is **undecided**: the network is simulated again with
   as many new replications as it had (fresh, independent streams), up to
   ``max_rounds`` looks, and judged on all of them.
4. **Last look.** A facility still undecided at the last look is judged by an
   indifference zone of :math:`\delta` (default one point, 0.01): it passes if
   its estimate is within :math:`\delta` of its target, and is short otherwise.
   Holm across many facilities has little power against a single facility a few
   points over; this keeps such a facility from passing.

**False alarms.** For a network exactly at its targets, the test calls some
facility short with probability at most :math:`\alpha`; the last look adds,
for each facility at its target, the chance that its estimate from all the
replications lies more than :math:`\delta` above it, :math:`\bar\Phi(\delta
/ \mathrm{SE})` in the normal approximation, small for a facility with many
walk-ins a day and not for one with a handful. ``tests/test_theory_stopping_rule.py``
measures the rate over many seeds against :math:`\alpha + \sum_f
\bar\Phi(\delta/\mathrm{SE}_f)`.

The loop's last pass is a confirmation: the plan that passed is simulated
again with a fresh seed and must pass again. ``tests/test_theory_stopping_rule.py``
measures the false-alarm rate of a network at its targets over many seeds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import stdtr

LEVELS = ("turn_away", "breach")
"""The service levels judged per facility."""


@dataclass(frozen=True)
class StoppingRule:
    """How a simulated network is judged (see the module docstring)."""

    alpha: float = 0.05
    """Family-wise error rate of calling a facility at its targets short."""
    indifference: float = 0.01
    """:math:`\\delta`: how far above its target a facility undecided at the last
    look may be estimated and still pass."""
    max_rounds: int = 3
    """Most simulations of one network: replications double each round."""


@dataclass(frozen=True)
class Judgement:
    """One facility and level: its estimate, p-value and verdict."""

    facility: str
    level: str
    """``turn_away`` or ``breach``."""
    mean: float
    target: float
    p_value: float
    replications: int
    verdict: str
    """``pass``, ``short`` or ``undecided``."""


def p_value(values: Sequence[float] | np.ndarray, target: float) -> tuple[float, float, int]:
    """(mean, one-sided p-value of :math:`\\mu \\le` target, n) over finite values.

    With no spread the test is decided by the mean alone (p = 0 above the
    target, 1 at or below it).
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = int(v.size)
    if n == 0:
        return (math.nan, 1.0, 0)
    mean = float(v.mean())
    if mean <= target:
        return (mean, 1.0, n)
    sd = float(v.std(ddof=1)) if n > 1 else 0.0
    if sd == 0.0:
        return (mean, 0.0 if n > 1 else 1.0, n)
    t = (mean - target) / (sd / math.sqrt(n))
    return (mean, float(1.0 - stdtr(n - 1, t)), n)


def holm(p_values: Sequence[float], alpha: float) -> np.ndarray:
    """Holm's step-down procedure: which hypotheses are rejected (bool array)."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    rejected = np.zeros(m, dtype=bool)
    for rank, k in enumerate(np.argsort(p, kind="stable")):
        if p[k] > alpha / (m - rank):
            break
        rejected[k] = True
    return rejected


def judge(
    ids: Sequence[str],
    values: dict[str, np.ndarray],
    targets: dict[str, float],
    rule: StoppingRule,
    *,
    last_round: bool,
) -> list[Judgement]:
    """Verdicts for every facility and level.

    Parameters
    ----------
    ids
        Facility ids, in the order of the columns of ``values``.
    values
        Per level, per-replication figures, shape (replications, facilities);
        NaN where a facility had nothing to judge (no walk-ins).
    targets
        Per level, the target share.
    rule
        The stopping rule.
    last_round
        No further replications will come: undecided facilities are settled by
        the indifference zone.
    """
    tests: list[tuple[str, str, float, float, int]] = []
    for level in LEVELS:
        x = values[level]
        for j, fid in enumerate(ids):
            mean, p, n = p_value(x[:, j], targets[level])
            if n:
                tests.append((fid, level, mean, p, n))
    rejected = holm([t[3] for t in tests], rule.alpha / rule.max_rounds)
    out = []
    for (fid, level, mean, p, n), rej in zip(tests, rejected, strict=True):
        target = targets[level]
        if rej:
            verdict = "short"
        elif mean <= target:
            verdict = "pass"
        elif not last_round:
            verdict = "undecided"
        else:
            verdict = "pass" if mean <= target + rule.indifference else "short"
        out.append(Judgement(fid, level, mean, target, p, n, verdict))
    return out


__all__ = ["LEVELS", "Judgement", "StoppingRule", "holm", "judge", "p_value"]
