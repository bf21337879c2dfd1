"""Random streams.

One ``SeedSequence(seed)``; one child per replication; inside it one child per
named stream; inside that one child per facility (keyed by a hash of its id and
care type, so adding a facility does not shift another's draws). In
``SeedSequence`` terms the generator for (replication r, stream s, key k) is
``SeedSequence(seed, spawn_key=(r, s, crc32(k)))``, exactly what
``SeedSequence(seed).spawn(...)[r].spawn(...)[s]...`` would give.

Replication r of any two scenarios sees the same streams for the same facility
(common random numbers), so differences between scenarios are not luck.

The stream list may only ever be appended to.
"""

from __future__ import annotations

import zlib

import numpy as np

STREAMS: tuple[str, ...] = (
    "attendance",
    "enrolled_arrival",
    "enrolled_stay",
    "walk_in_arrival",
    "walk_in_stay",
    "absence",
    "redirect_origin",
)


def generator(seed: int, replication: int, stream: str, key: str = "") -> np.random.Generator:
    """The generator of one named stream for one facility in one replication."""
    index = STREAMS.index(stream)
    spawn_key = (replication, index, zlib.crc32(key.encode("utf-8")))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=spawn_key)))
