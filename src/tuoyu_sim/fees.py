"""Fees, subsidies and the money of a simulated district.

Who pays what, in yuan (CNY):

* A facility's fee (:meth:`tuoyu_sim.scenario.Scenario.fee_cny`): its own
  ``fee_cny``, else the district's ``[fees]``, capped for an affordable (普惠)
  facility. Enrolled care types are charged by the month, walk-in types by the
  hour.
* The **net fee** a family weighs (:func:`net_fees`), for enrolled types:
  ``fee - pass_through x operator_per_child_month - allowance / 12``, never below
  0; for walk-in types the hourly fee. Counting the family allowance against
  the fee is an assumption: it is cash to the family, not a price cut.
* **Operators' revenue** a year: what families pay for enrolled children
  (``(fee - pass_through x subsidy) x 12``), the operating subsidy per enrolled
  child (``x 12``) and per place, and walk-in care at the hourly fee for the
  child-hours simulated, over ``fees.open_days_per_year`` open days.
* **Public cost** a year: the operating subsidies, and the family allowance for
  every child under three (``allowance_for = "all_under3"``, the national rule)
  or for enrolled children only.

:func:`finance` gives these figures for ``simulate``'s summary;
:func:`cost_per_extra_child` compares the points of a sweep.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tuoyu_sim.scenario import CARE_TYPES, Scenario, Subsidies

if TYPE_CHECKING:
    from tuoyu_sim.demand import DemandPlan

MONTHS_PER_YEAR = 12


def priced(scenario: Scenario) -> bool:
    """Whether the scenario speaks of money for families: ``[fees]``, ``[subsidies]``
    or ``[takeup]`` written (then ``simulate``'s summary has a ``finance`` part)."""
    return any(x is not None for x in (scenario.fees, scenario.subsidies, scenario.takeup))


def subsidies(scenario: Scenario) -> Subsidies:
    """``[subsidies]`` as written, or its defaults."""
    return scenario.subsidies if scenario.subsidies is not None else Subsidies()


def care_type_order(scenario: Scenario) -> tuple[str, ...]:
    """The scenario's care types in reporting order (as :func:`~tuoyu_sim.demand.plan_demand`)."""
    return tuple(k for k in CARE_TYPES if k in scenario.care_types)


def fees_charged(scenario: Scenario) -> np.ndarray:
    """The fee of every facility and care type, shape (F, K), NaN where none is given."""
    types = care_type_order(scenario)
    out = np.full((len(scenario.facilities), len(types)), np.nan)
    for j, f in enumerate(scenario.facilities):
        for k, t in enumerate(types):
            fee = scenario.fee_cny(f, t)
            if fee is not None:
                out[j, k] = fee
    return out


def net_fee(scenario: Scenario, fee: np.ndarray | float, care_type: str) -> np.ndarray:
    """The net fee a family weighs for ``fee`` of ``care_type`` (see the module docstring)."""
    f = np.asarray(fee, dtype=float)
    if scenario.care_types[care_type].mode != "enrolled":
        return f
    s = subsidies(scenario)
    off = s.pass_through * s.operator_per_child_month_cny
    off += s.family_allowance_per_child_year_cny / MONTHS_PER_YEAR
    return np.maximum(f - off, 0.0)


def net_fees(scenario: Scenario) -> np.ndarray:
    """Net fee of every facility and care type, shape (F, K) (NaN: no fee given)."""
    charged = fees_charged(scenario)
    out = np.empty_like(charged)
    for k, t in enumerate(care_type_order(scenario)):
        out[:, k] = net_fee(scenario, charged[:, k], t)
    return out


def finance(
    scenario: Scenario, plan: DemandPlan, walk_in_child_hours_per_day: np.ndarray
) -> dict[str, Any]:
    """Enrollment, operators' revenue and public cost a year (yuan).

    Parameters
    ----------
    scenario
        The simulated scenario.
    plan
        Its demand plan (enrolled children per facility).
    walk_in_child_hours_per_day
        Child-hours of walk-in care per open day, shape (R, F, K) (one row per
        replication); the walk-in revenue gets a 95% interval from it.

    Returns
    -------
    dict
        ``enrolled``, ``revenue_cny_per_year`` (mean, ci95, n),
        ``public_cost_cny_per_year`` and its parts.
    """
    from tuoyu_sim.metrics import ci95

    s = subsidies(scenario)
    fees = scenario.fees
    open_days = fees.open_days_per_year if fees is not None else 250.0
    raw = fees_charged(scenario)
    charged = np.nan_to_num(raw, nan=0.0)  # no fee given: nothing charged
    types = plan.care_types
    enrolled = np.array([fd.enrolled.sum(axis=1) for fd in plan.facilities]).reshape(
        len(plan.facilities), len(types)
    )
    is_enrolled = np.array([scenario.care_types[t].mode == "enrolled" for t in types], dtype=bool)
    passed = s.pass_through * s.operator_per_child_month_cny
    family_fee = np.maximum(charged - passed, 0.0)
    families_pay = float((enrolled * family_fee)[:, is_enrolled].sum()) * MONTHS_PER_YEAR
    n_enrolled = int(enrolled[:, is_enrolled].sum())
    per_child = n_enrolled * s.operator_per_child_month_cny * MONTHS_PER_YEAR
    per_place = scenario.total_places * s.operator_per_place_year_cny
    hours = np.asarray(walk_in_child_hours_per_day, dtype=float)
    walk_in = (hours * charged[None, :, :])[:, :, ~is_enrolled].sum(axis=(1, 2)) * open_days
    revenue = families_pay + per_child + per_place + walk_in
    allowance_children = (
        scenario.children_under3 if s.allowance_for == "all_under3" else float(n_enrolled)
    )
    allowance = allowance_children * s.family_allowance_per_child_year_cny
    public = per_child + per_place + allowance
    return {
        "enrolled": n_enrolled,
        "revenue_cny_per_year": ci95(revenue),
        "families_pay_enrolled_cny_per_year": round(families_pay, 2),
        "walk_in_revenue_cny_per_year": ci95(walk_in),
        "public_cost_cny_per_year": round(public, 2),
        "operator_subsidy_per_child_cny_per_year": round(per_child, 2),
        "operator_subsidy_per_place_cny_per_year": round(per_place, 2),
        "family_allowance_cny_per_year": round(allowance, 2),
        "allowance_for": s.allowance_for,
        "open_days_per_year": open_days,
        "no_fee_given": [t for k, t in enumerate(types) if np.isnan(raw[:, k]).all()],
    }


def cost_per_extra_child(rows: Sequence[Mapping[str, Any]]) -> list[float | None]:
    """Public cost a year per additional enrolled child, each row against the first.

    ``(public_cost - public_cost_first) / (enrolled - enrolled_first)``; None for
    the first row, a row without the figures, or no change in enrollment.
    """
    out: list[float | None] = []
    first = rows[0] if rows else {}
    c0, e0 = first.get("public_cost_cny_per_year"), first.get("enrolled")
    for n, row in enumerate(rows):
        c, e = row.get("public_cost_cny_per_year"), row.get("enrolled")
        if n == 0 or None in (c, e, c0, e0) or e == e0:
            out.append(None)
        else:
            out.append(round((float(c) - float(c0)) / (float(e) - float(e0)), 2))  # type: ignore[arg-type]
    return out
