"""Properties of the day model that hold for every scenario (Hypothesis).

Small random scenarios (1-3 facilities on a line, one or two age classes,
walk-in and enrolled care types, redirects on or off, any staffing) are built as
dicts and validated with ``validate_data``. :class:`tuoyu_sim.centre.Centre` is
instrumented (monkeypatched for the test only) to check its state after every
event: children present never exceed places, caregivers needed are exactly
sum ceil(present / ratio), and admitting a walk-in never leaves fewer caregivers
on shift than needed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import build, walk_in_dict
from tuoyu_sim import centre as centre_mod
from tuoyu_sim.simulation import build_model, run_replication

AGES = {
    "infant": {"months": [6, 12], "ratio": 3, "class_size": 10},
    "older": {"months": [24, 36], "ratio": 7, "class_size": 20},
}

HALF_DAY = {
    "mode": "enrolled",
    "sessions": [
        {"window": ["07:30", "08:30"], "until": "12:00"},
        {"window": ["13:00", "14:00"], "until": "18:00"},
    ],
    "stay": {"dist": "uniform", "min_hours": 2.0, "max_hours": 4.0},
    "attendance": 0.9,
}
FULL_DAY = {
    "mode": "enrolled",
    "window": ["07:30", "08:30"],
    "stay": {
        "dist": "normal",
        "mean_hours": 9.0,
        "sd_hours": 0.5,
        "min_hours": 8.0,
        "max_hours": 10.0,
    },
    "attendance": 0.92,
}


def walk_in_type(redirect: bool, mean_hours: float) -> dict[str, Any]:
    return {
        "mode": "walk_in",
        "profile": [1, 2, 3, 2, 1, 1, 2, 3, 2, 1, 1, 1],
        "stay": {"dist": "exponential", "mean_hours": mean_hours},
        "redirect": redirect,
    }


@st.composite
def scenarios(draw: st.DrawFn, *, enrolled: bool = True) -> dict[str, Any]:
    ages = draw(st.sampled_from([("older",), ("infant", "older")]))
    n_fac = draw(st.integers(1, 3))
    redirect = draw(st.booleans())
    care_types: dict[str, Any] = {
        "drop_in": walk_in_type(redirect, draw(st.sampled_from([0.5, 2.0]))),
    }
    if draw(st.booleans()):
        care_types["hourly"] = walk_in_type(redirect, 1.0)
    if enrolled:
        if draw(st.booleans()):
            care_types["full_day"] = FULL_DAY
        if draw(st.booleans()):
            care_types["half_day"] = HALF_DAY
    mix = draw(st.floats(0.2, 0.8)) if len(ages) == 2 else 1.0
    age_mix = {ages[0]: mix} if len(ages) == 1 else {ages[0]: mix, ages[1]: 1.0 - mix}
    demand = {
        k: (draw(st.floats(0.0, 0.3)) if v["mode"] == "enrolled" else draw(st.floats(0.0, 0.4)))
        for k, v in care_types.items()
    }
    facilities = []
    for j in range(n_fac):
        places = {a: draw(st.integers(0, 6)) for a in ages}
        fac: dict[str, Any] = {
            "id": f"f{j}",
            "x_m": 300 * j,
            "y_m": 0,
            "places": places,
            "staff": {"teacher": draw(st.integers(0, 2)), "nursery": draw(st.integers(0, 2))},
        }
        total = sum(places.values())
        if total and draw(st.booleans()):
            fac["reserved"] = {"drop_in": draw(st.integers(0, total))}
        facilities.append(fac)
    return {
        "name": "property",
        "simulation": {
            "days": 2,
            "replications": 1,
            "seed": draw(st.integers(0, 10_000)),
            "open": "07:30",
            "close": "19:00",
            "curve_step_minutes": 30,
        },
        "geography": {"service_radius_m": 1000},
        "age_groups": {a: AGES[a] for a in ages},
        "care_types": care_types,
        "communities": [
            {
                "id": f"c{i}",
                "population": 5000,
                "children_under3": 120,
                "x_m": 300 * i,
                "y_m": 0,
                "age_mix": age_mix,
                "demand": demand,
            }
            for i in range(n_fac)
        ],
        "facilities": facilities,
    }


class Violations:
    """Collects invariant violations seen by the instrumented Centre."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.events = 0
        self.walk_ins_admitted = 0

    def check(self, c: Any, where: str) -> None:
        self.events += 1
        spec = c.spec
        for a, (p, cap) in enumerate(zip(c.present, spec.places, strict=True)):
            if not 0 <= p <= cap:
                self.problems.append(f"{spec.id} {where}: class {a} present {p}, places {cap}")
            if c.free_shared[a] < 0:
                self.problems.append(f"{spec.id} {where}: free shared places {c.free_shared[a]}")
        for pool in c.free_res:
            if pool is not None and min(pool) < 0:
                self.problems.append(f"{spec.id} {where}: free reserved places {pool}")
        need = sum(math.ceil(p / r) for p, r in zip(c.present, spec.ratios, strict=True))
        if need != c.needed:
            self.problems.append(f"{spec.id} {where}: needed {c.needed}, sum ceil = {need}")


@pytest.fixture
def instrumented(monkeypatch: pytest.MonkeyPatch) -> Violations:
    """Wrap Centre's state changes so every event is checked."""
    seen = Violations()
    cls = centre_mod.Centre
    orig_try, orig_enrol, orig_depart, orig_shift = (
        cls.try_admit,
        cls._enrolled_arrives,
        cls._depart,
        cls._shift_change,
    )

    def try_admit(self: Any, *args: Any) -> bool:
        ok = orig_try(self, *args)
        seen.check(self, "walk-in")
        if ok:
            seen.walk_ins_admitted += 1
            if self.needed > self.on_shift:
                seen.problems.append(
                    f"{self.spec.id}: walk-in admitted with {self.needed} caregivers needed, "
                    f"{self.on_shift} on shift"
                )
        return ok

    def enrolled(self: Any, *args: Any) -> None:
        orig_enrol(self, *args)
        seen.check(self, "enrolled arrival")

    def depart(self: Any, t: float, k: int, age: int, pool: int) -> None:
        orig_depart(self, t, k, age, pool)
        seen.check(self, "departure")

    def shift(self: Any, *args: Any) -> None:
        orig_shift(self, *args)
        seen.check(self, "shift change")

    monkeypatch.setattr(cls, "try_admit", try_admit)
    monkeypatch.setattr(cls, "_enrolled_arrives", enrolled)
    monkeypatch.setattr(cls, "_depart", depart)
    monkeypatch.setattr(cls, "_shift_change", shift)
    return seen


PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(data=scenarios())
def test_children_conserved_and_places_never_exceeded(
    data: dict[str, Any], instrumented: Violations
) -> None:
    """Each arrival is admitted, redirected or turned away exactly once; present <= places."""
    instrumented.problems.clear()
    sc = build(data)
    model = build_model(sc)
    res = run_replication(model, 0)
    assert not instrumented.problems, instrumented.problems[:5]
    if res.counts[..., 0].sum() > 0:
        assert instrumented.events > 0  # the instrumentation really saw the day
    counts = res.counts  # (F, K, 5): arrivals, admitted, redirected, turned_away, redirected_in
    arrivals, admitted, redirected, turned, red_in = (counts[..., i] for i in range(5))
    # per facility and care type: a child arriving here is counted once here
    np.testing.assert_array_equal(arrivals, admitted + redirected + turned)
    # district-wide: every redirected child was admitted somewhere else
    np.testing.assert_array_equal(redirected.sum(axis=0), red_in.sum(axis=0))
    assert np.all(counts >= 0)
    for k, t in enumerate(model.plan.care_types):
        ct = sc.care_types[t]
        if ct.mode == "enrolled" or not ct.redirect:
            assert redirected[:, k].sum() == 0
            assert red_in[:, k].sum() == 0
        if ct.mode == "enrolled":
            assert turned[:, k].sum() == 0  # an enrolled child is always admitted
    # occupancy curves (mean present per step) are never above places
    places = np.array([sum(s.places) for s in model.specs], dtype=float)
    per_step = res.curve.sum(axis=1) / sc.simulation.days  # (F, B)
    assert np.all(per_step <= places[:, None] + 1e-9)


@PROPERTY
@given(data=scenarios(enrolled=False))
def test_walk_ins_never_cause_a_ratio_breach(
    data: dict[str, Any], instrumented: Violations
) -> None:
    """Only walk-in types: zero breach minutes whatever the staffing (even none)."""
    instrumented.problems.clear()
    sc = build(data)
    res = run_replication(build_model(sc), 0)
    assert not instrumented.problems, instrumented.problems[:5]
    assert np.all(res.breach_min == 0)
    assert np.all(res.breach_days == 0)
    # a facility without caregivers admits no walk-in at all
    for j, f in enumerate(sc.facilities):
        if f.staff.direct == 0:
            assert res.counts[j, :, 1].sum() == 0


@settings(max_examples=20, deadline=None)
@given(
    enrolled=st.integers(1, 12),
    ratio=st.integers(1, 7),
    caregivers=st.integers(0, 4),
)
def test_enrolled_breach_exactly_when_caregivers_too_few(
    enrolled: int, ratio: int, caregivers: int
) -> None:
    """All-attending full-day children: a breach every day iff ceil(n / r) > caregivers.

    Every child arrives 07:30-08:30 and stays at least 8 h, so all are present
    together from 08:30 to 15:30 and the most caregivers ever needed is
    ceil(n / r).
    """
    data = walk_in_dict(
        places={"older": 12},
        arrivals_per_day={"older": 1.0},
        caregivers=caregivers,
        ratios={"older": ratio},
        days=3,
        replications=1,
    )
    data["care_types"] = {"full_day": dict(FULL_DAY, attendance=1.0)}
    data["communities"][0]["demand"] = {"full_day": enrolled / 1000.0}
    sc = build(data)
    model = build_model(sc)
    assert int(model.plan.facilities[0].enrolled.sum()) == enrolled
    res = run_replication(model, 0)
    assert res.counts[0, 0, 0] == 3 * enrolled  # attendance 1: everyone, every day
    if math.ceil(enrolled / ratio) > caregivers:
        assert res.breach_days[0] == 3
        assert res.breach_min[0] >= 3 * 7 * 60  # at least 08:30-15:30 each day
    else:
        assert res.breach_days[0] == 0
        assert res.breach_min[0] == 0


def test_no_caregivers_enrolled_children_breach_all_day() -> None:
    """Caregivers = 0 and enrolled children attend: breach from first arrival to last departure."""
    data = walk_in_dict(places={"older": 5}, arrivals_per_day={"older": 1.0}, caregivers=0, days=4)
    data["care_types"] = {"full_day": dict(FULL_DAY, attendance=1.0)}
    data["communities"][0]["demand"] = {"full_day": 5 / 1000.0}
    res = run_replication(build_model(build(data)), 0)
    assert res.breach_days[0] == 4
    assert res.breach_min[0] > 4 * 8 * 60
    # breach minutes are bounded by the opening hours
    assert res.breach_min[0] <= 4 * 690 + 1e-9


def test_common_random_numbers_same_arrivals_whatever_the_places() -> None:
    """Replication k of two scenarios differing only in places sees the same arrivals."""
    base = walk_in_dict(
        places={"older": 8},
        arrivals_per_day={"older": 40.0},
        caregivers=3,
        days=5,
        replications=6,
        seed=5,
    )
    small, large = build(base), build(base)
    large = small.with_changes({"facilities[0].places.older": 20})
    ra = [run_replication(build_model(small), r) for r in range(6)]
    rb = [run_replication(build_model(large), r) for r in range(6)]
    arr_a = np.array([r.counts[..., 0] for r in ra])
    arr_b = np.array([r.counts[..., 0] for r in rb])
    np.testing.assert_array_equal(arr_a, arr_b)
    # day by day too, not only in total
    np.testing.assert_array_equal(
        np.array([r.daily[..., 0] for r in ra]), np.array([r.daily[..., 0] for r in rb])
    )
    # and the replications themselves differ (the test is not vacuous)
    assert len({int(a.sum()) for a in arr_a}) > 1
    # more places under the same luck: the admitted totals differ
    adm_a = np.array([r.counts[..., 1] for r in ra]).sum()
    adm_b = np.array([r.counts[..., 1] for r in rb]).sum()
    assert adm_b != adm_a


def test_walk_ins_never_cause_a_breach_when_a_shift_ends_before_closing() -> None:
    """Walk-ins only, the single caregiver's shift ends at 17:00, closing at 19:00."""
    data = walk_in_dict(
        places={"older": 8}, arrivals_per_day={"older": 40.0}, caregivers=1, days=3, seed=3
    )
    data["staff"]["shift"] = ["07:30", "17:00"]
    res = run_replication(build_model(build(data)), 0)
    assert res.counts[0, 0, 1] > 0
    assert res.breach_min[0] == 0


def test_redirects_are_conserved_between_facilities() -> None:
    """A full facility redirects walk-ins to a neighbour within reach: out = in, none lost."""
    data = walk_in_dict(
        places={"older": 1},
        arrivals_per_day={"older": 40.0},
        caregivers=3,
        days=3,
        replications=1,
        seed=4,
    )
    data["care_types"]["drop_in"]["redirect"] = True
    data["facilities"].append(
        {
            "id": "f2",
            "x_m": 400,
            "y_m": 0,
            "places": {"older": 30},
            "staff": {"teacher": 5, "nursery": 0, "health": 0},
        }
    )
    res = run_replication(build_model(build(data)), 0)
    arrivals, admitted, redirected, turned, red_in = (res.counts[:, 0, i] for i in range(5))
    assert redirected[0] > 0  # f1 (nearest to the community) is nearly always full
    assert red_in[1] == redirected[0]
    assert red_in[0] == 0 and redirected[1] == 0 and arrivals[1] == 0
    np.testing.assert_array_equal(arrivals, admitted + redirected + turned)
