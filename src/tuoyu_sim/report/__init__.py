"""The proposal-ready HTML report of a results folder.

:func:`load_results` reads whatever a results folder holds (``simulate``:
``summary.json``, ``facilities.csv``, ``care_types.csv``, ``curves.csv``,
``breach_by_hour.csv``, ``scenario.toml``; ``optimize``/``plan``:
``summary.json`` with ``objective``, ``plan.csv``, ``scenario.planned.toml``;
``sweep``: ``sweep.csv``), :func:`render_report` turns it into one
self-contained HTML page (figures as base64 PNG, CSS inline, the Chinese
glyphs the page uses embedded as a subset of Noto Sans CJK, no script and no
network reference), and :func:`write_report` writes it atomically.

Every piece of text that comes from the results or the scenario (names, ids,
groups, provenance) is escaped: the page is built from :class:`Html` fragments,
and a plain ``str`` is always escaped when it is put into one.

The report draws figures with :mod:`tuoyu_sim.plots` from the CSV tables and
reads the headline figures from ``summary.json``; it computes no statistics of
its own beyond sums over facilities (group totals) and comparisons with the
scenario's targets.

Layout: :mod:`.results` (reading a results folder), :mod:`.markup` (HTML
fragments and escaping), :mod:`.labels` (the words in Chinese and English,
from ``labels.toml``), :mod:`.formatting` (numbers, intervals, verdicts),
:mod:`.tables`, :mod:`.figures` (embedded PNG), :mod:`.page` (the page being
built), :mod:`.sections` (one module per section of the page), :mod:`.fonts`
(the CJK font subset) and :mod:`.render` (the whole page, with ``style.css``;
writing it).
"""

from __future__ import annotations

from tuoyu_sim.report.figures import figure_png
from tuoyu_sim.report.fonts import FONT_STACK, cjk_font_face
from tuoyu_sim.report.formatting import fmt_ci, fmt_g, fmt_int, fmt_num, fmt_pct, judge
from tuoyu_sim.report.labels import (
    AGE_NAMES_ZH,
    CARE_TYPE_NAMES_ZH,
    COST_NAMES,
    LANGS,
    ROLE_NAMES_ZH,
    SHARE_TARGETS,
    TARGET_NAMES,
    T,
)
from tuoyu_sim.report.markup import Html, el, esc, join
from tuoyu_sim.report.render import CSS, default_report_path, render_report, write_report
from tuoyu_sim.report.results import TEXT_COLUMNS, Results, load_results, read_csv

__all__ = [
    "AGE_NAMES_ZH",
    "CARE_TYPE_NAMES_ZH",
    "COST_NAMES",
    "CSS",
    "FONT_STACK",
    "LANGS",
    "ROLE_NAMES_ZH",
    "SHARE_TARGETS",
    "TARGET_NAMES",
    "TEXT_COLUMNS",
    "Html",
    "Results",
    "T",
    "cjk_font_face",
    "default_report_path",
    "el",
    "esc",
    "figure_png",
    "fmt_ci",
    "fmt_g",
    "fmt_int",
    "fmt_num",
    "fmt_pct",
    "join",
    "judge",
    "load_results",
    "read_csv",
    "render_report",
    "write_report",
]
