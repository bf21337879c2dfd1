"""``tuoyu-sim report DIR [--lang zh|en] [--out FILE]``: the HTML report of a results folder.

The report is one self-contained file (default ``DIR/report.html``), written
atomically; a folder that is not a results folder is a
:class:`~tuoyu_sim.errors.UserError` and nothing is written.
"""

from __future__ import annotations

import argparse

from tuoyu_sim.cli.common import console

HELP = "proposal-ready HTML report from a results folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``tuoyu-sim report``."""
    from tuoyu_sim.report import LANGS

    parser.add_argument(
        "dir", metavar="DIR", help="results folder of simulate, optimize, plan or sweep"
    )
    parser.add_argument(
        "--lang", choices=LANGS, default="zh", help="language of the report (default: zh, Chinese)"
    )
    parser.add_argument("--out", metavar="FILE", help="report file (default: DIR/report.html)")


def run(args: argparse.Namespace) -> int:
    """Write the report; print its path."""
    from tuoyu_sim.report import write_report

    path = write_report(args.dir, lang=args.lang, out=args.out)
    console().print(f"report written to [bold]{path}[/bold]")
    return 0
