"""Response curves of a sweep: a headline figure against each swept parameter.

Each function takes rows of ``sweep.csv`` (dicts, as built by
:func:`tuoyu_sim.sweeps.sweep_rows`) and returns a matplotlib ``Figure``; it
computes no statistics: means and 95% intervals come from the rows.

For a parameter on the x axis, one line is drawn per value of the next swept
parameter (if any); any further parameters are held at their first value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from tuoyu_sim.plots.fonts import label_language

LABELS = {
    "zh": {
        "turn_away_rate": "临时/计时托拒收率",
        "utilization": "全区托位利用率",
        "breach_day_share": "师幼比不达标天数占比",
        "title": "情景扫描响应曲线（均值与 95% 置信区间）",
        "held": "其余参数固定为",
    },
    "en": {
        "turn_away_rate": "walk-in turn-away rate",
        "utilization": "district utilization",
        "breach_day_share": "breach day share",
        "title": "sweep response curves (mean and 95% CI)",
        "held": "other parameters held at",
    },
}

FIGURES: tuple[str, ...] = ("turn_away_rate", "utilization")
"""Headline figures drawn by default, one row of panels each."""


def _number(value: Any) -> float:
    if value is None or value == "":
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _is_numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values) or all(
        _looks_numeric(v) for v in values
    )


def _looks_numeric(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _distinct(rows: Sequence[Mapping[str, Any]], key: str) -> list[Any]:
    return list(dict.fromkeys(r[key] for r in rows))


def response_panel(
    ax: Any,
    rows: Sequence[Mapping[str, Any]],
    x_key: str,
    figure: str,
    line_key: str | None = None,
    hold: Mapping[str, Any] | None = None,
) -> None:
    """Draw one panel: ``figure`` (mean and CI) against ``x_key`` on ``ax``.

    Parameters
    ----------
    rows
        Sweep rows with the parameter columns and ``figure``, ``figure_lo``,
        ``figure_hi``.
    x_key
        The parameter on the x axis.
    line_key
        A second parameter: one line per value.
    hold
        Values of any other parameters; only rows with these values are drawn.
    """
    sel = [r for r in rows if all(r.get(k) == v for k, v in (hold or {}).items())]
    x_values = _distinct(sel, x_key)
    numeric = _is_numeric(x_values)
    lines = _distinct(sel, line_key) if line_key else [None]
    cmap = __import__("matplotlib").colormaps["viridis"]
    for i, lv in enumerate(lines):
        part = [r for r in sel if line_key is None or r[line_key] == lv]
        if numeric:
            part = sorted(part, key=lambda r: float(r[x_key]))
            x = np.array([float(r[x_key]) for r in part])
        else:
            pos = {v: j for j, v in enumerate(x_values)}
            part = sorted(part, key=lambda r: pos[r[x_key]])
            x = np.array([pos[r[x_key]] for r in part], dtype=float)
        mean = np.array([_number(r.get(figure)) for r in part])
        lo = np.array([_number(r.get(f"{figure}_lo")) for r in part])
        hi = np.array([_number(r.get(f"{figure}_hi")) for r in part])
        colour = cmap(i / max(1, len(lines) - 1)) if line_key else "#08306b"
        label = f"{line_key} = {lv}" if line_key else None
        if not numeric:  # categories: intervals as error bars, no band between them
            shift = 0.08 * (i - (len(lines) - 1) / 2) if line_key else 0.0
            err = np.vstack([mean - lo, hi - mean])
            ax.errorbar(
                x + shift,
                mean,
                yerr=np.where(np.isfinite(err), np.maximum(err, 0), 0),
                fmt="o",
                ms=5,
                capsize=3,
                color=colour,
                label=label,
            )
            continue
        if np.isfinite(lo).any():
            ax.fill_between(x, lo, hi, color=colour, alpha=0.18, lw=0)
        ax.plot(x, mean, marker="o", ms=4, lw=1.8, color=colour, label=label)
    if not numeric:
        ax.set_xticks(range(len(x_values)))
        ax.set_xticklabels([str(v) for v in x_values])
        ax.set_xlim(-0.5, len(x_values) - 0.5)
    ax.set_xlabel(x_key, fontsize=8)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(bottom=0)
    if line_key and len(lines) > 1:
        ax.legend(fontsize=7, loc="best")


def response_curves(
    rows: Sequence[Mapping[str, Any]],
    params: Sequence[str],
    figures: Sequence[str] = FIGURES,
    lang: str | None = None,
) -> Figure:
    """Headline figures against each swept parameter, one panel per (figure, parameter).

    Parameters
    ----------
    rows
        Finished sweep rows (points with an error left out by the caller).
    params
        The swept parameter columns, in ``--set`` order.
    figures
        Headline figures (shares in [0, 1]), one row of panels each.
    lang
        ``"zh"`` or ``"en"``; default Chinese when a CJK font is available.
    """
    lang = label_language(lang)
    L = LABELS[lang]
    n = max(1, len(params))
    fig = Figure(figsize=(max(6.0, 4.2 * n), 3.2 * len(figures) + 0.6), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(figures), n, squeeze=False))
    if not rows or not params:
        axes[0, 0].text(0.5, 0.5, "no finished points", ha="center", transform=axes[0, 0].transAxes)
        return fig
    first = {k: rows[0][k] for k in params}
    for j, x_key in enumerate(params):
        others = [k for k in params if k != x_key]
        line_key = others[0] if others else None
        hold = {k: first[k] for k in others[1:]}
        for i, figure in enumerate(figures):
            ax = axes[i, j]
            response_panel(ax, rows, x_key, figure, line_key, hold)
            if j == 0:
                ax.set_ylabel(L.get(figure, figure))
            if hold and i == 0:
                held = ", ".join(f"{k} = {v}" for k, v in hold.items())
                ax.set_title(f"{L['held']} {held}", fontsize=7)
    fig.suptitle(L["title"])
    return fig


PRICE_LABELS = {
    "zh": {
        "enrolled": "在托儿童（人）",
        "revenue_cny_per_year": "机构年收入（万元）",
        "public_cost_cny_per_year": "财政年支出（万元）",
        "public_cost_per_extra_child_cny": "每新增一名在托儿童的年财政支出（万元）",
        "title": "费用与补贴：入托、收入与财政支出（与第一个点相比）",
        "held": "其余参数固定为",
    },
    "en": {
        "enrolled": "enrolled children",
        "revenue_cny_per_year": "operators' revenue a year (10k yuan)",
        "public_cost_cny_per_year": "public cost a year (10k yuan)",
        "public_cost_per_extra_child_cny": "public cost per extra enrolled child (10k yuan a year)",
        "title": "fees and subsidies: enrollment, revenue, public cost (against the first point)",
        "held": "other parameters held at",
    },
}

PRICE_FIGURES: tuple[str, ...] = (
    "enrolled",
    "revenue_cny_per_year",
    "public_cost_cny_per_year",
    "public_cost_per_extra_child_cny",
)
"""Panels of :func:`price_response`, in order."""


def price_response(
    rows: Sequence[Mapping[str, Any]], params: Sequence[str], lang: str | None = None
) -> Figure:
    """Enrollment, operators' revenue, public cost and public cost per extra enrolled
    child against the first swept parameter (a subsidy, a fee or a cap).

    Rows are those of a priced sweep (:func:`tuoyu_sim.sweeps.sweep_rows`); the
    other parameters are held at their first value. Yuan are drawn in units of
    10,000 (万元).
    """
    lang = label_language(lang)
    L = PRICE_LABELS[lang]
    fig = Figure(figsize=(10.0, 6.4), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    if not rows or not params:
        axes[0].text(0.5, 0.5, "no finished points", ha="center", transform=axes[0].transAxes)
        return fig
    x_key = params[0]
    hold = {k: rows[0][k] for k in params[1:]}
    sel = [r for r in rows if all(r.get(k) == v for k, v in hold.items())]
    x_values = _distinct(sel, x_key)
    numeric = _is_numeric(x_values)
    x = np.array([float(v) for v in x_values]) if numeric else np.arange(len(x_values), dtype=float)
    by_x = {r[x_key]: r for r in sel}
    for ax, figure in zip(axes, PRICE_FIGURES, strict=True):
        scale = 1.0 if figure == "enrolled" else 1e-4
        y = np.array([_number(by_x[v].get(figure)) for v in x_values]) * scale
        lo = np.array([_number(by_x[v].get(f"{figure}_lo")) for v in x_values]) * scale
        hi = np.array([_number(by_x[v].get(f"{figure}_hi")) for v in x_values]) * scale
        if np.isfinite(lo).any():
            ax.fill_between(x, lo, hi, color="#08306b", alpha=0.18, lw=0)
        ax.plot(x, y, marker="o", ms=4, lw=1.8, color="#08306b")
        ax.set_ylabel(L[figure], fontsize=8)
        ax.set_xlabel(x_key, fontsize=8)
        if not numeric:
            ax.set_xticks(x)
            ax.set_xticklabels([str(v) for v in x_values])
    if hold:
        axes[0].set_title(
            f"{L['held']} " + ", ".join(f"{k} = {v}" for k, v in hold.items()), fontsize=7
        )
    fig.suptitle(L["title"])
    return fig
