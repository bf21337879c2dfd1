"""Random streams: keyed per facility, never shared by two distinct ids."""

from __future__ import annotations

import copy
import tomllib

import numpy as np
import pytest

from conftest import MINIMAL, build
from tuoyu_sim.errors import ScenarioError
from tuoyu_sim.simulation import build_model
from tuoyu_sim.streams import STREAMS, check_distinct_keys, generator, stream_key

COLLIDING = ("plumless", "buckeroo")
"""Two distinct strings with the same CRC-32 (a well-known pair)."""


def test_generator_is_the_documented_seed_sequence() -> None:
    """(replication, stream index, crc32(id)) as the spawn key of the scenario's seed."""
    ss = np.random.SeedSequence(42, spawn_key=(3, STREAMS.index("absence"), stream_key("f1")))
    want = np.random.Generator(np.random.PCG64(ss)).random(5)
    assert generator(42, 3, "absence", "f1").random(5).tobytes() == want.tobytes()


def test_colliding_ids_are_refused_naming_both() -> None:
    assert stream_key(COLLIDING[0]) == stream_key(COLLIDING[1])
    with pytest.raises(ScenarioError, match=r"'plumless' and 'buckeroo'.*rename one"):
        check_distinct_keys(["a", *COLLIDING])


def test_distinct_keys_pass() -> None:
    check_distinct_keys(["f1", "f2", "幼儿园-01", ""])


def test_build_model_refuses_colliding_facility_ids() -> None:
    with MINIMAL.open("rb") as fh:
        data = tomllib.load(fh)
    second = copy.deepcopy(data["facilities"][0])
    data["facilities"][0]["id"], second["id"] = COLLIDING
    data["facilities"].append(second)
    with pytest.raises(ScenarioError, match="same random-stream key"):
        build_model(build(data))
