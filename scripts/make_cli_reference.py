"""Write docs/reference/cli.md from the command line's own parser.

.venv/bin/python scripts/make_cli_reference.py          # rewrite the file
.venv/bin/python scripts/make_cli_reference.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tuoyu_sim.cli import build_parser

TARGET = Path(__file__).resolve().parent.parent / "docs" / "reference" / "cli.md"


def render() -> str:
    os.environ["COLUMNS"] = "100"  # argparse wraps usage to the terminal width
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    lines = [
        "# Command-line reference",
        "",
        "Generated from the parser by `.venv/bin/python scripts/make_cli_reference.py`; a test",
        "checks that it is current. Every command also answers `--help`.",
        "",
        "Exit codes: 0 success; 1 bad input (scenario, file, target, solver) with a",
        "message naming the file, key path and value; 2 a usage error; 3 `plan` did not",
        "converge; 130 interrupted (finished files are complete).",
        "",
    ]
    for name, p in sub.choices.items():
        help_text = next((c.help for c in sub._choices_actions if c.dest == name), "")
        lines += [f"## `tuoyu-sim {name}`", "", f"{help_text}.", ""]
        lines += ["```text", p.format_usage().strip(), "```", ""]
        lines += ["| option | meaning |", "|---|---|"]
        for action in p._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            names = ", ".join(f"`{o}`" for o in action.option_strings) or f"`{action.dest}`"
            if action.metavar and action.option_strings:
                names += f" `{action.metavar}`"
            text = (action.help or "").replace("|", "\\|")
            if action.choices and action.option_strings:
                text += f" (one of {', '.join(map(str, action.choices))})"
            lines.append(f"| {names} | {text} |")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run .venv/bin/python scripts/make_cli_reference.py")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
