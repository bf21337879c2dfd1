"""``tuoyu-sim access FILE``: accessibility and care deserts by age class.

Writes ``access.csv`` (per community and class: children, places within the
catchment, Gaussian 2SFCA and E2SFCA scores, children per place, desert
flags), ``by_class.csv``, ``results.xlsx``, ``access_map.png``,
``scenario.toml`` and ``summary.json`` into ``--out`` (default
``results/<scenario-stem>-access``); with ``--planned FILE`` also
``access_planned.csv``, ``access_map_planned.png``,
``deserts_before_after.png`` and ``scenario.planned.toml``.
"""

from __future__ import annotations

import argparse

from tuoyu_sim.cli.common import out_dir, print_headline

HELP = "accessibility (2SFCA) and care deserts by age class"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario .toml file ([access] sets catchment and weights)")
    p.add_argument(
        "--planned",
        metavar="FILE",
        help="a planned scenario (scenario.planned.toml of optimize or plan) to compare with",
    )
    p.add_argument("--out", help="results folder (default: results/<scenario>-access)")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")


def run(args: argparse.Namespace) -> int:
    from tuoyu_sim.api import access

    result = access(args.scenario, planned=args.planned)
    folder = result.save(out_dir(args, "access"), figures=not args.no_figures)
    print_headline(result.headline(), folder)
    return 0
