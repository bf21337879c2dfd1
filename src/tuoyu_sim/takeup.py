r"""Take-up: demand that answers to the net fee and the distance (``[takeup]``).

Without ``[takeup]`` a community's ``demand`` shares are used as they are ("no
response": :func:`at_fees` returns the scenario itself, so every result is
unchanged). With it, ``demand`` is read as the most that would take up care —
net fee 0 and a facility at the door — and the share that does is

.. math::

    p_{ik} = \bar p_{ik} \, R_k(f_{j^*k}) \, D(d_{ij^*})

with :math:`j^*` the facility the community weighs among the facilities
:math:`J_i` with places within the cut-off (``geography.cutoff_m``, default the
service radius): the nearest with ``choice = "nearest"``; the best, the one of
largest :math:`R_k D`, with ``choice = "logit"``. Who takes up care then goes to
:math:`j` with probability :math:`P_{ij}`. So take-up never rises when a fee or
a distance does (each of the factors falls, and so does their maximum), and
the demand a facility receives, :math:`\bar p_{ik} R D \, P_{ij}`, never rises
with its own fee or distance.

* :math:`R_k` the **fee response** of care type :math:`k`, 1 at a net fee of 0,
  never rising with it (:func:`fee_response`):

  - ``logistic``: :math:`R(f) = \sigma((m - f)/s) / \sigma(m/s)`, :math:`\sigma`
    the logistic function, ``midpoint_cny`` :math:`m`, ``scale_cny`` :math:`s`;
  - ``elasticity`` (constant elasticity above a saturation fee):
    :math:`R(f) = \min(1, (f / f_0)^{-\varepsilon})`, ``elasticity``
    :math:`\varepsilon`, ``saturation_cny`` :math:`f_0`;

* :math:`D` the **distance response**: the distance decay of the scenario
  (``geography.decay``, :func:`tuoyu_sim.geography.decay_factor`) with
  ``distance = "decay"``, 1 with ``"off"``;
* :math:`P_{ij}` the **choice** among the facilities within reach:
  ``nearest`` (all to the nearest), or ``logit`` (the Huff form, market share
  by a multinomial logit):
  :math:`P_{ij} \propto \exp(-a\, d_{ij}/1000 - b\, f_{jk}/100)` with
  ``logit_per_km`` :math:`a` and ``logit_per_100_cny`` :math:`b`.

:math:`f_{jk}` is the net fee of :mod:`tuoyu_sim.fees`. A community with no
facility within reach is taken at the district fee and distance 0 (what a new
site at its door would see). Every parameter of the curve is an assumption
except where scenarios/README.md gives a source.

Where it acts: :func:`tuoyu_sim.demand.plan_demand` (and with it ``simulate``)
and :func:`tuoyu_sim.allocate.instance.build_instance` (``optimize``, ``plan``:
demand at the scenario's fees and facilities) read :func:`at_fees`; with
``choice = "logit"`` walk-ins are split among facilities by
:math:`P_{ij}` (:func:`logit_split`). Enrolled children are still placed
nearest first within capacity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from tuoyu_sim.fees import care_type_order, net_fee, net_fees
from tuoyu_sim.geography import decay_factor, pairs_within
from tuoyu_sim.scenario import FeeResponse, Scenario, TakeUp


def fee_response(net_fee_cny: np.ndarray | float, curve: str, params: FeeResponse) -> np.ndarray:
    """Share of the most take-up left at ``net_fee_cny`` (>= 0): 1 at 0, non-increasing.

    Parameters
    ----------
    net_fee_cny
        Net fees in yuan (a month or an hour, the unit of the parameters), >= 0.
    curve
        ``"logistic"`` or ``"elasticity"``.
    params
        The curve's parameters (validated by the scenario).
    """
    f = np.maximum(np.asarray(net_fee_cny, dtype=float), 0.0)
    if curve == "logistic":
        m, s = float(params.midpoint_cny or 0.0), float(params.scale_cny or 1.0)
        return np.asarray(expit((m - f) / s) / expit(m / s))
    eps, f0 = float(params.elasticity or 0.0), float(params.saturation_cny or 1.0)
    with np.errstate(divide="ignore"):
        return np.asarray(np.minimum(1.0, np.where(f > f0, (np.maximum(f, f0) / f0) ** -eps, 1.0)))


def distance_response(dist_m: np.ndarray, scenario: Scenario) -> np.ndarray:
    """The distance factor :math:`D` of take-up at ``dist_m`` metres, in [0, 1]."""
    tu = scenario.takeup
    d = np.asarray(dist_m, dtype=float)
    if tu is None or tu.distance == "off":
        return np.ones_like(d)
    geo = scenario.geography
    return decay_factor(d, geo.decay.kind, geo.decay.beta, geo.reach_m)


def choice(dist_m: np.ndarray, fee_cny: np.ndarray, tu: TakeUp) -> np.ndarray:
    """Choice probabilities among facilities at ``dist_m`` with net fees ``fee_cny``."""
    d = np.asarray(dist_m, dtype=float)
    p = np.zeros_like(d)
    if not d.size:
        return p
    if tu.choice == "nearest":
        p[int(np.argmin(d))] = 1.0
        return p
    u = -tu.logit_per_km * d / 1000.0 - tu.logit_per_100_cny * np.asarray(fee_cny) / 100.0
    e = np.exp(u - u.max())
    return np.asarray(e / e.sum())


@dataclass(frozen=True)
class TakeUpModel:
    """The take-up of one scenario, computed once (:func:`takeup_model`)."""

    scenario: Scenario
    types: tuple[str, ...]
    net_fee_cny: np.ndarray
    """Net fee of each facility and care type, shape (F, K)."""
    offers: np.ndarray
    """Facilities with places, shape (F,)."""

    @property
    def params(self) -> TakeUp:
        assert self.scenario.takeup is not None
        return self.scenario.takeup

    def response(self, fees: np.ndarray, care_type: str) -> np.ndarray:
        tu = self.params
        params = tu.response(care_type)
        if params is None:  # no demand for this type (the scenario checks the rest)
            return np.ones_like(np.asarray(fees, dtype=float))
        return fee_response(fees, tu.curve, params)

    def district_fee(self, care_type: str) -> float:
        """Net district fee of ``care_type`` (the fee of a facility without its own)."""
        fees = self.scenario.fees
        enrolled = self.scenario.care_types[care_type].mode == "enrolled"
        table = None if fees is None else (fees.monthly_cny if enrolled else fees.hourly_cny)
        if table is None:
            table = {"full_day": 1900.0} if enrolled else {}
        fee = table.get(care_type)
        if fee is None:  # only fees at facilities: their mean
            k = self.types.index(care_type)
            col = self.net_fee_cny[:, k]
            return float(np.nanmean(col)) if np.isfinite(col).any() else 0.0
        return float(net_fee(self.scenario, fee, care_type))

    def by_option(self, js: np.ndarray, ds: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Choice probabilities and take-up factors :math:`R D` of the options ``js``."""
        t = self.types[k]
        fees = np.nan_to_num(self.net_fee_cny[js, k], nan=self.district_fee(t))
        return choice(ds, fees, self.params), self.response(fees, t) * distance_response(
            ds, self.scenario
        )

    def factors(self) -> np.ndarray:
        """Take-up factor of every community and care type, shape (I, K), in [0, 1]."""
        sc = self.scenario
        comms = sc.communities
        facs = sc.facilities
        pairs = pairs_within(sc, comms, facs, sc.geography.reach_m)
        out = np.ones((len(comms), len(self.types)))
        for i in range(len(comms)):
            js, ds = pairs.targets_of(i)
            keep = self.offers[js]
            js, ds = js[keep], ds[keep]
            for k, t in enumerate(self.types):
                if not js.size:
                    out[i, k] = float(self.response(np.array(self.district_fee(t)), t))
                    continue
                p, g = self.by_option(js, ds, k)
                out[i, k] = float(g.max()) if self.params.choice == "logit" else float(p @ g)
        return out


def takeup_model(scenario: Scenario) -> TakeUpModel | None:
    """The take-up model of ``scenario``; None without ``[takeup]``."""
    if scenario.takeup is None:
        return None
    offers = np.array([f.total_places > 0 for f in scenario.facilities], dtype=bool)
    return TakeUpModel(scenario, care_type_order(scenario), net_fees(scenario), offers)


def takeup_shares(scenario: Scenario) -> list[dict[str, float]]:
    """Each community's demand shares at the scenario's fees and facilities."""
    model = takeup_model(scenario)
    if model is None:
        return [dict(c.demand) for c in scenario.communities]
    g = model.factors()
    index = {t: k for k, t in enumerate(model.types)}
    return [
        {t: p * float(g[i, index[t]]) for t, p in c.demand.items()}
        for i, c in enumerate(scenario.communities)
    ]


def at_fees(scenario: Scenario) -> Scenario:
    """The scenario with each community's ``demand`` at its take-up share.

    Without ``[takeup]`` the scenario itself (not a copy): "no response".
    """
    if scenario.takeup is None:
        return scenario
    shares = takeup_shares(scenario)
    comms = tuple(
        c.model_copy(update={"demand": s})
        for c, s in zip(scenario.communities, shares, strict=True)
    )
    return scenario.model_copy(update={"communities": comms})


def logit_split(
    scenario: Scenario,
) -> Callable[[np.ndarray, np.ndarray, int], np.ndarray] | None:
    """With ``choice = "logit"``: how a community's walk-ins split over the facilities
    ``js`` at ``ds`` metres for care type index ``k`` (:math:`P_{ij}`); None
    otherwise (the split of :func:`tuoyu_sim.demand.decay_weights`)."""
    model = takeup_model(scenario)
    if model is None or model.params.choice != "logit":
        return None

    def split(js: np.ndarray, ds: np.ndarray, k: int) -> np.ndarray:
        return model.by_option(js, ds, k)[0]

    return split


def expected_takeup(scenario: Scenario) -> dict[str, float]:
    """Expected users per care type: enrolled children, or walk-in arrivals a day,
    before capacity (children under three x age share x take-up share)."""
    out = {t: 0.0 for t in care_type_order(scenario)}
    for c, shares in zip(scenario.communities, takeup_shares(scenario), strict=True):
        for t, p in shares.items():
            out[t] += c.under3 * p
    return out


def calibrated(scenario: Scenario) -> Scenario:
    """``scenario`` with ``demand`` raised so that take-up at its own fees is today's shares.

    A scenario's shares usually describe demand as it is, at today's fees; the
    take-up model reads them as the most that would come. This divides each
    share by its take-up factor (the share at most 1 for enrolled types), so
    that :func:`at_fees` of the result gives back today's shares, and a change
    of fee or subsidy moves demand from there.
    """
    model = takeup_model(scenario)
    if model is None:
        return scenario
    g = model.factors()
    index = {t: k for k, t in enumerate(model.types)}
    comms = []
    for i, c in enumerate(scenario.communities):
        new = {}
        for t, p in c.demand.items():
            f = float(g[i, index[t]])
            q = p / f if f > 0 else p
            if scenario.care_types[t].mode == "enrolled":
                q = min(q, 1.0)
            new[t] = q
        comms.append(c.model_copy(update={"demand": new}))
    return scenario.model_copy(update={"communities": tuple(comms)})
