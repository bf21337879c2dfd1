"""Figures of accessibility: maps of the 2SFCA score by age class with deserts marked,
and deserts before and after a plan.

Each function takes an :class:`~tuoyu_sim.accessibility.AccessResult` (or the rows of
``by_class.csv``) and returns a matplotlib ``Figure``; nothing is computed or
saved here. Labels are in ``lang`` (``zh`` or ``en``; default Chinese when a CJK
font is available, :func:`~tuoyu_sim.plots.fonts.label_language`); class names
are the report's (:func:`tuoyu_sim.report.labels._age_name`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import PatchCollection
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse, Rectangle

from tuoyu_sim.accessibility import ALL, AccessResult
from tuoyu_sim.plots.fonts import label_language

_M_PER_DEG = 111_195.0
_CMAP = "RdYlBu"

LABELS = {
    "zh": {
        "all": "全部托位",
        "any": "任一班级",
        "panel": "{label}：托育荒漠 {deserts} 个；托位 {places:,} 个，幼儿 {children:,.0f} 名",
        "lon": "经度（°）",
        "lat": "纬度（°）",
        "x": "x（米）",
        "y": "y（米）",
        "desert": "托育荒漠（3 岁以下幼儿多于 {min:g} 名，且无托位或每托位幼儿多于 {per:g} 名）",
        "community": "社区（大小：该班级幼儿数）",
        "facility": "有该班级托位的机构（大小：托位数）",
        "catchment": "其服务范围（步行 {m:,.0f} 米）",
        "new": "方案新开站点（大小：托位数）",
        "gaussian": "高斯两步移动搜索法",
        "steps": "增强两步移动搜索法（分段权重）",
        "bar": "步行 {m:,.0f} 米内每名幼儿的托位数（{method}）；红色：每托位幼儿多于 {per:g} 名",
        "zoom": "（人口最密集区域；托育荒漠标注社区编号）",
        "after": "应用方案后：{name}",
        "deserts": "托育荒漠社区数",
        "children_in_deserts": "荒漠中的幼儿数",
        "current": "方案前",
        "planned": "方案后",
    },
    "en": {
        "all": "all places",
        "any": "any class",
        "panel": "{label}: {deserts} deserts; {places:,} places, {children:,.0f} children",
        "lon": "longitude (°)",
        "lat": "latitude (°)",
        "x": "x (m)",
        "y": "y (m)",
        "desert": "desert (> {min:g} children under 3, and no place or > {per:g} children "
        "per place)",
        "community": "community (size: children of the class)",
        "facility": "facility with places of the class (size: places)",
        "catchment": "its catchment ({m:,.0f} m walking)",
        "new": "new site of the plan (size: places)",
        "gaussian": "Gaussian 2SFCA",
        "steps": "enhanced 2SFCA (steps)",
        "bar": "places per child within {m:,.0f} m ({method}); red: more than {per:g} children "
        "per place",
        "zoom": " (the densest part; desert communities labelled)",
        "after": "After the plan: {name}",
        "deserts": "communities that are deserts",
        "children_in_deserts": "children in deserts",
        "current": "current",
        "planned": "planned",
    },
}
"""The figures' words, by language."""


def class_name(key: str, lang: str) -> str:
    """A class's label: the report's name of an age class, or all places / any class."""
    from tuoyu_sim.report.labels import _age_name

    if key in ("all", "any"):
        return LABELS[lang][key]
    return _age_name(key, lang)


def planned_title(name: str, lang: str | None = None) -> str:
    """The title of the map after a plan."""
    return LABELS[label_language(lang)]["after"].format(name=name)


def _xy(points: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, bool]:
    """Coordinates of located rows (metres or degrees) and whether they are degrees."""
    degrees = any(p.lon is not None for p in points)
    if degrees:
        x = [p.lon for p in points]
        y = [p.lat for p in points]
    else:
        x = [p.x_m for p in points]
        y = [p.y_m for p in points]
    return np.array(x, dtype=float), np.array(y, dtype=float), degrees


def has_coordinates(result: AccessResult) -> bool:
    """Whether every community and facility has a point to draw."""
    return all(
        (p.x_m is not None) or (p.lon is not None)
        for p in (*result.communities, *result.facilities)
    )


def score_limit(*results: AccessResult) -> float:
    """A common top of the colour scale: the 95th percentile of the scores, at least
    twice the desert boundary."""
    boundary = 1.0 / results[0].settings.desert_children_per_place
    values = np.concatenate([r.score.ravel() for r in results])
    top = float(np.percentile(values, 95)) if values.size else 0.0
    return max(2.0 * boundary, top)


def _sizes(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.size == 0 or float(v.max()) <= 0:
        return np.full(v.size, lo)
    return lo + (hi - lo) * np.sqrt(np.clip(v, 0, None) / float(v.max()))


Window = tuple[float, float, float, float]
"""(x min, x max, y min, y max) of a zoomed map."""


def core_window(result: AccessResult, radius_factor: float = 3.0) -> Window | None:
    """The densest part of the district, to zoom on: the communities within
    ``radius_factor`` catchments of the community with most such neighbours.

    ``None`` when that part is not much smaller than the district (no zoom needed)
    or the map is in degrees.
    """
    x, y, degrees = _xy(result.communities)
    if degrees or x.size < 10:
        return None
    reach = radius_factor * result.settings.catchment_m
    d2 = (x[:, None] - x[None, :]) ** 2 + (y[:, None] - y[None, :]) ** 2
    near = d2 <= reach**2
    centre = int(near.sum(axis=1).argmax())
    members = near[centre]
    margin = 0.4 * result.settings.catchment_m
    box = (
        float(x[members].min()) - margin,
        float(x[members].max()) + margin,
        float(y[members].min()) - margin,
        float(y[members].max()) + margin,
    )
    full = (float(np.ptp(x)) or 1.0) * (float(np.ptp(y)) or 1.0)
    if (box[1] - box[0]) * (box[3] - box[2]) > 0.25 * full:
        return None
    return box


class _Style:
    """What every panel of one map shares: colours, sizes, positions."""

    def __init__(
        self,
        result: AccessResult,
        vmax: float | None,
        new_facilities: Collection[str],
        detour_factor: float,
        window: Window | None,
        mark: Window | None = None,
    ) -> None:
        spec = result.settings
        self.mark = mark
        self.boundary = 1.0 / spec.desert_children_per_place
        top = max(vmax if vmax is not None else score_limit(result), 1.5 * self.boundary)
        self.norm = TwoSlopeNorm(vmin=0.0, vcenter=self.boundary, vmax=top)
        self.cx, self.cy, self.degrees = _xy(result.communities)
        self.fx, self.fy, _ = _xy(result.facilities)
        self.new = np.array([f.id in new_facilities for f in result.facilities], dtype=bool)
        self.radius = spec.catchment_m / detour_factor
        self.window = window
        zoom = 2.5 if window is not None else 1.0
        self.dot = (5.0 * zoom, 55.0 * zoom)
        self.square = (5.0 * zoom, 30.0 * zoom)
        self.groups: dict[str, list[int]] = {}
        for i, c in enumerate(result.communities):
            if c.group:
                self.groups.setdefault(c.group, []).append(i)

    def inside(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self.window is None:
            return np.ones(x.shape, dtype=bool)
        x0, x1, y0, y1 = self.window
        return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def _catchments(ax: Any, st: _Style, has: np.ndarray) -> None:
    patches = []
    for x, y in zip(st.fx[has], st.fy[has], strict=True):
        if st.degrees:
            w = 2 * st.radius / (_M_PER_DEG * max(0.05, math.cos(math.radians(y))))
            h = 2 * st.radius / _M_PER_DEG
        else:
            w = h = 2 * st.radius
        patches.append(Ellipse((x, y), w, h))
    if patches:
        ax.add_collection(
            PatchCollection(
                patches, facecolor="#9e9e9e", edgecolor="#616161", alpha=0.08, linewidth=0.6
            )
        )


def _panel(ax: Any, result: AccessResult, k: int, st: _Style, label: str, lang: str) -> Any:
    """One class: catchments, communities by score, deserts outlined, facilities."""
    places = result.facility_places[:, k]
    has = places > 0
    _catchments(ax, st, has)
    children = result.children[:, k]
    desert = result.desert[:, k]
    size = _sizes(children, *st.dot)
    dots = ax.scatter(
        st.cx, st.cy, s=size, c=result.score[:, k], cmap=colormaps[_CMAP], norm=st.norm,
        edgecolors=np.where(desert, "black", "#616161"),
        linewidths=np.where(desert, 1.6, 0.3), zorder=3,
    )  # fmt: skip
    old = has & ~st.new
    if old.any():
        ax.scatter(
            st.fx[old], st.fy[old], marker="s", s=_sizes(places[old], *st.square),
            c="#263238", edgecolors="white", linewidths=0.4, zorder=5,
        )  # fmt: skip
    fresh = has & st.new
    if fresh.any():
        ax.scatter(
            st.fx[fresh], st.fy[fresh], marker="*", s=_sizes(places[fresh], 80, 220),
            facecolors="none", edgecolors="#6a1b9a", linewidths=1.3, zorder=6,
        )  # fmt: skip
    for g, members in st.groups.items():
        gx, gy = float(np.mean(st.cx[members])), float(np.mean(st.cy[members]))
        if st.inside(np.array([gx]), np.array([gy]))[0]:
            ax.annotate(
                g, (gx, gy), ha="center", va="center", fontsize=8, color="#212121",
                alpha=0.6, zorder=2,
            )  # fmt: skip
    if st.mark is not None:
        x0, x1, y0, y1 = st.mark
        ax.add_patch(
            Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, linestyle="--", linewidth=0.8,
                      edgecolor="#424242", zorder=8)
        )  # fmt: skip
    if st.window is not None:
        for i in np.flatnonzero(desert & st.inside(st.cx, st.cy)):
            ax.annotate(
                result.communities[i].id, (st.cx[i], st.cy[i]), xytext=(4, 3),
                textcoords="offset points", fontsize=6, color="#212121", zorder=7,
            )  # fmt: skip
        x0, x1, y0, y1 = st.window
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
    L = LABELS[lang]
    ax.set_title(
        L["panel"].format(
            label=label,
            deserts=int(desert.sum()),
            places=round(float(result.places[k])),
            children=float(children.sum()),
        ),
        fontsize=10,
    )
    ax.set_aspect("equal" if not st.degrees else "auto")
    ax.tick_params(labelsize=7)
    ax.set_xlabel(L["lon"] if st.degrees else L["x"], fontsize=8)
    ax.set_ylabel(L["lat"] if st.degrees else L["y"], fontsize=8)
    return dots


def _legend(fig: Figure, result: AccessResult, new: bool, lang: str) -> None:
    spec = result.settings
    L = LABELS[lang]
    desert = L["desert"].format(min=spec.desert_min_children, per=spec.desert_children_per_place)
    handles = [
        Line2D([], [], marker="o", linestyle="", markerfacecolor="#bdbdbd",
               markeredgecolor="black", markeredgewidth=1.6, markersize=8, label=desert),
        Line2D([], [], marker="o", linestyle="", markerfacecolor="#bdbdbd",
               markeredgecolor="#616161", markersize=6, label=L["community"]),
        Line2D([], [], marker="s", linestyle="", color="#263238", markersize=5,
               label=L["facility"]),
        Line2D([], [], marker="o", linestyle="", markerfacecolor="#e0e0e0",
               markeredgecolor="#616161", markersize=11,
               label=L["catchment"].format(m=spec.catchment_m)),
    ]  # fmt: skip
    if new:
        handles.append(
            Line2D([], [], marker="*", linestyle="", markerfacecolor="none",
                   markeredgecolor="#6a1b9a", markeredgewidth=1.3, markersize=11,
                   label=L["new"])
        )  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8, frameon=False)


def access_map(
    result: AccessResult,
    *,
    vmax: float | None = None,
    title: str | None = None,
    new_facilities: Collection[str] = (),
    class_names: Mapping[str, str] | None = None,
    detour_factor: float = 1.0,
    window: Window | None = None,
    mark: Window | None = None,
    lang: str | None = None,
) -> Figure:
    """One panel per age class (and all places): communities coloured by the headline
    score (red: fewer places per child than the desert rule allows), deserts outlined in
    black, facilities with places of the class and their catchments.

    Parameters
    ----------
    result
        What :func:`tuoyu_sim.accessibility.measure` returns.
    vmax
        Top of the colour scale, places per child (share it between a before and
        an after map); default :func:`score_limit` of this result.
    new_facilities
        Ids drawn as new sites (stars) rather than existing facilities.
    class_names
        Labels of the classes; default the report's names in ``lang``
        (:func:`class_name`).
    detour_factor
        Walking over straight-line distance: the catchment circles are drawn with
        the straight-line radius ``catchment_m / detour_factor``.
    window
        Zoom on this part of the map (:func:`core_window`); desert communities
        are labelled with their ids.
    mark
        Outline this part of the map (the window of a zoomed map that goes with it).
    lang
        ``zh`` or ``en``; default Chinese when a CJK font is available.
    """
    lang = label_language(lang)
    L = LABELS[lang]
    spec = result.settings
    st = _Style(result, vmax, new_facilities, detour_factor, window, mark)
    names = {a: class_name(a, lang) for a in result.classes}
    names.update(class_names or {})
    n = len(result.classes)
    ncols = 2 if n > 1 else 1
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(6.0 * ncols, 5.4 * nrows + 1.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    dots = None
    for k, a in enumerate(result.classes):
        label = names.get(a, a) if a != ALL else L["all"]
        dots = _panel(axes[k], result, k, st, label, lang)
    for ax in axes[n:]:
        ax.set_visible(False)
    method = L["gaussian"] if spec.weight == "gaussian" else L["steps"]
    if dots is not None:
        bar = fig.colorbar(dots, ax=axes[:n], location="bottom", shrink=0.7, aspect=40)
        bar.set_label(
            L["bar"].format(m=spec.catchment_m, method=method, per=spec.desert_children_per_place),
            fontsize=9,
        )
        bar.ax.axvline(st.boundary, color="black", linewidth=1.2)
        bar.ax.tick_params(labelsize=8)
    _legend(fig, result, bool(st.new.any()), lang)
    zoom = L["zoom"] if window is not None else ""
    fig.suptitle((title or result.scenario_name) + zoom, fontsize=11)
    return fig


def deserts_before_after(rows: Sequence[Mapping[str, Any]], lang: str | None = None) -> Figure:
    """Deserts and children in deserts by age class, current against planned
    (``by_class.csv`` rows with ``scenario`` current and planned); ``lang`` as in
    :func:`access_map`."""
    lang = label_language(lang)
    L = LABELS[lang]
    classes = list(dict.fromkeys(str(r["age_class"]) for r in rows))
    by = {(str(r["scenario"]), str(r["age_class"])): r for r in rows}
    fig = Figure(figsize=(max(7.0, 1.4 * len(classes) + 3), 4.2))
    x = np.arange(len(classes))
    for n, key in enumerate(("deserts", "children_in_deserts")):
        ax = fig.add_subplot(1, 2, n + 1)
        top = 0.0
        for shift, scenario, colour in ((-0.2, "current", "#ef8a62"), (0.2, "planned", "#67a9cf")):
            values = [float(by.get((scenario, a), {}).get(key) or 0) for a in classes]
            bars = ax.bar(x + shift, values, width=0.4, color=colour, label=L[scenario])
            ax.bar_label(bars, fmt="%.0f", fontsize=7)
            top = max(top, *values)
        ax.set_ylim(0, 1.25 * top if top > 0 else 1.0)
        ax.set_xticks(x)
        ax.set_xticklabels([class_name(a, lang) for a in classes], fontsize=8)
        ax.set_title(L[key], fontsize=10)
        ax.legend(fontsize=8, ncol=2, loc="upper left", frameon=False)
    fig.tight_layout()
    return fig
