"""Per-child records, kept only when asked (``simulate --episodes``).

Each record must agree exactly with the running totals: outcomes with the
counts, and stays with the occupancy integral (a sample-path identity: the
child-minutes present at a facility are the sum of its children's stays).
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from tuoyu_sim.cli import main
from tuoyu_sim.metrics import episode_table
from tuoyu_sim.scenario import load_scenario
from tuoyu_sim.simulation import simulate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    sc = load_scenario(ROOT / "scenarios" / "ruyituo.toml").with_changes(
        {"simulation.replications": 2, "simulation.days": 3}
    )
    return simulate(sc, episodes=True)


def test_outcomes_agree_with_the_counts(result) -> None:  # type: ignore[no-untyped-def]
    rows = episode_table(result)
    counts = sum(r.counts for r in result.replications)  # (F, K, 5)
    by = Counter(r["outcome"] for r in rows)
    walk = list(result.model.walk_in_types)
    enrolled = [k for k in range(counts.shape[1]) if k not in walk]
    assert by["turned_away"] == counts[:, :, 3].sum()
    assert by["redirected"] == counts[:, :, 2].sum()
    assert by["admitted"] == counts[:, walk, 1].sum() + counts[:, :, 4].sum()
    assert by["enrolled"] == counts[:, enrolled, 1].sum()
    assert by["redirected"] > 0 and by["turned_away"] > 0  # the test is not vacuous


def test_stays_add_up_to_the_child_minutes(result) -> None:  # type: ignore[no-untyped-def]
    stays: dict[tuple[int, str], float] = defaultdict(float)
    for r in episode_table(result):
        stays[(r["replication"], r["facility"])] += r["stay_min"]
    for rep in result.replications:
        for j, spec in enumerate(result.model.specs):
            assert stays[(rep.replication, spec.id)] == pytest.approx(
                float(rep.occupancy_min[j].sum()), rel=1e-9, abs=1e-6
            )


def test_nothing_is_kept_unless_asked() -> None:
    sc = load_scenario(ROOT / "scenarios" / "minimal.toml").with_changes(
        {"simulation.replications": 2, "simulation.days": 2}
    )
    res = simulate(sc)
    assert all(r.episodes is None for r in res.replications)
    asked = simulate(sc, episodes=True)
    np.testing.assert_array_equal(  # asking changes no figure
        np.stack([r.counts for r in res.replications]),
        np.stack([r.counts for r in asked.replications]),
    )


def test_cli_writes_episodes_csv_only_when_asked(tmp_path: Path) -> None:
    scenario = str(ROOT / "scenarios" / "minimal.toml")
    base = ["simulate", scenario, "--replications", "2", "--days", "2", "--quiet", "--no-figures"]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    assert not (tmp_path / "a" / "episodes.csv").exists()
    assert main([*base, "--episodes", "--out", str(tmp_path / "b")]) == 0
    with (tmp_path / "b" / "episodes.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {r["outcome"] for r in rows} <= {"admitted", "turned_away", "enrolled"}
