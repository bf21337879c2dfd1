r"""Accessibility and care deserts by age class: Gaussian 2SFCA, enhanced 2SFCA, the CAP rule.

For every community :math:`i` and age class :math:`a` (the scenario's
``age_groups``, and ``all`` for every place and child together), with
:math:`D_i^a` the children of the class in the community (children under
three × ``age_mix``), :math:`S_j^a` the places of the class at facility
:math:`j`, :math:`d_{ij}` the walking distance (:mod:`tuoyu_sim.geography`:
detour factor, great circle or matrix) and :math:`d_0` the catchment:

.. math::

    R_j^a = \frac{S_j^a}{\sum_{k:\, d_{kj} \le d_0} W(d_{kj})\, D_k^a}, \qquad
    A_i^a = \sum_{j:\, d_{ij} \le d_0} W(d_{ij})\, R_j^a

(two-step floating catchment area, Luo & Wang 2003; a facility with no child
of the class within its catchment has :math:`R_j^a = 0`). :math:`A_i^a` is in
places per child: :math:`\sum_i D_i^a A_i^a = \sum_j S_j^a` over the
facilities that have a child within reach, whatever the weight, so
:math:`1 / A_i^a` is the children per place a child of the community competes
with.

Two weights, both scores always computed:

* ``g2sfca`` — Gaussian, truncated and normalised (Dai 2010; the Chinese
  childcare studies):
  :math:`W(d) = \frac{e^{-\frac12 (d/d_0)^2} - e^{-\frac12}}{1 - e^{-\frac12}}`
  for :math:`d \le d_0`: 1 at the door, 0 at the catchment. PySAL's
  ``weights.gaussian`` is :math:`e^{-d^2/2\sigma^2}` untruncated; this is
  :math:`(g(d) - g(d_0)) / (1 - g(d_0))` with PySAL's :math:`g` at
  :math:`\sigma = d_0`.
* ``e2sfca`` — enhanced 2SFCA steps (Luo & Qi 2009): :math:`W(d) = w_r` for
  :math:`t_{r-1} < d \le t_r`, by default thirds of the catchment weighted
  1, 0.68, 0.22 (PySAL's ``step_fn`` semantics).

The scenario's ``access.weight`` picks the headline score, which gives
``children_per_place`` and the deserts. A community is a **desert** for a class
(Center for American Progress, 2018, per age class) when it has more than
``desert_min_children`` children under three, at least one child of the class,
and either no place of the class within the catchment or more than
``desert_children_per_place`` children per place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import sparse

from tuoyu_sim.errors import UserError
from tuoyu_sim.geography import pairs_within
from tuoyu_sim.scenario import Located, Scenario

ALL = "all"
"""The pseudo-class of every place and child together."""

E2SFCA_WEIGHTS: tuple[float, ...] = (1.0, 0.68, 0.22)
"""Weights of the enhanced 2SFCA's three equal zones (Luo & Qi 2009; PySAL's default)."""

GAUSSIAN_FORM = "(exp(-(d/d0)^2/2) - exp(-1/2)) / (1 - exp(-1/2)) for d <= d0, else 0"
"""The Gaussian weight, as ``summary.json`` states it."""

Weight = Literal["gaussian", "steps"]


@dataclass(frozen=True)
class AccessSettings:
    """The scenario's ``[access]`` with its defaults filled in."""

    catchment_m: float
    weight: Weight
    steps: tuple[tuple[float, float], ...]
    desert_min_children: float
    desert_children_per_place: float

    def record(self) -> dict[str, Any]:
        """The settings as ``summary.json`` holds them."""
        return {
            "catchment_m": self.catchment_m,
            "weight": self.weight,
            "gaussian": GAUSSIAN_FORM,
            "steps": [[m, w] for m, w in self.steps],
            "desert_min_children": self.desert_min_children,
            "desert_children_per_place": self.desert_children_per_place,
        }


def settings(scenario: Scenario) -> AccessSettings:
    """``[access]`` resolved: the catchment defaults to the service radius, the steps to
    thirds of the catchment weighted 1, 0.68, 0.22, the weight to Gaussian."""
    spec = scenario.access
    catchment = (
        spec.catchment_m
        if spec is not None and spec.catchment_m is not None
        else scenario.geography.service_radius_m
    )
    if spec is not None and spec.steps is not None:
        steps = tuple((float(m), float(w)) for m, w in spec.steps)
    else:
        n = len(E2SFCA_WEIGHTS)
        steps = tuple(
            (catchment * (r + 1) / n if r + 1 < n else catchment, w)
            for r, w in enumerate(E2SFCA_WEIGHTS)
        )
    return AccessSettings(
        catchment_m=float(catchment),
        weight=(spec.weight if spec is not None and spec.weight is not None else "gaussian"),
        steps=steps,
        desert_min_children=spec.desert_min_children if spec is not None else 50.0,
        desert_children_per_place=spec.desert_children_per_place if spec is not None else 3.0,
    )


# -- weights ----------------------------------------------------------------------


def gaussian_weight(dist_m: np.ndarray, catchment_m: float) -> np.ndarray:
    """The truncated, normalised Gaussian weight: 1 at 0 m, 0 at and beyond the catchment.

    Parameters
    ----------
    dist_m
        Walking distances, metres, ≥ 0.
    catchment_m
        The catchment d₀, metres, > 0.
    """
    d = np.asarray(dist_m, dtype=float)
    edge = math.exp(-0.5)
    w = (np.exp(-0.5 * (d / catchment_m) ** 2) - edge) / (1.0 - edge)
    return np.where(d <= catchment_m, np.clip(w, 0.0, 1.0), 0.0)


def step_weight(dist_m: np.ndarray, steps: Sequence[tuple[float, float]]) -> np.ndarray:
    """The E2SFCA step weight: ``w_r`` for ``t_{r-1} < d <= t_r``, 0 beyond the last step.

    Parameters
    ----------
    dist_m
        Walking distances, metres, ≥ 0.
    steps
        ``(upper_m, weight)`` pairs, ``upper_m`` increasing.
    """
    d = np.asarray(dist_m, dtype=float)
    uppers = np.array([m for m, _ in steps], dtype=float)
    weights = np.array([w for _, w in steps] + [0.0], dtype=float)
    return weights[np.searchsorted(uppers, d, side="left")]


# -- the two steps ------------------------------------------------------------------


def two_step_fca(
    rows: np.ndarray,
    cols: np.ndarray,
    weight: np.ndarray,
    demand: np.ndarray,
    supply: np.ndarray,
) -> np.ndarray:
    """Scores :math:`A_i^a` of the two-step floating catchment area, every class at once.

    Parameters
    ----------
    rows, cols, weight
        The (community, facility) pairs within the catchment and their weights.
    demand
        Children, communities × classes, ≥ 0.
    supply
        Places, facilities × classes, ≥ 0.

    Returns
    -------
    numpy.ndarray
        Places per child, communities × classes (0 with no place within reach).
    """
    n_c, n_f = demand.shape[0], supply.shape[0]
    w = sparse.csr_matrix((weight, (rows, cols)), shape=(n_c, n_f))
    weighted_demand = np.asarray(w.T @ demand)
    ratio = np.divide(
        supply, weighted_demand, out=np.zeros_like(supply, dtype=float), where=weighted_demand > 0
    )
    return np.asarray(w @ ratio)


def places_within(
    rows: np.ndarray, cols: np.ndarray, n_communities: int, supply: np.ndarray
) -> np.ndarray:
    """Places within the catchment of each community, communities × classes (no competition)."""
    reach = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(n_communities, supply.shape[0])
    )
    return np.asarray(reach @ supply)


def cap_deserts(
    under3: np.ndarray,
    children: np.ndarray,
    places_in_reach: np.ndarray,
    children_per_place: np.ndarray,
    min_children: float,
    max_children_per_place: float,
) -> np.ndarray:
    """Desert flags by the CAP rule, communities × classes.

    More than ``min_children`` children under three in the community, a child of
    the class, and either no place of the class within reach or more than
    ``max_children_per_place`` children per place (NaN per place counts as none).
    """
    big = (np.asarray(under3, dtype=float) > min_children)[:, None]
    crowded = np.nan_to_num(children_per_place, nan=0.0) > max_children_per_place
    return big & (children > 0) & ((places_in_reach <= 0) | crowded)


# -- a scenario's accessibility ------------------------------------------------------


@dataclass(frozen=True)
class AccessResult:
    """Accessibility of every community, by class: arrays communities × classes.

    ``classes`` are the scenario's age classes followed by :data:`ALL`.
    """

    scenario_name: str
    settings: AccessSettings
    classes: tuple[str, ...]
    communities: tuple[Located, ...]
    population: np.ndarray
    under3: np.ndarray
    children: np.ndarray
    places: np.ndarray
    """Places by class in the district (classes)."""
    places_in_reach: np.ndarray
    g2sfca: np.ndarray
    e2sfca: np.ndarray
    children_per_place: np.ndarray
    desert: np.ndarray
    facilities: tuple[Located, ...]
    facility_places: np.ndarray
    """Places, facilities × classes."""

    @property
    def score(self) -> np.ndarray:
        """The headline score (``settings.weight``), places per child."""
        return self.g2sfca if self.settings.weight == "gaussian" else self.e2sfca

    @property
    def desert_any(self) -> np.ndarray:
        """A desert in at least one age class (not counting :data:`ALL`)."""
        return np.asarray(self.desert[:, :-1].any(axis=1))

    def rows(self) -> list[dict[str, Any]]:
        """``access.csv``: one row per community; per measure, a column per class."""
        out = []
        for i, c in enumerate(self.communities):
            row: dict[str, Any] = {
                "community": c.id,
                "name": c.name,
                "group": c.group,
                "population": int(self.population[i]),
            }
            for measure, values in self._measures():
                for k, a in enumerate(self.classes):
                    row[f"{measure}_{a}"] = _value(values[i, k])
            row["desert_any"] = bool(self.desert_any[i])
            out.append(row)
        return out

    def columns(self) -> list[str]:
        """The columns of :meth:`rows`, in order."""
        cols = ["community", "name", "group", "population"]
        cols += [f"{m}_{a}" for m, _ in self._measures() for a in self.classes]
        return [*cols, "desert_any"]

    def _measures(self) -> list[tuple[str, np.ndarray]]:
        return [
            ("children", self.children),
            ("places_in_reach", self.places_in_reach),
            ("g2sfca", self.g2sfca),
            ("e2sfca", self.e2sfca),
            ("children_per_place", self.children_per_place),
            ("desert", self.desert),
        ]

    def class_rows(self, label: str = "current") -> list[dict[str, Any]]:
        """``by_class.csv`` rows: per class (then ``any``), children, places, reach, deserts.

        The ``any`` row counts a community once if it lacks a place, or is a
        desert, in at least one age class; its children and places are all of them.
        """
        n_ages = len(self.classes) - 1
        lacking = (self.places_in_reach <= 0) & (self.children > 0)
        columns = [
            (a, self.children[:, k], float(self.places[k]), lacking[:, k], self.desert[:, k])
            for k, a in enumerate(self.classes)
        ]
        columns.append(
            (
                "any",
                self.under3,
                float(self.places[-1]),
                np.asarray(lacking[:, :n_ages].any(axis=1)),
                self.desert_any,
            )
        )
        out = []
        for a, children, places, none, flag in columns:
            total = float(children.sum())
            in_deserts = float(children[flag].sum())
            out.append(
                {
                    "scenario": label,
                    "age_class": a,
                    "children": round(total, 3),
                    "places": int(places),
                    "places_per_child": _ratio(places, total),
                    "communities": len(self.communities),
                    "no_place_in_reach": int(none.sum()),
                    "children_no_place_in_reach": round(float(children[none].sum()), 3),
                    "deserts": int(flag.sum()),
                    "children_in_deserts": round(in_deserts, 3),
                    "children_in_deserts_share": _ratio(in_deserts, total),
                }
            )
        return out

    def record(self) -> dict[str, Any]:
        """Desert counts by class for ``summary.json``."""
        rows = self.class_rows()
        return {
            "scenario": self.scenario_name,
            "communities": len(self.communities),
            "facilities": len(self.facilities),
            "by_class": {
                r["age_class"]: {k: v for k, v in r.items() if k not in ("scenario", "age_class")}
                for r in rows
            },
        }


def _value(x: Any) -> Any:
    if isinstance(x, np.bool_):
        return bool(x)
    v = float(x)
    return v if math.isfinite(v) else None


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 6) if den > 0 else None


def children_by_class(scenario: Scenario, classes: Sequence[str]) -> np.ndarray:
    """Children, communities × classes: children under three × the community's age mix."""
    return np.array(
        [[c.under3 * c.age_mix.get(a, 0.0) for a in classes] for c in scenario.communities],
        dtype=float,
    ).reshape(len(scenario.communities), len(classes))


def places_by_class(scenario: Scenario, classes: Sequence[str]) -> np.ndarray:
    """Places, facilities × classes."""
    return np.array(
        [[f.places.get(a, 0) for a in classes] for f in scenario.facilities], dtype=float
    ).reshape(len(scenario.facilities), len(classes))


def measure(scenario: Scenario, spec: AccessSettings | None = None) -> AccessResult:
    """Gaussian 2SFCA and E2SFCA scores, places within reach and CAP deserts by class.

    Parameters
    ----------
    scenario
        Communities, facilities and geography.
    spec
        Catchment, weights and thresholds (default: the scenario's ``[access]``).
        A plan is measured with the scenario's settings, so that before and
        after compare.
    """
    spec = spec or settings(scenario)
    ages = tuple(scenario.age_groups)
    if ALL in ages:
        raise UserError(
            f"age_groups.{ALL}: tuoyu-sim access names every class together '{ALL}'; "
            "give the age class another name"
        )
    classes = (*ages, ALL)
    by_class = children_by_class(scenario, ages)
    under3 = np.array([c.under3 for c in scenario.communities], dtype=float)
    demand = np.column_stack([by_class, under3]) if len(under3) else np.zeros((0, len(classes)))
    fac = places_by_class(scenario, ages)
    supply = np.column_stack([fac, fac.sum(axis=1)]) if len(fac) else np.zeros((0, len(classes)))

    pairs = pairs_within(scenario, scenario.communities, scenario.facilities, spec.catchment_m)
    places_in_reach = places_within(pairs.rows, pairs.cols, len(under3), supply)
    g2 = two_step_fca(
        pairs.rows, pairs.cols, gaussian_weight(pairs.dist_m, spec.catchment_m), demand, supply
    )
    e2 = two_step_fca(pairs.rows, pairs.cols, step_weight(pairs.dist_m, spec.steps), demand, supply)
    headline = g2 if spec.weight == "gaussian" else e2
    with np.errstate(divide="ignore"):
        per_place = np.where(headline > 0, 1.0 / np.where(headline > 0, headline, 1.0), np.nan)
    desert = cap_deserts(
        under3,
        demand,
        places_in_reach,
        per_place,
        spec.desert_min_children,
        spec.desert_children_per_place,
    )
    return AccessResult(
        scenario_name=scenario.name,
        settings=spec,
        classes=classes,
        communities=tuple(scenario.communities),
        population=np.array([c.population for c in scenario.communities], dtype=float),
        under3=under3,
        children=demand,
        places=supply.sum(axis=0),
        places_in_reach=places_in_reach,
        g2sfca=g2,
        e2sfca=e2,
        children_per_place=per_place,
        desert=desert,
        facilities=tuple(scenario.facilities),
        facility_places=supply,
    )
