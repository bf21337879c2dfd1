"""Walk-in place sizing by the Erlang loss formula, in a form a MILP can use.

Drop-in and hourly care have no waiting room: a walk-in child finding no free
place is turned away, so a facility's walk-in places form an Erlang loss
system (M/M/c/c; blocking is insensitive to the stay distribution). With
``c`` places and offered load ``a`` erlangs the turn-away share is Erlang B
``B(c, a)`` (:func:`tuoyu_sim.queueing.erlang_b`).

The MILP cannot hold ``B`` itself. Instead, for every size ``k`` we precompute
``Lambda_k``, the largest load that ``k`` places carry with ``B(k, a) <= beta``;
``Lambda_k`` increases with ``k``. Choosing ``k`` places (``k`` ordered 0/1
increments ``delta_1 >= delta_2 >= ...``) allows a load up to
``sum_k (Lambda_k - Lambda_{k-1}) delta_k = Lambda_{sum delta}``.
Each ``Lambda_k`` is taken on the feasible side of a bisection, so any load the
model accepts meets the target exactly in Erlang B.
"""

from __future__ import annotations

import numpy as np

from tuoyu_sim.queueing import erlang_b, erlang_b_servers


def max_loads(max_places: int, max_turn_away: float) -> np.ndarray:
    """``Lambda_k`` for ``k = 0 .. max_places``: the most erlangs ``k`` places carry.

    Parameters
    ----------
    max_places
        Largest size, >= 0.
    max_turn_away
        Target turn-away share ``beta`` in (0, 1).

    Returns
    -------
    numpy.ndarray
        Shape ``(max_places + 1,)``, increasing, ``Lambda_0 = 0`` and
        ``erlang_b(k, Lambda_k) <= beta`` for every ``k``.
    """
    beta = float(max_turn_away)
    out = np.zeros(max_places + 1)
    for k in range(1, max_places + 1):
        lo, hi = out[k - 1], k / (1.0 - beta) + 1.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if erlang_b(k, mid) <= beta:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-12 * max(1.0, hi):
                break
        out[k] = lo
    return out


def places_for_load(load_erlangs: float, max_turn_away: float) -> int:
    """Smallest number of places whose Erlang B turn-away is at most the target."""
    if load_erlangs <= 0:
        return 0
    return erlang_b_servers(float(load_erlangs), float(max_turn_away))
