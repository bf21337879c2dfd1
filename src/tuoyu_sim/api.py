"""The Python API: what the command line does, as functions that return values.

::

    import tuoyu_sim as ty

    sc = ty.load_scenario("scenarios/yanzhou.toml")
    run = ty.simulate(sc, replications=10, days=5)
    run.facilities                      # a pandas DataFrame (facilities.csv)
    run.plot_utilization()              # a matplotlib Figure
    run.save("results/yanzhou-simulate")  # exactly what `tuoyu-sim simulate` writes

Keyword names are the command line's options (``--target-per-1000`` is
``target_per_1000``). Each function takes a :class:`~tuoyu_sim.scenario.Scenario`
or the path of a scenario file, validates everything before it starts, and
raises :class:`~tuoyu_sim.errors.UserError` (one line per problem) for bad
input. ``progress`` is ``False`` (silent), ``True`` (a progress bar on stderr)
or a callable ``(done, total)``.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tuoyu_sim.errors import UserError
from tuoyu_sim.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from tuoyu_sim.planning import Iteration
    from tuoyu_sim.runs import (
        AccessRun,
        OptimizationRun,
        PhasedRun,
        PlanRun,
        SimulationRun,
        SweepRun,
    )

Progress = bool | Callable[[int, int], None]
ScenarioLike = Scenario | str | Path
Years = Sequence[int] | str | bool | None
"""``"2026-2030"``, years, or ``True`` for the scenario's horizon."""

SOLVER: Literal["highs", "cbc"] = "highs"
"""The default solver (the allocation's ``DEFAULT_SOLVER``; a test holds them equal)."""
GAP = 0.001
"""The default relative gap (the allocation's ``DEFAULT_GAP``)."""


class SweepInterrupted(KeyboardInterrupt):
    """A sweep stopped by Ctrl-C: the finished points are kept in ``folder``."""

    def __init__(self, finished: int, total: int, folder: Path) -> None:
        super().__init__(f"{finished} of {total} points finished and kept in {folder}")
        self.finished = finished
        self.total = total
        self.folder = folder


def _scenario(scenario: ScenarioLike) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str | Path):
        return load_scenario(scenario)
    raise UserError(
        f"scenario: a Scenario or the path of a scenario file, not {type(scenario).__name__}"
    )


def _with_simulation(
    scenario: Scenario, replications: int | None, days: int | None, seed: int | None
) -> Scenario:
    changes = {
        f"simulation.{k}": v
        for k, v in (("replications", replications), ("days", days), ("seed", seed))
        if v is not None
    }
    return scenario.with_changes(changes) if changes else scenario


@contextlib.contextmanager
def _progress(progress: Progress, label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A ``done -> None`` callback: silent, a rich bar on stderr, or the caller's."""
    if callable(progress):
        yield lambda done: progress(done, total)
        return
    if not progress:
        yield lambda done: None
        return
    from tuoyu_sim.progress import progress_bar

    with progress_bar() as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done, refresh=True)


def _workers(workers: int | None) -> int:
    from tuoyu_sim.simulation import default_workers

    if workers is not None and workers < 1:
        raise UserError(f"workers = {workers}: at least 1")
    return workers or default_workers()


# -- simulate ---------------------------------------------------------------------


def simulate(
    scenario: ScenarioLike,
    *,
    replications: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    episodes: bool = False,
    progress: Progress = False,
) -> SimulationRun:
    """Simulate ordinary days at every facility.

    Parameters
    ----------
    scenario
        A scenario or the path of a scenario file.
    replications, days, seed
        Override the scenario's ``[simulation]`` (``None``: the scenario's).
    workers
        Processes (default: one per core); the results do not depend on it.
    episodes
        Also keep one row per child (table ``episodes``; memory grows with days).
    progress
        ``True`` for a progress bar on stderr, or a callable ``(done, total)``.

    Returns
    -------
    SimulationRun
        Tables (``facilities``, ``care_types``, ``daily``, ``curves``, …),
        ``summary``, figures and ``save(folder)``.
    """
    from tuoyu_sim.runs import SimulationRun
    from tuoyu_sim.simulation import build_model
    from tuoyu_sim.simulation import simulate as run_days

    sc = _with_simulation(_scenario(scenario), replications, days, seed)
    n_workers = _workers(workers)
    model = build_model(sc)
    started = time.perf_counter()
    label = f"simulating ({n_workers} worker{'s' if n_workers > 1 else ''})"
    with _progress(progress, label, sc.simulation.replications) as advance:
        result = run_days(sc, workers=n_workers, progress=advance, model=model, episodes=episodes)
    return SimulationRun(sc, result, time.perf_counter() - started)


# -- optimize ---------------------------------------------------------------------


def _options(
    objective: str,
    sites: int | None,
    budget: float | None,
    target_per_1000: float | None,
    radius_m: float | None,
    cover_every_community: bool,
    decay: str,
    beta: float | None,
    solver: str,
    time_limit: float | None,
    gap: float,
    threads: int,
) -> tuple[Any, Any]:
    from tuoyu_sim.allocate import OptimizeOptions, SolverSpec

    if objective != "min-cost" and target_per_1000 is not None:
        raise UserError(f"target_per_1000 = {target_per_1000}: applies to objective min-cost only")
    if objective != "max-coverage" and sites is not None:
        raise UserError(f"sites = {sites}: applies to objective max-coverage only")
    if objective == "cover-all" and budget is not None:
        raise UserError(f"budget = {budget}: applies to objective min-cost or max-coverage")
    opts = OptimizeOptions(
        objective=objective,  # type: ignore[arg-type]
        max_sites=sites,
        budget_cny=budget,
        target_per_1000=target_per_1000,
        radius_m=radius_m,
        decay=decay,  # type: ignore[arg-type]
        beta=beta,
        cover_every_community=cover_every_community,
    )
    spec = SolverSpec(solver, time_limit_s=time_limit, gap=gap, threads=threads)  # type: ignore[arg-type]
    return opts, spec


def optimize(
    scenario: ScenarioLike,
    *,
    objective: Literal["min-cost", "max-coverage", "cover-all"] = "min-cost",
    sites: int | None = None,
    budget: float | None = None,
    target_per_1000: float | None = None,
    radius_m: float | None = None,
    cover_every_community: bool = False,
    decay: Literal["auto", "off", "linear", "power", "exponential"] = "auto",
    beta: float | None = None,
    solver: Literal["highs", "cbc"] = SOLVER,
    time_limit: float | None = None,
    gap: float = GAP,
    threads: int = 1,
    cross_check: bool = False,
    years: Years = None,
    variant: str | None = None,
) -> OptimizationRun | PhasedRun:
    """Decide where to open sites and how many places and caregivers to add.

    Parameters
    ----------
    objective
        ``min-cost`` (the capacitated least-cost plan), ``max-coverage`` (most
        children within the radius with at most ``sites`` new sites) or
        ``cover-all`` (fewest new sites covering every community).
    sites, budget
        max-coverage: most new sites; most the plan may cost, yuan.
    target_per_1000, radius_m, decay, beta
        Override the scenario's targets and geography.
    cover_every_community
        min-cost: also put every community within the radius of a site.
    solver, gap, time_limit, threads
        ``highs`` (default) or ``cbc``; the relative gap at which the solver may
        stop (0.1%; 0 proves optimality); an outer wall-clock bound (a stopped
        solve is reported ``feasible``); solver threads.
    cross_check
        Solve again with the other solver and keep the better plan.
    years, variant
        A plan over several years (min-cost only): ``"2026-2030"``, a sequence of
        years, or ``True`` for the scenario's ``projection.horizon``; each year's
        demand from the projection under the births ``variant`` (default
        ``central``). Returns a :class:`~tuoyu_sim.runs.PhasedRun`.

    Returns
    -------
    OptimizationRun
        ``plan`` (the solver's plan), ``planned`` (the scenario with it
        applied), tables ``plan``/``sites``, ``assignment``, ``places_by_group``.
        With ``years``: a :class:`~tuoyu_sim.runs.PhasedRun` (tables ``phases``,
        ``years``, ``network``).
    """
    from tuoyu_sim.allocate import cross_check as check_with_other
    from tuoyu_sim.allocate import optimize as solve
    from tuoyu_sim.allocate import verify_plan
    from tuoyu_sim.runs import OptimizationRun

    sc = _scenario(scenario)
    if years is None and variant is not None:
        raise UserError(f"variant = {variant!r}: applies with years only")
    if years is not None and objective != "min-cost":
        raise UserError(f"years: a plan over several years is min-cost only, not {objective}")
    if years is not None and cross_check:
        raise UserError("cross_check: not with years (solve each solver's plan and compare)")
    opts, spec = _options(
        objective, sites, budget, target_per_1000, radius_m, cover_every_community,
        decay, beta, solver, time_limit, gap, threads,
    )  # fmt: skip
    if years is not None:
        return _optimize_years(sc, _years(sc, years), _variant(sc, variant), opts, spec)
    plan = solve(sc, opts, spec)
    check = None
    if cross_check:
        plan, check = check_with_other(sc, opts, spec, plan)
    problems = verify_plan(sc, plan)
    if problems:  # a bug, not a user error: fail loudly
        raise RuntimeError("the plan fails the independent check:\n" + "\n".join(problems))
    return OptimizationRun(sc, plan, radius_m=radius_m, decay=decay, beta=beta, check=check)


# -- plan -------------------------------------------------------------------------


def plan(
    scenario: ScenarioLike,
    *,
    target_per_1000: float | None = None,
    radius_m: float | None = None,
    cover_every_community: bool = False,
    budget: float | None = None,
    decay: Literal["auto", "off", "linear", "power", "exponential"] = "auto",
    beta: float | None = None,
    solver: Literal["highs", "cbc"] = SOLVER,
    time_limit: float | None = None,
    gap: float = GAP,
    threads: int = 1,
    cross_check: bool = False,
    replications: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    max_iterations: int = 8,
    on_iteration: Callable[[Iteration], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    years: Years = None,
    variant: str | None = None,
    on_year: Callable[[int, Iteration], None] | None = None,
    on_round: Callable[[int, Any], None] | None = None,
) -> PlanRun | PhasedRun:
    """Optimize (min-cost), verify by simulation, re-size by cause, until the plan holds
    twice (the second time with a fresh seed).

    Takes :func:`optimize`'s keywords (the objective is always min-cost) and
    :func:`simulate`'s. ``on_iteration`` is called after every pass with its
    :class:`~tuoyu_sim.planning.Iteration`; ``on_warning`` with a cross-check that
    disagrees.

    With ``years`` (as in :func:`optimize`) the loop runs for every year on that
    year's network (:func:`tuoyu_sim.planning.run_phased_plan`); ``on_year`` is
    called with (year, pass) after every pass and ``on_round`` with (round,
    phased plan) after every phased solve.

    Returns
    -------
    PlanRun
        ``converged``, ``final`` (the planned scenario), tables ``plan``/``sites``,
        ``iterations``, ``needs``, ``places_by_group`` and the final simulation's.
        With ``years``: a :class:`~tuoyu_sim.runs.PhasedRun`.
    """
    from tuoyu_sim.allocate import cross_check as check_with_other
    from tuoyu_sim.allocate import optimize as solve
    from tuoyu_sim.allocate import planned_scenario
    from tuoyu_sim.planning import run_plan
    from tuoyu_sim.runs import PlanRun
    from tuoyu_sim.stopping import StoppingRule

    if max_iterations < 2:
        raise UserError(f"max_iterations = {max_iterations}: at least 2 (a plan must hold twice)")
    sc = _with_simulation(_scenario(scenario), replications, days, seed)
    opts, spec = _options(
        "min-cost", None, budget, target_per_1000, radius_m, cover_every_community,
        decay, beta, solver, time_limit, gap, threads,
    )  # fmt: skip
    n_workers = _workers(workers)
    if years is None and variant is not None:
        raise UserError(f"variant = {variant!r}: applies with years only")
    if years is not None:
        if cross_check:
            raise UserError("cross_check: not with years (solve each solver's plan and compare)")
        return _plan_years(
            sc, _years(sc, years), _variant(sc, variant), opts, spec,
            workers=n_workers, max_iterations=max_iterations, on_year=on_year, on_round=on_round,
        )  # fmt: skip

    def optimize_fn(s: Scenario) -> Any:
        result = solve(s, opts, spec)
        if cross_check:
            result, check = check_with_other(s, opts, spec, result)
            if not check.agree and on_warning is not None:
                on_warning(f"cross-check: {check.message}")
        return result

    stopping = StoppingRule()
    started = time.perf_counter()
    outcome = run_plan(
        sc,
        optimize_fn,
        planned_scenario,
        workers=n_workers,
        max_iterations=max_iterations,
        report=on_iteration,
        stopping=stopping,
    )
    return PlanRun(sc, outcome, stopping, time.perf_counter() - started, target_per_1000)


# -- several years ----------------------------------------------------------------


def _years(scenario: Scenario, years: Years) -> tuple[int, ...]:
    """The years asked for, checked against the scenario's projection."""
    from tuoyu_sim.projection import horizon_years

    where = f"{scenario.source or scenario.name}"
    if scenario.projection is None:
        raise UserError(
            f"{where}: years: the scenario has no [projection] section; a plan over several "
            "years needs births by year (see scenarios/README.md, [projection])"
        )
    horizon = horizon_years(scenario)
    if years is True:
        chosen: tuple[int, ...] = horizon
    elif isinstance(years, str):
        import argparse

        from tuoyu_sim.argtypes import year_range

        try:
            chosen = year_range(years)
        except argparse.ArgumentTypeError as exc:
            raise UserError(f"years = {years!r}: {exc}") from None
    elif years is False or isinstance(years, bool):
        raise UserError("years = False: give years, True or None")
    else:
        try:
            chosen = tuple(sorted({int(y) for y in years}))
        except (TypeError, ValueError):
            raise UserError(f"years = {years!r}: whole years, e.g. range(2026, 2031)") from None
        if chosen and chosen != tuple(range(chosen[0], chosen[-1] + 1)):
            raise UserError(f"years = {list(chosen)}: consecutive years, e.g. 2026-2030")
    if not chosen:
        raise UserError("years: at least one year")
    if chosen[0] < horizon[0] or chosen[-1] > horizon[-1]:
        raise UserError(
            f"{where}: years = {chosen[0]}–{chosen[-1]}: within projection.horizon "
            f"({horizon[0]}–{horizon[-1]})"
        )
    return chosen


def _variant(scenario: Scenario, variant: str | None) -> str:
    from tuoyu_sim.projection import variants

    assert scenario.projection is not None  # _years said so first
    chosen = variant or scenario.projection.default_variant
    names = variants(scenario)
    if chosen not in names:
        raise UserError(
            f"{scenario.source or scenario.name}: variant = {chosen!r}: projection.births "
            f"names the variants {', '.join(names)}"
        )
    return chosen


def _per_1000(scenario: Scenario, years: Sequence[int], opts: Any) -> dict[int, float | None]:
    """The places-per-1,000 target of each year (``phasing.per_1000``, else the targets')."""
    from tuoyu_sim.allocate.phased import phasing_of

    if opts.target_per_1000 is not None:
        return dict.fromkeys(years, opts.target_per_1000)
    ph = phasing_of(scenario)
    return {y: ph.per_1000_in(y, scenario.targets.places_per_1000) for y in years}


def _optimize_years(
    sc: Scenario, years: tuple[int, ...], variant: str, opts: Any, spec: Any
) -> PhasedRun:
    from tuoyu_sim.allocate import planned_scenario
    from tuoyu_sim.allocate.phased import optimize_phased
    from tuoyu_sim.planning import PhasedOutcome
    from tuoyu_sim.projection import scenario_for_year
    from tuoyu_sim.runs import PhasedRun

    started = time.perf_counter()
    phased = optimize_phased(sc, years, opts, spec, variant=variant)
    outcome = PhasedOutcome(scenario=sc, years=years, variant=variant, phased=phased)
    outcome.first_phased = phased
    outcome.networks = {
        y: planned_scenario(phased.plans[y], scenario_for_year(sc, y, variant)) for y in years
    }
    return PhasedRun(
        sc, outcome, time.perf_counter() - started,
        command="optimize", per_1000=_per_1000(sc, years, opts),
    )  # fmt: skip


def _plan_years(
    sc: Scenario,
    years: tuple[int, ...],
    variant: str,
    opts: Any,
    spec: Any,
    *,
    workers: int,
    max_iterations: int,
    on_year: Callable[[int, Iteration], None] | None,
    on_round: Callable[[int, Any], None] | None,
) -> PhasedRun:
    from tuoyu_sim.allocate.phased import optimize_phased
    from tuoyu_sim.planning import run_phased_plan
    from tuoyu_sim.runs import PhasedRun
    from tuoyu_sim.stopping import StoppingRule

    started = time.perf_counter()
    outcome = run_phased_plan(
        sc,
        years,
        variant,
        lambda floors: optimize_phased(sc, years, opts, spec, variant=variant, floors=floors),
        workers=workers,
        max_iterations=max_iterations,
        report=on_year,
        on_round=on_round,
        stopping=StoppingRule(),
    )
    return PhasedRun(
        sc, outcome, time.perf_counter() - started,
        command="plan", per_1000=_per_1000(sc, years, opts),
    )  # fmt: skip


# -- sweep ------------------------------------------------------------------------


def _axes(grid: Sequence[str] | Mapping[str, Sequence[Any]]) -> list[Any]:
    from tuoyu_sim.sweeps import parse_grid

    if isinstance(grid, str):
        return parse_grid([grid])
    if isinstance(grid, Mapping):
        texts = []
        for key, values in grid.items():
            if isinstance(values, str) or not isinstance(values, Sequence) or not values:
                raise UserError(f"grid[{key!r}]: a non-empty list of values, not {values!r}")
            # the same parsing and checks as the command line's --set KEY=V1,V2,...
            texts.append(f"{key}={','.join(json.dumps(v, ensure_ascii=False) for v in values)}")
        if not texts:
            raise UserError("grid: at least one axis, e.g. {'targets.max_turn_away': [0.05, 0.1]}")
        return parse_grid(texts)
    return parse_grid(list(grid))


def sweep(
    scenario: ScenarioLike,
    grid: Sequence[str] | Mapping[str, Sequence[Any]],
    *,
    replications: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    dask: str | None = None,
    out: str | Path | None = None,
    optimize: bool = False,
    solver: Literal["highs", "cbc"] = SOLVER,
    gap: float = GAP,
    years: Years = None,
    progress: Progress = False,
) -> SweepRun:
    """A what-if grid over scenario keys, each point simulated (optionally optimized first).

    Parameters
    ----------
    grid
        ``["KEY=V1,V2,...", ...]`` as on the command line (``--set``), or
        ``{"KEY": [V1, V2, ...]}``; the points are the cartesian product.
    workers, dask
        Local processes (default one per core), or the address of a Dask
        scheduler (``tcp://host:8786``); they exclude each other.
    out
        Stream each finished point to this folder (``points/<id>.json``,
        ``sweep.csv``) and resume from it: finished points are not recomputed.
        ``None``: a temporary folder, removed after; call ``save`` to keep.
    optimize, solver, gap
        Optimize each point first (min-cost), then simulate the planned scenario.
    years
        Each point over several years (as in :func:`optimize`): every year's
        network simulated under that year's demand (births variant
        ``projection.variant``, which the grid may set); with ``optimize``, the
        phased plan's networks, else today's network held. ``sweep.csv`` has
        the last year's figures, each year's with the year as a suffix
        (``utilization_2027``) and, optimized, the plan's present cost.

    Raises
    ------
    SweepInterrupted
        Ctrl-C: the finished points are kept in ``out`` (and ``summary.json``
        says how many).
    """
    from tuoyu_sim.runs import SweepRun
    from tuoyu_sim.sweeps import (
        SweepProgress,
        SweepSolver,
        dask_client,
        dask_results,
        expand_grid,
        load_finished,
        local_results,
        run_sweep,
        sweep_summary,
    )

    if dask and workers:
        raise UserError("workers and dask exclude each other (Dask workers are its own)")
    base = _with_simulation(_scenario(scenario), replications, days, seed)
    axes = _axes(grid)
    chosen = SweepSolver(solver, gap)
    horizon = _years(base, years) if years is not None else ()
    points = expand_grid(base, axes, optimize=optimize, solver=chosen, years=horizon)
    if optimize:
        try:
            import tuoyu_sim.allocate  # noqa: F401
        except ImportError as exc:
            raise UserError(f"optimize is not available: the allocation models ({exc})") from None

    if dask:
        client = dask_client(dask)
        backend = f"dask {dask}"

        def results(tasks: Sequence[Any]) -> Any:
            return dask_results(tasks, client)

    else:
        client = None
        n = _workers(workers)
        backend = f"local {n} worker{'s' if n > 1 else ''}"

        def results(tasks: Sequence[Any]) -> Any:
            return local_results(tasks, n)

    def summary(run: SweepProgress | None, complete: bool) -> dict[str, Any]:
        return sweep_summary(
            base, axes, points, run, optimize=optimize, backend=backend,
            complete=complete, solver=chosen, years=horizon,
        )  # fmt: skip

    from tuoyu_sim.output import prepare_out_dir, write_json, write_scenario

    with contextlib.ExitStack() as stack:
        if client is not None:
            stack.callback(client.close)
        folder = (
            Path(out)
            if out is not None
            else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        )
        # Everything is checked; from here on, files are written.
        prepare_out_dir(folder)
        write_scenario(folder / "scenario.toml", base)
        write_json(folder / "summary.json", summary(None, False))
        started = time.perf_counter()
        computed: list[str] = []
        where = f"on Dask at {dask}" if dask else f"on {backend.removeprefix('local ')}"
        try:
            with _progress(progress, f"sweeping {where}", len(points)) as advance:
                done = [0]

                def on_start(finished: int, todo: int) -> None:
                    done[0] = finished
                    advance(finished)

                def on_point(record: dict[str, Any]) -> None:
                    computed.append(record["id"])
                    done[0] += 1
                    advance(done[0])

                run = run_sweep(
                    points, axes, folder, results, optimize=optimize, solver=chosen,
                    years=horizon, on_start=on_start, on_point=on_point,
                )  # fmt: skip
        except KeyboardInterrupt:
            finished = load_finished(folder, points)
            partial = SweepProgress(
                records=finished,
                resumed=[i for i in finished if i not in computed],
                computed=computed,
                seconds=time.perf_counter() - started,
            )
            write_json(folder / "summary.json", summary(partial, False))
            raise SweepInterrupted(len(finished), len(points), folder) from None
        record = summary(run, True)
        return SweepRun(base, axes, points, run, record, folder if out is not None else None)


# -- access -----------------------------------------------------------------------


def access(scenario: ScenarioLike, *, planned: ScenarioLike | None = None) -> AccessRun:
    """Accessibility and care deserts by age class: Gaussian 2SFCA, enhanced 2SFCA, CAP rule.

    Parameters
    ----------
    scenario
        A scenario or the path of a scenario file; its ``[access]`` gives the
        catchment, the weights and the desert thresholds (defaults in
        ``scenarios/README.md``).
    planned
        A planned scenario (``scenario.planned.toml`` of ``optimize`` or
        ``plan``, or ``OptimizationRun.planned``), measured with the scenario's
        ``[access]`` settings for a before/after comparison. Its communities and
        age classes must be the scenario's.

    Returns
    -------
    AccessRun
        Tables ``access`` (per community, per class), ``by_class`` (deserts per
        class) and with a plan ``access_planned``; ``summary``; a map per
        scenario and the deserts before and after as figures; ``save(folder)``.
    """
    from tuoyu_sim.accessibility import measure, settings
    from tuoyu_sim.runs import AccessRun

    sc = _scenario(scenario)
    after = _scenario(planned) if planned is not None else None
    if after is not None:
        _same_district(sc, after)
    spec = settings(sc)
    result = measure(sc, spec)
    after_result = measure(after, spec) if after is not None else None
    return AccessRun(sc, result, after, after_result)


def _same_district(before: Scenario, after: Scenario) -> None:
    """A plan is compared with its own district: the same communities and age classes."""

    def some(ids: list[str]) -> str:
        return ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")

    problems = []
    ids_before = [c.id for c in before.communities]
    ids_after = [c.id for c in after.communities]
    if ids_before != ids_after:
        missing = [i for i in ids_before if i not in set(ids_after)]
        extra = [i for i in ids_after if i not in set(ids_before)]
        parts = [f"missing {some(missing)}"] if missing else []
        parts += [f"not in the scenario: {some(extra)}"] if extra else []
        what = "; ".join(parts) or "the same ids in another order"
        problems.append(f"planned: its communities are not the scenario's ({what})")
    if list(before.age_groups) != list(after.age_groups):
        problems.append(
            f"planned: its age classes ({', '.join(after.age_groups)}) are not the "
            f"scenario's ({', '.join(before.age_groups)})"
        )
    if problems:
        raise UserError(problems)
