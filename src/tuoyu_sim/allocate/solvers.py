"""Solver objects, honest solve outcomes, and the PuLP plumbing every model shares.

The solver is an object built here and passed to ``solve`` functions, never a
bare ``prob.solve()``: HiGHS (``highspy``, a core dependency) by default, the
CBC bundled with PuLP on request. :func:`solve` solves a model (integer or
not), :func:`solve_lp` its LP relaxation for the duals, :func:`add_row` adds a
named row: every model of :mod:`tuoyu_sim.allocate` goes through these.

Default gap
-----------
:data:`DEFAULT_GAP` (0.1 %): a plan is proven within 0.1 % of the cheapest
possible. On a district's budget of some hundred million yuan that is a few
hundred thousand yuan, less than one site's fixed cost and far below the
uncertainty of the demand forecast the plan rests on, while proving the last
0.1 % on a large district can take the solver many times as long (or never end
within a time limit). A gap of 0 asks for a proof of optimality.

Repeatability
-------------
With one thread and no time limit both solvers are deterministic: the same
model gives the same plan on any machine load. A solve stopped by a wall-clock
``time_limit_s`` is not; a limit on branch-and-bound nodes
(``node_limit``) is, which is why the solve by parts limits its inner solves by
nodes and gaps only (:mod:`.decompose`).

Honest status
-------------
PuLP reports a time-limited solve that found a solution with the status
``Optimal``. Here the outcome is ``"optimal"`` only when the solver proved
optimality (relative gap at most :data:`PROVEN_GAP`); a solve stopped by the
time limit or by a looser ``gap`` is ``"feasible"`` with its relative gap
``|primal - bound| / max(|primal|, 1e-9)``. CBC's bound is read from its log;
HiGHS's from its info record.

CBC without flow cover cuts
---------------------------
The CBC that PuLP bundles (2.10.3) runs with :data:`CBC_OPTIONS`: its flow
cover cuts are off. Their lifting is wrong when several continuous variables
share one variable upper bound (coin-or/Cbc issue 769), which is exactly the
min-cost model's shape: every share served at a site is bounded by the site's
open variable. With them on, CBC proved "optimal" plans 0.4–9.6% dearer than
the optimum on 8 of 100 small random min-cost districts with walk-in places;
without them it agrees with HiGHS on every one (``docs/allocation.md``,
"Solvers and honest status"; ``tests/test_theory_solvers_agree.py``;
``scripts/cross_check_cbc.py``).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pulp

from tuoyu_sim.errors import SolverError, UserError

SolverName = Literal["cbc", "highs"]
Status = Literal["optimal", "feasible", "infeasible", "unbounded", "no_solution"]

PROVEN_GAP = 1e-6
"""A relative gap at most this counts as proven optimal."""

DEFAULT_GAP = 1e-3
"""Relative gap a solve stops at unless told otherwise (see the module docstring)."""

DEFAULT_SOLVER: SolverName = "highs"
"""The solver used unless told otherwise."""

CBC_OPTIONS = ("flow off",)
"""Extra CBC command-line options (see the module docstring)."""


@dataclass(frozen=True)
class SolverSpec:
    """Which solver, with what limits.

    Parameters
    ----------
    name
        ``"highs"`` (default) or ``"cbc"``.
    time_limit_s
        Wall-clock limit in seconds (> 0), or None for none. A solve it stops is
        not repeatable; the default is none.
    gap
        Relative optimality gap at which the solver may stop, in [0, 1);
        default :data:`DEFAULT_GAP`, 0 proves optimality.
    threads
        Solver threads (>= 1).
    gap_abs
        Absolute optimality gap at which the solver may stop (objective units);
        the solve by parts sets it for each part.
    node_limit
        Most branch-and-bound nodes (>= 1), or None for none: a limit that,
        unlike the time limit, stops a solve at the same point on any machine load.
    """

    name: SolverName = DEFAULT_SOLVER
    time_limit_s: float | None = None
    gap: float = DEFAULT_GAP
    threads: int = 1
    gap_abs: float | None = None
    node_limit: int | None = None

    def __post_init__(self) -> None:
        if self.name not in ("cbc", "highs"):
            raise UserError(f"solver name {self.name!r}: one of cbc, highs")
        if self.time_limit_s is not None and not (
            math.isfinite(self.time_limit_s) and self.time_limit_s > 0
        ):
            raise UserError(f"time_limit_s {self.time_limit_s}: seconds > 0")
        if not (0.0 <= self.gap < 1.0):
            raise UserError(f"gap {self.gap}: a relative gap in [0, 1)")
        if self.threads < 1:
            raise UserError(f"threads {self.threads}: a whole number >= 1")
        if self.node_limit is not None and self.node_limit < 1:
            raise UserError(f"node_limit {self.node_limit}: a whole number >= 1")


@dataclass(frozen=True)
class SolveOutcome:
    """What a solve produced, stated honestly."""

    status: Status
    solver: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    message: str = ""
    work: float = 0.0
    """Simplex iterations plus branch-and-bound nodes: the solve's effort, the same
    on any machine load (unlike ``seconds``)."""

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


Terms = list[tuple[pulp.LpVariable, float]]


def add_row(
    prob: pulp.LpProblem,
    terms: Terms | pulp.LpAffineExpression,
    sense: int,
    rhs: float,
    name: str,
) -> None:
    """Add the row ``terms <sense> rhs`` to ``prob`` under ``name`` (every row of
    every model is named)."""
    if not isinstance(terms, pulp.LpAffineExpression):
        terms = pulp.LpAffineExpression(terms, constant=0.0)
    prob.addConstraint(pulp.LpConstraint(terms, sense=sense, rhs=rhs, name=name))


def highs_available() -> bool:
    """True when ``highspy`` can be imported."""
    try:
        import highspy  # noqa: F401
    except ImportError:
        return False
    return True


def make_solver(
    spec: SolverSpec,
    log_path: str | None = None,
    *,
    threads: bool = True,
    warm_start: bool = False,
) -> pulp.LpSolver:
    """A PuLP solver object for ``spec`` (``threads=False`` leaves the thread count
    to the solver: HiGHS fixes it for the whole process at its first run).

    Raises
    ------
    SolverError
        ``highs`` was asked for and ``highspy`` is not installed.
    """
    if spec.name == "highs":
        if not highs_available():
            raise SolverError(
                "solver highs: the HiGHS solver needs the highspy package; install it with "
                "`pip install highspy`, or use the solver cbc"
            )
        solver = _WarmHiGHS(
            msg=False,
            timeLimit=spec.time_limit_s,
            gapRel=spec.gap,
            gapAbs=spec.gap_abs,
            threads=spec.threads if threads else None,
            **({} if spec.node_limit is None else {"mip_max_nodes": spec.node_limit}),
        )
        solver.warm = warm_start
        return solver
    kwargs: dict[str, Any] = {
        "msg": False,
        "timeLimit": spec.time_limit_s,
        "gapRel": spec.gap,
        "gapAbs": spec.gap_abs,
        "threads": spec.threads,
        "options": list(CBC_OPTIONS),
        "maxNodes": spec.node_limit,
    }
    if log_path is not None:
        kwargs["logPath"] = log_path
    if warm_start:
        kwargs["warmStart"] = True
    return pulp.PULP_CBC_CMD(**kwargs)


class _WarmHiGHS(pulp.HiGHS):
    """PuLP's HiGHS interface, handing the variables' initial values to HiGHS as a
    starting solution (PuLP's own HiGHS interface ignores them), and reading a
    solve stopped by the node limit (PuLP 3.3 knows no ``kSolutionLimit``, the
    status HiGHS gives it, and raises ``KeyError`` after loading the values)."""

    warm = False

    def findSolutionValues(self, lp: pulp.LpProblem) -> tuple[int, int]:
        try:
            return super().findSolutionValues(lp)
        except KeyError:
            import highspy

            h = lp.solverModel
            if h.getModelStatus() != highspy.HighsModelStatus.kSolutionLimit:
                raise
            if h.getInfo().primal_solution_status == 2:  # kSolutionStatusFeasible
                return pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible
            return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound

    def callSolver(self, lp: pulp.LpProblem) -> None:
        if self.warm:
            import highspy

            sol = highspy.HighsSolution()
            sol.col_value = [float(v.varValue or 0.0) for v in lp.variables()]
            sol.value_valid = True
            lp.solverModel.setSolution(sol)
        super().callSolver(lp)


_CBC_NUM = r"([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|inf|nan))"


def _parse_cbc_log(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    m = re.search(r"^Result - (.+)$", text, re.MULTILINE)
    if m:
        out["result"] = m.group(1).strip()
    for key, label in (
        ("objective", "Objective value:"),
        ("bound", "Lower bound:"),
        ("bound", "Upper bound:"),
        ("gap", "Gap:"),
        ("nodes", "Enumerated nodes:"),
        ("iterations", "Total iterations:"),
    ):
        m = re.search(rf"^{re.escape(label)}\s+{_CBC_NUM}", text, re.MULTILINE)
        if m:
            with contextlib.suppress(ValueError):
                out[key] = float(m.group(1))
    return out


def rel_gap(objective: float, bound: float) -> float:
    """``|objective - bound| / max(|objective|, 1e-9)``."""
    return abs(objective - bound) / max(abs(objective), 1e-9)


def solve(prob: pulp.LpProblem, spec: SolverSpec, *, warm_start: bool = False) -> SolveOutcome:
    """Solve ``prob`` with the solver described by ``spec``; never raises on infeasibility.

    ``warm_start``: the variables' initial values (``setInitialValue``) are a
    feasible solution to start from.

    Raises
    ------
    SolverError
        The solver is missing or crashed.
    """
    if spec.name == "highs":
        return _solve_highs(prob, spec, warm_start)
    return _solve_cbc(prob, spec, warm_start)


def solve_lp(prob: pulp.LpProblem, spec: SolverSpec) -> bool:
    """Solve ``prob`` as a linear program (integrality relaxed) with the solver of
    ``spec``, for its values and duals (``constraint.pi``: the change of the
    objective per unit of the row's right-hand side). True when solved to
    optimality; never raises on a failed solve. HiGHS keeps the thread count of
    its first run in the process."""
    solver = make_solver(spec, threads=False)
    solver.mip = False
    try:
        with quiet_stdout():
            prob.solve(solver)
    except pulp.PulpSolverError:
        return False
    return bool(prob.status == pulp.LpStatusOptimal)


def _solve_cbc(prob: pulp.LpProblem, spec: SolverSpec, warm_start: bool) -> SolveOutcome:
    fd, log_path = tempfile.mkstemp(prefix="tuoyu-cbc-", suffix=".log")
    os.close(fd)
    try:
        solver = make_solver(spec, log_path, warm_start=warm_start)
        t0 = time.perf_counter()
        try:
            prob.solve(solver)
        except pulp.PulpSolverError as exc:
            raise SolverError(f"CBC failed: {exc}") from None
        seconds = time.perf_counter() - t0
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            log = _parse_cbc_log(fh.read())
    finally:
        with contextlib.suppress(OSError):
            os.unlink(log_path)
    result = str(log.get("result", ""))
    work = float(log.get("nodes", 0.0)) + float(log.get("iterations", 0.0))
    sol = prob.sol_status
    # a limit, not a proof of anything; a CBC stopped by the clock before its log's
    # "Result" line (seen on a loaded machine) is not a proof either
    stopped = result.startswith("Stopped") or (
        not result and spec.time_limit_s is not None and seconds >= spec.time_limit_s
    )
    if not stopped and (prob.status == pulp.LpStatusInfeasible or sol == pulp.LpSolutionInfeasible):
        return SolveOutcome("infeasible", "cbc", None, None, None, seconds, result, work)
    if prob.status == pulp.LpStatusUnbounded:
        return SolveOutcome("unbounded", "cbc", None, None, None, seconds, result, work)
    if sol not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return SolveOutcome(
            "no_solution", "cbc", None, None, None, seconds, result or "no solution found", work
        )
    objective = pulp.value(prob.objective)
    obj = float(objective) if objective is not None else 0.0
    bound = log.get("bound")
    logged = log.get("objective")
    if bound is not None and logged is not None and abs(logged + obj) < abs(logged - obj):
        bound = -float(bound)  # CBC logs a maximisation in its minimising sense
    if "gap" in log and bound is not None:
        gap = rel_gap(obj, float(bound)) if math.isfinite(float(bound)) else float("inf")
    elif result.startswith("Optimal solution found") and sol == pulp.LpSolutionOptimal:
        gap, bound = 0.0, obj
    else:
        gap = None
    if (
        result.startswith("Optimal solution found")
        and "tolerance" not in result
        and (gap is None or gap <= PROVEN_GAP)
    ):
        status: Status = "optimal"
        gap = 0.0 if gap is None else gap
        bound = obj if bound is None else bound
    elif gap is not None and gap <= PROVEN_GAP and sol == pulp.LpSolutionOptimal:
        status = "optimal"
    else:
        status = "feasible"
    return SolveOutcome(
        status, "cbc", obj, None if bound is None else float(bound), gap, seconds, result, work
    )


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence HiGHS's start-up banner, which it prints before options apply.

    Safe from several threads at once: the first to enter points standard output
    at the null device, the last to leave points it back."""
    global _quiet_depth, _quiet_saved
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    with _quiet_lock:
        if _quiet_depth == 0:
            _quiet_saved = os.dup(fd)
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), fd)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _quiet_saved is not None:
                sys.stdout.flush()
                os.dup2(_quiet_saved, fd)
                os.close(_quiet_saved)
                _quiet_saved = None


_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved: int | None = None


def _solve_highs(prob: pulp.LpProblem, spec: SolverSpec, warm_start: bool) -> SolveOutcome:
    solver = make_solver(spec, warm_start=warm_start)
    t0 = time.perf_counter()
    try:
        with quiet_stdout():
            prob.solve(solver)
    except pulp.PulpSolverError as exc:
        raise SolverError(f"HiGHS failed: {exc}") from None
    seconds = time.perf_counter() - t0
    import highspy

    if prob.solverModel.getModelStatus() == highspy.HighsModelStatus.kNotset:
        # HiGHS refuses a thread count other than the one of its first run in this
        # process; solve again with its own.
        with quiet_stdout():
            prob.solve(make_solver(spec, threads=False, warm_start=warm_start))
        seconds = time.perf_counter() - t0
    h = prob.solverModel
    model_status = h.getModelStatus()
    info = h.getInfo()
    status_text = h.modelStatusToString(model_status)
    work = float(info.simplex_iteration_count) + float(max(0, info.mip_node_count))
    ms = highspy.HighsModelStatus
    if model_status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        return SolveOutcome("infeasible", "highs", None, None, None, seconds, status_text, work)
    if model_status == ms.kUnbounded:
        return SolveOutcome("unbounded", "highs", None, None, None, seconds, status_text, work)
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        return SolveOutcome(
            "no_solution",
            "highs",
            None,
            None,
            None,
            seconds,
            status_text or "no solution found",
            work,
        )
    objective = pulp.value(prob.objective)
    obj = float(objective) if objective is not None else 0.0
    # PuLP hands HiGHS the objective without its constant, negated when maximising.
    sense = -1.0 if prob.sense == pulp.LpMaximize else 1.0
    constant = float(prob.objective.constant) if prob.objective is not None else 0.0
    reported = sense * float(info.objective_function_value) + constant
    if warm_start and abs(obj - reported) > 1e-6 * max(1.0, abs(reported)):
        # HiGHS 1.16 can hand back the start instead of the solution it reports when
        # presolve solves the whole model: solve once more without the start.
        return _solve_highs(prob, spec, False)
    bound = sense * float(info.mip_dual_bound) + constant if prob.isMIP() else obj
    gap = rel_gap(obj, bound) if math.isfinite(bound) else float("inf")
    status: Status = "optimal" if model_status == ms.kOptimal and gap <= PROVEN_GAP else "feasible"
    return SolveOutcome(status, "highs", obj, bound, gap, seconds, status_text, work)
