"""The ``tuoyu-sim`` command line: it parses options, calls :mod:`tuoyu_sim.api`, prints.

One module per command, listed in :data:`COMMANDS`; each has ``HELP``,
``add_arguments(parser)`` and ``run(args) -> exit code``. Nothing here computes
a figure or builds a record: a results folder written by a command is the one
``tuoyu_sim.<command>(...).save(folder)`` writes.

``main(argv) -> int`` is testable without patching ``sys.argv``. Usage errors
exit 2 with argparse's message; input errors (:class:`~tuoyu_sim.errors.UserError`)
print one line per problem to stderr and exit 1 (or the error's own code),
without a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from tuoyu_sim import __version__
from tuoyu_sim.cli import access, optimize, plan, report, simulate, sweep, validate
from tuoyu_sim.cli.common import fmt_ci, name_flags
from tuoyu_sim.cli.simulate import print_simulation_summary
from tuoyu_sim.errors import UserError

__all__ = ["COMMANDS", "build_parser", "entry", "fmt_ci", "main", "print_simulation_summary"]

COMMANDS: dict[str, ModuleType] = {
    "validate": validate,
    "simulate": simulate,
    "optimize": optimize,
    "plan": plan,
    "sweep": sweep,
    "access": access,
    "report": report,
}
"""Every command, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuoyu-sim",
        description="Capacity planning for community childcare for children under three (托育).",
    )
    parser.add_argument("--version", action="version", version=f"tuoyu-sim {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, help=module.HELP)
        module.add_arguments(p)
        p.set_defaults(func=module.run)
    return parser


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
        flags = getattr(COMMANDS[args.command], "FLAGS", {})
        for line in exc.problems:
            print(f"tuoyu-sim {args.command}: {name_flags(line, flags)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(
            f"tuoyu-sim {args.command}: interrupted; finished files are complete", file=sys.stderr
        )
        return 130


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
