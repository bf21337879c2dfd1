"""``tuoyu-sim validate FILE``: check a scenario and say what is wrong."""

from __future__ import annotations

import argparse

from tuoyu_sim.cli.common import console

HELP = "check a scenario file and say what is wrong"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario .toml file")


def run(args: argparse.Namespace) -> int:
    from tuoyu_sim.scenario import load_scenario

    sc = load_scenario(args.scenario)
    console().print(
        f"[green]ok[/green] {args.scenario}: “{sc.name}” — {len(sc.communities)} communities, "
        f"{len(sc.facilities)} facilities ({sc.total_places} places, "
        f"{sc.places_per_1000:.2f} per 1,000), {len(sc.candidate_sites)} candidate sites, "
        f"care types {', '.join(sc.care_types)}"
    )
    return 0
