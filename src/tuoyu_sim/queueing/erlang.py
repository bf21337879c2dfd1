r"""Erlang B and the sizing of walk-in places: the formulas the planner uses.

One clock unit throughout: **minutes** (rates per minute, stays in minutes); a
load is in erlangs (mean number of children that would be present if nobody
were turned away). The exact multi-class chain these formulas are checked
against is in :mod:`tuoyu_sim.queueing.markov`.

Erlang loss model (M/M/c/c)
---------------------------
Poisson arrivals at rate :math:`\lambda` (per minute), any stay with mean
:math:`W` (minutes; the formula is insensitive to the stay distribution),
:math:`c` places, no waiting room. With offered load :math:`a = \lambda W`
the blocking (turn-away) probability is Erlang's B formula

.. math::

    B(c, a) = \frac{a^c / c!}{\sum_{k=0}^{c} a^k / k!},

computed with the stable recursion

.. math::

    B(0, a) = 1, \qquad B(k, a) = \frac{a\,B(k-1, a)}{k + a\,B(k-1, a)},

whose every step stays in :math:`[0, 1]` (no factorials, no overflow, a
relative error of a few ulps per step). :func:`erlang_b_servers` and
:func:`size_for_turn_away` invert it: the smallest :math:`c` with
:math:`B(c, a) \le \beta`.
"""

from __future__ import annotations

import math
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from tuoyu_sim.errors import InfeasibleError

__all__ = [
    "WalkInSizingError",
    "erlang_b",
    "erlang_b_servers",
    "erlang_b_sizes",
    "erlang_b_table",
    "little_occupancy",
    "size_for_turn_away",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]


class WalkInSizingError(InfeasibleError, ValueError):
    """The places allowed cannot keep turn-away at or below the target.

    A :class:`ValueError` for library callers and an
    :class:`~tuoyu_sim.errors.InfeasibleError` for the command line, so the
    message (which carries the numbers) reaches the user without a traceback.
    """


def _check_servers(servers: int, name: str = "servers") -> int:
    if isinstance(servers, bool) or not isinstance(servers, int | np.integer):
        raise ValueError(f"{name} must be a whole number >= 0, got {servers!r}")
    if servers < 0:
        raise ValueError(f"{name} must be >= 0, got {servers}")
    return int(servers)


def _check_load(load: float, name: str = "offered_load") -> float:
    value = float(load)
    if not math.isfinite(value) or value < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0 (erlangs), got {load!r}")
    return value


def _check_target(target: float, name: str) -> float:
    value = float(target)
    if not (0.0 < value <= 1.0):
        raise ValueError(f"{name} must be in (0, 1], got {target!r}")
    return value


def erlang_b(servers: int, offered_load: float) -> float:
    """Blocking probability of the Erlang loss system M/M/c/c (Erlang B).

    Parameters
    ----------
    servers
        Number of servers (places) ``c``, a whole number >= 0.
    offered_load
        Offered load ``a = arrival rate x mean stay`` in erlangs, finite, >= 0.

    Returns
    -------
    float
        ``B(c, a)`` in [0, 1]: the long-run share of arrivals turned away (and,
        by PASTA, the share of time all servers are busy). ``B(0, a) = 1`` for
        every ``a``, including ``a = 0`` (a system without places is always full).

    Raises
    ------
    ValueError
        If ``servers`` is negative or not whole, or the load is negative or not finite.

    Notes
    -----
    Uses ``B(k) = a B(k-1) / (k + a B(k-1))``, stable for any ``c`` and ``a``;
    cost O(c).
    """
    c = _check_servers(servers)
    a = _check_load(offered_load)
    b = 1.0
    for k in range(1, c + 1):
        ab = a * b
        b = ab / (k + ab)
    return b


def erlang_b_table(max_servers: int, load: float | npt.ArrayLike) -> FloatArray:
    """Erlang B for every number of servers from 0 to ``max_servers``.

    Parameters
    ----------
    max_servers
        Largest number of servers, a whole number >= 0.
    load
        Offered load(s) in erlangs, finite, >= 0; a scalar or an array of any shape.

    Returns
    -------
    numpy.ndarray
        Shape ``(max_servers + 1,) + numpy.shape(load)``; entry ``[c, ...]`` is
        ``B(c, load[...])``, bitwise equal to :func:`erlang_b`.

    Raises
    ------
    ValueError
        If ``max_servers`` is negative or a load is negative or not finite.
    """
    m = _check_servers(max_servers, "max_servers")
    a = np.asarray(load, dtype=float)
    if not np.all(np.isfinite(a)) or np.any(a < 0.0):
        raise ValueError(f"load must be finite and >= 0 (erlangs), got {load!r}")
    table = np.empty((m + 1, *a.shape), dtype=float)
    table[0] = 1.0
    for k in range(1, m + 1):
        ab = a * table[k - 1]
        table[k] = ab / (k + ab)
    return table


def erlang_b_servers(offered_load: float, max_blocking: float) -> int:
    """Smallest number of servers whose Erlang B blocking is at most a target.

    Parameters
    ----------
    offered_load
        Offered load in erlangs, finite, >= 0.
    max_blocking
        Target blocking probability in (0, 1].

    Returns
    -------
    int
        The smallest ``c >= 0`` with ``erlang_b(c, offered_load) <= max_blocking``;
        0 when the load is 0 (nobody arrives, so nobody is turned away) or the
        target is 1.

    Raises
    ------
    ValueError
        If the load or the target is out of range.

    Notes
    -----
    Runs the same recursion as :func:`erlang_b`, so
    ``erlang_b(erlang_b_servers(a, t), a) <= t`` holds exactly in floating
    point. Cost O(c), with ``c`` roughly ``a + z sqrt(a)``.
    """
    a = _check_load(offered_load)
    target = _check_target(max_blocking, "max_blocking")
    if a == 0.0:
        return 0
    b = 1.0
    c = 0
    while b > target:
        c += 1
        ab = a * b
        b = ab / (c + ab)
    return c


def erlang_b_sizes(offered_load: float, *targets: float) -> tuple[int, ...]:
    """:func:`erlang_b_servers` for several targets in one pass of the recursion.

    Parameters
    ----------
    offered_load
        Offered load in erlangs, finite, >= 0.
    *targets
        Target blocking probabilities, each in (0, 1].

    Returns
    -------
    tuple of int
        The smallest number of servers meeting each target, in the order given.

    Raises
    ------
    ValueError
        If the load or a target is out of range.
    """
    a = _check_load(offered_load)
    checked = [_check_target(t, "each target") for t in targets]
    if not checked:
        return ()
    if a == 0.0:
        return tuple(0 for _ in checked)
    order = sorted(range(len(checked)), key=lambda i: checked[i], reverse=True)
    sizes = [0] * len(checked)
    b = 1.0
    c = 0
    for i in order:
        while b > checked[i]:
            c += 1
            ab = a * b
            b = ab / (c + ab)
        sizes[i] = c
    return tuple(sizes)


def size_for_turn_away(load_erlangs: float, max_turn_away: float, max_places: int) -> int:
    """Walk-in places needed so that the Erlang B turn-away share meets a target.

    Parameters
    ----------
    load_erlangs
        Walk-in load a facility receives, in erlangs (arrivals per minute x mean
        stay in minutes), finite, >= 0.
    max_turn_away
        Largest acceptable share of walk-in arrivals turned away, in (0, 1].
    max_places
        Most places that may be given, a whole number >= 0.

    Returns
    -------
    int
        The smallest number of places ``c <= max_places`` with
        ``erlang_b(c, load_erlangs) <= max_turn_away``.

    Raises
    ------
    WalkInSizingError
        (a :class:`ValueError`) if even ``max_places`` places turn away more
        than the target; the message gives the load, the places needed and the
        turn-away with ``max_places``.
    ValueError
        If an argument is out of range.
    """
    a = _check_load(load_erlangs, "load_erlangs")
    target = _check_target(max_turn_away, "max_turn_away")
    cap = _check_servers(max_places, "max_places")
    needed = erlang_b_servers(a, target)
    if needed > cap:
        raise WalkInSizingError(
            f"a walk-in load of {a:.4g} erlangs needs {needed} places to keep turn-away "
            f"at or below {target:.4g} (Erlang B), but at most {cap} are allowed; "
            f"with {cap} places turn-away would be {erlang_b(cap, a):.4g}"
        )
    return needed


def little_occupancy(admitted_per_min: float, mean_stay_min: float) -> float:
    """Mean number present by Little's law, ``L = lambda_admitted x W``.

    Parameters
    ----------
    admitted_per_min
        Long-run rate of admitted children, per minute, finite, >= 0.
    mean_stay_min
        Mean stay of an admitted child, minutes, finite, >= 0.

    Returns
    -------
    float
        Time-average number of children present.

    Raises
    ------
    ValueError
        If an argument is negative or not finite.
    """
    lam = _check_load(admitted_per_min, "admitted_per_min")
    w = _check_load(mean_stay_min, "mean_stay_min")
    return lam * w
