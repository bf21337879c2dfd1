"""Theory tests for :mod:`tuoyu_sim.queueing`.

Every expected value is derived here from first principles (exact rational
Erlang B, closed forms of the single-server chain, the product-form
distribution of a coordinate-convex loss system) or is a published table
value; none is a number recorded from a previous run.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import simpson
from scipy.sparse.linalg import expm_multiply

from tuoyu_sim.errors import InfeasibleError
from tuoyu_sim.queueing import (
    LossSystem,
    WalkInSizingError,
    enumerate_states,
    erlang_b,
    erlang_b_servers,
    erlang_b_sizes,
    erlang_b_table,
    generator_matrix,
    little_occupancy,
    size_for_turn_away,
    stationary,
    transient,
)

loads = st.floats(min_value=0.0, max_value=200.0, allow_nan=False, allow_infinity=False)
positive_loads = st.floats(min_value=1e-3, max_value=200.0)
targets = st.floats(min_value=1e-6, max_value=1.0)


def exact_erlang_b(c: int, a: int | Fraction) -> Fraction:
    """Erlang B from its definition, in exact rational arithmetic."""
    a = Fraction(a)
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


def single_class(places: int, ratio: int, caregivers: int | None, stay: float) -> LossSystem:
    return LossSystem(
        places=(places,), ratios=(ratio,), caregivers=caregivers, mean_stay_min=(stay,)
    )


# A two-class facility in which the caregivers bind jointly: the admissible set
# {n1 <= 4, n2 <= 6, ceil(n1/2) + ceil(n2/3) <= 3} is not a box.
SHARED = LossSystem(places=(4, 6), ratios=(2, 3), caregivers=3, mean_stay_min=(40.0, 90.0))
SHARED_RATES = (0.05, 0.03)


# ---------------------------------------------------------------------------
# Erlang B
# ---------------------------------------------------------------------------


def test_erlang_b_textbook_value() -> None:
    # Erlang loss tables: 10 servers, 5 erlangs -> 1.838 % blocking.
    assert erlang_b(10, 5.0) == pytest.approx(0.0183845703, abs=1e-10)


@pytest.mark.parametrize("a", [1, 5, 10, 50])
@pytest.mark.parametrize("c", [0, 1, 3, 10, 60])
def test_erlang_b_equals_exact_rational_formula(c: int, a: int) -> None:
    assert erlang_b(c, float(a)) == pytest.approx(float(exact_erlang_b(c, a)), rel=1e-13)


def test_erlang_b_recursion_is_stable_for_large_systems() -> None:
    # a^c / c! overflows a double for c = 1000; the recursion must not.
    assert erlang_b(1000, 1000.0) == pytest.approx(float(exact_erlang_b(1000, 1000)), rel=1e-11)


@given(a=loads)
def test_erlang_b_single_server_is_a_over_one_plus_a(a: float) -> None:
    assert erlang_b(1, a) == pytest.approx(a / (1.0 + a), rel=1e-15)
    assert erlang_b(0, a) == 1.0


@given(a=positive_loads, b=positive_loads)
@settings(max_examples=50)
def test_erlang_b_decreases_in_servers_and_increases_in_load(a: float, b: float) -> None:
    low, high = sorted((a, b))
    table = erlang_b_table(40, [low, high])
    assert np.all(np.diff(table, axis=0) <= 0.0)
    assert np.all(table[:, 0] <= table[:, 1])
    assert np.all((table >= 0.0) & (table <= 1.0))


def test_erlang_b_table_matches_scalar_function_and_shapes() -> None:
    table = erlang_b_table(12, 3.5)
    assert table.shape == (13,)
    assert [float(v) for v in table] == [erlang_b(c, 3.5) for c in range(13)]
    grid = erlang_b_table(5, np.array([[0.0, 1.0], [2.0, 7.5]]))
    assert grid.shape == (6, 2, 2)
    assert grid[4, 1, 1] == erlang_b(4, 7.5)


@given(a=loads, t=targets)
def test_erlang_b_servers_is_the_smallest_meeting_the_target(a: float, t: float) -> None:
    c = erlang_b_servers(a, t)
    if a == 0.0:
        assert c == 0
        return
    assert erlang_b(c, a) <= t
    assert c == 0 or erlang_b(c - 1, a) > t


@given(a=loads, b=loads, t=targets, u=targets)
@settings(max_examples=50)
def test_erlang_b_servers_is_monotone(a: float, b: float, t: float, u: float) -> None:
    low, high = sorted((a, b))
    strict, loose = sorted((t, u))
    assert erlang_b_servers(low, strict) <= erlang_b_servers(high, strict)
    assert erlang_b_servers(low, loose) <= erlang_b_servers(low, strict)


def test_erlang_b_servers_edge_targets() -> None:
    assert erlang_b_servers(0.0, 0.01) == 0
    assert erlang_b_servers(7.0, 1.0) == 0
    assert erlang_b_servers(5.0, 0.02) == 10  # B(9, 5) = 0.0375, B(10, 5) = 0.0184


def test_erlang_b_sizes_match_one_target_at_a_time() -> None:
    ts = (0.05, 0.001, 0.2, 0.05)
    assert erlang_b_sizes(12.5, *ts) == tuple(erlang_b_servers(12.5, t) for t in ts)
    assert erlang_b_sizes(12.5) == ()
    assert erlang_b_sizes(0.0, 0.1, 0.2) == (0, 0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: erlang_b(-1, 1.0), "servers must be >= 0"),
        (lambda: erlang_b(2.5, 1.0), "servers must be a whole number"),  # type: ignore[arg-type]
        (lambda: erlang_b(3, -0.1), "offered_load must be a finite number >= 0"),
        (lambda: erlang_b(3, float("nan")), "offered_load must be a finite number >= 0"),
        (lambda: erlang_b_table(3, [1.0, -2.0]), "load must be finite and >= 0"),
        (lambda: erlang_b_servers(1.0, 0.0), r"max_blocking must be in \(0, 1\]"),
        (lambda: erlang_b_servers(1.0, 1.5), r"max_blocking must be in \(0, 1\]"),
        (lambda: little_occupancy(-1.0, 10.0), "admitted_per_min must be"),
    ],
)
def test_bad_arguments_are_rejected_with_a_clear_message(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


# ---------------------------------------------------------------------------
# Sizing walk-in places and Little's law
# ---------------------------------------------------------------------------


def test_size_for_turn_away_returns_the_smallest_sufficient_places() -> None:
    assert size_for_turn_away(5.0, 0.02, max_places=20) == 10
    assert size_for_turn_away(5.0, 0.02, max_places=10) == 10
    assert size_for_turn_away(0.0, 0.05, max_places=0) == 0


def test_size_for_turn_away_explains_an_impossible_target() -> None:
    with pytest.raises(ValueError, match="needs 10 places") as info:
        size_for_turn_away(5.0, 0.02, max_places=8)
    message = str(info.value)
    assert "5 erlangs" in message
    assert "at most 8" in message
    assert f"{erlang_b(8, 5.0):.4g}" in message
    # The command line reports it as a user error, without a traceback.
    assert isinstance(info.value, InfeasibleError)
    assert isinstance(info.value, WalkInSizingError)


def test_little_occupancy() -> None:
    assert little_occupancy(0.1, 60.0) == pytest.approx(6.0)
    assert little_occupancy(0.0, 60.0) == 0.0


# ---------------------------------------------------------------------------
# The loss system: states and generator
# ---------------------------------------------------------------------------


def test_state_space_is_the_admissible_set() -> None:
    space = enumerate_states(SHARED)
    expected = {
        n
        for n in itertools.product(range(5), range(7))
        if math.ceil(n[0] / 2) + math.ceil(n[1] / 3) <= 3
    }
    assert {tuple(int(v) for v in row) for row in space.states} == expected
    for i, row in enumerate(space.states):
        n = tuple(int(v) for v in row)
        assert space.index(n) == i
        for c in range(2):
            assert bool(space.blocks[i, c]) == (not SHARED.admits(n, c))
    with pytest.raises(ValueError, match="not admissible"):
        space.index((4, 6))


def test_generator_has_exactly_the_admission_rule_transitions() -> None:
    space = enumerate_states(SHARED)
    q = generator_matrix(SHARED, SHARED_RATES, space).toarray()
    assert np.allclose(q.sum(axis=1), 0.0, atol=1e-15)
    expected = np.zeros_like(q)
    for i, row in enumerate(space.states):
        n = [int(v) for v in row]
        for c in range(2):
            if SHARED.admits(n, c):
                up = list(n)
                up[c] += 1
                expected[i, space.index(up)] = SHARED_RATES[c]
            if n[c] > 0:
                down = list(n)
                down[c] -= 1
                expected[i, space.index(down)] = n[c] / SHARED.mean_stay_min[c]
    np.fill_diagonal(expected, -expected.sum(axis=1))
    np.testing.assert_allclose(q, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"places": (), "ratios": (), "mean_stay_min": ()}, "at least one class"),
        ({"places": (3, 4), "ratios": (3,), "mean_stay_min": (60.0,)}, "one entry per class"),
        ({"places": (3,), "ratios": (0,), "mean_stay_min": (60.0,)}, "ratios must be"),
        ({"places": (3,), "ratios": (3,), "mean_stay_min": (0.0,)}, "mean_stay_min must be"),
        ({"places": (-1,), "ratios": (3,), "mean_stay_min": (60.0,)}, "places must be >= 0"),
    ],
)
def test_invalid_loss_system_is_rejected(
    kwargs: dict[str, tuple[float, ...]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        LossSystem(caregivers=None, **kwargs)  # type: ignore[arg-type]


def test_rates_must_match_the_classes() -> None:
    with pytest.raises(ValueError, match="one arrival rate per class"):
        stationary(SHARED, [0.1])
    with pytest.raises(ValueError, match="finite and >= 0"):
        stationary(SHARED, [0.1, -0.1])


# ---------------------------------------------------------------------------
# Stationary solution
# ---------------------------------------------------------------------------


def test_stationary_with_places_binding_is_erlang_b() -> None:
    system = single_class(places=4, ratio=1, caregivers=None, stay=60.0)
    result = stationary(system, [0.1])  # a = 6 erlangs
    assert result.blocking[0] == pytest.approx(float(exact_erlang_b(4, 6)), rel=1e-12)
    # Truncated Poisson occupancy distribution.
    weights = np.array([6.0**k / math.factorial(k) for k in range(5)])
    np.testing.assert_allclose(result.probabilities, weights / weights.sum(), rtol=1e-12)


@pytest.mark.parametrize(("ratio", "caregivers", "places"), [(3, 2, 10), (7, 1, 20), (5, 3, 12)])
def test_stationary_with_caregivers_binding_is_erlang_b_of_the_effective_capacity(
    ratio: int, caregivers: int, places: int
) -> None:
    system = single_class(places=places, ratio=ratio, caregivers=caregivers, stay=60.0)
    result = stationary(system, [0.1])
    capacity = min(places, caregivers * ratio)
    assert result.states[-1, 0] == capacity
    assert result.blocking[0] == pytest.approx(float(exact_erlang_b(capacity, 6)), rel=1e-12)


@given(
    places=st.integers(0, 12),
    ratio=st.integers(1, 5),
    caregivers=st.one_of(st.none(), st.integers(0, 5)),
    rate=st.floats(0.0, 0.5),
    stay=st.floats(5.0, 240.0),
)
@settings(max_examples=40, deadline=None)
def test_single_class_stationary_is_always_erlang_b(
    places: int, ratio: int, caregivers: int | None, rate: float, stay: float
) -> None:
    system = single_class(places, ratio, caregivers, stay)
    result = stationary(system, [rate])
    capacity = places if caregivers is None else min(places, caregivers * ratio)
    a = rate * stay
    assert result.blocking[0] == pytest.approx(erlang_b(capacity, a), rel=1e-9, abs=1e-14)
    assert result.mean_occupancy[0] == pytest.approx(a * (1.0 - erlang_b(capacity, a)), rel=1e-9)


def test_two_classes_without_caregiver_limit_are_independent_erlang_systems() -> None:
    system = LossSystem(places=(3, 5), ratios=(3, 5), caregivers=None, mean_stay_min=(30.0, 120.0))
    result = stationary(system, [0.1, 0.04])  # a = 3 and 4.8 erlangs
    assert result.blocking[0] == pytest.approx(erlang_b(3, 3.0), rel=1e-12)
    assert result.blocking[1] == pytest.approx(erlang_b(5, 4.8), rel=1e-12)


def test_two_classes_sharing_caregivers_have_the_product_form_distribution() -> None:
    result = stationary(SHARED, SHARED_RATES)
    pi = result.probabilities
    assert pi.sum() == pytest.approx(1.0, abs=1e-14)
    assert np.all(pi > 0.0)
    # Global balance: pi Q = 0.
    q = generator_matrix(SHARED, SHARED_RATES)
    assert np.max(np.abs(q.T @ pi)) < 1e-15

    # Independent check: the admissible set is coordinate-convex, so pi is the
    # product of Poisson weights a1^n1/n1! a2^n2/n2! normalised over it.
    a1, a2 = (r * w for r, w in zip(SHARED_RATES, SHARED.mean_stay_min, strict=True))
    weights = {
        (n1, n2): a1**n1 / math.factorial(n1) * a2**n2 / math.factorial(n2)
        for n1 in range(5)
        for n2 in range(7)
        if math.ceil(n1 / 2) + math.ceil(n2 / 3) <= 3
    }
    total = sum(weights.values())
    expected = np.array([weights[(int(n1), int(n2))] / total for n1, n2 in result.states])
    np.testing.assert_allclose(pi, expected, rtol=1e-11)

    # PASTA blocking from the product form, with the rule written out here.
    def blocked(n: tuple[int, int], c: int) -> bool:
        up = [n[0], n[1]]
        up[c] += 1
        return up[0] > 4 or up[1] > 6 or math.ceil(up[0] / 2) + math.ceil(up[1] / 3) > 3

    for c in range(2):
        b = sum(w for n, w in weights.items() if blocked(n, c)) / total
        assert result.blocking[c] == pytest.approx(b, rel=1e-11)


def test_stationary_obeys_littles_law() -> None:
    result = stationary(SHARED, SHARED_RATES)
    for c in range(2):
        expected = little_occupancy(result.admitted_per_min[c], SHARED.mean_stay_min[c])
        assert result.mean_occupancy[c] == pytest.approx(expected, rel=1e-11)
    assert result.mean_occupancy_total == pytest.approx(result.mean_occupancy.sum())


def test_stationary_without_caregivers_turns_everyone_away() -> None:
    result = stationary(single_class(places=5, ratio=3, caregivers=0, stay=60.0), [0.1])
    assert result.blocking[0] == 1.0
    assert result.mean_occupancy_total == 0.0


# ---------------------------------------------------------------------------
# Finite horizon
# ---------------------------------------------------------------------------

LAM, MU = 0.05, 1.0 / 30.0  # one place: arrivals per minute, departures per minute
P_INF = LAM / (LAM + MU)  # = a / (1 + a)
ONE_PLACE = single_class(places=1, ratio=1, caregivers=None, stay=1.0 / MU)


@pytest.mark.parametrize("horizon", [10.0, 120.0, 690.0])
def test_single_place_from_empty_matches_the_closed_form(horizon: float) -> None:
    s = LAM + MU
    # P(busy at t) = a/(1+a) (1 - exp(-(lam+mu) t)), integrated over [0, T].
    busy_integral = P_INF * (horizon - (1.0 - math.exp(-s * horizon)) / s)
    result = transient(ONE_PLACE, [(horizon, [LAM])])
    assert result.arrivals[0] == pytest.approx(LAM * horizon, rel=1e-14)
    assert result.blocked[0] == pytest.approx(LAM * busy_integral, rel=1e-9)
    assert result.blocking_fraction[0] == pytest.approx(busy_integral / horizon, rel=1e-9)
    assert result.mean_occupancy[0] == pytest.approx(busy_integral / horizon, rel=1e-9)
    assert result.admitted[0] == pytest.approx(LAM * (horizon - busy_integral), rel=1e-9)
    assert result.final_occupancy[0] == pytest.approx(
        P_INF * (1 - math.exp(-s * horizon)), rel=1e-9
    )


def test_single_place_from_busy_matches_the_closed_form() -> None:
    s, horizon = LAM + MU, 90.0
    # P(busy at t) = p + (1 - p) exp(-(lam+mu) t).
    busy_integral = P_INF * horizon + (1.0 - P_INF) * (1.0 - math.exp(-s * horizon)) / s
    result = transient(ONE_PLACE, [(horizon, [LAM])], start_state=(1,))
    assert result.blocked[0] == pytest.approx(LAM * busy_integral, rel=1e-9)


def test_single_place_with_arrivals_stopping_matches_the_closed_form() -> None:
    s, open_min, after_min = LAM + MU, 200.0, 60.0
    busy_at_stop = P_INF * (1.0 - math.exp(-s * open_min))
    integral_open = P_INF * (open_min - (1.0 - math.exp(-s * open_min)) / s)
    integral_after = busy_at_stop * (1.0 - math.exp(-MU * after_min)) / MU
    result = transient(ONE_PLACE, [(open_min, [LAM]), (after_min, [0.0])])
    assert result.arrivals[0] == pytest.approx(LAM * open_min)
    assert result.blocked[0] == pytest.approx(LAM * integral_open, rel=1e-9)
    np.testing.assert_allclose(result.pieces_blocked[:, 0], [LAM * integral_open, 0.0], rtol=1e-9)
    assert result.mean_occupancy[0] == pytest.approx(
        (integral_open + integral_after) / (open_min + after_min), rel=1e-9
    )
    assert result.final_occupancy[0] == pytest.approx(
        busy_at_stop * math.exp(-MU * after_min), rel=1e-9
    )


DAY = [(60.0, [0.02, 0.01]), (240.0, [0.08, 0.05]), (120.0, [0.03, 0.02]), (270.0, [0.06, 0.04])]


def test_transient_conserves_children() -> None:
    # d E[n_c]/dt = lambda_c P(admit c) - E[n_c] / W_c, integrated over the day.
    result = transient(SHARED, DAY, start_state=(1, 2))
    departed = result.mean_occupancy * result.horizon_min / np.asarray(SHARED.mean_stay_min)
    np.testing.assert_allclose(
        result.final_occupancy, np.array([1.0, 2.0]) + result.admitted - departed, rtol=1e-9
    )
    assert result.final_distribution.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(result.final_distribution > -1e-15)
    assert result.horizon_min == pytest.approx(690.0)
    np.testing.assert_allclose(
        result.arrivals,
        [
            60 * 0.02 + 240 * 0.08 + 120 * 0.03 + 270 * 0.06,
            60 * 0.01 + 240 * 0.05 + 120 * 0.02 + 270 * 0.04,
        ],
    )
    assert result.blocking_fraction_total == pytest.approx(
        result.blocked.sum() / result.arrivals.sum()
    )


def test_day_integrals_agree_with_independent_quadrature() -> None:
    # Reference: p(t) on a fine grid from expm_multiply, integrated by Simpson's
    # rule (step 0.15 min, error O(h^4) ~ 1e-12 here), against the single
    # augmented-matrix exponential used by transient().
    horizon, rates = 300.0, np.asarray(SHARED_RATES)
    space = enumerate_states(SHARED)
    q = generator_matrix(SHARED, rates, space)
    start = np.zeros(space.size)
    start[space.index((0, 0))] = 1.0
    times = np.linspace(0.0, horizon, 2001)
    p = expm_multiply(q.T, start, start=0.0, stop=horizon, num=times.size, endpoint=True)
    blocked = simpson((p @ space.blocks.astype(float)) * rates, x=times, axis=0)
    occupancy = simpson(p @ space.states.astype(float), x=times, axis=0) / horizon
    result = transient(SHARED, [(horizon, rates)])
    np.testing.assert_allclose(result.blocked, blocked, rtol=1e-8)
    np.testing.assert_allclose(result.mean_occupancy, occupancy, rtol=1e-8)


def test_splitting_a_piece_changes_nothing() -> None:
    whole = transient(SHARED, [(300.0, SHARED_RATES)])
    split = transient(SHARED, [(100.0, SHARED_RATES), (50.0, SHARED_RATES), (150.0, SHARED_RATES)])
    np.testing.assert_allclose(split.blocked, whole.blocked, rtol=1e-10)
    np.testing.assert_allclose(split.mean_occupancy, whole.mean_occupancy, rtol=1e-10)
    np.testing.assert_allclose(split.final_distribution, whole.final_distribution, atol=1e-13)
    np.testing.assert_allclose(split.pieces_blocked.sum(axis=0), whole.blocked, rtol=1e-10)


def test_long_horizon_converges_to_stationary_at_rate_one_over_t() -> None:
    # From empty, frac(T) = (1/T) int_0^T B(t) dt = B - D/T + O(exp(-gap T)/T),
    # with D = int_0^inf (B - B(t)) dt: T (B - frac(T)) is the same constant for
    # any T much longer than the relaxation time (tens of minutes here).
    stat = stationary(SHARED, SHARED_RATES)
    short = transient(SHARED, [(3000.0, SHARED_RATES)])
    long = transient(SHARED, [(12000.0, SHARED_RATES)])
    deficit_short = 3000.0 * (stat.blocking - short.blocking_fraction)
    deficit_long = 12000.0 * (stat.blocking - long.blocking_fraction)
    assert np.all(np.abs(deficit_short) > 0.0)
    np.testing.assert_allclose(deficit_long, deficit_short, rtol=1e-6)
    np.testing.assert_allclose(long.final_distribution, stat.probabilities, atol=1e-12)
    occ_deficit_short = 3000.0 * (stat.mean_occupancy - short.mean_occupancy)
    occ_deficit_long = 12000.0 * (stat.mean_occupancy - long.mean_occupancy)
    np.testing.assert_allclose(occ_deficit_long, occ_deficit_short, rtol=1e-6)


def test_short_days_from_empty_turn_away_less_than_stationary() -> None:
    # One class: a birth-death chain started at its lowest state is stochastically
    # increasing in t, so P(full at t) rises towards B and its running average
    # stays below B and increases with the horizon.
    system = single_class(places=10, ratio=3, caregivers=2, stay=120.0)  # capacity 6
    b = stationary(system, [0.06]).blocking[0]  # a = 7.2 erlangs
    fractions = [transient(system, [(t, [0.06])]).blocking_fraction[0] for t in (30, 120, 480)]
    assert 0.0 < fractions[0] < fractions[1] < fractions[2] < b


def test_zero_arrivals_give_zero_blocking_fraction() -> None:
    result = transient(SHARED, [(60.0, [0.0, 0.02])])
    assert result.arrivals[0] == 0.0
    assert result.blocking_fraction[0] == 0.0
    assert result.mean_occupancy[0] == 0.0


@pytest.mark.parametrize(
    ("pieces", "start", "message"),
    [
        ([], None, "rate_pieces is empty"),
        ([(0.0, [0.1, 0.1])], None, r"rate_pieces\[0\] duration must be finite and > 0"),
        ([(10.0, [0.1])], None, "one arrival rate per class"),
        ([(10.0, [0.1, 0.1])], (4, 6), "not admissible"),
        ([(10.0, [0.1, 0.1])], (1,), "not admissible"),
    ],
)
def test_transient_rejects_bad_input(
    pieces: list[tuple[float, list[float]]], start: tuple[int, ...] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        transient(SHARED, pieces, start_state=start)
