"""The min-cost formulation written in ``allocate/mincost.py``'s docstring against
the rows the code builds: every row the code adds is named there, and every row
named there is one the code adds. The same for the phased model
(``allocate/phased.py``'s docstring and ``docs/allocation.md``)."""

from __future__ import annotations

import re

import pytest

from allocation_builders import make, rich_dict
from tuoyu_sim.allocate import build_instance, mincost
from tuoyu_sim.allocate.mincost import MinCostOptions, build_min_cost

LABEL = re.compile(r"\\text\{\(([a-z0-9_\\]+)\)\}")


def documented() -> set[str]:
    """The row labels of the docstring's formulation, ``\\text{(walkin\\_order)}``
    read as ``walkin_order``."""
    assert mincost.__doc__ is not None
    return {label.replace("\\_", "_") for label in LABEL.findall(mincost.__doc__)}


def prefixes(options: MinCostOptions, seed: int = 0) -> set[str]:
    """The name prefixes of the rows of one model (``cap_3_1`` -> ``cap``) of a
    district with three age classes, walk-in places, health rules, floor areas,
    and a day and a late shift with extended care in the evening (segments of the
    day where only part of the places is in use)."""
    d = rich_dict(seed, n_comm=12, n_fac=2, n_cand=6, size_m=3000, max_places=(20, 60))
    d["care_types"]["extended"] = {
        "mode": "enrolled",
        "window": ["07:30", "08:30"],
        "until": "19:00",
        "stay": {"dist": "fixed", "mean_hours": 10.5},
    }
    for c in d["communities"]:
        c["demand"]["extended"] = 0.03
    d["staff"]["shifts"] = {
        "day": {"start": "07:30", "end": "17:30", "share": 0.75},
        "late": {"start": "10:00", "end": "19:00", "share": 0.25},
    }
    model = build_min_cost(build_instance(make(d)), options)
    return {re.sub(r"(_\d+)+$", "", name) for name in model.prob.constraints}


EVERYTHING = MinCostOptions(
    coverage_share=0.85,
    min_community_share=0.3,
    places_per_1000=2.0,
    budget_cny=1e9,
    cover_every_community=True,
)


def test_every_row_of_the_model_is_in_the_docstring() -> None:
    rows = prefixes(EVERYTHING)
    assert rows <= documented(), f"rows the docstring does not name: {rows - documented()}"


def test_every_row_in_the_docstring_is_built() -> None:
    """The model with every target and every strengthening row has them all."""
    assert documented() == prefixes(EVERYTHING)


@pytest.mark.parametrize(
    "options",
    [
        MinCostOptions(coverage_share=0.5, strengthen=False),
        MinCostOptions(coverage_share=0.5, envelope=False, fixed_open={2: True, 3: False}),
        MinCostOptions(objective="coverage", walk_in=False),
        MinCostOptions(objective="places", cover_every_community=True),
    ],
)
def test_variants_add_no_undocumented_rows(options: MinCostOptions) -> None:
    rows = prefixes(options, seed=1)
    assert rows <= documented(), f"rows the docstring does not name: {rows - documented()}"


# -- the phased model (allocate/phased.py) ------------------------------------------------

ONE_YEAR_LEFT_OUT = {"envelope", "per1000", "budget"}
"""One-year rows the phased model leaves out (its docstring says why)."""


def phased_documented() -> set[str]:
    from tuoyu_sim.allocate import phased

    assert phased.__doc__ is not None
    return {label.replace("\\_", "_") for label in LABEL.findall(phased.__doc__)} - {"one-year"}


def phased_prefixes() -> set[str]:
    """Row prefixes of a phased model with every linking row switched on."""
    from tuoyu_sim.allocate import OptimizeOptions
    from tuoyu_sim.allocate.phased import build_phased

    d = rich_dict(0, n_comm=8, n_fac=2, n_cand=4, size_m=1200, max_places=(20, 60))
    d["targets"]["places_per_1000"] = 0.5
    d["projection"] = {
        "base_year": 2025,
        "horizon": [2026, 2027],
        "births": {
            "observed": {str(y): 1000 for y in range(2020, 2026)},
            "variants": {"central": {"2026": 900, "2027": 700}},
        },
    }
    d["phasing"] = {
        "convert_cost_per_place_cny": 1000,
        "hire_cost_cny": 100,
        "max_hires_per_year": 50,
        "min_utilization": 0.1,
        "empty_place_year_cny": 10,
    }
    model = build_phased(make(d), (2026, 2027), OptimizeOptions(budget_cny=1e12))
    return {re.sub(r"(_\d+)+$", "", name) for name in model.prob.constraints}


def test_every_phased_row_is_documented_and_built() -> None:
    rows = phased_prefixes()
    linking = {r for r in rows if r.startswith("phase_")}
    assert linking == phased_documented()
    one_year = rows - linking
    assert one_year <= documented() - ONE_YEAR_LEFT_OUT
    assert not one_year & ONE_YEAR_LEFT_OUT


def test_the_phased_formulation_in_the_docs_names_the_same_rows() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "allocation.md").read_text("utf-8")
    section = text.split("## The phased model", 1)[1].split("\n## ", 1)[0]
    named = {label.replace("\\_", "_") for label in LABEL.findall(section)} - {"one-year"}
    assert named == phased_documented()
