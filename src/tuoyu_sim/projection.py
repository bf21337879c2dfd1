r"""Under-threes year by year: births, monthly cohorts, age classes, communities.

A scenario describes one year, its ``[projection]`` section's ``base_year``. This
module carries it forward to the end of the section's ``horizon``: how many
children each age class holds in each year, in each community, and what they ask
for, so that a multi-year plan can be made on :func:`scenario_for_year`.

Cohorts
-------
The births of calendar year :math:`Y` are spread over its months
(``births.month_weights``, uniform by default); the births of month :math:`m`
(months counted as :math:`12\,Y + \text{month} - 1`) form one cohort, born on
average in the middle of the month. On the first day of month :math:`t` the
cohort is :math:`t - m - \tfrac12` months old and has completed :math:`t - m - 1`
whole months; it belongs to an age class of band :math:`[lo, hi)` months (the
scenario's ``age_groups.*.months``) when :math:`lo \le t - m - 1 < hi`. A band
therefore holds exactly :math:`hi - lo` monthly cohorts:

.. math::

    N_{[lo,hi)}(t) = \sum_{j=lo}^{hi-1} B(t - j - 1)\, S(j + \tfrac12)\,
                     \bigl(1 + \tfrac{r}{1000}\bigr)^{(j + 1/2)/12}

with :math:`B` births per month, :math:`S` the share of live births alive at an
age in months (``survival``: linear between the table's points, 1 at birth,
constant after the last point; no deaths by default) and :math:`r` the net
migration per 1,000 children a year (``net_migration_per_1000``, 0 by default).
Children under three are the band :math:`[0, 36)`. Constant births give the
same :math:`N` in every month; a step in births enters a band :math:`lo + 1`
months after the first month of the step and has filled it :math:`hi - lo`
months later, so a drop reaches the infant class (6–12 months) first and the
older class (24–36 months) a year and a half after that.

Yearly figures are the monthly ones on the *reference date*, the 1st of
``reference_month`` (default 7: 1 July, the middle of the year).
:func:`monthly_children` gives the monthly series.

From the births model to the scenario
-------------------------------------
The births model gives the *shape*; the scenario gives the *level*. The district's
children in class :math:`a` in year :math:`y` are
:math:`D_a(y) = k\,N_a(y)` with :math:`k = U / N_{[0,36)}(y_0)`: the scenario's
children under three :math:`U` over the model's in the base year :math:`y_0`
(``CohortProjection.scale``; its distance from 1 says how far the scenario's
level and the births series disagree). Community :math:`i` holds the share
:math:`s_i(y)` of every class: its share of the scenario's under-threes
(``share = "current"``), or, with ``share = "trend"``,
:math:`s_i(y) \propto s_i(y_0)\, f_i^{\,y - y_0}` with its yearly ``trend``
factor :math:`f_i` (a community's own, else its group's, else 1), renormalised so
that the communities always add up to the district.

Demand
------
Today's per-community demand is scaled by the community's projected children in
each class and by the year's propensity factor :math:`\pi(y)` (enrolled care
types only; walk-in demand follows the children):

.. math::

    d_{ika}(y) = U_i\,m_{ia}\,p_{ik}\;
                 \frac{s_i(y)\,N_a(y)}{s_i(y_0)\,N_a(y_0)}\;\pi_k(y),
    \qquad \pi(y) = \mu^{\,y-y_0} \ \text{or}\ 1 + \frac{\delta\,(y - y_0)}{P_0}

with :math:`U_i` the community's under-threes, :math:`m_{ia}` its ``age_mix``,
:math:`p_{ik}` its ``demand``, :math:`\mu` ``propensity.multiplier_per_year``,
:math:`\delta` ``propensity.points_per_year`` and :math:`P_0` the district's
enrolled share in the base year (so that, at the base year's age structure, the
enrolled share rises by :math:`\delta` a year: 0.012 for six points in five
years). :func:`scenario_for_year` writes these figures back into the
scenario's communities (``children_under3``, ``age_mix``, ``demand``), so that
:func:`tuoyu_sim.demand.plan_demand` -- and with it ``simulate`` and
``optimize`` -- sees exactly :math:`d_{ika}(y)`. Residents (``population``) are
held at the base year's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tuoyu_sim.errors import ScenarioError
from tuoyu_sim.scenario import (
    CARE_TYPES,
    MONTHS_EN,
    UNDER3_MONTHS,
    Projection,
    Scenario,
    validate_data,
)

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_VARIANT = "central"
"""The births variant used when none is named."""


# -- months ------------------------------------------------------------------------


def month_index(year: int, month: int) -> int:
    """Months counted from year 0: ``12 * year + month - 1`` (``month`` 1–12)."""
    return 12 * year + month - 1


def month_date(index: int) -> str:
    """The first day of a month index, ISO style: ``"2026-07-01"``."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}-01"


def reference_date(spec: Projection) -> str:
    """The reference date of every year's figures, in words: ``"1 July"``."""
    return f"1 {MONTHS_EN[spec.reference_month - 1]}"


# -- the births model ----------------------------------------------------------------


def max_age_months(scenario: Scenario) -> int:
    """The oldest age the projection follows: 36 months, or an older age class's end."""
    return max([UNDER3_MONTHS[1], *(g.months[1] for g in scenario.age_groups.values())])


def births_by_month(spec: Projection, variant: str, first_year: int, last_year: int) -> np.ndarray:
    """Births per month from January of ``first_year`` to December of ``last_year``.

    Each year's births are spread over its months by ``births.month_weights``.
    """
    series = spec.births.series(variant)
    weights = spec.births.month_weights
    w = np.full(12, 1.0 / 12.0) if weights == "uniform" else np.asarray(weights) / sum(weights)
    years = range(first_year, last_year + 1)
    missing = [y for y in years if y not in series]
    if missing:
        raise ScenarioError(
            f"projection.births: variant {variant!r} has no births for "
            f"{', '.join(map(str, missing))} (needed for {first_year}–{last_year})"
        )
    return np.concatenate([series[y] * w for y in years])


def survival(spec: Projection, age_months: np.ndarray) -> np.ndarray:
    """Share of live births alive at ``age_months``: the ``survival`` table, linear
    between its points, 1 at birth unless the table says otherwise, constant after
    its last point."""
    table = dict(spec.survival)
    table.setdefault(0, 1.0)
    ages = sorted(table)
    return np.interp(age_months, ages, [table[a] for a in ages])


def migration(spec: Projection, age_months: np.ndarray) -> np.ndarray:
    """Net migration's factor on a cohort at ``age_months``:
    ``(1 + net_migration_per_1000 / 1000) ** (age_months / 12)``."""
    return (1.0 + spec.net_migration_per_1000 / 1000.0) ** (np.asarray(age_months) / 12.0)


def band_weights(spec: Projection, band: tuple[int, int]) -> np.ndarray:
    """Survival times migration of the cohorts in a band, by completed month ``lo .. hi-1``."""
    ages = np.arange(band[0], band[1]) + 0.5
    return survival(spec, ages) * migration(spec, ages)


def band_children(
    spec: Projection, variant: str, bands: Iterable[tuple[int, int]], months: np.ndarray
) -> np.ndarray:
    """Children in each age band on the first day of each month (births model).

    Parameters
    ----------
    bands
        Age bands ``(lo, hi)`` in completed months, 0 ≤ lo < hi.
    months
        Month indices (:func:`month_index`), each the first day of that month.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(months), len(bands))``; children, not calibrated to the scenario.
    """
    bands = list(bands)
    months = np.asarray(months, dtype=np.int64)
    if months.size == 0 or not bands:
        return np.zeros((months.size, len(bands)))
    oldest = max(hi for _, hi in bands)
    youngest = min(lo for lo, _ in bands)
    first_month = int(months.min()) - oldest
    last_month = int(months.max()) - youngest - 1
    first_year, last_year = first_month // 12, last_month // 12
    births = births_by_month(spec, variant, first_year, last_year)
    offset = 12 * first_year
    out = np.zeros((months.size, len(bands)))
    for b, (lo, hi) in enumerate(bands):
        w = band_weights(spec, (lo, hi))
        # cohort born in month t - j - 1 has completed j months on the 1st of month t
        idx = months[:, None] - np.arange(lo, hi)[None, :] - 1 - offset
        # the same sum, term by term, for every month (BLAS's @ may round rows differently)
        out[:, b] = (births[idx] * w[None, :]).sum(axis=1)
    return out


@dataclass(frozen=True)
class MonthlySeries:
    """Children per age class on the first day of each month, from the births alone.

    Not calibrated to the scenario (:attr:`CohortProjection.scale` does that): the
    figures the births series, survival and migration give.
    """

    variant: str
    months: np.ndarray
    """Month indices (:func:`month_index`): the first day of each month."""
    classes: tuple[str, ...]
    """The scenario's age classes, in its order."""
    children: np.ndarray
    """Children per class, shape ``(months, classes)``."""
    under3: np.ndarray
    """Children aged 0–36 months, shape ``(months,)``."""

    @property
    def dates(self) -> tuple[str, ...]:
        """``"2026-07-01"`` for every month."""
        return tuple(month_date(int(m)) for m in self.months)

    def to_frame(self) -> pd.DataFrame:
        """One row per month: ``date``, a column per class, ``under3``."""
        import pandas as pd

        frame = pd.DataFrame(self.children, columns=list(self.classes))
        frame.insert(0, "date", list(self.dates))
        frame["under3"] = self.under3
        return frame


def monthly_children(
    scenario: Scenario,
    variant: str = DEFAULT_VARIANT,
    start: tuple[int, int] | None = None,
    end: tuple[int, int] | None = None,
) -> MonthlySeries:
    """The births model month by month.

    Parameters
    ----------
    start, end
        ``(year, month)`` of the first and last month (both included); default
        the reference dates of the base year and of the horizon's last year.

    Raises
    ------
    ScenarioError
        No ``[projection]``, an unknown variant, or months whose children were
        born outside the births series.
    """
    spec = _spec(scenario, variant)
    lo = month_index(*(start or (spec.base_year, spec.reference_month)))
    hi = month_index(*(end or (spec.horizon[1], spec.reference_month)))
    if hi < lo:
        raise ScenarioError(
            f"{_label(scenario)}: monthly series from {start} to {end}: "
            "the end must not come before the start"
        )
    months = np.arange(lo, hi + 1)
    bands = [g.months for g in scenario.age_groups.values()]
    try:
        values = band_children(spec, variant, [*bands, UNDER3_MONTHS], months)
    except ScenarioError as exc:
        raise ScenarioError(
            f"{_label(scenario)}: monthly series {month_date(lo)} to {month_date(hi)}: {exc}"
        ) from None
    return MonthlySeries(
        variant=variant,
        months=months,
        classes=tuple(scenario.age_groups),
        children=values[:, :-1],
        under3=values[:, -1],
    )


# -- the projection -------------------------------------------------------------------


@dataclass(frozen=True)
class CohortProjection:
    """Children and demand per year, community and age class (from :func:`project`).

    Arrays are indexed ``[year, community, ...]`` in the order of :attr:`years`,
    :attr:`community_ids`, :attr:`care_types` and :attr:`classes`.
    """

    variant: str
    base_year: int
    years: tuple[int, ...]
    """The base year, then every year to the end of the horizon."""
    reference_month: int
    """Yearly figures are for the 1st of this month."""
    classes: tuple[str, ...]
    community_ids: tuple[str, ...]
    care_types: tuple[str, ...]
    """The scenario's care types, in reporting order."""
    enrolled_types: tuple[str, ...]
    """Those of :attr:`care_types` that are enrolled (the others are walk-in)."""
    scale: float
    """The scenario's under-threes over the births model's in the base year."""
    model: np.ndarray
    """Births-model children per class in the district, ``(years, classes)`` (uncalibrated)."""
    model_under3: np.ndarray
    """Births-model children under three in the district, ``(years,)``."""
    shares: np.ndarray
    """Each community's share of the district's children, ``(years, communities)``."""
    children: np.ndarray
    """Children per community and class, ``(years, communities, classes)``."""
    under3: np.ndarray
    """Children under three per community, ``(years, communities)``."""
    propensity: np.ndarray
    """The factor on enrolled propensities, ``(years,)`` (1 in the base year)."""
    demand: np.ndarray
    """Expected demand, ``(years, communities, care types, classes)``: enrolled types in
    children who want a place, walk-in types in arrivals per open day (unrounded;
    :func:`tuoyu_sim.demand.plan_demand` rounds the enrolled ones)."""

    def index(self, year: int) -> int:
        """Position of ``year`` in :attr:`years`."""
        if year not in self.years:
            raise ScenarioError(
                f"year {year} is outside the projection ({self.years[0]}–{self.years[-1]})"
            )
        return year - self.years[0]

    @property
    def district_children(self) -> np.ndarray:
        """Children per class in the district, ``(years, classes)``: the sum of communities."""
        return self.children.sum(axis=1)

    @property
    def district_under3(self) -> np.ndarray:
        """Children under three in the district, ``(years,)``."""
        return self.under3.sum(axis=1)

    @property
    def enrolled_demand(self) -> np.ndarray:
        """Children who want an enrolled place in the district, ``(years,)``."""
        k = [self.care_types.index(t) for t in self.enrolled_types]
        return self.demand[:, :, k, :].sum(axis=(1, 2, 3))

    def district_frame(self) -> pd.DataFrame:
        """One row per year: ``year``, ``under3``, a column per class, ``enrolled_demand``,
        ``walk_in_per_day``, ``enrolled_share`` (of under-threes), ``propensity``,
        ``model_under3`` (the births model's, uncalibrated)."""
        import pandas as pd

        walk = [self.care_types.index(t) for t in self.care_types if t not in self.enrolled_types]
        frame = pd.DataFrame({"year": list(self.years), "under3": self.district_under3})
        for a, name in enumerate(self.classes):
            frame[name] = self.district_children[:, a]
        frame["enrolled_demand"] = self.enrolled_demand
        frame["walk_in_per_day"] = self.demand[:, :, walk, :].sum(axis=(1, 2, 3))
        under3 = self.district_under3
        frame["enrolled_share"] = np.divide(
            self.enrolled_demand, under3, out=np.zeros_like(under3), where=under3 > 0
        )
        frame["propensity"] = self.propensity
        frame["model_under3"] = self.model_under3
        return frame

    def community_frame(self) -> pd.DataFrame:
        """One row per year, community and class: ``children`` and ``demand_<care type>``."""
        import pandas as pd

        n_years, n_comm, n_cls = self.children.shape
        frame = pd.DataFrame(
            {
                "year": np.repeat(self.years, n_comm * n_cls),
                "community": np.tile(np.repeat(self.community_ids, n_cls), n_years),
                "age_class": np.tile(self.classes, n_years * n_comm),
                "children": self.children.reshape(-1),
            }
        )
        for k, name in enumerate(self.care_types):
            frame[f"demand_{name}"] = self.demand[:, :, k, :].reshape(-1)
        return frame


def horizon_years(scenario: Scenario) -> tuple[int, ...]:
    """The years of the scenario's horizon, first to last (``()`` without a projection)."""
    spec = scenario.projection
    return () if spec is None else tuple(range(spec.horizon[0], spec.horizon[1] + 1))


def variants(scenario: Scenario) -> tuple[str, ...]:
    """The births variants the scenario names (``()`` without a projection)."""
    spec = scenario.projection
    return () if spec is None else tuple(spec.births.variants)


def project(scenario: Scenario, variant: str = DEFAULT_VARIANT) -> CohortProjection:
    """Children and demand in every year from the base year to the horizon's end.

    Raises
    ------
    ScenarioError
        The scenario has no ``[projection]`` section, or no births variant of
        that name.
    """
    spec = _spec(scenario, variant)
    years = spec.years
    bands = [g.months for g in scenario.age_groups.values()]
    months = np.array([month_index(y, spec.reference_month) for y in years])
    values = band_children(spec, variant, [*bands, UNDER3_MONTHS], months)
    model, model_u3 = values[:, :-1], values[:, -1]

    base_u3 = np.array([c.under3 for c in scenario.communities], dtype=float)
    total = float(base_u3.sum())
    scale = total / float(model_u3[0])
    shares = _shares(scenario, spec, base_u3, years)
    children = shares[:, :, None] * (scale * model)[:, None, :]
    # the community's own under-threes times its growth: the base year's exactly
    share_ratio = _share_ratio(shares)
    under3 = base_u3[None, :] * share_ratio * (model_u3 / model_u3[0])[:, None]

    types = tuple(t for t in CARE_TYPES if t in scenario.care_types)
    enrolled = tuple(t for t in types if scenario.care_types[t].mode == "enrolled")
    factor = _propensity(scenario, spec, years)
    growth = _class_growth(shares, model)  # (Y, N, A)
    classes = tuple(scenario.age_groups)
    base = np.zeros((len(scenario.communities), len(types), len(classes)))
    for i, c in enumerate(scenario.communities):
        for k, t in enumerate(types):
            for a, name in enumerate(classes):
                base[i, k, a] = c.under3 * c.age_mix.get(name, 0.0) * c.demand.get(t, 0.0)
    per_type = np.array([[f if t in enrolled else 1.0 for t in types] for f in factor])
    demand = base[None] * growth[:, :, None, :] * per_type[:, None, :, None]
    return CohortProjection(
        variant=variant,
        base_year=spec.base_year,
        years=years,
        reference_month=spec.reference_month,
        classes=classes,
        community_ids=tuple(c.id for c in scenario.communities),
        care_types=types,
        enrolled_types=enrolled,
        scale=scale,
        model=model,
        model_under3=model_u3,
        shares=shares,
        children=children,
        under3=under3,
        propensity=factor,
        demand=demand,
    )


def _shares(
    scenario: Scenario, spec: Projection, base_u3: np.ndarray, years: tuple[int, ...]
) -> np.ndarray:
    """Each community's share of the district in each year, ``(years, communities)``."""
    total = float(base_u3.sum())
    base = base_u3 / total if total > 0 else np.zeros_like(base_u3)
    if spec.share == "current":
        return np.tile(base, (len(years), 1))
    factor = np.array(
        [spec.trend.get(c.id, spec.trend.get(c.group, 1.0)) for c in scenario.communities]
    )
    steps = np.array(years, dtype=float) - spec.base_year
    raw = base[None, :] * factor[None, :] ** steps[:, None]
    sums = raw.sum(axis=1, keepdims=True)
    return np.divide(raw, sums, out=np.zeros_like(raw), where=sums > 0)


def _share_ratio(shares: np.ndarray) -> np.ndarray:
    """Each community's share relative to the base year's, ``(Y, N)`` (1 for a
    community without children: it keeps none)."""
    return np.divide(shares, shares[0], out=np.ones_like(shares), where=shares[0] > 0)


def _class_growth(shares: np.ndarray, model: np.ndarray) -> np.ndarray:
    """Children of a community and class relative to the base year, ``(Y, N, A)``."""
    class_ratio = model / model[0]  # model[0] > 0: validated (births of the base year > 0)
    return _share_ratio(shares)[:, :, None] * class_ratio[:, None, :]


def _propensity(scenario: Scenario, spec: Projection, years: tuple[int, ...]) -> np.ndarray:
    """The factor on enrolled propensities in each year (1 in the base year)."""
    steps = np.array(years, dtype=float) - spec.base_year
    change = spec.propensity
    if change.points_per_year == 0.0:
        return np.asarray(change.multiplier_per_year**steps, dtype=float)
    enrolled = [k for k, ct in scenario.care_types.items() if ct.mode == "enrolled"]
    wanted = sum(
        c.under3 * sum(c.demand.get(k, 0.0) for k in enrolled) for c in scenario.communities
    )
    rate = wanted / scenario.children_under3  # > 0: validated
    return 1.0 + change.points_per_year * steps / rate


# -- a year's scenario ---------------------------------------------------------------


def scenario_for_year(scenario: Scenario, year: int, variant: str = DEFAULT_VARIANT) -> Scenario:
    """The scenario as it stands in ``year``: a static scenario for simulate and optimize.

    Every community's ``children_under3``, ``age_mix`` and ``demand`` are replaced so
    that its demand by care type and age class is the projected one
    (:class:`CohortProjection`); nothing else changes, and the result has no
    ``[projection]`` section (it describes one year). The base year gives the
    scenario's own communities. Without a ``[projection]`` section every year is
    the scenario itself.

    Raises
    ------
    ScenarioError
        An unknown variant, or a year before the base year or after the horizon.
    """
    if scenario.projection is None:
        return scenario
    return scenarios_by_year(scenario, variant, [year])[year]


def scenarios_by_year(
    scenario: Scenario, variant: str = DEFAULT_VARIANT, years: Iterable[int] | None = None
) -> dict[int, Scenario]:
    """:func:`scenario_for_year` for several years (default: the horizon's), projected once."""
    spec = scenario.projection
    if spec is None:
        return {y: scenario for y in (years or ())}
    wanted = list(years) if years is not None else list(horizon_years(scenario))
    _spec(scenario, variant)
    for y in wanted:
        _check_year(scenario, spec, y)
    proj = project(scenario, variant)
    return {y: _year_scenario(scenario, proj, y) for y in wanted}


def _year_scenario(scenario: Scenario, proj: CohortProjection, year: int) -> Scenario:
    if year == proj.base_year:
        return scenario.model_copy(update={"projection": None})
    y = proj.index(year)
    data = scenario.to_dict()
    data.pop("projection", None)
    growth = _class_growth(proj.shares, proj.model)[y]  # (N, A)
    factor = {t: (proj.propensity[y] if t in proj.enrolled_types else 1.0) for t in proj.care_types}
    for i, (row, c) in enumerate(zip(data["communities"], scenario.communities, strict=True)):
        row.pop("births_per_1000", None)
        row["children_under3"] = float(proj.under3[y, i])
        mix, scale = _rescaled_mix(c.age_mix, growth[i], proj.classes)
        u = proj.under3[y, i] / c.under3 if c.under3 > 0 else 0.0
        ratio = scale / u if u > 0 else 1.0
        row["age_mix"] = mix
        row["demand"] = {t: p * float(factor[t]) * ratio for t, p in c.demand.items()}
    source = scenario.source
    new = validate_data(
        data, source, base_dir=source.parent if source else None, matrix=scenario.matrix()
    )
    return new


def with_network(demand: Scenario, network: Scenario) -> Scenario:
    """``demand``'s communities (one year's) served by ``network``'s facilities.

    The facilities of ``network`` (e.g. last year's planned scenario) replace
    ``demand``'s; candidate sites that are facilities there are dropped. Used to
    carry a network from one year to the next: ``with_network(scenario_for_year(sc,
    2028), planned_2027)`` is 2027's network under 2028's demand.
    """
    data = demand.to_dict()
    facilities = network.to_dict()["facilities"]
    have = {f["id"] for f in facilities}
    data["facilities"] = facilities
    data["candidate_sites"] = [c for c in data.get("candidate_sites", []) if c["id"] not in have]
    source = demand.source
    return validate_data(
        data, source, base_dir=source.parent if source else None, matrix=demand.matrix()
    )


def _rescaled_mix(
    mix: Mapping[str, float], growth: np.ndarray, classes: tuple[str, ...]
) -> tuple[dict[str, float], float]:
    """``age_mix`` weighted by each class's growth, and the mean growth ``G`` it divides by.

    Children x share x propensity then gives base x growth when the propensity is
    multiplied by ``G / u`` (``u`` the growth of the community's under-threes).
    """
    g = {a: float(growth[classes.index(a)]) for a in mix}
    values = set(g.values())
    if len(values) == 1:  # every class grows alike: the mix stays as it is, exactly
        return dict(mix), values.pop()
    total = sum(mix.values())
    mean = sum(mix[a] * g[a] for a in mix) / total
    if mean <= 0:
        return dict(mix), 0.0
    return {a: mix[a] * g[a] / mean for a in mix}, mean


# -- checks ---------------------------------------------------------------------------


def _label(scenario: Scenario) -> str:
    return str(scenario.source) if scenario.source is not None else scenario.name


def _spec(scenario: Scenario, variant: str) -> Projection:
    spec = scenario.projection
    if spec is None:
        raise ScenarioError(
            f"{_label(scenario)}: no [projection] section (see scenarios/README.md); "
            "without one, every year is the scenario itself"
        )
    if variant not in spec.births.variants:
        raise ScenarioError(
            f"{_label(scenario)}: variant = {variant!r}: a births variant of "
            f"projection.births.variants: one of {', '.join(spec.births.variants)}"
        )
    return spec


def _check_year(scenario: Scenario, spec: Projection, year: Any) -> None:
    if isinstance(year, bool) or not isinstance(year, int | np.integer):
        raise ScenarioError(f"{_label(scenario)}: year = {year!r}: a whole year, e.g. 2027")
    if year < spec.base_year:
        raise ScenarioError(
            f"{_label(scenario)}: year = {year}: from the base year {spec.base_year} on "
            "(the scenario describes the base year; the projection runs forward only)"
        )
    if year > spec.horizon[1]:
        raise ScenarioError(
            f"{_label(scenario)}: year = {year}: at most the horizon's last year "
            f"({spec.horizon[0]}–{spec.horizon[1]}; projection.horizon)"
        )
