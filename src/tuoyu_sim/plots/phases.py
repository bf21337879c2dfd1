"""Figures of a plan over several years: the trajectory and the phased map.

Each function takes rows computed elsewhere (:class:`tuoyu_sim.runs.PhasedRun`'s
``years`` table, the band across births variants, the sites and the year each
opens) and returns a matplotlib ``Figure``; nothing is computed or saved here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from tuoyu_sim.plots.fonts import label_language, use_cjk

LABELS = {
    "zh": {
        "title": "{name}：{first}–{last} 年分期规划（出生方案：{variant}）",
        "under3": "3岁以下婴幼儿",
        "demand": "入托需求（人）",
        "places": "托位",
        "enrolled": "在托婴幼儿",
        "band": "各出生方案区间",
        "utilization": "托位利用率",
        "expected": "（优化模型预期）",
        "simulated": "（仿真均值与95%置信区间）",
        "children": "人数",
        "year": "年份",
        "map_title": "{name}：按开办年份着色的托育点",
        "existing": "现有机构",
        "opened": "{year}年开办",
        "community": "社区（大小：3岁以下婴幼儿）",
        "closed": "候选点，未开办",
    },
    "en": {
        "title": "{name}: phased plan {first}–{last} (births variant: {variant})",
        "under3": "children under 3",
        "demand": "enrolled demand",
        "places": "places",
        "enrolled": "enrolled children",
        "band": "range across births variants",
        "utilization": "utilization",
        "expected": " (optimizer's expectation)",
        "simulated": " (simulated mean, 95% CI)",
        "children": "children / places",
        "year": "year",
        "map_title": "{name}: sites coloured by the year they open",
        "existing": "existing facility",
        "opened": "opens {year}",
        "community": "community (size: children under 3)",
        "closed": "candidate site, not opened",
    },
}


def _column(rows: Sequence[Mapping[str, Any]], key: str) -> np.ndarray:
    return np.array(
        [np.nan if r.get(key) in (None, "") else float(r[key]) for r in rows], dtype=float
    )


def trajectory(
    rows: Sequence[Mapping[str, Any]],
    band: Mapping[str, Sequence[tuple[float, float]]] | None,
    *,
    name: str,
    variant: str,
    lang: str | None = None,
) -> Figure:
    """Under-threes, demand, places and enrolled children per year (top) and
    utilization (bottom).

    Parameters
    ----------
    rows
        One per year: ``year``, ``under3``, ``enrolled_demand``, ``places``,
        ``expected_enrolled``, ``expected_utilization`` and, for a simulated plan,
        ``enrolled``, ``utilization``, ``utilization_low``, ``utilization_high``.
    band
        ``under3`` and ``enrolled_demand``: (low, high) per year across the
        births variants (None or empty: one variant, no band).
    """
    lang = label_language(lang)
    use_cjk()
    t = LABELS[lang]
    years = _column(rows, "year")
    fig = Figure(figsize=(9, 7.5))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    series = (
        ("under3", t["under3"], "#7f7f7f", "-"),
        ("enrolled_demand", t["demand"], "#ff7f0e", "-"),
        ("places", t["places"], "#1f77b4", "-"),
    )
    for key, label, colour, style in series:
        top.plot(years, _column(rows, key), style, color=colour, marker="o", label=label)
        if band and band.get(key):
            lo, hi = np.array(band[key], dtype=float).T
            top.fill_between(years, lo, hi, color=colour, alpha=0.15, linewidth=0)
    simulated = any(r.get("enrolled") not in (None, "") for r in rows)
    enrolled_key = "enrolled" if simulated else "expected_enrolled"
    top.plot(
        years,
        _column(rows, enrolled_key),
        "--",
        color="#2ca02c",
        marker="s",
        label=t["enrolled"] + (t["simulated"] if simulated else t["expected"]),
    )
    if band:
        top.fill_between([], [], [], color="#7f7f7f", alpha=0.15, label=t["band"])
    top.set_ylabel(t["children"])
    top.set_ylim(bottom=0)
    top.legend(loc="best", fontsize=8)
    top.set_title(
        t["title"].format(name=name, first=int(years[0]), last=int(years[-1]), variant=variant),
        fontsize=10,
    )
    if simulated:
        u = _column(rows, "utilization")
        lo, hi = _column(rows, "utilization_low"), _column(rows, "utilization_high")
        bottom.errorbar(
            years, u, yerr=[u - lo, hi - u], fmt="o-", color="#2ca02c", capsize=3,
            label=t["utilization"] + t["simulated"],
        )  # fmt: skip
    bottom.plot(
        years,
        _column(rows, "expected_utilization"),
        "s--",
        color="#9467bd",
        label=t["utilization"] + t["expected"],
    )
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0))
    bottom.set_ylim(0, 1.05)
    bottom.set_xlabel(t["year"])
    bottom.set_xticks(years, [str(int(y)) for y in years])
    bottom.legend(loc="lower left", fontsize=8)
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def phased_map(
    communities: Sequence[tuple[float, float, float]],
    existing: Sequence[tuple[float, float, float]],
    opened: Sequence[tuple[str, float, float, float, int]],
    closed: Sequence[tuple[float, float]],
    years: Sequence[int],
    *,
    degrees: bool,
    name: str,
    lang: str | None = None,
) -> Figure:
    """Sites coloured by the year they open.

    Parameters
    ----------
    communities
        (x, y, children under three).
    existing
        (x, y, places in the last year) of the facilities there today.
    opened
        (id, x, y, places in the last year, year opened) of the new sites.
    closed
        (x, y) of candidate sites never opened.
    """
    lang = label_language(lang)
    use_cjk()
    t = LABELS[lang]
    fig = Figure(figsize=(9, 8))
    ax = fig.add_subplot(1, 1, 1)

    def sizes(values: Sequence[float], lo: float, hi: float) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        if v.size == 0 or float(v.max()) <= 0:
            return np.full(v.size, lo)
        return lo + (hi - lo) * np.sqrt(v / float(v.max()))

    if communities:
        c = np.array(communities, dtype=float)
        ax.scatter(c[:, 0], c[:, 1], s=sizes(c[:, 2], 4, 60), c="#bbbbbb", linewidths=0,
                   label=t["community"])  # fmt: skip
    if closed:
        k = np.array(closed, dtype=float)
        ax.scatter(k[:, 0], k[:, 1], marker="^", s=24, facecolors="none", edgecolors="#888888",
                   linewidths=0.7, label=t["closed"])  # fmt: skip
    if existing:
        e = np.array(existing, dtype=float)
        ax.scatter(e[:, 0], e[:, 1], marker="s", s=sizes(e[:, 2], 12, 90), c="#555555",
                   label=t["existing"])  # fmt: skip
    years = list(years)
    palette = colormaps["viridis"].resampled(max(len(years), 2))
    colours = [palette(i) for i in range(len(years))]
    for i, y in enumerate(years):
        pts = [p for p in opened if p[4] == y]
        if not pts:
            continue
        ax.scatter(
            [p[1] for p in pts], [p[2] for p in pts], marker="*",
            s=sizes([p[3] for p in pts], 90, 280) if len(pts) > 1 else 160,
            color=colours[i], edgecolors="black", linewidths=0.5,
            label=t["opened"].format(year=y),
        )  # fmt: skip
        for p in pts:
            ax.annotate(p[0], (p[1], p[2]), xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.set_aspect("equal" if not degrees else "auto")
    ax.autoscale_view()
    ax.set_xlabel("longitude (°)" if degrees else "x (m)")
    ax.set_ylabel("latitude (°)" if degrees else "y (m)")
    ax.set_title(t["map_title"].format(name=name), fontsize=10)
    ax.legend(loc="upper left", fontsize=7, framealpha=0.8, markerscale=0.7)
    fig.tight_layout()
    return fig
