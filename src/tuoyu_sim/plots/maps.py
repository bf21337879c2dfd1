"""Figures of an allocation plan: the service map and places per 1,000 by subdistrict.

Each function takes values computed elsewhere
(:func:`~tuoyu_sim.allocate.results.map_data`,
:func:`~tuoyu_sim.runs.places_by_group`) and returns a matplotlib
``Figure``; nothing is computed or saved here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from tuoyu_sim.allocate.results import MapData
from tuoyu_sim.plots.fonts import use_cjk

_M_PER_DEG = 111_195.0


def _sizes(values: Sequence[float], lo: float = 8.0, hi: float = 160.0) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.size == 0 or float(v.max()) <= 0:
        return np.full(v.size, lo)
    return lo + (hi - lo) * np.sqrt(v / float(v.max()))


def plan_map(data: MapData) -> Figure:
    """Communities, existing and new sites with their service circles, and unmet demand.

    Communities are grey dots sized by children under three; existing
    facilities blue squares, new sites red stars, each with its service circle
    (straight-line radius); closed candidate sites hollow triangles; unmet
    demand orange rings sized by how much is unmet.
    """
    use_cjk()
    fig = Figure(figsize=(9, 8))
    ax = fig.add_subplot(1, 1, 1)

    def circles(points: Sequence[Any], colour: str) -> None:
        patches = []
        for p in points:
            if data.degrees:
                w = 2 * data.radius_m / (_M_PER_DEG * max(0.05, math.cos(math.radians(p.y))))
                h = 2 * data.radius_m / _M_PER_DEG
            else:
                w = h = 2 * data.radius_m
            patches.append(Ellipse((p.x, p.y), w, h))
        if patches:
            ax.add_collection(
                PatchCollection(
                    patches, facecolor=colour, edgecolor=colour, alpha=0.08, linewidth=0.6
                )
            )

    circles(data.existing, "#1f77b4")
    circles(data.new, "#d62728")
    if data.communities:
        ax.scatter(
            [p.x for p in data.communities],
            [p.y for p in data.communities],
            s=_sizes([p.value for p in data.communities], 4, 60),
            c="#7f7f7f",
            alpha=0.6,
            linewidths=0,
            label="community (size: children under 3)",
        )
    if data.unmet:
        ax.scatter(
            [p.x for p in data.unmet],
            [p.y for p in data.unmet],
            s=_sizes([p.value for p in data.unmet], 30, 220),
            facecolors="none",
            edgecolors="#ff7f0e",
            linewidths=1.4,
            label="unmet demand",
        )
    if data.closed_candidates:
        ax.scatter(
            [p.x for p in data.closed_candidates],
            [p.y for p in data.closed_candidates],
            marker="^",
            s=30,
            facecolors="none",
            edgecolors="#555555",
            linewidths=0.8,
            label="candidate site, not opened",
        )
    if data.existing:
        ax.scatter(
            [p.x for p in data.existing],
            [p.y for p in data.existing],
            marker="s",
            s=_sizes([p.value for p in data.existing], 12, 90),
            c="#1f77b4",
            label="existing facility (size: places)",
        )
    if data.new:
        ax.scatter(
            [p.x for p in data.new],
            [p.y for p in data.new],
            marker="*",
            s=_sizes([p.value for p in data.new], 80, 260),
            c="#d62728",
            edgecolors="black",
            linewidths=0.5,
            label="new site (size: places)",
        )
        for p in data.new:
            ax.annotate(p.id, (p.x, p.y), xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.set_aspect("equal" if not data.degrees else "auto")
    ax.autoscale_view()
    ax.set_xlabel("longitude (°)" if data.degrees else "x (m)")
    ax.set_ylabel("latitude (°)" if data.degrees else "y (m)")
    ax.set_title(data.title, fontsize=10)
    ax.legend(loc="upper left", fontsize=7, framealpha=0.8, markerscale=0.7)
    fig.tight_layout()
    return fig


def per_1000_by_group(rows: Sequence[Mapping[str, Any]], target: float | None = None) -> Figure:
    """Places per 1,000 residents by subdistrict (community ``group``), before and after."""
    use_cjk()
    fig = Figure(figsize=(max(6.0, 0.6 * len(rows) + 2), 4.5))
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(rows))
    before = [float(r["per_1000_before"]) for r in rows]
    after = [float(r["per_1000_after"]) for r in rows]
    ax.bar(x - 0.2, before, width=0.4, color="#9ecae1", label="before")
    ax.bar(x + 0.2, after, width=0.4, color="#3182bd", label="after the plan")
    if target is not None:
        ax.axhline(target, color="#d62728", linestyle="--", linewidth=1, label=f"target {target:g}")
    ax.set_xticks(x)
    ax.set_xticklabels([str(r["group"]) for r in rows], rotation=45, ha="right")
    ax.set_ylabel("places per 1,000 residents")
    ax.set_title("Places per 1,000 by subdistrict / town")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
