"""Exact queueing results: Erlang loss formulas and the childcare admission chain.

Two ideas, one module each:

* :mod:`tuoyu_sim.queueing.erlang` — Erlang B and the sizing of walk-in places
  (:func:`erlang_b_servers`, :func:`size_for_turn_away`), used by the planner and
  the allocation models;
* :mod:`tuoyu_sim.queueing.markov` — the exact finite loss-system Markov chain
  of the admission rule (:class:`LossSystem`, :func:`stationary`,
  :func:`transient`), used only to validate the simulation.

Every name is re-exported here, so ``from tuoyu_sim.queueing import erlang_b,
LossSystem, transient`` works as before. Clock: minutes; loads in erlangs.
"""

from tuoyu_sim.queueing.erlang import (
    WalkInSizingError,
    erlang_b,
    erlang_b_servers,
    erlang_b_sizes,
    erlang_b_table,
    little_occupancy,
    size_for_turn_away,
)
from tuoyu_sim.queueing.markov import (
    MAX_GRID_STATES,
    LossSystem,
    RatePieces,
    StateSpace,
    StationaryResult,
    TransientResult,
    enumerate_states,
    generator_matrix,
    stationary,
    transient,
)

__all__ = [
    "MAX_GRID_STATES",
    "LossSystem",
    "RatePieces",
    "StateSpace",
    "StationaryResult",
    "TransientResult",
    "WalkInSizingError",
    "enumerate_states",
    "erlang_b",
    "erlang_b_servers",
    "erlang_b_sizes",
    "erlang_b_table",
    "generator_matrix",
    "little_occupancy",
    "size_for_turn_away",
    "stationary",
    "transient",
]
