"""Throughput of ``tuoyu-sim simulate`` against Ciw and a hand-tuned SimPy loop.

A script that prints figures, never a test that asserts a time. Everything is
measured in one run, so the *ratios* are what to read: on a shared or noisy
machine the absolute seconds move, the ratios much less.

The benchmark case is a single facility with one drop-in care type: an Erlang
loss system M/M/c/c (``c`` places, Poisson arrivals, exponential stays, nobody
waits). It is derived from ``scenarios/minimal.toml`` in a temporary folder:
the enrolled ``full_day`` type is dropped, the places, the arrivals per day,
the days and the replications are set, and enough caregivers are put on shift
that the staff ratio never binds (so only places turn children away).

Three engines simulate the *same* day model — every day starts empty at
opening, arrivals come as a Poisson process over the open hours, and a stay
is cut at closing:

1. ``tuoyu-sim simulate`` as a whole process (``--workers 1 --quiet
   --no-figures``): wall clock from launch to exit, including interpreter
   start-up, imports, statistics and writing the results folder;
2. Ciw, one ``ciw.Simulation`` per day with ``queue_capacities=[0]``, timing
   ``simulate_until_max_time`` only (the faster of that and one long
   continuous Ciw run is used, so the ratio is conservative);
3. a hand-tuned SimPy loop: arrivals as chained ``env.timeout`` callbacks,
   departures as timeout callbacks, a busy counter; random numbers drawn per
   day with NumPy.

The three simulate the same simulated time (days x open minutes). Blocking
probability is checked against each other and against the exact expected
blocking of the day model (the M/M/c/c chain started empty, integrated over
the open day); Erlang B, the steady-state value, is printed too and is
higher (0.095 against 0.064 in the default case) because each day starts empty.

Also measured: events per second on the Yanzhou scenario (SimPy events
scheduled, counted per day from the environment's event counter) and the
speed-up of ``--workers 2`` over ``--workers 1`` (wall clock of the process).

Run from the project root::

    .venv/bin/python benchmarks/bench_simulate.py           # full, ~90 CPU s
    .venv/bin/python benchmarks/bench_simulate.py --quick   # a few seconds

Needs ``ciw`` (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import simpy
import tomli_w

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = ROOT / "scenarios" / "minimal.toml"
YANZHOU = ROOT / "scenarios" / "yanzhou.toml"

TARGET_X_CIW = 5.0
"""tuoyu-sim must reach at least this many times Ciw's arrivals per second."""
AIM_X_CIW = 10.0
"""What we aim for (reported, not a pass condition)."""
TARGET_SHARE_HAND = 0.40
"""tuoyu-sim must reach at least this share of the hand-tuned loop's rate."""
AGREE_Z = 4.0
"""Blocking estimates agree with the exact value within this many standard errors."""


# -- settings --------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    places: int
    arrivals_per_day: float
    mean_stay_hours: float
    days: int
    replications: int
    seed: int
    yanzhou_days: int
    yanzhou_replications: int
    repeat: int
    quick: bool
    command: tuple[str, ...]
    """How to start tuoyu-sim (the console script next to this Python by default)."""

    @property
    def total_days(self) -> int:
        return self.days * self.replications


FULL = dict(days=1000, replications=20, yanzhou_days=2, yanzhou_replications=10)
QUICK = dict(days=50, replications=2, yanzhou_days=1, yanzhou_replications=2)


def parse_args(argv: Sequence[str] | None) -> Settings:
    p = argparse.ArgumentParser(
        description="Arrivals/s of tuoyu-sim simulate vs Ciw vs a hand-tuned SimPy loop."
    )
    p.add_argument("--quick", action="store_true", help="a few seconds in all (for tests)")
    p.add_argument("--places", type=int, default=20, help="places c (default 20)")
    p.add_argument(
        "--arrivals-per-day", type=float, default=100.0, help="expected walk-ins per day (100)"
    )
    p.add_argument("--mean-stay-hours", type=float, default=2.0, help="mean stay (2.0 h)")
    p.add_argument("--days", type=int, help="days per replication (full 1000, quick 50)")
    p.add_argument("--replications", type=int, help="replications (full 20, quick 2)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--yanzhou-days", type=int, help="Yanzhou days (full 2, quick 1)")
    p.add_argument(
        "--yanzhou-replications", type=int, help="Yanzhou replications (full 10, quick 2)"
    )
    p.add_argument(
        "--repeat", type=int, default=1, help="time each engine this many times, keep the best"
    )
    p.add_argument(
        "--tuoyu-command",
        help="how to start tuoyu-sim, e.g. 'python -m tuoyu_sim' (default: the console "
        "script next to this Python); to time another checkout or a patched copy",
    )
    a = p.parse_args(argv)
    base = QUICK if a.quick else FULL
    return Settings(
        places=a.places,
        arrivals_per_day=a.arrivals_per_day,
        mean_stay_hours=a.mean_stay_hours,
        days=a.days or base["days"],
        replications=a.replications or base["replications"],
        seed=a.seed,
        yanzhou_days=a.yanzhou_days or base["yanzhou_days"],
        yanzhou_replications=a.yanzhou_replications or base["yanzhou_replications"],
        repeat=max(1, a.repeat),
        quick=a.quick,
        command=tuple(shlex.split(a.tuoyu_command)) if a.tuoyu_command else tuple(tuoyu_command()),
    )


# -- the benchmark scenario --------------------------------------------------------


def loss_scenario(settings: Settings, days: int, replications: int) -> dict[str, Any]:
    """``scenarios/minimal.toml`` turned into a pure M/M/c/c drop-in room."""
    with MINIMAL.open("rb") as fh:
        sc = tomllib.load(fh)
    sc["name"] = f"Benchmark: one drop-in room, M/M/{settings.places}/{settings.places}"
    sc["simulation"].update(days=days, replications=replications, seed=settings.seed)
    sc["care_types"] = {
        "drop_in": {
            "mode": "walk_in",
            "window": [sc["simulation"]["open"], sc["simulation"]["close"]],
            "profile": "flat",
            "stay": {"dist": "exponential", "mean_hours": settings.mean_stay_hours},
            "redirect": False,
        }
    }
    sc["staff"]["absence_probability"] = 0.0
    age = next(iter(sc["age_groups"]))  # one age class: the first of minimal.toml's
    sc["age_groups"] = {age: sc["age_groups"][age]}
    ratio = sc["age_groups"][age]["ratio"]
    sc["age_groups"][age]["class_size"] = max(sc["age_groups"][age]["class_size"], settings.places)
    per_child = 0.1
    children = settings.arrivals_per_day / per_child
    community = sc["communities"][0]
    sc["communities"] = [community]
    community["children_under3"] = children
    community["population"] = max(community["population"], math.ceil(20 * children))
    community["age_mix"] = {age: 1.0}
    community["demand"] = {"drop_in": per_child}
    facility = sc["facilities"][0]
    sc["facilities"] = [facility]
    facility["places"] = {age: settings.places}
    # enough caregivers that the ratio never binds: only places turn children away
    facility["staff"] = {"teacher": math.ceil(settings.places / ratio), "nursery": 1, "health": 0}
    facility["area_m2"] = max(facility["area_m2"], 10.0 * settings.places)
    return sc


def open_minutes(sc: dict[str, Any]) -> tuple[float, float]:
    def minutes(text: str) -> float:
        h, m = text.split(":")
        return 60.0 * int(h) + int(m)

    return minutes(sc["simulation"]["open"]), minutes(sc["simulation"]["close"])


# -- theory ------------------------------------------------------------------------


def day_blocking(c: int, lam_per_min: float, mean_stay_min: float, span_min: float) -> float:
    """Expected share of a day's arrivals blocked, the M/M/c/c chain starting empty.

    ``(1/T) * integral_0^T P(all c busy at t) dt``, from the matrix exponential
    of the generator augmented with an integrator block.
    """
    from scipy.linalg import expm

    n = c + 1
    q = np.zeros((n, n))
    mu = 1.0 / mean_stay_min
    for k in range(n):
        if k < c:
            q[k, k + 1] = lam_per_min
        if k > 0:
            q[k, k - 1] = k * mu
        q[k, k] = -q[k].sum()
    m = np.zeros((2 * n, 2 * n))
    m[:n, :n] = q
    m[:n, n:] = np.eye(n)
    integral = expm(m * span_min)[:n, n:]
    return float(integral[0, c] / span_min)


@dataclass
class Blocking:
    arrivals: int
    blocked: int
    se: float
    """Standard error of the blocking share (from batches)."""

    @property
    def share(self) -> float:
        return self.blocked / self.arrivals if self.arrivals else float("nan")


def batched(arrivals: np.ndarray, blocked: np.ndarray, batches: int = 20) -> Blocking:
    """Pooled blocking share and its standard error from per-day counts."""
    a_tot, b_tot = int(arrivals.sum()), int(blocked.sum())
    k = min(batches, arrivals.size)
    a_b = np.array([x.sum() for x in np.array_split(arrivals, k)], dtype=float)
    b_b = np.array([x.sum() for x in np.array_split(blocked, k)], dtype=float)
    se = float(np.std(b_b / a_b, ddof=1) / math.sqrt(k)) if k > 1 else float("nan")
    return Blocking(a_tot, b_tot, se)


# -- engines -----------------------------------------------------------------------


@dataclass
class Timed:
    name: str
    arrivals: int
    seconds: float
    """Wall clock."""
    cpu_seconds: float
    """CPU time (user + system) of the work, less sensitive to other jobs."""
    blocking: Blocking | None = None
    note: str = ""

    @property
    def rate(self) -> float:
        return self.arrivals / self.seconds

    @property
    def cpu_rate(self) -> float:
        return self.arrivals / self.cpu_seconds


def shown(words: Sequence[str]) -> str:
    """A command as a reader runs it from the project folder (paths inside it made relative)."""
    out = []
    for w in words:
        path = Path(w)
        if path.is_absolute() and path.is_relative_to(ROOT):
            w = str(path.relative_to(ROOT))
        out.append(w)
    return " ".join(out)


def tuoyu_command() -> list[str]:
    script = Path(sys.executable).with_name("tuoyu-sim")
    if script.exists():
        return [str(script)]
    found = shutil.which("tuoyu-sim")
    return [found] if found else [sys.executable, "-m", "tuoyu_sim"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_process(args: list[str]) -> tuple[float, float]:
    """Wall clock and CPU time of a subprocess (and its workers), launch to exit."""
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(args)}\n{done.stderr}")
    return seconds, _children_cpu() - cpu


def bench_tuoyu_process(scenario_file: Path, out: Path, settings: Settings) -> tuple[Timed, str]:
    args = [
        *settings.command,
        "simulate",
        str(scenario_file),
        "--replications",
        str(settings.replications),
        "--days",
        str(settings.days),
        "--workers",
        "1",
        "--out",
        str(out),
        "--quiet",
        "--no-figures",
    ]
    seconds, cpu = min(run_process(args) for _ in range(settings.repeat))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    ct = summary["care_types"]["drop_in"]
    # standard error from the replications' 95% interval of the turn-away rate
    ci = summary["care_types"]["drop_in"]["turn_away_rate"].get("ci95") or [math.nan, math.nan]
    n = settings.replications
    t975 = _t975(n - 1)
    se = (ci[1] - ci[0]) / (2.0 * t975) if n > 1 else math.nan
    blocking = Blocking(int(ct["arrivals"]), int(ct["turned_away"]), se)
    timed = Timed(
        "tuoyu-sim simulate (whole process)",
        blocking.arrivals,
        seconds,
        cpu,
        blocking,
        note="engine only (the CLI's own run_seconds): "
        f"{blocking.arrivals / summary['run_seconds']:,.0f}/s",
    )
    return timed, " ".join(args)


def _t975(dof: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, dof)) if dof > 0 else math.nan


def bench_tuoyu_engine(scenario_file: Path, settings: Settings) -> Timed:
    """``run_replication`` in this process, one replication (diagnostic)."""
    from tuoyu_sim.scenario import load_scenario
    from tuoyu_sim.simulation import build_model, run_replication

    sc = load_scenario(scenario_file).with_changes({"simulation.replications": 1})
    model = build_model(sc)
    best = (math.inf, math.inf)
    arrivals = 0
    for _ in range(settings.repeat):
        started, cpu = time.perf_counter(), time.process_time()
        res = run_replication(model, 0)
        best = min(best, (time.perf_counter() - started, time.process_time() - cpu))
        arrivals = int(res.counts[..., 0].sum())
    return Timed("tuoyu-sim run_replication (in process)", arrivals, *best)


def bench_ciw(
    c: int, lam_per_min: float, mean_stay_min: float, span_min: float, days: int, seed: int
) -> tuple[Timed, Timed]:
    """Ciw, one Simulation per day (timed: simulate_until_max_time) and one long run."""
    import ciw

    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=lam_per_min)],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / mean_stay_min)],
        number_of_servers=[c],
        queue_capacities=[0],
    )
    ciw.seed(seed)
    arrivals = np.zeros(days, dtype=np.int64)
    blocked = np.zeros(days, dtype=np.int64)
    seconds = cpu = 0.0
    for d in range(days):
        sim = ciw.Simulation(network)
        started, cpu_started = time.perf_counter(), time.process_time()
        sim.simulate_until_max_time(span_min)
        seconds += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        node = sim.nodes[0]
        arrivals[d] = node.number_of_individuals
        blocked[d] = node.number_of_individuals - node.number_accepted_individuals
    per_day = Timed(
        "Ciw, a Simulation per day", int(arrivals.sum()), seconds, cpu, batched(arrivals, blocked)
    )
    # one long run over a fifth of the simulated time: Ciw's best case (steady state)
    sim = ciw.Simulation(network)
    started, cpu_started = time.perf_counter(), time.process_time()
    sim.simulate_until_max_time(span_min * max(1, days // 5))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    long_run = Timed("Ciw, one long run", sim.nodes[0].number_of_individuals, seconds, cpu)
    return per_day, long_run


def _hand_day(
    env: simpy.Environment, gaps: list[float], stays: list[float], c: int, close_min: float
) -> int:
    """One day of the hand-tuned loop; returns the arrivals blocked."""
    n = len(gaps)
    timeout = env.timeout
    busy = 0
    i = 0
    blocked = 0

    def leave(_event: simpy.Event) -> None:
        nonlocal busy
        busy -= 1

    def arrive(_event: simpy.Event) -> None:
        nonlocal busy, i, blocked
        if busy < c:
            busy += 1
            stay = stays[i]
            left = close_min - env._now  # hand-tuned: SimPy's clock read directly
            timeout(stay if stay < left else left).callbacks.append(leave)
        else:
            blocked += 1
        i += 1
        if i < n:
            timeout(gaps[i]).callbacks.append(arrive)

    if n:
        timeout(gaps[0]).callbacks.append(arrive)
    env.run()
    return blocked


def bench_hand_simpy(
    c: int,
    lam_per_min: float,
    mean_stay_min: float,
    open_min: float,
    close_min: float,
    days: int,
    seed: int,
) -> Timed:
    """The fastest honest pure-SimPy M/M/c/c day loop we could write.

    Per day: the Poisson count and sorted uniform arrival times, and the
    exponential stays, drawn with NumPy; then a fresh environment in which
    arrivals are chained timeouts and departures are timeouts, both with
    callbacks, and the state is one busy counter. Stays are cut at closing, as
    in tuoyu-sim.
    """
    rng = np.random.default_rng(seed)
    span = close_min - open_min
    arrivals = np.zeros(days, dtype=np.int64)
    blocked = np.zeros(days, dtype=np.int64)
    Environment = simpy.Environment
    started, cpu_started = time.perf_counter(), time.process_time()
    for d in range(days):
        n = int(rng.poisson(lam_per_min * span))
        times = open_min + span * rng.random(n)
        times.sort()
        gaps = np.diff(times, prepend=open_min).tolist()
        stays = rng.exponential(mean_stay_min, n).tolist()
        arrivals[d] = n
        blocked[d] = _hand_day(Environment(initial_time=open_min), gaps, stays, c, close_min)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return Timed(
        "hand-tuned SimPy loop", int(arrivals.sum()), seconds, cpu, batched(arrivals, blocked)
    )


def best_of(repeat: int, run: Callable[[], Timed]) -> Timed:
    runs = [run() for _ in range(repeat)]
    return min(runs, key=lambda t: t.seconds)


# -- Yanzhou: events per second and workers ---------------------------------------------


@dataclass
class EventCount:
    events: int = 0
    days: int = 0


def count_events(
    scenario_file: Path, days: int, replications: int
) -> tuple[EventCount, float, float, int]:
    """SimPy events of a workers=1 run in this process, and its engine seconds.

    Counts, per simulated day and facility set, the events the environment
    scheduled (its event-id counter); ``run()`` without ``until`` empties the
    queue, so every scheduled event was processed.
    """
    from tuoyu_sim._simpy import events_scheduled
    from tuoyu_sim.scenario import load_scenario
    from tuoyu_sim.simulation import build_model, simulate

    sc = load_scenario(scenario_file).with_changes(
        {"simulation.days": days, "simulation.replications": replications}
    )
    count = EventCount()
    original = simpy.Environment.run

    def counting_run(self: simpy.Environment, until: Any = None) -> Any:
        result = original(self, until)
        count.events += events_scheduled(self)
        count.days += 1
        return result

    simpy.Environment.run = counting_run  # type: ignore[method-assign]
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        result = simulate(sc, workers=1, model=build_model(sc))
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    finally:
        simpy.Environment.run = original  # type: ignore[method-assign]
    arrivals = int(sum(int(r.counts[..., 0].sum()) for r in result.replications))
    return count, seconds, cpu, arrivals


def bench_workers(
    command: Sequence[str], scenario_file: Path, days: int, replications: int, out: Path
) -> dict[int, tuple[float, float]]:
    seconds = {}
    for workers in (1, 2):
        args = [
            *command,
            "simulate",
            str(scenario_file),
            "--replications",
            str(replications),
            "--days",
            str(days),
            "--workers",
            str(workers),
            "--out",
            str(out / f"w{workers}"),
            "--quiet",
            "--no-figures",
        ]
        seconds[workers] = run_process(args)
    return seconds


# -- report ----------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    return (
        f"{cores} cores, {cpu}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; load average {load:.2f} at start"
    )


def versions() -> str:
    import importlib.metadata as md

    out = []
    for name in ("tuoyu-sim", "simpy", "ciw", "numpy"):
        try:
            out.append(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            out.append(f"{name} (not installed)")
    return ", ".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)
    try:
        import ciw  # noqa: F401
    except ModuleNotFoundError:
        print("ciw is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2

    print(f"machine : {machine()}")
    print(f"versions: {versions()}")
    print(f"command : {shown([sys.executable, *sys.argv])}")
    with tempfile.TemporaryDirectory(prefix="tuoyu-bench-") as tmp_text:
        tmp = Path(tmp_text)
        sc = loss_scenario(settings, settings.days, settings.replications)
        scenario_file = tmp / "loss.toml"
        scenario_file.write_text(tomli_w.dumps(sc), encoding="utf-8")
        open_min, close_min = open_minutes(sc)
        span = close_min - open_min
        c = settings.places
        lam = settings.arrivals_per_day / span
        stay = 60.0 * settings.mean_stay_hours
        load = lam * stay
        days = settings.total_days
        print()
        print(
            f"case    : M/M/{c}/{c}, {settings.arrivals_per_day:g} arrivals/day over "
            f"{span:g} min ({lam:.4f}/min), mean stay {stay:g} min, "
            f"offered load {load:.2f} erlangs"
        )
        print(
            f"          {settings.replications} replications x {settings.days} days = "
            f"{days} days simulated by each engine; repeat {settings.repeat}"
        )

        tuoyu, command = bench_tuoyu_process(scenario_file, tmp / "out", settings)
        print(f"tuoyu   : {shown(command.split())}")
        engine = bench_tuoyu_engine(scenario_file, settings)
        ciw_runs = [
            bench_ciw(c, lam, stay, span, days, settings.seed) for _ in range(settings.repeat)
        ]
        ciw_day = min((r[0] for r in ciw_runs), key=lambda t: t.seconds)
        ciw_long = min((r[1] for r in ciw_runs), key=lambda t: t.seconds)
        hand = best_of(
            settings.repeat,
            lambda: bench_hand_simpy(c, lam, stay, open_min, close_min, days, settings.seed),
        )

        print()
        print(
            f"{'engine':<40} {'arrivals':>10} {'wall s':>8} {'arrivals/s':>11}"
            f" {'CPU s':>8} {'per CPU s':>11}"
        )
        for t in (tuoyu, engine, ciw_day, ciw_long, hand):
            print(
                f"{t.name:<40} {t.arrivals:>10,} {t.seconds:>8.3f} {t.rate:>11,.0f}"
                f" {t.cpu_seconds:>8.3f} {t.cpu_rate:>11,.0f}"
            )
        print(f"  ({tuoyu.note})")

        ciw_rate = max(ciw_day.rate, ciw_long.rate)
        ciw_cpu_rate = max(ciw_day.cpu_rate, ciw_long.cpu_rate)
        x_ciw = tuoyu.rate / ciw_rate
        share_hand = tuoyu.rate / hand.rate
        print()
        print("ratios (whole tuoyu-sim process; Ciw at its faster of per-day and long run)")
        print(f"{'':<32} {'wall clock':>10} {'CPU time':>10}")
        rows = [
            ("tuoyu-sim / Ciw", x_ciw, tuoyu.cpu_rate / ciw_cpu_rate, "x"),
            ("tuoyu-sim / hand-tuned SimPy", share_hand, tuoyu.cpu_rate / hand.cpu_rate, "%"),
            ("engine only / Ciw", engine.rate / ciw_rate, engine.cpu_rate / ciw_cpu_rate, "x"),
            (
                "engine only / hand-tuned",
                engine.rate / hand.rate,
                engine.cpu_rate / hand.cpu_rate,
                "%",
            ),
            ("hand-tuned / Ciw", hand.rate / ciw_rate, hand.cpu_rate / ciw_cpu_rate, "x"),
        ]
        for label, wall, cpu, unit in rows:
            if unit == "x":
                print(f"  {label:<30} {wall:>9.2f}x {cpu:>9.2f}x")
            else:
                print(f"  {label:<30} {wall:>10.1%} {cpu:>10.1%}")
        print(
            f"  targets: tuoyu-sim >= {TARGET_X_CIW:g} x Ciw (aim {AIM_X_CIW:g} x), "
            f">= {TARGET_SHARE_HAND:.0%} of hand-tuned; judged on wall clock"
        )

        from tuoyu_sim.queueing import erlang_b

        exact = day_blocking(c, lam, stay, span)
        print()
        print("blocking probability (share of arrivals turned away)")
        print(f"  Erlang B({c}, {load:.3f}) steady state  = {erlang_b(c, load):.5f}")
        print(f"  exact for the day model (starts empty) = {exact:.5f}")
        agree = True
        for t in (tuoyu, ciw_day, hand):
            assert t.blocking is not None
            b = t.blocking
            z = (b.share - exact) / b.se if b.se > 0 else math.inf
            ok = abs(z) <= AGREE_Z
            agree &= ok
            print(
                f"  {t.name:<38} = {b.share:.5f} +- {1.96 * b.se:.5f} (95%)  "
                f"z = {z:+.2f} {'ok' if ok else 'DISAGREES'}"
            )
        print(
            f"  AGREE: {'yes' if agree else 'NO'} "
            f"(each within {AGREE_Z:g} standard errors of exact)"
        )

        passed = x_ciw >= TARGET_X_CIW and share_hand >= TARGET_SHARE_HAND
        cpu_passed = (
            tuoyu.cpu_rate / ciw_cpu_rate >= TARGET_X_CIW
            and tuoyu.cpu_rate / hand.cpu_rate >= TARGET_SHARE_HAND
        )
        print()
        print(
            f"{'PASS' if passed else 'FAIL'}: tuoyu-sim = {x_ciw:.2f} x Ciw "
            f"({'>=' if x_ciw >= TARGET_X_CIW else '<'} {TARGET_X_CIW:g}), "
            f"{share_hand:.1%} of hand-tuned SimPy "
            f"({'>=' if share_hand >= TARGET_SHARE_HAND else '<'} {TARGET_SHARE_HAND:.0%}); "
            f"aim {AIM_X_CIW:g} x Ciw {'reached' if x_ciw >= AIM_X_CIW else 'not reached'}"
        )
        print(f"(on CPU time the same targets would {'PASS' if cpu_passed else 'FAIL'})")
        if settings.quick:
            print(
                "(--quick: too few arrivals to amortise process start-up; "
                "a smoke test, not a measurement)"
            )

        # -- Yanzhou -------------------------------------------------------------
        print()
        if YANZHOU.exists():
            yz, yz_note = YANZHOU, ""
        else:
            yz = max(ROOT.glob("scenarios/**/*.toml"), key=lambda p: p.stat().st_size)
            yz_note = f" (scenarios/yanzhou.toml missing; using the biggest scenario, {yz.name})"
        yd, yr = settings.yanzhou_days, settings.yanzhou_replications
        print(f"Yanzhou : {yz.relative_to(ROOT)}{yz_note}, {yr} replications x {yd} days")
        count, engine_s, engine_cpu, yz_arrivals = count_events(yz, yd, yr)
        print(
            f"  SimPy events: {count.events:,} in {count.days} simulated days "
            f"({yz_arrivals:,} arrivals; events = arrivals + departures + shift changes)"
        )
        print(
            f"  events/s, engine (simulate(), workers 1, in process) = "
            f"{count.events / engine_s:,.0f} wall, {count.events / engine_cpu:,.0f} per CPU s"
        )
        if settings.quick:
            print("  whole-process rate and --workers 1 vs 2: skipped with --quick")
            return 0
        walls = bench_workers(settings.command, yz, yd, yr, tmp / "yz")
        print(
            f"  events/s, whole process, --workers 1                 = "
            f"{count.events / walls[1][0]:,.0f} wall, {count.events / walls[1][1]:,.0f} per CPU s"
        )
        print(
            f"  wall clock --workers 1 = {walls[1][0]:.2f} s, --workers 2 = {walls[2][0]:.2f} s, "
            f"speed-up {walls[1][0] / walls[2][0]:.2f} x "
            f"(CPU s: {walls[1][1]:.2f} and {walls[2][1]:.2f})"
        )
        print(
            f"  command: {shown(settings.command)} simulate {yz.relative_to(ROOT)} "
            f"--replications {yr} --days {yd} --workers W --out DIR --quiet --no-figures"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
