"""``optimize``: one call from a scenario and options to a checked :class:`Plan`."""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from tuoyu_sim.allocate.checks import check_cover_all, check_min_cost, explain_infeasible
from tuoyu_sim.allocate.coverage import (
    build_cover_all,
    build_max_coverage,
    solve_cover,
)
from tuoyu_sim.allocate.instance import DecayKind, Instance, build_instance
from tuoyu_sim.allocate.mincost import MinCostOptions
from tuoyu_sim.allocate.results import Plan, make_plan
from tuoyu_sim.allocate.sizing import size_new_sites
from tuoyu_sim.allocate.solvers import SolveOutcome, SolverName, SolverSpec, highs_available
from tuoyu_sim.allocate.strategy import solve_model
from tuoyu_sim.errors import InfeasibleError, SolverError, UserError
from tuoyu_sim.scenario import Scenario

Objective = Literal["min-cost", "max-coverage", "cover-all"]
OBJECTIVES: tuple[str, ...] = ("min-cost", "max-coverage", "cover-all")


@dataclass(frozen=True)
class OptimizeOptions:
    """What to optimize and under which limits (the CLI's options are these;
    messages name the parameters, and the CLI its flags).

    Parameters
    ----------
    objective
        ``min-cost`` (default), ``max-coverage`` or ``cover-all``.
    max_sites
        Most new sites (max-coverage; the CLI's ``--sites``).
    budget_cny
        Most the plan may cost, yuan (min-cost: the whole plan; max-coverage:
        site opening costs; ``--budget``).
    target_per_1000
        Overrides ``targets.places_per_1000`` (``--target-per-1000``).
    radius_m
        Overrides ``geography.service_radius_m`` (``--radius-m``).
    decay, beta
        Distance decay of demand (``auto`` follows the scenario).
    strengthen
        Strong linking constraints in the min-cost model (keep True).
    cover_every_community
        min-cost: also put every community within the radius of an open site.
    """

    objective: Objective = "min-cost"
    max_sites: int | None = None
    budget_cny: float | None = None
    target_per_1000: float | None = None
    radius_m: float | None = None
    decay: DecayKind | Literal["auto"] = "auto"
    beta: float | None = None
    strengthen: bool = True
    cover_every_community: bool = False

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise UserError(f"objective {self.objective!r}: one of {', '.join(OBJECTIVES)}")
        if self.max_sites is not None and self.max_sites < 0:
            raise UserError(f"max_sites {self.max_sites}: a whole number >= 0")
        if self.budget_cny is not None and not (
            np.isfinite(self.budget_cny) and self.budget_cny >= 0
        ):
            raise UserError(f"budget_cny {self.budget_cny}: yuan >= 0")
        if self.target_per_1000 is not None and not (0 <= self.target_per_1000 <= 1000):
            raise UserError(
                f"target_per_1000 {self.target_per_1000}: places per 1,000 residents, 0 to 1000"
            )


def min_cost_options(scenario: Scenario, opts: OptimizeOptions) -> MinCostOptions:
    """The min-cost targets: the scenario's ``[targets]``, overridden by the options."""
    tg = scenario.targets
    per = opts.target_per_1000 if opts.target_per_1000 is not None else tg.places_per_1000
    return MinCostOptions(
        coverage_share=tg.coverage_share,
        min_community_share=tg.min_community_share,
        places_per_1000=per,
        budget_cny=opts.budget_cny,
        strengthen=opts.strengthen,
        cover_every_community=opts.cover_every_community,
    )


def _targets_record(
    inst: Instance, opts: OptimizeOptions, mc: MinCostOptions | None, spec: SolverSpec
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        # the relative gap asked of the solver; the plan's ``gap`` is the one proven
        "gap_asked": spec.gap,
        "budget_cny": opts.budget_cny,
        "max_sites": opts.max_sites,
        "max_turn_away": inst.max_turn_away,
        "decay": inst.decay_kind,
    }
    if inst.decay_kind != "off":
        rec["decay_beta"] = (
            opts.beta if opts.beta is not None else inst.scenario.geography.decay.beta
        )
    if mc is not None:
        rec.update(
            coverage_share=mc.coverage_share,
            min_community_share=mc.min_community_share,
            places_per_1000=mc.places_per_1000,
            cover_every_community=mc.cover_every_community,
        )
    return rec


def _no_solution(outcome: SolveOutcome, what: str) -> SolverError:
    return SolverError(
        f"{what}: the solver ({outcome.solver}) found no solution in {outcome.seconds:.1f} s "
        f"({outcome.message or outcome.status}); allow more time or try the other solver"
    )


def optimize(scenario: Scenario, opts: OptimizeOptions, spec: SolverSpec) -> Plan:
    """Solve one allocation problem and return the plan.

    Raises
    ------
    InfeasibleError
        The targets cannot be met; the message says which and by how much.
    SolverError
        The solver is missing, failed, or found no solution within the time limit.
    """
    t0 = time.perf_counter()
    inst = build_instance(scenario, radius_m=opts.radius_m, decay=opts.decay, beta=opts.beta)
    if opts.objective == "min-cost":
        return _min_cost(inst, opts, spec, t0)
    if opts.objective == "cover-all":
        check_cover_all(inst)
        model = build_cover_all(inst)
    else:
        if opts.max_sites is None and opts.budget_cny is None:
            raise UserError("objective max-coverage needs max_sites or budget_cny (or both)")
        model = build_max_coverage(inst, opts.max_sites, opts.budget_cny)
    build_s = time.perf_counter() - t0
    sol = solve_cover(model, spec)
    if sol.outcome.status == "infeasible":
        raise InfeasibleError(f"{opts.objective}: the model is infeasible")
    if not sol.outcome.has_solution:
        raise _no_solution(sol.outcome, opts.objective)
    added, walk, staff, share = size_new_sites(inst, sol.opened)
    return make_plan(
        inst,
        objective=opts.objective,
        outcome=sol.outcome,
        build_seconds=build_s,
        objective_value=sol.objective_value,
        targets=_targets_record(inst, opts, None, spec),
        opened=sol.opened,
        added=added,
        walk=walk,
        staff=staff,
        share=share,
    )


def _min_cost(inst: Instance, opts: OptimizeOptions, spec: SolverSpec, t0: float) -> Plan:
    mc = min_cost_options(inst.scenario, opts)
    check_min_cost(inst, mc)
    build_s = time.perf_counter() - t0
    sol = solve_model(inst, mc, spec)
    if sol.outcome.status == "infeasible":
        raise InfeasibleError(explain_infeasible(inst, mc, spec))
    if not sol.outcome.has_solution:
        raise _no_solution(sol.outcome, "min-cost")
    gap = sol.outcome.gap
    messages: tuple[str, ...] = ()
    if gap is not None and gap > spec.gap and spec.time_limit_s is None:
        messages = (
            f"proven within {gap:.2%} of the cheapest plan, not the {spec.gap:.2%} asked: the "
            "solver's effort limits (nodes, never seconds, so that the plan is repeatable) "
            f"stopped first; gap {math.ceil(gap * 1000) / 1000:g} asks only for what is proven",
        )
    return make_plan(
        inst,
        objective="min-cost",
        messages=messages,
        outcome=sol.outcome,
        build_seconds=build_s,
        objective_value=sol.outcome.objective,
        targets=_targets_record(inst, opts, mc, spec),
        opened=sol.opened,
        added=sol.added_places,
        walk=sol.walk_in_places,
        staff=sol.added_staff,
        share=sol.share,
    )


@dataclass(frozen=True)
class CrossCheck:
    """What a second solver said about the same problem (:func:`cross_check`)."""

    solver: str
    status: str
    objective_value: float | None
    agree: bool
    kept: str
    """The solver whose plan is kept: the better objective (the first on a tie)."""
    message: str

    def record(self) -> dict[str, Any]:
        """The ``cross_check`` entry of ``summary.json``."""
        return dataclasses.asdict(self)


def cross_check(
    scenario: Scenario, opts: OptimizeOptions, spec: SolverSpec, plan: Plan
) -> tuple[Plan, CrossCheck]:
    """Solve ``plan``'s problem again with the other solver; keep the better plan.

    Two exact solvers that both prove optimality must agree on the objective;
    when they do not, the better plan is feasible (each plan passes the
    independent checker in ``optimize``'s caller), so the other proof was wrong
    (``docs/allocation.md``, "Solvers and honest status").

    Raises
    ------
    SolverError
        The other solver is HiGHS and ``highspy`` is not installed.
    """
    other: SolverName = "highs" if spec.name == "cbc" else "cbc"
    if other == "highs" and not highs_available():
        raise SolverError(
            "cross_check: the second solver, HiGHS, needs the highspy package; install it "
            "with `pip install highspy`, or solve without the cross-check"
        )
    second = optimize(scenario, opts, dataclasses.replace(spec, name=other))
    a, b = plan.objective_value, second.objective_value
    maximise = plan.objective == "max-coverage"
    if a is None or b is None:
        agree, better = False, a is None and b is not None
    else:
        tol = 1e-6 * max(1.0, abs(a), abs(b))
        agree = abs(a - b) <= tol
        better = (b > a + tol) if maximise else (b < a - tol)
    kept = second if better else plan

    def said(p: Plan) -> str:
        v = p.objective_value
        if v is None:
            return f"{p.solver} {p.status} with no value"
        shown = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
        return f"{p.solver} {p.status} at {shown}"

    if agree:
        message = f"{other} agrees: {said(second)}"
    elif plan.status == "optimal" and second.status == "optimal":
        message = (
            f"the solvers disagree although both claim a proof ({said(plan)}, {said(second)}): "
            f"the {'larger' if maximise else 'smaller'} is a checked plan, so the other proof "
            f"is wrong; keeping {kept.solver}'s plan"
        )
    else:
        message = f"{said(plan)}, {said(second)}: keeping {kept.solver}'s plan"
    return kept, CrossCheck(other, second.status, b, agree, kept.solver, message)
