"""The ``tuoyu-sim`` command line.

``main(argv) -> int`` is testable without patching ``sys.argv``. Usage errors
exit 2 with argparse's message; input errors (:class:`~tuoyu_sim.errors.UserError`)
print one line per problem to stderr and exit 1, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tuoyu_sim import __version__
from tuoyu_sim.argtypes import non_negative_int, positive_int
from tuoyu_sim.errors import UserError

log = logging.getLogger("tuoyu_sim")

# Commands that live in their own modules: name -> (module, help).
_PLUGGED: dict[str, tuple[str, str]] = {
    "optimize": (
        "tuoyu_sim.optimize_cmd",
        "decide where to open sites and add places and caregivers",
    ),
    "plan": ("tuoyu_sim.plan_cmd", "optimize, verify by simulation, re-size, repeat"),
    "sweep": ("tuoyu_sim.sweep_cmd", "what-if grid over scenario keys, in parallel or on Dask"),
    "report": ("tuoyu_sim.report_cmd", "proposal-ready HTML report from a results folder"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuoyu-sim",
        description="Capacity planning for community childcare for children under three (托育).",
    )
    parser.add_argument("--version", action="version", version=f"tuoyu-sim {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("validate", help="check a scenario file and say what is wrong")
    p.add_argument("scenario", help="scenario .toml file")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("simulate", help="simulate ordinary days at every facility")
    p.add_argument("scenario", help="scenario .toml file")
    add_simulation_options(p)
    p.add_argument("--out", help="results folder (default: results/<scenario>-simulate)")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument(
        "--episodes",
        action="store_true",
        help="also write episodes.csv, one row per child (memory grows with days)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or table")
    p.set_defaults(func=cmd_simulate)

    for name, (module, help_text) in _PLUGGED.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        p = sub.add_parser(name, help=help_text)
        mod.add_arguments(p)
        p.set_defaults(func=mod.run)
    return parser


def add_simulation_options(p: argparse.ArgumentParser) -> None:
    """``--replications --days --seed --workers`` (shared by simulate, plan and sweep)."""
    p.add_argument("--replications", type=positive_int, help="replications (default: scenario's)")
    p.add_argument("--days", type=positive_int, help="days per replication (default: scenario's)")
    p.add_argument("--seed", type=non_negative_int, help="random seed (default: scenario's)")
    p.add_argument(
        "--workers",
        type=positive_int,
        help="processes (default: one per core); results do not depend on it",
    )


def simulation_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Scenario changes asked for on the command line."""
    changes: dict[str, Any] = {}
    for opt in ("replications", "days", "seed"):
        value = getattr(args, opt, None)
        if value is not None:
            changes[f"simulation.{opt}"] = value
    return changes


def default_out(scenario_path: str, command: str) -> Path:
    return Path("results") / f"{Path(scenario_path).stem}-{command}"


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def progress_bar(quiet: bool = False) -> Any:
    """A rich progress bar on stderr (silent when not a terminal or quiet).

    It has no refresh thread (``auto_refresh=False``): callers redraw it with
    ``update(..., refresh=True)`` as work finishes. Worker processes are forked
    while it is shown, and forking a process that runs other threads can
    deadlock the child (Python 3.12 warns about it).
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    err = console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
        transient=False,
        auto_refresh=False,
    )


def cmd_validate(args: argparse.Namespace) -> int:
    from tuoyu_sim.scenario import load_scenario

    sc = load_scenario(args.scenario)
    out = console()
    out.print(
        f"[green]ok[/green] {args.scenario}: “{sc.name}” — {len(sc.communities)} communities, "
        f"{len(sc.facilities)} facilities ({sc.total_places} places, "
        f"{sc.places_per_1000:.2f} per 1,000), {len(sc.candidate_sites)} candidate sites, "
        f"care types {', '.join(sc.care_types)}"
    )
    return 0


def run_simulation(
    scenario: Any,
    workers: int | None,
    quiet: bool,
    label: str = "simulating",
    episodes: bool = False,
) -> Any:
    """Simulate with a progress bar; returns the SimulationResult."""
    from tuoyu_sim.simulate import build_model, default_workers, simulate

    n = scenario.simulation.replications
    workers = workers or default_workers()
    model = build_model(scenario)
    with progress_bar(quiet) as bar:
        task = bar.add_task(f"{label} ({workers} worker{'s' if workers > 1 else ''})", total=n)

        def advance(done: int) -> None:
            bar.update(task, completed=done, refresh=True)

        return simulate(scenario, workers=workers, progress=advance, model=model, episodes=episodes)


def cmd_simulate(args: argparse.Namespace) -> int:
    from tuoyu_sim.metrics import summarize, tables
    from tuoyu_sim.output import prepare_out_dir, write_csv, write_json
    from tuoyu_sim.scenario import load_scenario

    sc = load_scenario(args.scenario)
    changes = simulation_overrides(args)
    if changes:
        sc = sc.with_changes(changes)
    out_dir = Path(args.out) if args.out else default_out(args.scenario, "simulate")
    started = time.perf_counter()
    result = run_simulation(sc, args.workers, args.quiet, episodes=args.episodes)
    seconds = time.perf_counter() - started
    summary = summarize(result)
    summary["run_seconds"] = round(seconds, 3)
    tabs = tables(result, summary)
    figures = {} if args.no_figures else simulation_figures(summary, tabs, sc)
    # everything is computed; now write
    from tuoyu_sim.output import save_figure, write_scenario

    prepare_out_dir(out_dir)
    for name, rows in tabs.items():
        write_csv(out_dir / f"{name}.csv", rows)
    for name, fig in figures.items():
        save_figure(fig, out_dir / f"{name}.png")
    write_scenario(out_dir / "scenario.toml", sc)
    write_json(out_dir / "summary.json", summary)
    if not args.quiet:
        print_simulation_summary(summary, out_dir, sc.targets.max_turn_away)
    return 0


def simulation_figures(
    summary: dict[str, Any], tabs: dict[str, Any], scenario: Any
) -> dict[str, Any]:
    """The PNG figures of a simulation run, by file stem."""
    from tuoyu_sim.plots.simulation import (
        group_curves,
        group_panels,
        turn_away_by_facility,
        utilization_curve,
    )

    curves = tabs["curves"]
    figs: dict[str, Any] = {"utilization_district": utilization_curve(curves, "district", "all")}
    if any(r["scope"] == "group" for r in curves):
        figs["utilization_by_group"] = group_curves(curves)
        figs["utilization_group_panels"] = group_panels(curves)
    if len(scenario.facilities) <= 12:
        for f in scenario.facilities:
            figs[f"utilization_facility_{_safe(f.id)}"] = utilization_curve(
                curves, "facility", f.id
            )
    figs["turn_away_by_facility"] = turn_away_by_facility(summary, scenario.targets.max_turn_away)
    return figs


def _safe(text: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)
    return keep or "x"


def fmt_ci(value: dict[str, Any], pct: bool = True, digits: int = 1) -> str:
    """``12.3% [11.9–12.8]`` from a ``{"mean", "ci95"}`` dict."""
    mean = value.get("mean")
    if mean is None:
        return "—"
    ci = value.get("ci95")
    if pct:
        text = f"{100 * mean:.{digits}f}%"
        if ci:
            text += f" [{100 * ci[0]:.{digits}f}–{100 * ci[1]:.{digits}f}]"
    else:
        text = f"{mean:.{digits}f}"
        if ci:
            text += f" [{ci[0]:.{digits}f}–{ci[1]:.{digits}f}]"
    return text


def print_simulation_summary(summary: dict[str, Any], out_dir: Path, max_turn_away: float) -> None:
    from rich.table import Table

    out = console()
    d = summary["district"]
    out.print(
        f"[bold]{summary['scenario']}[/bold] — {summary['replications']} replications × "
        f"{summary['days']} days, seed {summary['seed']} ({summary.get('run_seconds', 0):.1f} s)"
    )
    out.print(
        f"district: {d['places']} places ({d['places_per_1000']:.2f} per 1,000), "
        f"utilization {fmt_ci(d['utilization'])}, walk-in turn-away {fmt_ci(d['turn_away_rate'])}, "
        f"enrolled {d['enrolled']} of {d['enrolled_demand']} wanting a place "
        f"(waitlist {d['waitlist']}, out of reach {d['unreached_enrolled']})"
    )
    t = Table(title="care types", show_lines=False)
    for col in ("type", "arrivals", "admitted", "redirected", "turned away", "turn-away rate"):
        t.add_column(col, justify="right" if col != "type" else "left", no_wrap=col == "type")
    for key, v in summary["care_types"].items():
        rate = fmt_ci(v["turn_away_rate"]) if v["mode"] == "walk_in" else "enrolled"
        t.add_row(
            f"{key} {v['name_zh']}",
            str(v["arrivals"]),
            str(v["admitted"]),
            str(v["redirected"]),
            str(v["turned_away"]),
            rate,
        )
    out.print(t)
    facs = sorted(summary["facilities"], key=lambda f: -(f["turn_away_rate"]["mean"] or 0.0))
    t = Table(title="facilities (worst turn-away first; at most 10)")
    # an 80-column terminal (or a log file) must still show every interval
    # whole: the names fold onto a second line before an interval is cut
    t.add_column("facility", max_width=24, overflow="fold")
    for col in ("places", "enrolled"):
        t.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    for col in ("utilization", "turn-away", "breach days"):
        w = len("[00.0–00.0]")
        t.add_column(col, justify="right", overflow="fold", min_width=w, max_width=w)
    for f in facs[:10]:
        flag = "[red]" if (f["turn_away_rate"]["mean"] or 0) > max_turn_away else ""
        t.add_row(
            f"{f['id']} {f['name']}",
            str(f["places"]),
            str(f["enrolled"]),
            fmt_ci(f["utilization"]),
            f"{flag}{fmt_ci(f['turn_away_rate'])}",
            fmt_ci(f["breach_day_share"]),
        )
    out.print(t)
    short = summary["district"].get("facilities_short_of_health_staff", 0)
    if short:
        out.print(f"[yellow]{short} facilities have fewer health staff than required[/yellow]")
    out.print(f"results in [bold]{out_dir}[/bold]")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return int(func(args) or 0)
    except UserError as exc:
        for line in exc.problems:
            print(f"tuoyu-sim {args.command}: {line}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(
            f"tuoyu-sim {args.command}: interrupted; finished files are complete", file=sys.stderr
        )
        return 130


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
