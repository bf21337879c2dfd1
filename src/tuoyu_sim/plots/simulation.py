"""Figures of a simulation run: utilization by time of day, turn-away per facility.

Each function takes plain results (curve rows from
:func:`tuoyu_sim.metrics.curve_table`, or the summary dict) and returns a
matplotlib ``Figure``; it computes no statistics of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from tuoyu_sim.plots.fonts import label_language
from tuoyu_sim.scenario import CARE_TYPE_NAMES_ZH

LABELS = {
    "zh": {
        "util": "利用率（在园幼儿 / 托位）",
        "children": "在园幼儿（人）",
        "time": "时刻",
        "band": "日间波动 5–95%",
        "ci": "均值 95% 置信区间",
        "mean": "平均利用率",
        "district": "全区",
        "turn_away": "临时/计时托拒收率",
        "target": "目标上限",
        "facility": "机构",
        "by_group": "各街道/镇利用率",
        "title_curve": "{name}：一日利用率曲线",
        "title_turn": "各机构拒收率（95% 置信区间）",
    },
    "en": {
        "util": "utilization (children present / places)",
        "children": "children present",
        "time": "time of day",
        "band": "day-to-day 5–95%",
        "ci": "95% CI of the mean",
        "mean": "mean utilization",
        "district": "district",
        "turn_away": "walk-in turn-away rate",
        "target": "target",
        "facility": "facility",
        "by_group": "utilization by subdistrict/town",
        "title_curve": "{name}: utilization through the day",
        "title_turn": "turn-away by facility (95% CI)",
    },
}

TYPE_COLOURS = {
    "full_day": "#1f77b4",
    "half_day": "#2ca02c",
    "extended": "#9467bd",
    "hourly": "#ff7f0e",
    "drop_in": "#d62728",
}


def type_label(care_type: str, lang: str) -> str:
    if lang == "zh":
        return f"{CARE_TYPE_NAMES_ZH.get(care_type, care_type)}"
    return care_type.replace("_", "-")


def _select(rows: Sequence[Mapping[str, Any]], scope: str, key: str) -> list[Mapping[str, Any]]:
    return [r for r in rows if r["scope"] == scope and r["key"] == key]


def _hour_ticks(ax: Any, minutes: np.ndarray) -> None:
    lo, hi = float(minutes.min()), float(minutes.max())
    ticks = np.arange(np.ceil(lo / 60) * 60, hi + 1, 60)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{int(t // 60):02d}" for t in ticks])


def utilization_curve(
    rows: Sequence[Mapping[str, Any]],
    scope: str = "district",
    key: str = "all",
    title: str | None = None,
    lang: str | None = None,
) -> Figure:
    """Utilization through the day (with CI and day-to-day band) and children by care type.

    Parameters
    ----------
    rows
        Curve rows (``scope``, ``key``, ``care_type``, ``minute``, ``mean``,
        ``mean_lo``, ``mean_hi``, ``places``, ``p05``, ``p95``).
    scope, key
        Which curve: ``("district", "all")``, ``("group", NAME)`` or ``("facility", ID)``.
    """
    lang = label_language(lang)
    L = LABELS[lang]
    sel = _select(rows, scope, key)
    fig = Figure(figsize=(9, 6.5), layout="constrained")
    ax1, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    total = [r for r in sel if r["care_type"] == "all"]
    if not total:
        ax1.text(0.5, 0.5, "no data", ha="center", transform=ax1.transAxes)
        return fig
    x = np.array([r["minute"] for r in total])
    places = float(total[0]["places"] or 0) or 1.0
    mean = np.array([r["mean"] or 0.0 for r in total]) / places
    lo = np.array([r["mean_lo"] if r["mean_lo"] is not None else np.nan for r in total]) / places
    hi = np.array([r["mean_hi"] if r["mean_hi"] is not None else np.nan for r in total]) / places
    p05 = np.array([r["p05"] if r["p05"] is not None else np.nan for r in total])
    p95 = np.array([r["p95"] if r["p95"] is not None else np.nan for r in total])
    step = float(np.diff(x).min()) if x.size > 1 else 15.0
    xm = x + step / 2
    if np.isfinite(p05).any():
        ax1.fill_between(xm, p05, p95, color="#c6dbef", alpha=0.7, label=L["band"], step=None)
    if np.isfinite(lo).any():
        ax1.fill_between(xm, lo, hi, color="#2171b5", alpha=0.35, label=L["ci"])
    ax1.plot(xm, mean, color="#08306b", lw=2, label=L["mean"])
    ax1.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax1.set_ylim(0, max(1.05, float(np.nanmax(np.r_[mean, p95[np.isfinite(p95)]])) * 1.05))
    ax1.set_ylabel(L["util"])
    ax1.legend(loc="upper right", fontsize=8)
    name = L["district"] if scope == "district" else key
    ax1.set_title(title or L["title_curve"].format(name=name))
    types = [t for t in dict.fromkeys(r["care_type"] for r in sel) if t != "all"]
    stack = []
    for t in types:
        vals = np.array([r["mean"] or 0.0 for r in sel if r["care_type"] == t])
        stack.append(vals)
    if stack:
        ax2.stackplot(
            xm,
            np.vstack(stack),
            labels=[type_label(t, lang) for t in types],
            colors=[TYPE_COLOURS.get(t, "#7f7f7f") for t in types],
            alpha=0.85,
        )
        ax2.legend(loc="upper right", fontsize=8, ncol=len(types))
    ax2.set_ylabel(L["children"])
    ax2.set_xlabel(L["time"])
    _hour_ticks(ax2, x)
    return fig


def group_curves(rows: Sequence[Mapping[str, Any]], lang: str | None = None) -> Figure:
    """Utilization through the day of every facility group (subdistrict or town)."""
    lang = label_language(lang)
    L = LABELS[lang]
    fig = Figure(figsize=(9, 5), layout="constrained")
    ax = fig.subplots()
    groups = [r for r in rows if r["scope"] == "group" and r["care_type"] == "all"]
    keys = list(dict.fromkeys(r["key"] for r in groups))
    cmap = __import__("matplotlib").colormaps["tab20"]
    for i, g in enumerate(keys):
        sel = [r for r in groups if r["key"] == g]
        x = np.array([r["minute"] for r in sel])
        u = np.array([(r["mean"] or 0.0) / (r["places"] or 1.0) for r in sel])
        ax.plot(x, u, label=g, color=cmap(i % 20), lw=1.6)
    district = [r for r in rows if r["scope"] == "district" and r["care_type"] == "all"]
    if district:
        x = np.array([r["minute"] for r in district])
        u = np.array([(r["mean"] or 0.0) / (r["places"] or 1.0) for r in district])
        ax.plot(x, u, color="black", lw=2.5, ls="--", label=L["district"])
    ax.set_ylabel(L["util"])
    ax.set_xlabel(L["time"])
    ax.set_title(L["by_group"])
    ax.set_ylim(bottom=0)
    if district:
        _hour_ticks(ax, np.array([r["minute"] for r in district]))
    ax.legend(fontsize=8, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def turn_away_by_facility(
    summary: Mapping[str, Any],
    max_turn_away: float | None = None,
    lang: str | None = None,
    top: int = 40,
) -> Figure:
    """Walk-in turn-away rate per facility with 95% intervals, worst first."""
    lang = label_language(lang)
    L = LABELS[lang]
    facs = [f for f in summary["facilities"] if f["walk_in_arrivals"] > 0]
    facs.sort(key=lambda f: -(f["turn_away_rate"]["mean"] or 0.0))
    facs = facs[:top]
    height = max(2.5, 0.28 * len(facs) + 1.2)
    fig = Figure(figsize=(8, height), layout="constrained")
    ax = fig.subplots()
    if not facs:
        ax.text(0.5, 0.5, "no walk-in arrivals", ha="center", transform=ax.transAxes)
        return fig
    names = [f["name"] or f["id"] for f in facs][::-1]
    mean = np.array([f["turn_away_rate"]["mean"] or 0.0 for f in facs])[::-1]
    ci = [f["turn_away_rate"]["ci95"] or [m, m] for f, m in zip(facs, mean[::-1], strict=True)][
        ::-1
    ]
    err = np.array([[m - c[0], c[1] - m] for m, c in zip(mean, ci, strict=True)]).T
    colours = [
        "#d62728" if (max_turn_away is not None and m > max_turn_away) else "#1f77b4" for m in mean
    ]
    y = np.arange(len(facs))
    ax.barh(y, mean, xerr=np.maximum(err, 0), color=colours, alpha=0.85, capsize=2)
    ax.set_yticks(y)
    ax.set_yticklabels(names, fontsize=8)
    if max_turn_away is not None:
        ax.axvline(
            max_turn_away, color="black", ls="--", lw=1, label=f"{L['target']} {max_turn_away:.0%}"
        )
        ax.legend(fontsize=8, loc="lower right")
    ax.xaxis.set_major_formatter(__import__("matplotlib").ticker.PercentFormatter(1.0))
    ax.set_xlabel(L["turn_away"])
    ax.set_title(L["title_turn"])
    return fig


def group_panels(
    rows: Sequence[Mapping[str, Any]], lang: str | None = None, cols: int = 4
) -> Figure:
    """Small multiples: children present by care type through the day, one panel per group.

    Each panel's right axis reads the same curve as utilization (children / places).
    """
    lang = label_language(lang)
    L = LABELS[lang]
    sel = [r for r in rows if r["scope"] == "group"]
    keys = list(dict.fromkeys(r["key"] for r in sel))
    n = max(1, len(keys))
    ncols = min(cols, n)
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(3.2 * ncols, 2.4 * nrows + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, squeeze=False)).ravel()
    types: list[str] = []
    for ax, g in zip(axes, keys, strict=False):
        mine = [r for r in sel if r["key"] == g]
        types = [t for t in dict.fromkeys(r["care_type"] for r in mine) if t != "all"]
        x = np.array([r["minute"] for r in mine if r["care_type"] == "all"])
        places = float(next((r["places"] for r in mine), 0) or 0) or 1.0
        stack = [np.array([r["mean"] or 0.0 for r in mine if r["care_type"] == t]) for t in types]
        if stack and x.size:
            ax.stackplot(
                x,
                np.vstack(stack) / places,
                colors=[TYPE_COLOURS.get(t, "#7f7f7f") for t in types],
                alpha=0.85,
            )
            _hour_ticks(ax, x)
        ax.set_title(
            f"{g}（{int(places)}）" if lang == "zh" else f"{g} ({int(places)})", fontsize=9
        )
        ax.set_ylim(0, 1.0)
        ax.tick_params(labelsize=7)
    for ax in axes[len(keys) :]:
        ax.set_visible(False)
    handles = [
        __import__("matplotlib").patches.Patch(
            color=TYPE_COLOURS.get(t, "#7f7f7f"), label=type_label(t, lang)
        )
        for t in types
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=max(1, len(handles)), fontsize=8)
    fig.suptitle(
        L["by_group"] + ("（在园幼儿 / 托位）" if lang == "zh" else " (children / places)")
    )
    return fig
