"""Ratio-breach heat map: facility × hour of day, minutes of breach per day.

The input is the rows of ``breach_by_hour.csv`` (written by ``simulate``; see
:func:`tuoyu_sim.metrics.tables`): one row per facility and hour bin with
``facility``, ``hour`` (``"HH:MM"``, the start of the bin) and
``breach_minutes_per_day`` (mean over replication-days, minutes, 0–60). The
function only arranges and draws those figures; it computes no statistics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from tuoyu_sim.plots.fonts import label_language

LABELS = {
    "zh": {
        "title": "师幼比不达标时段（每日平均分钟数）",
        "title_top": "师幼比不达标时段：最严重的 {n} 家机构（每日平均分钟数）",
        "hour": "时段（开始时刻）",
        "facility": "机构",
        "minutes": "每日不达标分钟数",
        "none": "模拟中没有任何机构出现师幼比不达标",
        "more": "另有 {n} 家机构有不达标时段，未列出",
    },
    "en": {
        "title": "Staff-ratio breach by hour (minutes per day)",
        "title_top": "Staff-ratio breach by hour: the {n} worst facilities (minutes per day)",
        "hour": "hour of day (start)",
        "facility": "facility",
        "minutes": "breach minutes per day",
        "none": "no facility breached the staff ratio in the simulation",
        "more": "{n} more facilities with some breach not shown",
    },
}


def _number(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return 0.0
    return out if np.isfinite(out) else 0.0


def breach_heatmap(
    rows: Sequence[Mapping[str, Any]],
    names: Mapping[str, str] | None = None,
    top: int = 20,
    lang: str | None = None,
    annotate: bool | None = None,
) -> Figure:
    """Minutes of ratio breach per day, facility × hour of day.

    Parameters
    ----------
    rows
        ``breach_by_hour`` rows: ``facility``, ``hour`` (``"HH:MM"``) and
        ``breach_minutes_per_day`` (minutes, ≥ 0).
    names
        Display names by facility id (default: the ids). A label is
        ``"name (id)"`` when a name is given.
    top
        At most this many facilities, those with the most breach minutes per
        day first (≥ 1). Facilities with no breach at all are never shown.
    lang
        ``"zh"`` or ``"en"``; default Chinese when a CJK font is available.
    annotate
        Write the minutes in each cell; default when the grid is small
        (at most 15 facilities × 16 hours).

    Returns
    -------
    Figure
        One heat-map axes and its colour bar; with no breach anywhere, a
        single axes that says so.
    """
    lang = label_language(lang)
    L = LABELS[lang]
    names = names or {}
    top = max(1, int(top))
    hours = list(dict.fromkeys(str(r["hour"]) for r in rows))
    hours.sort()
    facility_order = list(dict.fromkeys(str(r["facility"]) for r in rows))
    grid = np.zeros((len(facility_order), len(hours)))
    f_index = {f: i for i, f in enumerate(facility_order)}
    h_index = {h: i for i, h in enumerate(hours)}
    for r in rows:
        grid[f_index[str(r["facility"])], h_index[str(r["hour"])]] += _number(
            r["breach_minutes_per_day"]
        )
    totals = grid.sum(axis=1)
    breaching = [i for i in np.argsort(-totals, kind="stable") if totals[i] > 0]
    shown = breaching[:top]
    if not shown:
        fig = Figure(figsize=(7, 2.2), layout="constrained")
        ax = fig.subplots()
        ax.set_axis_off()
        ax.text(0.5, 0.5, L["none"], ha="center", va="center", transform=ax.transAxes)
        ax.set_title(L["title"])
        return fig
    data = grid[shown]
    labels = []
    for i in shown:
        fid = facility_order[i]
        name = names.get(fid) or ""
        labels.append(f"{name} ({fid})" if name and name != fid else fid)
    height = max(2.8, 0.32 * len(shown) + 1.6)
    width = max(7.0, 0.55 * len(hours) + 4.0)
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.subplots()
    vmax = max(1.0, float(data.max()))
    image = ax.imshow(
        data, aspect="auto", cmap="OrRd", vmin=0.0, vmax=vmax, interpolation="nearest"
    )
    ax.set_xticks(np.arange(len(hours)))
    ax.set_xticklabels(hours, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(np.arange(len(shown)))
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel(L["hour"])
    ax.set_ylabel(L["facility"])
    more = len(breaching) - len(shown)
    title = L["title_top"].format(n=len(shown)) if more > 0 else L["title"]
    ax.set_title(title)
    if more > 0:
        fig.supxlabel(L["more"].format(n=more), fontsize=7, color="#555555", x=0.98, ha="right")
    colourbar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    colourbar.set_label(L["minutes"])
    if annotate is None:
        annotate = len(shown) <= 15 and len(hours) <= 16
    if annotate:
        for (i, j), value in np.ndenumerate(data):
            if value >= 0.05:
                ax.text(
                    j,
                    i,
                    f"{value:.1f}",
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="white" if value > 0.6 * vmax else "black",
                )
    return fig
