"""Random streams.

One ``SeedSequence(seed)``; one child per replication; inside it one child per
named stream; inside that one child per facility, keyed by the CRC-32 of its id
(:func:`stream_key`), so adding, removing or reordering facilities does not
shift another's draws. In ``SeedSequence`` terms the generator for
(replication r, stream s, key k) is
``SeedSequence(seed, spawn_key=(r, s, crc32(k)))``, exactly what
``SeedSequence(seed).spawn(...)[r].spawn(...)[s]...`` would give.

Replication r of any two scenarios sees the same streams for the same facility
(common random numbers), so differences between scenarios are not luck.

Two distinct ids could share a CRC-32 (about one chance in 9,000 among a
thousand facilities) and so share their streams; :func:`check_distinct_keys`
refuses them, naming both, before a simulation starts. A key taken from the
facility's position (``SeedSequence.spawn`` in sorted-id order) could never
collide, but it would move a facility's streams whenever a facility with a
smaller id is added, losing common random numbers between a scenario and its
variants, and it would change every result simulated so far; keeping the hash
and refusing the rare collision keeps both.

The stream list may only ever be appended to.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import numpy as np

from tuoyu_sim.errors import ScenarioError

STREAMS: tuple[str, ...] = (
    "attendance",
    "enrolled_arrival",
    "enrolled_stay",
    "walk_in_arrival",
    "walk_in_stay",
    "absence",
    "redirect_origin",
)


def stream_key(key: str) -> int:
    """The spawn-key entry of a facility id: its CRC-32 (UTF-8), 0 .. 2**32 - 1."""
    return zlib.crc32(key.encode("utf-8"))


def check_distinct_keys(ids: Iterable[str]) -> None:
    """Refuse distinct ids whose streams would coincide (same :func:`stream_key`).

    Raises
    ------
    ScenarioError
        Naming every pair of ids with the same key; renaming one of them fixes it.
    """
    seen: dict[int, str] = {}
    problems = []
    for i in ids:
        k = stream_key(i)
        other = seen.setdefault(k, i)
        if other != i:
            problems.append(
                f"facilities: ids {other!r} and {i!r} have the same random-stream key "
                f"(CRC-32 {k}), so they would draw the same random numbers; rename one of them"
            )
    if problems:
        raise ScenarioError(problems)


def generator(seed: int, replication: int, stream: str, key: str = "") -> np.random.Generator:
    """The generator of one named stream for one facility in one replication."""
    index = STREAMS.index(stream)
    spawn_key = (replication, index, stream_key(key))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=spawn_key)))
