"""The private parts of SimPy the simulation relies on, in one place.

The day model (:mod:`tuoyu_sim.centre`) otherwise uses SimPy's public API only:
``Environment``, ``env.now``, ``env.timeout(delay, value)`` and callbacks
appended to an event. Two private parts remain, for speed on the hot path:

* **Scheduling a processed Timeout again** (:func:`event_heap`). A facility's
  walk-ins are one chain of timeouts: when one fires, the next is scheduled.
  ``env.timeout(delay)`` would build a new ``Timeout`` per walk-in; pushing
  the ``Timeout`` just processed back onto the environment's heap
  (``env._queue``), with the next event id (``env._eid``) and priority
  ``NORMAL``, does exactly what ``Environment.schedule`` does, without the new
  object. Callers inline the push::

      heappush(queue, (at, NORMAL, next(ids), event))

  with ``queue, ids = event_heap(env)`` fetched once per chain, not per event.
  ``tests/test_contract_bit_identical_speedups.py::test_arrival_chain_schedules_as_new_timeouts``
  fails if the times or ids stop matching fresh timeouts.

* **Reading an event's value** (:data:`event_value`, ``event._value``). Each
  shift change and enrolled arrival reads the value it was scheduled with. The
  public ``event.value`` is a Python property (a check that the event has
  triggered, which a processed event always has): a Python call per event, and
  measurably slower on scenarios with many enrolled children. ``event_value``
  is ``operator.attrgetter("_value")``, a C-level read, used as a module-level
  alias so it costs no Python frame.

The clock is not read privately: an event carries the time it fires in its
value (the walk-in chain keeps it itself), computed when it was scheduled as
``now + (t - now)``, the same addition ``Environment.schedule`` makes
(``env._now`` is set from that very heap entry when the event is processed).

Because these are private, ``simpy`` is pinned below its next major version
(``simpy>=4.1,<5`` in ``pyproject.toml``); a new major version is to be checked
against this module and the test above before the pin moves.

:func:`queue_head` and :func:`events_scheduled` serve the tests and the
benchmarks (tracing the heap, counting events), so they too do not reach into
SimPy themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import Any

from simpy import Environment, Event
from simpy.events import NORMAL

__all__ = [
    "NORMAL",
    "Environment",
    "Event",
    "event_heap",
    "event_value",
    "events_scheduled",
    "queue_head",
]

EventHeap = list[tuple[float, Any, int, Event]]
"""The environment's heap of ``(time, priority, event id, event)``."""


event_value: Callable[[Event], Any] = attrgetter("_value")
"""The value a processed event was triggered with (``event._value``), read in C."""


def event_heap(env: Environment) -> tuple[EventHeap, Iterator[int]]:
    """The environment's event heap and its event-id counter (``_queue``, ``_eid``).

    Pushing ``(at, NORMAL, next(ids), event)`` onto the heap schedules ``event``
    at time ``at`` exactly as ``Environment.schedule`` would; ``at`` must not be
    before ``env.now``.
    """
    return env._queue, env._eid


def queue_head(env: Environment) -> tuple[float, int] | None:
    """Time and id of the next event on the heap, or None when it is empty."""
    if not env._queue:
        return None
    at, _, eid, _ = env._queue[0]
    return at, eid


def events_scheduled(env: Environment) -> int:
    """Events the environment has scheduled so far (it takes one id from the counter)."""
    return next(env._eid)
