"""Speed-ups of the day loop that must not change a single bit of the results.

``run_replication`` keeps a block of days in buffers and folds them into the
totals once per block; the block length must not matter. ``ArrivalProfile.sample``
draws one Poisson count per piece; the draws must be those of one array draw.
``ArrivalChain`` schedules one Timeout again and again; the event ids and times
must be those of a new ``env.timeout`` per arrival.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import simpy

import tuoyu_sim.simulation as sim_mod
from conftest import MINIMAL, SCENARIOS
from tuoyu_sim._simpy import queue_head
from tuoyu_sim.centre import ArrivalChain, Centre, CentreSpec
from tuoyu_sim.demand import ArrivalProfile
from tuoyu_sim.scenario import load_scenario
from tuoyu_sim.simulation import HIST_BINS, build_model, run_replication

FIELDS = (
    "counts", "occupancy_min", "curve", "hist_facility", "hist_district", "breach_min",
    "breach_days", "breach_by_hour", "short_by_hour", "daily",
)  # fmt: skip


@pytest.mark.parametrize(
    ("path", "days"),
    [
        (MINIMAL, 7),
        (SCENARIOS / "examples" / "two_facilities_redirect.toml", 5),
        (SCENARIOS / "yanzhou.toml", 3),
    ],
)
def test_block_length_does_not_change_a_bit(
    path: Path, days: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = load_scenario(path).with_changes({"simulation.days": days})
    model = build_model(sc)
    results = []
    for block in (1, 2, 64):
        monkeypatch.setattr(sim_mod, "_BLOCK_DAYS", block)
        results.append(run_replication(model, 1))
    first = results[0]
    for other in results[1:]:
        for name in FIELDS:
            a, b = getattr(first, name), getattr(other, name)
            assert a.shape == b.shape and a.dtype == b.dtype, name
            assert a.tobytes() == b.tobytes(), name


def test_count_bins_matches_add_at() -> None:
    rng = np.random.default_rng(3)
    hist = rng.integers(0, 5, (4, 6, HIST_BINS))
    rows = np.array([0, 2, 3])
    idx = rng.integers(0, HIST_BINS, (9, rows.size, 6))
    want = hist.copy()
    for d in range(idx.shape[0]):
        for r, row in enumerate(rows):
            np.add.at(want[row], (np.arange(6), idx[d, r]), 1)
    sim_mod._count_bins(hist, rows, idx)
    np.testing.assert_array_equal(hist, want)


@pytest.mark.parametrize("weights", [None, [0.5, 2.0, 3.0, 0.0, 1.0, 0.25]])
def test_profile_sample_draws_as_one_array_draw(weights: list[float] | None) -> None:
    if weights is None:
        profile = ArrivalProfile(np.array([480.0, 1140.0]), np.array([1.0]))
    else:
        w = np.array(weights)
        edges = np.minimum(480.0 + 60.0 * np.arange(w.size + 1), 800.0)
        mass = w * np.diff(edges)
        profile = ArrivalProfile(edges, mass / mass.sum())
    for seed in range(40):
        lam = float(np.random.default_rng(seed).uniform(0.0, 200.0))
        r1, r2 = np.random.default_rng(seed), np.random.default_rng(seed)
        counts = r1.poisson(lam * profile.mass)
        starts = np.repeat(profile.edges[:-1], counts)
        widths = np.repeat(np.diff(profile.edges), counts)
        want = np.sort(starts + widths * r1.random(starts.size))
        got = profile.sample(r2, np.float64(lam) if seed % 2 else lam)
        assert got.tobytes() == want.tobytes()
        assert r1.random() == r2.random()  # the streams stay in step


def test_arrival_chain_schedules_as_new_timeouts() -> None:
    """Times and event ids of the arrivals are those of ``env.timeout`` per arrival."""
    spec = CentreSpec(
        index=0, id="f", places=(3,), reserved=(None,), ratios=(3,),
        shifts=((480.0, 1140.0, 5),), redirect=(False,),
    )  # fmt: skip
    times = [480.25, 481.0, 481.0, 500.1, 612.7, 1139.9]
    env = simpy.Environment(initial_time=480.0)
    centre = Centre(env, spec, 1, 1140.0)
    centre.start_shifts([5])
    ArrivalChain(centre, times, [0] * 6, [0] * 6, [30.0] * 6).start()
    seen: list[tuple[float, int]] = []
    step = env.step

    def traced() -> None:
        head = queue_head(env)
        if head is not None:
            seen.append(head)
        step()

    env.step = traced  # type: ignore[method-assign]
    env.run()
    # the same as a fresh timeout per arrival: now + (t - now), ids one after another
    want, now = [], 480.0
    for n, t in enumerate(times):
        now = now + (t - now)
        want.append((now, n))
    assert seen == want
    assert centre.arrivals == [6] and centre.admitted[0] + centre.turned_away[0] == 6
