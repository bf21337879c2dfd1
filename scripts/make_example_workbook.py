"""Write ``scenarios/examples/workbook/district.xlsx``, the example scenario workbook.

The workbook holds the tables of ``scenarios/examples/tables_csv.toml`` (read
from its CSV files), one sheet per table, as :meth:`Scenario.to_workbook`
writes them; ``scenarios/examples/workbook.toml`` reads it. The bytes are
reproducible (fixed timestamps), so regenerating it changes nothing unless the
CSV tables change.

Run from the repository root::

    .venv/bin/python scripts/make_example_workbook.py          # writes the workbook
    .venv/bin/python scripts/make_example_workbook.py --check  # checks it holds the CSV rows
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tuoyu_sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "scenarios" / "examples"
SOURCE = EXAMPLES / "tables_csv.toml"
WORKBOOK = EXAMPLES / "workbook" / "district.xlsx"
SCENARIO = EXAMPLES / "workbook.toml"
TABLES = ("communities", "facilities", "candidate_sites")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 unless the workbook holds the CSV example's rows",
    )
    args = parser.parse_args(argv)
    source = load_scenario(SOURCE)
    if args.check:
        example = load_scenario(SCENARIO)
        differ = [t for t in TABLES if getattr(example, t) != getattr(source, t)]
        if differ:
            print(f"{WORKBOOK}: {', '.join(differ)} differ from {SOURCE}; regenerate it")
            return 1
        print(f"{WORKBOOK}: holds the rows of {SOURCE.name}")
        return 0
    source.to_workbook(WORKBOOK)
    print(f"wrote {WORKBOOK}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
