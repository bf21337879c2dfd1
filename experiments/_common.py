"""Shared helpers of the experiments: arguments, output folder, tables, figures.

Every experiment runs as ``.venv/bin/python experiments/NN_name.py [--quick] [--out DIR]
[--workers W]`` and writes PNG figures, CSV tables and ``summary.md`` into
``DIR`` (default ``results/experiments/NN_name/`` under the repository root).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tuoyu_sim.metrics import ci95
from tuoyu_sim.output import atomic_write_text, save_figure, write_csv
from tuoyu_sim.plots.fonts import use_cjk
from tuoyu_sim.simulation import default_workers

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
SYNTHETIC_CAVEAT = (
    "The Yanzhou layout is **synthetic** on the district's real structure (its 12 "
    "divisions and 443 community and village committees): community positions, populations "
    "and per-facility places are invented to match the published totals (58 institutions, "
    "3,060 places, 540,662 residents, 5.66 places per 1,000); care-type time patterns, "
    "demand propensities, shifts, absence and costs are assumptions "
    "(scenarios/README.md). Read the answers as what the engine says about a district "
    "built like this, not as survey facts about Yanzhou."
)


class Experiment:
    """Arguments, output folder and timing of one experiment run."""

    def __init__(self, name: str, question: str, argv: Sequence[str] | None = None) -> None:
        parser = argparse.ArgumentParser(prog=f"{name}.py", description=question)
        parser.add_argument(
            "--quick", action="store_true", help="few replications and days (for the tests)"
        )
        parser.add_argument(
            "--out",
            type=Path,
            default=None,
            help=f"output folder (default results/experiments/{name})",
        )
        parser.add_argument(
            "--workers", type=int, default=None, help="simulation processes (default: all cores)"
        )
        args = parser.parse_args(argv)
        self.name = name
        self.question = question
        self.quick: bool = bool(args.quick)
        self.out: Path = args.out or ROOT / "results" / "experiments" / name
        self.out.mkdir(parents=True, exist_ok=True)
        self.workers: int = args.workers or default_workers()
        self.started = time.perf_counter()
        self.figures: list[tuple[str, str]] = []
        self.cjk = use_cjk()

    def log(self, message: str) -> None:
        """Progress to standard error (stdout stays for the final line)."""
        print(
            f"[{self.name} {time.perf_counter() - self.started:6.1f}s] {message}", file=sys.stderr
        )

    def figure(self, fig: Any, filename: str, caption: str) -> None:
        """Save a figure into the output folder and remember it for the summary."""
        save_figure(fig, self.out / filename)
        self.figures.append((filename, caption))

    def csv(self, filename: str, rows: Iterable[Mapping[str, Any]]) -> None:
        write_csv(self.out / filename, list(rows))

    def summary(self, method: str, answer: str, caveats: Sequence[str], extra: str = "") -> Path:
        """Write ``summary.md``: question, method, answer, figures, caveats."""
        mode = "quick (few replications and days: numbers are rough)" if self.quick else "full"
        lines = [
            f"# {self.name}",
            "",
            f"*Run mode: {mode}; {time.perf_counter() - self.started:.0f} s.*",
            "",
            "## Question",
            "",
            self.question,
            "",
            "## Method",
            "",
            method.strip(),
            "",
            "## Answer",
            "",
            answer.strip(),
            "",
        ]
        if extra.strip():
            lines += [extra.strip(), ""]
        if self.figures:
            lines += ["## Figures", ""]
            for filename, caption in self.figures:
                lines += [f"![{caption}]({filename})", "", f"*{caption}*", ""]
        lines += ["## Caveats", ""]
        lines += [f"- {c}" for c in caveats]
        lines.append("")
        path = atomic_write_text(self.out / "summary.md", "\n".join(lines))
        print(f"{self.name}: wrote {path}")
        return path


def stat(values: Sequence[float] | np.ndarray) -> dict[str, Any]:
    """Mean and 95% interval over replications (:func:`tuoyu_sim.metrics.ci95`)."""
    return ci95(values)


def hi(s: Mapping[str, Any]) -> float:
    """Upper end of a ``{"mean", "ci95"}`` figure (the mean if there is no interval)."""
    ci = s.get("ci95")
    if ci is None:
        return float(s["mean"]) if s.get("mean") is not None else math.nan
    return float(ci[1])


def fmt_ci(s: Mapping[str, Any], pct: bool = True, digits: int = 1) -> str:
    """``12.3% (95% CI 11.0–13.6%)`` or ``4.56 (4.10–5.02)``."""
    mean = s.get("mean")
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    ci = s.get("ci95")
    if pct:
        text = f"{100 * mean:.{digits}f}%"
        if ci:  # a share lies in [0, 1]: the t-interval is clipped there
            lo, up = max(0.0, ci[0]), min(1.0, ci[1])
            text += f" ({100 * lo:.{digits}f}–{100 * up:.{digits}f}%)"
        return text
    text = f"{mean:.{digits}f}"
    if ci:
        text += f" ({ci[0]:.{digits}f}–{ci[1]:.{digits}f})"
    return text


def md_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """A markdown table of ``rows`` with ``(key, header)`` columns (values as given)."""
    head = "| " + " | ".join(h for _, h in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(str(r.get(k, "")) for k, _ in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def yerr(stats_: Sequence[Mapping[str, Any]], scale: float = 1.0) -> np.ndarray:
    """Asymmetric error bars (2, n) from ``{"mean", "ci95"}`` figures.

    The lower bar stops at 0: every figure plotted here (rates, utilization) is >= 0.
    """
    lo, up = [], []
    for s in stats_:
        m = s["mean"] if s.get("mean") is not None else math.nan
        ci = s.get("ci95") or [m, m]
        lo.append(max(0.0, min(m - ci[0], m) * scale))
        up.append(max(0.0, (ci[1] - m) * scale))
    return np.array([lo, up])
