"""Distances and service circles.

Points are in metres (``x_m``, ``y_m``; Euclidean) or degrees (``lon``, ``lat``;
great-circle). A ``detour_factor`` turns straight lines into walking distance.
A user-supplied matrix (``geography.matrix_csv``) overrides both for the pairs
it lists; pairs it does not list are out of reach.

Pairs within a radius are found with a KD-tree, never with a dense matrix, so a
province-scale scenario stays sparse.

Distance decay (:func:`decay_factor`) lives here too: the simulation splits
walk-in demand by it (:func:`tuoyu_sim.demand.decay_weights`) and the allocation
models weight coverage by it (:mod:`tuoyu_sim.allocate.instance`). The
independent plan checker (:mod:`tuoyu_sim.allocate.verify`) keeps its own copy
on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.spatial import cKDTree

from tuoyu_sim.scenario import Located, Scenario

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), metres."""

DecayKind = Literal["off", "linear", "power", "exponential"]
"""Distance-decay shapes (``off``: no decay, a factor of 1 everywhere)."""


@dataclass(frozen=True)
class Pairs:
    """Sparse (source, target, distance) triples, sorted by source then distance."""

    rows: np.ndarray
    cols: np.ndarray
    dist_m: np.ndarray

    def __len__(self) -> int:
        return int(self.rows.size)

    def targets_of(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Targets of source ``i`` and their distances, nearest first."""
        lo, hi = np.searchsorted(self.rows, [i, i + 1])
        return self.cols[lo:hi], self.dist_m[lo:hi]


def _coords(points: Sequence[Located], metric: str) -> np.ndarray:
    if not points:
        return np.zeros((0, 3 if metric == "haversine" else 2))
    if metric == "haversine":
        lon = np.radians(np.array([p.lon for p in points], dtype=float))
        lat = np.radians(np.array([p.lat for p in points], dtype=float))
        return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))
    return np.array([[p.x_m, p.y_m] for p in points], dtype=float)


def _great_circle_m(chord: np.ndarray) -> np.ndarray:
    """Great-circle distance from chord length on the unit sphere."""
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


def pairs_within(
    scenario: Scenario,
    sources: Sequence[Located],
    targets: Sequence[Located],
    radius_m: float,
) -> Pairs:
    """All (source, target) pairs whose walking distance is at most ``radius_m``.

    Parameters
    ----------
    scenario
        Supplies the metric, the detour factor and any distance matrix.
    sources, targets
        Located rows (communities, facilities, candidate sites).
    radius_m
        Walking distance in metres, > 0.
    """
    geo = scenario.geography
    matrix = scenario.matrix()
    rows: list[int] = []
    cols: list[int] = []
    dists: list[float] = []
    if geo.distance == "matrix" and matrix is not None:
        index = {t.id: j for j, t in enumerate(targets)}
        for i, s in enumerate(sources):
            for j_id, j in index.items():
                dm = matrix.get((s.id, j_id))
                if dm is not None and dm <= radius_m:
                    rows.append(i)
                    cols.append(j)
                    dists.append(dm)
    elif sources and targets:
        metric = geo.distance
        a = _coords(sources, metric)
        b = _coords(targets, metric)
        straight = radius_m / geo.detour_factor
        if metric == "haversine":
            straight_q = 2.0 * np.sin(min(straight / (2.0 * EARTH_RADIUS_M), np.pi / 2))
        else:
            straight_q = straight
        tree_b = cKDTree(b)
        sparse = cKDTree(a).sparse_distance_matrix(tree_b, straight_q, output_type="coo_matrix")
        r, c, d = sparse.row, sparse.col, sparse.data
        # sparse_distance_matrix drops exact zeros; add co-located pairs back.
        zero = cKDTree(a).query_ball_tree(tree_b, 1e-9)
        extra_r = [i for i, js in enumerate(zero) for _ in js]
        extra_c = [j for js in zero for j in js]
        if extra_r:
            r = np.concatenate([r, extra_r])
            c = np.concatenate([c, extra_c])
            d = np.concatenate([d, np.zeros(len(extra_r))])
        if metric == "haversine":
            d = _great_circle_m(d)
        d = d * geo.detour_factor
        keep = d <= radius_m * (1 + 1e-12)
        rows, cols, dists = list(r[keep]), list(c[keep]), list(d[keep])
    order = np.lexsort((np.asarray(cols), np.asarray(dists), np.asarray(rows)))
    rr = np.asarray(rows, dtype=np.int64)[order] if rows else np.zeros(0, np.int64)
    cc = np.asarray(cols, dtype=np.int64)[order] if cols else np.zeros(0, np.int64)
    dd = np.asarray(dists, dtype=float)[order] if dists else np.zeros(0)
    # de-duplicate co-located pairs that both paths found
    if rr.size:
        key = rr * (len(targets) + 1) + cc
        _, first = np.unique(key, return_index=True)
        first.sort()
        rr, cc, dd = rr[first], cc[first], dd[first]
        order = np.lexsort((cc, dd, rr))
        rr, cc, dd = rr[order], cc[order], dd[order]
    return Pairs(rr, cc, dd)


def distance_m(scenario: Scenario, a: Located, b: Located) -> float:
    """Walking distance between two points (``inf`` if a matrix does not list them)."""
    geo = scenario.geography
    if geo.distance == "matrix":
        matrix = scenario.matrix() or {}
        return matrix.get((a.id, b.id), matrix.get((b.id, a.id), float("inf")))
    pa, pb = _coords([a], geo.distance)[0], _coords([b], geo.distance)[0]
    d = float(np.linalg.norm(pa - pb))
    if geo.distance == "haversine":
        d = float(_great_circle_m(np.array([d]))[0])
    return d * geo.detour_factor


def local_xy_m(points: Sequence[Located], origin: tuple[float, float] | None = None) -> np.ndarray:
    """Positions on a flat plane in metres, for drawing and for nearest-point look-ups.

    ``x_m``/``y_m`` are returned as given. ``lon``/``lat`` are projected
    equirectangularly about ``origin`` (lon, lat in degrees; default the points'
    mean): metres east and north of it. Within a district (tens of kilometres) this
    is within about 0.2% of the great-circle distance; use :func:`pairs_within` or
    :func:`distance_m` for the distances the models use.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(points), 2)``.
    """
    if not points:
        return np.zeros((0, 2))
    if points[0].lon is None:
        return np.array([[p.x_m, p.y_m] for p in points], dtype=float)
    lon = np.array([p.lon for p in points], dtype=float)
    lat = np.array([p.lat for p in points], dtype=float)
    lon0, lat0 = origin if origin is not None else (float(lon.mean()), float(lat.mean()))
    m_per_deg = np.pi * EARTH_RADIUS_M / 180.0
    x = (lon - lon0) * m_per_deg * np.cos(np.radians(lat0))
    return np.column_stack((x, (lat - lat0) * m_per_deg))


def sites(scenario: Scenario) -> list[Located]:
    """Existing facilities followed by candidate sites: the targets of allocation."""
    return [*scenario.facilities, *scenario.candidate_sites]


def decay_factor(dist_m: np.ndarray, kind: DecayKind, beta: float, reach_m: float) -> np.ndarray:
    """Distance decay in [0, 1], 1 at distance 0.

    ``linear``: ``1 - d / reach``; ``power``: ``max(d, 1 m) ** -beta``;
    ``exponential``: ``exp(-beta d)`` (beta per metre); ``off``: 1.

    Parameters
    ----------
    dist_m
        Walking distances in metres, >= 0.
    kind
        The decay shape.
    beta
        ``exponential``: per metre; ``power``: the exponent; > 0 (unused by
        ``linear`` and ``off``).
    reach_m
        Distance at which ``linear`` decay reaches 0, metres, > 0.
    """
    d = np.asarray(dist_m, dtype=float)
    if kind == "off":
        return np.ones_like(d)
    if kind == "linear":
        return np.clip(1.0 - d / reach_m, 0.0, 1.0)
    if kind == "power":
        return np.asarray(np.minimum(1.0, np.maximum(d, 1.0) ** (-beta)))
    return np.asarray(np.exp(-beta * d))
