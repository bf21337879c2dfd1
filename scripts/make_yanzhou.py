"""Generate the Yanzhou District tables for ``scenarios/yanzhou.toml`` on its known structure.

Writes ``scenarios/yanzhou/communities.csv``, ``facilities.csv``,
``candidate_sites.csv`` and ``community_notes.csv`` deterministically (one
``numpy.random.Generator`` with a fixed seed) and asserts the published totals.

REAL (facts, sources in ``scenarios/README.md`` and the scenario's header):

* 58 childcare institutions, 3,060 places (Qilu/Shandian News feature, 24 June);
* 540,662 residents, 426,229 urban (2020 census, via the Chinese Wikipedia
  article on 兖州区); 3,060 / 540,662 × 1,000 = 5.66 places per 1,000;
* the 12 divisions and their official codes (Ministry of Civil Affairs list,
  end-2025): 370812001 鼓楼, 002 酒仙桥, 003 龙桥, 004 兴隆庄, 005 黄屯, 006 王因
  (subdistricts), 100 大安, 101 新驿, 102 颜店, 103 新兖, 104 漕河, 106 小孟 (towns).
  Where lists disagree (one widely copied list swaps 005 and 006; the statistics
  bureau's 2022 list has 10 units numbered differently) the Ministry's list is
  used: it is the only one with all 12 divisions and the one that names them;
* 443 community and village committees, as many per statistics unit as the 2019
  code list gives (居委会 / 村委会): 鼓楼 19/5, 龙桥 7/15, 酒仙桥 6/13, 兴隆庄 0/42,
  大安 0/53, 新驿 0/57, 颜店 0/66, 新兖 2/85, 漕河 0/31, 小孟 0/42;
* the district's centre (116.75° E, 35.57° N, the centroid of its outline) and
  its area (651 km²);
* the district's births (``[projection.births]`` of the scenario: the census's
  4,338 children aged 0, carried by the national births), from which the
  under-threes on 1 July of the base year are counted;
* the 儒易托 station: 白衣堂 community, 鼓楼 subdistrict, 500 m², 1 托育师,
  2 保育师, 1 pediatrician, 3 minutes' walk (same news feature).

ASSUMED (synthetic; none of it is data):

* 王因 and 黄屯 are absent from the 2019 and 2022 statistics lists, whose other
  units hold their villages; which ones was not found. Here 王因 takes a third of
  新兖's villages (28 of 85) and 黄屯 a third of 颜店's (22 of 66): the two
  largest units, so the division sizes even out and the 443 stay 443;
* every position: the district is drawn as a disc of 651 km² around its centre
  (its real outline was not used); 龙桥 (the seat) at the centre with 鼓楼 and
  酒仙桥 beside it (the 34 居委会 in the urban core), the subdistricts' villages in
  a ring around the core, and each of the other nine divisions a sector of the
  outer ring, its width in proportion to its communities, with its seat on the
  sector's middle line and its villages spread through the sector. Longitude and
  latitude come from metres on a local plane around the centre;
* names other than 白衣堂社区 (village names were not found);
* populations: a 居委会 averages 6,000 residents, a village the rest; the census's
  urban residents are the 居委会, the subdistricts' villages and the towns' seat
  villages and the villages nearest each town seat; the 114,433 rural residents
  live in the villages farthest from their town seat (as many as an average
  village size gives). Per-division and per-community populations were not found;
* under-threes: the births model at face value (no correction for the census's
  undercount of infants; see ``UNDERCOUNT`` below), shared by population (the
  same share of under-threes everywhere);
* the split of the 58 facilities among the divisions (two in each, the other 34
  by residents), their positions (near a core community, a seat, or a village of
  the census's urban class), sizes, staff and floor areas (except 儒易托's staff and area),
  儒易托's 18 places, the age mix, the demand propensities, and every candidate
  site.

Run from the repository root::

    .venv/bin/python scripts/make_yanzhou.py          # writes the CSVs
    .venv/bin/python scripts/make_yanzhou.py --check  # also validates and prints a summary
"""

from __future__ import annotations

import argparse
import csv
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Draw = Callable[[np.random.Generator], tuple[float, float]]
"""One uniform point (metres) in a region."""

SEED = 20200624
"""Seed of the layout generator (fixed: the tables are data, regenerated identically)."""

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "scenarios" / "yanzhou"
TOML = ROOT / "scenarios" / "yanzhou.toml"

# -- published figures (facts; see the module docstring for sources) ------------------
TOTAL_FACILITIES = 58
TOTAL_PLACES = 3060
TOTAL_POPULATION = 540_662
URBAN_POPULATION = 426_229
RURAL_POPULATION = TOTAL_POPULATION - URBAN_POPULATION  # 114,433
CENTRE_LON, CENTRE_LAT = 116.75, 35.57  # centroid of the district's outline
AREA_KM2 = 651.0

# Committees per statistics unit, 2019 code list: (居委会, 村委会).
STAT_UNITS_2019: dict[str, tuple[int, int]] = {
    "鼓楼": (19, 5),
    "龙桥": (7, 15),
    "酒仙桥": (6, 13),
    "兴隆庄": (0, 42),
    "大安": (0, 53),
    "新驿": (0, 57),
    "颜店": (0, 66),
    "新兖": (2, 85),
    "漕河": (0, 31),
    "小孟": (0, 42),
}
TOTAL_COMMITTEES = (34, 409)

# -- assumptions ---------------------------------------------------------------------
# 王因 and 黄屯 (absent from the statistics lists): a third of the villages of the two
# largest statistics units.
CARVED_FROM: dict[str, tuple[str, int]] = {"王因": ("新兖", 28), "黄屯": ("颜店", 22)}
UNDERCOUNT = 1.0
"""Factor on the births model's under-threes. 1: the census's infants at face value.
The census's 27,654 aged 1–4 would put 2020's births near 5,100 instead of 4,338
(up to ~15% more), but Shandong's birth rates × the district's residents give
3,249 (2023) and 3,471 (2024) against the births model's 3,261 and 3,449, so the
face value is kept (assumption)."""
JUMIN_MEAN_POP = 6000  # assumption: residents of an average 居委会 community
RATIO = {"infant": 3, "toddler": 5, "older": 7}  # national standard 2019, art. 20
AREA_M2_PER_CHILD = 9.0  # 2023 draft rules for family childcare points
DETOUR = 1.2
RADIUS_M = 1000.0
RUYITUO_PLACES = {"infant": 3, "toddler": 6, "older": 9}  # assumption (18 places)
RUYITUO_RESERVED = {"drop_in": 6, "hourly": 2}  # assumption
EARTH_RADIUS_M = 6_371_008.8  # as tuoyu_sim.geography (mean Earth radius, IUGG)
DISTRICT_RADIUS_M = math.sqrt(AREA_KM2 * 1e6 / math.pi)  # 14,395 m: a disc of 651 km²
CORE_RING_M = (3200.0, 6000.0)  # subdistricts' villages around the urban core
OUTER_RING_M = (6500.0, DISTRICT_RADIUS_M - 300.0)  # the other nine divisions
SEAT_RADIUS_M = 10_500.0  # seats of the outer divisions, on their sector's middle line


@dataclass(frozen=True)
class Division:
    """One of the 12 divisions. Code and committees are real; the layout is synthetic."""

    key: str
    zh: str
    code: str  # Ministry of Civil Affairs, end-2025
    kind: str  # "core" (urban-core subdistrict), "outer" (outlying subdistrict), "town"
    n_seat: int  # communities of the seat cluster (outer divisions; assumption)


DIVISIONS: tuple[Division, ...] = (
    Division("LQ", "龙桥", "370812003", "core", 0),
    Division("GL", "鼓楼", "370812001", "core", 0),
    Division("JXQ", "酒仙桥", "370812002", "core", 0),
    Division("XLZ", "兴隆庄", "370812004", "outer", 5),
    Division("CH", "漕河", "370812104", "town", 3),
    Division("XYN", "新兖", "370812103", "town", 3),
    Division("WY", "王因", "370812006", "outer", 5),
    Division("YD", "颜店", "370812102", "town", 3),
    Division("HT", "黄屯", "370812005", "outer", 5),
    Division("XY", "新驿", "370812101", "town", 3),
    Division("XM", "小孟", "370812106", "town", 3),
    Division("DA", "大安", "370812100", "town", 3),
)
"""Core divisions first; the outer nine in their order round the ring (counter-clockwise
from the east), each next to the unit it was carved from where that applies."""

# Urban core: where each core subdistrict's 居委会 lie (centre x, y and radius, metres;
# assumption), and its sector of the ring around the core (degrees, counter-clockwise
# from the east) for its villages.
CORE_JUMIN = {"龙桥": ((-300.0, 300.0), 1300.0), "鼓楼": ((1900.0, 1000.0), 1400.0),
              "酒仙桥": ((600.0, -1900.0), 1200.0)}  # fmt: skip
CORE_ORDER = ("鼓楼", "龙桥", "酒仙桥")  # villages' sectors round the core ring

# Demand propensities (assumptions). Enrolled: share of under-3 children who want
# that type at today's prices; walk-in: arrivals per child per open day.
# Calibration: nationally ~12% of under-3s are enrolled at ~4.7 places per 1,000 with
# nearly half the places empty; ~35% of families say they want care (China Daily,
# Dec 2025). Yanzhou has 5.66 places per 1,000, so the same occupancy means about
# 12% x 5.66 / 4.7 = 14.5% enrolled: urban 15%, rural 11.5%.
# The gap to 35% is latent demand (price, distance, trust), for sweeps to explore.
DEMAND = {
    "urban": {
        "full_day": 0.098,
        "half_day": 0.032,
        "extended": 0.020,
        "hourly": 0.020,
        "drop_in": 0.015,
    },
    "rural": {
        "full_day": 0.080,
        "half_day": 0.030,
        "extended": 0.005,
        "hourly": 0.008,
        "drop_in": 0.006,
    },
}
# Age mix of the children who use care (older toddlers use it most); an assumption.
AGE_MIX = {"infant": 0.12, "toddler": 0.36, "older": 0.52}
PLACE_MIX = {
    "urban": {"infant": 0.10, "toddler": 0.35, "older": 0.55},
    "rural": {"infant": 0.05, "toddler": 0.35, "older": 0.60},
}


# -- the structure ----------------------------------------------------------------------


def committees() -> dict[str, tuple[int, int]]:
    """(居委会, 村委会) per division: the 2019 list, with 王因 and 黄屯 carved out."""
    out = dict(STAT_UNITS_2019)
    for zh, (unit, n) in CARVED_FROM.items():
        j, v = out[unit]
        out[unit] = (j, v - n)
        out[zh] = (0, n)
    return out


def stat_unit(division: str) -> str:
    """The 2019 statistics unit a division's committees are counted in."""
    return CARVED_FROM[division][0] if division in CARVED_FROM else division


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total in proportion to weights, exactly."""
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(int)
    short = total - int(out.sum())
    order = np.argsort(-(raw - out), kind="stable")
    out[order[:short]] += 1
    assert int(out.sum()) == total
    return out


def scatter(
    rng: np.random.Generator,
    n: int,
    inside: Draw,
    spacing: float,
    taken: list[tuple[float, float]],
) -> list[tuple[float, float]]:
    """``n`` points drawn by ``inside``, ``spacing`` metres or more apart and from ``taken``."""
    pts: list[tuple[float, float]] = []
    tries = 0
    while len(pts) < n:
        tries += 1
        if tries > 200_000:
            raise RuntimeError("layout too crowded; lower the spacing")
        p = inside(rng)
        if all(math.dist(p, q) >= spacing for q in (*taken, *pts)):
            pts.append(p)
    return pts


def in_disc(centre: tuple[float, float], radius: float) -> Draw:
    def draw(rng: np.random.Generator) -> tuple[float, float]:
        r = radius * math.sqrt(rng.uniform())
        a = rng.uniform(0.0, 2.0 * math.pi)
        return (centre[0] + r * math.cos(a), centre[1] + r * math.sin(a))

    return draw


def in_sector(r_lo: float, r_hi: float, a_lo: float, a_hi: float, margin_m: float = 250.0) -> Draw:
    """Uniform in the annulus sector (angles in radians), ``margin_m`` off its straight sides."""

    def draw(rng: np.random.Generator) -> tuple[float, float]:
        r = math.sqrt(rng.uniform(r_lo**2, r_hi**2))
        pad = margin_m / r
        a = rng.uniform(a_lo + pad, a_hi - pad)
        return (r * math.cos(a), r * math.sin(a))

    return draw


def sectors(names: list[str], counts: list[int]) -> dict[str, tuple[float, float]]:
    """Consecutive sectors of the full circle, widths in proportion to ``counts``."""
    edges = np.concatenate([[0.0], np.cumsum(counts) / sum(counts) * 2.0 * math.pi])
    return {n: (float(edges[i]), float(edges[i + 1])) for i, n in enumerate(names)}


def to_lonlat(x: float, y: float) -> tuple[float, float]:
    """Metres east / north of the centre to degrees (a local plane; < 0.2% off at the rim)."""
    m_per_deg = math.pi * EARTH_RADIUS_M / 180.0
    lat = CENTRE_LAT + y / m_per_deg
    lon = CENTRE_LON + x / (m_per_deg * math.cos(math.radians(CENTRE_LAT)))
    return round(lon, 6), round(lat, 6)


def under3_base_year(toml_path: Path = TOML) -> float:
    """Children under three on the reference date of the base year, from the births model.

    The scenario's own ``[projection]`` (census infants carried by the national
    births) through :func:`tuoyu_sim.projection.band_children`, times ``UNDERCOUNT``.
    The births observed up to the base year are the same in every variant.
    """
    from tuoyu_sim.projection import band_children, month_index
    from tuoyu_sim.scenario import UNDER3_MONTHS, Projection

    data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    spec = Projection.model_validate(data["projection"])
    variant = next(iter(spec.births.variants))
    month = np.array([month_index(spec.base_year, spec.reference_month)])
    return UNDERCOUNT * float(band_children(spec, variant, [UNDER3_MONTHS], month)[0, 0])


# -- building the tables ------------------------------------------------------------------


def layout(rng: np.random.Generator) -> list[dict]:
    """Every community: division, committee kind, seat flag and position (metres)."""
    counts = committees()
    rows: list[dict] = []
    taken: list[tuple[float, float]] = []

    def add(d: Division, pts: list[tuple[float, float]], committee: str, seat: bool) -> None:
        taken.extend(pts)
        for p in pts:
            rows.append({"division": d, "committee": committee, "seat": seat, "xy": p})

    core_sec = sectors(list(CORE_ORDER), [counts[zh][1] for zh in CORE_ORDER])
    outer = [d for d in DIVISIONS if d.kind != "core"]
    outer_sec = sectors([d.zh for d in outer], [sum(counts[d.zh]) for d in outer])
    for d in DIVISIONS:
        n_j, n_v = counts[d.zh]
        if d.kind == "core":
            centre, radius = CORE_JUMIN[d.zh]
            add(d, scatter(rng, n_j, in_disc(centre, radius), 420.0, taken), "居委会", True)
            a_lo, a_hi = core_sec[d.zh]
            ring = in_sector(*CORE_RING_M, a_lo, a_hi)
            add(d, scatter(rng, n_v, ring, 700.0, taken), "村委会", False)
            continue
        a_lo, a_hi = outer_sec[d.zh]
        mid = (a_lo + a_hi) / 2.0
        seat = (SEAT_RADIUS_M * math.cos(mid), SEAT_RADIUS_M * math.sin(mid))
        # the seat cluster: its 居委会 (新兖's two) and then seat villages
        seat_pts = scatter(rng, d.n_seat, in_disc(seat, 1000.0), 420.0, taken)
        add(d, seat_pts[:n_j], "居委会", True)
        add(d, seat_pts[n_j:], "村委会", True)
        rest = n_v - (d.n_seat - n_j)
        spread = in_sector(*OUTER_RING_M, a_lo, a_hi)
        add(d, scatter(rng, rest, spread, 650.0, taken), "村委会", False)
    return rows


def census_classes(rows: list[dict]) -> None:
    """Mark each community urban or rural (census sense; assumption, see the docstring).

    Rural: in each town, the villages farthest from the town's seat; as many in all
    as the rural residents make at an average village's size.
    """
    n_j, n_v = TOTAL_COMMITTEES
    village_mean = (TOTAL_POPULATION - n_j * JUMIN_MEAN_POP) / n_v
    n_rural = round(RURAL_POPULATION / village_mean)
    towns = [d for d in DIVISIONS if d.kind == "town"]
    pools = []
    for d in towns:
        seat = np.mean([r["xy"] for r in rows if r["division"] is d and r["seat"]], axis=0)
        pool = [r for r in rows if r["division"] is d and not r["seat"]]
        pool.sort(key=lambda r: -math.dist(r["xy"], seat))
        pools.append(pool)
    per_town = largest_remainder(n_rural, np.array([len(p) for p in pools], dtype=float))
    for r in rows:
        r["urban"] = True
    for pool, k in zip(pools, per_town, strict=True):
        for r in pool[:k]:
            r["urban"] = False


def populations(rng: np.random.Generator, rows: list[dict]) -> None:
    """Residents per community: urban and rural totals split exactly (assumption)."""
    village_mean = (TOTAL_POPULATION - TOTAL_COMMITTEES[0] * JUMIN_MEAN_POP) / TOTAL_COMMITTEES[1]
    for urban, total in ((True, URBAN_POPULATION), (False, RURAL_POPULATION)):
        group = [r for r in rows if r["urban"] == urban]
        w = np.array(
            [
                rng.gamma(6.0, JUMIN_MEAN_POP / 6.0)
                if r["committee"] == "居委会"
                else rng.gamma(4.0, village_mean / 4.0)
                for r in group
            ]
        )
        for r, pop in zip(group, largest_remainder(total, w), strict=True):
            r["population"] = int(pop)


def community_rows(rng: np.random.Generator, rows: list[dict], under3: float) -> list[dict]:
    """The communities table; names, ids, under-threes, age mix and demand."""
    tenths = largest_remainder(
        round(10 * under3), np.array([r["population"] for r in rows], dtype=float)
    )
    # 白衣堂 (the 儒易托 station's community): the 鼓楼 居委会 nearest 鼓楼's centre
    gl = [
        i for i, r in enumerate(rows) if r["division"].zh == "鼓楼" and r["committee"] == "居委会"
    ]
    baiyitang = min(gl, key=lambda i: math.dist(rows[i]["xy"], CORE_JUMIN["鼓楼"][0]))
    out: list[dict] = []
    serial: dict[tuple[str, str], int] = {}
    for i, r in enumerate(rows):
        d: Division = r["division"]
        tag = "J" if r["committee"] == "居委会" else "C"
        n = serial[(d.key, tag)] = serial.get((d.key, tag), 0) + 1
        suffix = "街道" if d.kind != "town" else "镇"
        if i == baiyitang:
            name = "白衣堂社区"
        elif tag == "J":
            name = f"{d.zh}{suffix} 社区{n:02d}"
        else:
            name = f"{d.zh}{suffix} 村{n:02d}"
        setting = "urban" if r["urban"] else "rural"
        mix_jit = rng.normal(0.0, 0.01, size=2)
        infant = round(AGE_MIX["infant"] + mix_jit[0], 3)
        toddler = round(AGE_MIX["toddler"] + mix_jit[1], 3)
        older = round(1.0 - infant - toddler, 3)
        scale = float(np.clip(rng.normal(1.0, 0.12), 0.7, 1.3))
        lon, lat = to_lonlat(*r["xy"])
        row = {
            "id": f"{d.key}_{tag}{n:02d}",
            "name": name,
            "group": d.zh,
            "population": r["population"],
            "children_under3": round(tenths[i] / 10.0, 1),
            "lon": lon,
            "lat": lat,
            "age_mix.infant": infant,
            "age_mix.toddler": toddler,
            "age_mix.older": older,
            **{f"demand.{t}": round(v * scale, 4) for t, v in DEMAND[setting].items()},
        }
        r["id"], r["name"] = row["id"], name
        out.append(row)
    return out


def facility_rows(rng: np.random.Generator, rows: list[dict]) -> list[dict]:
    """58 facilities holding 3,060 places: 儒易托 and 57 synthetic ones near seats."""
    # two facilities in every division, the other 34 split by residents (assumption)
    pops = np.array([sum(r["population"] for r in rows if r["division"] is d) for d in DIVISIONS])
    extra = largest_remainder(TOTAL_FACILITIES - 2 * len(DIVISIONS), pops.astype(float))
    count = {d.zh: 2 + int(n) for d, n in zip(DIVISIONS, extra, strict=True)}
    others = []
    for d in DIVISIONS:
        # core: any of the division's communities; elsewhere its seat cluster and the
        # villages of the census's urban class (those nearest the seat)
        hosts = [
            r for r in rows if r["division"] is d and (d.kind == "core" or r["seat"] or r["urban"])
        ]
        weights = np.array([r["population"] for r in hosts], dtype=float)
        n = count[d.zh]
        if d.zh == "鼓楼":
            n -= 1
            weights[[h["name"] == "白衣堂社区" for h in hosts]] = 0.0  # it has the station
        pick = rng.choice(len(hosts), size=n, replace=False, p=weights / weights.sum())
        for k in pick:
            hx, hy = hosts[k]["xy"]
            a = rng.uniform(0.0, 2.0 * math.pi)
            r = rng.uniform(60.0, 300.0)
            size = rng.lognormal(math.log(60.0 if d.kind != "town" else 30.0), 0.35)
            others.append((d, hx + r * math.cos(a), hy + r * math.sin(a), size))
    sizes = largest_remainder(
        TOTAL_PLACES - sum(RUYITUO_PLACES.values()), np.array([o[3] for o in others])
    )
    home = next(r for r in rows if r["name"] == "白衣堂社区")
    # a parent walks there in about 3 minutes: 150 m east, 110 m north (186 m, ×1.2)
    lon, lat = to_lonlat(home["xy"][0] + 150.0, home["xy"][1] + 110.0)
    facilities: list[dict] = [
        {
            "id": "F_RYT",
            "name": "儒易托托育服务站（白衣堂社区）",
            "group": "鼓楼",
            "lon": lon,
            "lat": lat,
            **{f"places.{a}": n for a, n in RUYITUO_PLACES.items()},
            **{f"reserved.{t}": n for t, n in RUYITUO_RESERVED.items()},
            "staff.teacher": 1,
            "staff.nursery": 2,
            "staff.health": 1,
            "area_m2": 500,
            "shifts.day": 2,
            "shifts.late": 1,
            "_xy": (home["xy"][0] + 150.0, home["xy"][1] + 110.0),
        }
    ]
    counters: dict[str, int] = {}
    for (d, x, y, _), total in zip(others, sizes, strict=True):
        setting = "rural" if d.kind == "town" else "urban"
        counters[d.key] = counters.get(d.key, 0) + 1
        by_class = largest_remainder(int(total), np.array(list(PLACE_MIX[setting].values())))
        places = dict(zip(PLACE_MIX[setting], (int(v) for v in by_class), strict=True))
        # the day shift alone meets the ratios for a full house with about 10% cover
        # for absence (assumption: centres staff to the national ratios at the
        # morning peak); the late shift adds about a quarter more for extended
        # care to 19:00 and midday cover
        full_house = sum(math.ceil(n / RATIO[a]) for a, n in places.items())
        day = math.ceil(1.1 * full_house)
        late = max(1, round(0.25 * full_house))
        direct = day + late
        teacher = max(1, round(0.4 * direct))
        area = math.ceil(total * AREA_M2_PER_CHILD * rng.uniform(1.3, 2.0) / 10.0) * 10
        lon, lat = to_lonlat(x, y)
        row = {
            "id": f"F_{d.key}{counters[d.key]:02d}",
            "name": f"{d.zh}托育机构{counters[d.key]:02d}",
            "group": d.zh,
            "lon": lon,
            "lat": lat,
            **{f"places.{a}": n for a, n in places.items()},
            "staff.teacher": teacher,
            "staff.nursery": direct - teacher,
            "staff.health": 1,
            "area_m2": area,
            "shifts.day": day,
            "shifts.late": late,
            "_xy": (x, y),
        }
        # a few larger urban centres keep some drop-in places
        if d.kind == "core" and total >= 70 and rng.uniform() < 0.5:
            row["reserved.drop_in"] = int(rng.integers(2, 6))
        facilities.append(row)
    return facilities


def site_rows(
    rng: np.random.Generator, rows: list[dict], communities: list[dict], facilities: list[dict]
) -> list[dict]:
    """Candidate sites (all assumptions): 20 in the largest communities outside every
    facility's 1 km circle, 10 relief sites in the largest covered core communities,
    then a small village-centre room for every community still outside the circle.

    Coverage is judged on the local plane with 1% to spare, so that the scenario's
    great-circle distances agree with it.
    """
    fac_xy = np.array([f["_xy"] for f in facilities])
    walk_limit = 0.99 * RADIUS_M / DETOUR

    def near(xy: tuple[float, float], pts: np.ndarray) -> bool:
        return bool(np.min(np.hypot(pts[:, 0] - xy[0], pts[:, 1] - xy[1])) <= walk_limit)

    order = sorted(range(len(rows)), key=lambda i: -rows[i]["population"])
    uncovered = [i for i in order if not near(rows[i]["xy"], fac_xy)]
    dense = [i for i in order if near(rows[i]["xy"], fac_xy) and rows[i]["division"].kind == "core"]
    sites: list[dict] = []
    xy: list[tuple[float, float]] = []
    picks = [(i, "gap") for i in uncovered[:20]] + [(i, "relief") for i in dense[:10]]
    for i, why in picks:
        r, c = rows[i], communities[i]
        a = rng.uniform(0.0, 2.0 * math.pi)
        dist = rng.uniform(40.0, 180.0)
        p = (r["xy"][0] + dist * math.cos(a), r["xy"][1] + dist * math.sin(a))
        rural = not r["urban"] or r["division"].kind == "town"
        max_places = int(rng.choice([20, 30, 40]) if rural else rng.choice([40, 60, 80, 100]))
        lon, lat = to_lonlat(*p)
        row = {
            "id": f"S{len(sites) + 1:03d}",
            "name": f"{c['name']} 候选点（{'服务空白' if why == 'gap' else '扩容'}）",
            "group": c["group"],
            "lon": lon,
            "lat": lat,
            "max_places": max_places,
            "area_m2": math.ceil(max_places * AREA_M2_PER_CHILD * 1.5 / 10.0) * 10,
        }
        # Some sites have their own opening cost (assumption): a free room in a
        # community service centre needs only a fit-out; a leased new-build costs more.
        u = rng.uniform()
        if u < 0.25:
            row["fixed_cost_cny"] = 120_000
        elif u < 0.45:
            row["fixed_cost_cny"] = 450_000
        sites.append(row)
        xy.append(p)

    # Every community still outside the 1 km circle of a facility or candidate gets
    # one small candidate in its village service centre (assumption: a free room,
    # only a fit-out to pay), so "every community within 1 km" is a question the
    # optimizer can answer rather than an impossibility.
    for i in order:
        if near(rows[i]["xy"], np.array([*fac_xy, *xy])):
            continue
        r, c = rows[i], communities[i]
        a = rng.uniform(0.0, 2.0 * math.pi)
        dist = rng.uniform(40.0, 180.0)
        p = (r["xy"][0] + dist * math.cos(a), r["xy"][1] + dist * math.sin(a))
        lon, lat = to_lonlat(*p)
        sites.append(
            {
                "id": f"S{len(sites) + 1:03d}",
                "name": f"{c['name']} 村（居）委会服务中心（候选）",
                "group": c["group"],
                "lon": lon,
                "lat": lat,
                "max_places": 20,
                "area_m2": 200,
                "fixed_cost_cny": 120_000,
            }
        )
        xy.append(p)
    return sites


def note_rows(rows: list[dict]) -> list[dict]:
    """What each community stands for: division code, statistics unit, committee, class."""
    return [
        {
            "id": r["id"],
            "division": r["division"].zh,
            "division_code": r["division"].code,
            "statistics_unit_2019": stat_unit(r["division"].zh),
            "committee": r["committee"],
            "census_class": "urban" if r["urban"] else "rural",
            "seat": "yes" if r["seat"] else "no",
        }
        for r in rows
    ]


def build(
    rng: np.random.Generator, under3: float
) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """Communities, facilities, candidate sites and notes (one row per community)."""
    rows = layout(rng)
    census_classes(rows)
    populations(rng, rows)
    communities = community_rows(rng, rows, under3)
    facilities = facility_rows(rng, rows)
    sites = site_rows(rng, rows, communities, facilities)
    for f in facilities:
        del f["_xy"]
    return communities, facilities, sites, note_rows(rows)


COMMUNITY_COLUMNS = [
    "id",
    "name",
    "group",
    "population",
    "children_under3",
    "lon",
    "lat",
    "age_mix.infant",
    "age_mix.toddler",
    "age_mix.older",
    "demand.full_day",
    "demand.half_day",
    "demand.extended",
    "demand.hourly",
    "demand.drop_in",
]
FACILITY_COLUMNS = [
    "id",
    "name",
    "group",
    "lon",
    "lat",
    "places.infant",
    "places.toddler",
    "places.older",
    "reserved.drop_in",
    "reserved.hourly",
    "staff.teacher",
    "staff.nursery",
    "staff.health",
    "area_m2",
    "shifts.day",
    "shifts.late",
]
SITE_COLUMNS = ["id", "name", "group", "lon", "lat", "max_places", "area_m2", "fixed_cost_cny"]
NOTE_COLUMNS = [
    "id",
    "division",
    "division_code",
    "statistics_unit_2019",
    "committee",
    "census_class",
    "seat",
]


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in columns})
    tmp.replace(path)


def check_totals(
    communities: list[dict], facilities: list[dict], notes: list[dict], under3: float
) -> None:
    """The published totals and the code list's counts, exactly."""
    places = sum(int(f[f"places.{a}"]) for f in facilities for a in RATIO)
    pop = sum(int(c["population"]) for c in communities)
    cls = {n["id"]: n["census_class"] for n in notes}
    urban = sum(int(c["population"]) for c in communities if cls[c["id"]] == "urban")
    assert len(facilities) == TOTAL_FACILITIES, len(facilities)
    assert places == TOTAL_PLACES, places
    assert pop == TOTAL_POPULATION, pop
    assert urban == URBAN_POPULATION, urban
    assert f"{1000 * places / pop:.2f}" == "5.66"
    assert len({d.zh for d in DIVISIONS}) == len({d.code for d in DIVISIONS}) == 12
    assert len(communities) == sum(TOTAL_COMMITTEES) == 443
    by_unit: dict[tuple[str, str], int] = {}
    for n in notes:
        key = (n["statistics_unit_2019"], n["committee"])
        by_unit[key] = by_unit.get(key, 0) + 1
    for unit, (j, v) in STAT_UNITS_2019.items():
        assert by_unit.get((unit, "居委会"), 0) == j and by_unit.get((unit, "村委会"), 0) == v, unit
    assert abs(sum(c["children_under3"] for c in communities) - under3) < 0.051
    for c in communities:
        x, y = _plane(c["lon"], c["lat"])
        assert math.hypot(x, y) <= DISTRICT_RADIUS_M, c["id"]


def _plane(lon: float, lat: float) -> tuple[float, float]:
    """Inverse of :func:`to_lonlat` (for the checks)."""
    m_per_deg = math.pi * EARTH_RADIUS_M / 180.0
    return (
        (lon - CENTRE_LON) * m_per_deg * math.cos(math.radians(CENTRE_LAT)),
        (lat - CENTRE_LAT) * m_per_deg,
    )


def generate() -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """The four tables, checked (deterministic: the same every call)."""
    under3 = under3_base_year()
    communities, facilities, sites, notes = build(np.random.default_rng(SEED), under3)
    check_totals(communities, facilities, notes, under3)
    return communities, facilities, sites, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="validate and print a summary")
    args = parser.parse_args(argv)
    communities, facilities, sites, notes = generate()
    write_csv(args.out / "communities.csv", COMMUNITY_COLUMNS, communities)
    write_csv(args.out / "facilities.csv", FACILITY_COLUMNS, facilities)
    write_csv(args.out / "candidate_sites.csv", SITE_COLUMNS, sites)
    write_csv(args.out / "community_notes.csv", NOTE_COLUMNS, notes)
    if args.check:
        summarize(args.out.parent / "yanzhou.toml")
    return 0


def summarize(toml_path: Path) -> None:
    """Validate the scenario and print its calibration (a script, so printing is fine)."""
    from tuoyu_sim.geography import pairs_within
    from tuoyu_sim.scenario import load_scenario

    s = load_scenario(toml_path)
    print(
        f"communities {len(s.communities)}, facilities {len(s.facilities)}, "
        f"sites {len(s.candidate_sites)}"
    )
    print(
        f"population {s.population}, places {s.total_places}, "
        f"per 1000 {s.places_per_1000:.4f}, under-3 {s.children_under3:.1f}"
    )
    enrolled = {t: 0.0 for t in ("full_day", "half_day", "extended")}
    walk = {t: 0.0 for t in ("hourly", "drop_in")}
    for c in s.communities:
        for t in enrolled:
            enrolled[t] += c.under3 * c.demand.get(t, 0.0)
        for t in walk:
            walk[t] += c.under3 * c.demand.get(t, 0.0)
    share = sum(enrolled.values()) / s.children_under3
    place_eq = sum(v * s.place_share(t) for t, v in enrolled.items())
    print(
        "enrolled demand",
        {k: round(v) for k, v in enrolled.items()},
        f"= {share:.1%} of under-3s, {place_eq:.0f} place-equivalents "
        f"({place_eq / s.total_places:.0%} of places)",
    )
    print("walk-in arrivals per day", {k: round(v) for k, v in walk.items()})
    pairs = pairs_within(s, s.communities, s.facilities, s.geography.service_radius_m)
    reached = set(pairs.rows.tolist())
    by_group: dict[str, list[float]] = {}
    for i, c in enumerate(s.communities):
        g = by_group.setdefault(c.group, [0.0, 0.0, 0, 0])
        g[0] += c.under3
        g[2] += 1
        if i in reached:
            g[1] += c.under3
            g[3] += 1
    for grp, (u3, cov, n, ncov) in by_group.items():
        print(
            f"  {grp}: {ncov}/{n} communities, {cov / u3:.0%} of under-3s within "
            f"{s.geography.service_radius_m:.0f} m walk"
        )
    tot = sum(v[0] for v in by_group.values())
    cov = sum(v[1] for v in by_group.values())
    print(f"district: {cov / tot:.1%} of under-3s within reach of a facility")
    far = set(pairs_within(s, s.communities, s.facilities, s.geography.reach_m).rows.tolist())
    u3_far = sum(c.under3 for i, c in enumerate(s.communities) if i in far)
    reach_m = s.geography.reach_m
    print(f"district: {u3_far / tot:.1%} of under-3s within the {reach_m:.0f} m cut-off")
    spairs = pairs_within(s, s.communities, s.candidate_sites, s.geography.service_radius_m)
    newly = set(spairs.rows.tolist()) - reached
    print(f"candidate sites would reach {len(newly)} more communities")
    every = reached | set(spairs.rows.tolist())
    missing = len(s.communities) - len(every)
    print(f"communities with no facility or candidate within the circle: {missing}")
    big = [f.id for f in s.facilities if f.total_places >= s.staff.full_time_health_from_children]
    print(f"facilities with >= {s.staff.full_time_health_from_children} places: {big}")


if __name__ == "__main__":
    raise SystemExit(main())
