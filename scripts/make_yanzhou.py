"""Generate the SYNTHETIC Yanzhou District tables for ``scenarios/yanzhou.toml``.

Writes ``scenarios/yanzhou/communities.csv``, ``facilities.csv`` and
``candidate_sites.csv`` deterministically (one ``numpy.random.Generator`` with a
fixed seed) and asserts the published totals:

* 58 childcare institutions and 3,060 places (Qilu/Shandian News feature, 24 June);
* 540,662 residents, 426,229 of them urban (2020 census, via the Chinese
  Wikipedia article on 兖州区); 3,060 / 540,662 × 1,000 = 5.66 places per 1,000.

Everything below the district totals is SYNTHETIC: per-division and
per-community populations, the layout (metres on an illustrative plane, not a
survey), facility sizes and staff, and candidate sites. Per-division
populations were not found; here the six subdistricts together hold the
census's urban population and the six towns the rest (an assumption).

The one real facility is the 儒易托 station in 白衣堂 community (鼓楼 subdistrict):
500 m², 1 托育师, 2 保育师, 1 pediatrician (same news feature). Its places (18)
are an assumption.

Run from the repository root::

    .venv/bin/python scripts/make_yanzhou.py          # writes the CSVs
    .venv/bin/python scripts/make_yanzhou.py --check  # also validates and prints a summary
"""

from __future__ import annotations

import argparse
import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEED = 20200624
"""Seed of the layout generator (fixed: the tables are data, regenerated identically)."""

OUT = Path(__file__).resolve().parent.parent / "scenarios" / "yanzhou"

# -- published totals (facts; see scenarios/README.md for sources) ---------------
TOTAL_FACILITIES = 58
TOTAL_PLACES = 3060
TOTAL_POPULATION = 540_662
URBAN_POPULATION = 426_229
BIRTHS_PER_1000 = 6.42  # Shandong 2024 (649,000 births); Jining's own rate not found

# -- assumptions ----------------------------------------------------------------
RATIO = {"infant": 3, "toddler": 5, "older": 7}  # national standard 2019, art. 20
AREA_M2_PER_CHILD = 9.0  # 2023 draft rules for family childcare points
DETOUR = 1.2
RADIUS_M = 1000.0
RUYITUO_PLACES = {"infant": 3, "toddler": 6, "older": 9}  # assumption (18 places)
RUYITUO_RESERVED = {"drop_in": 6, "hourly": 2}  # assumption


@dataclass(frozen=True)
class Division:
    """One of the 12 divisions. ``pop`` and the layout are synthetic."""

    key: str
    zh: str
    kind: str  # "core" (dense urban subdistrict), "outer" (outlying subdistrict), "town"
    pop: int
    n_communities: int
    n_facilities: int
    centre: tuple[float, float]
    radius_m: float


# Subdistricts sum to the census urban population, towns to the rest (assumption).
DIVISIONS: tuple[Division, ...] = (
    Division("LQ", "龙桥", "core", 112_000, 24, 14, (0.0, 0.0), 1900.0),
    Division("GL", "鼓楼", "core", 98_500, 22, 12, (2600.0, 1700.0), 1700.0),
    Division("JXQ", "酒仙桥", "core", 86_000, 19, 10, (2300.0, -2500.0), 1800.0),
    Division("WY", "王因", "outer", 44_300, 11, 4, (-6500.0, 3500.0), 2600.0),
    Division("HT", "黄屯", "outer", 41_429, 10, 3, (-1500.0, -8000.0), 2600.0),
    Division("XLZ", "兴隆庄", "outer", 44_000, 11, 3, (8500.0, -5500.0), 2600.0),
    Division("DA", "大安", "town", 21_600, 13, 2, (-3500.0, -14500.0), 4200.0),
    Division("XY", "新驿", "town", 20_400, 12, 2, (-14500.0, -1000.0), 4400.0),
    Division("YD", "颜店", "town", 19_800, 12, 2, (-8500.0, 10500.0), 4200.0),
    Division("XYN", "新兖", "town", 18_900, 12, 2, (6000.0, 11000.0), 4000.0),
    Division("CH", "漕河", "town", 17_300, 11, 2, (14500.0, 2500.0), 4200.0),
    Division("XM", "小孟", "town", 16_433, 11, 2, (-13500.0, -9500.0), 4000.0),
)

# Demand propensities (assumptions). Enrolled: share of under-3 children who want
# that type at today's prices; walk-in: arrivals per child per open day.
# Calibration: nationally ~12% of under-3s are enrolled at ~4.7 places per 1,000 with
# nearly half the places empty; ~35% of families say they want care (China Daily,
# Dec 2025). Yanzhou has 5.66 places per 1,000, so the same occupancy means about
# 12% x 5.66 / 4.7 = 14.5% enrolled: urban 15%, rural 11.5%, district ~14.3%.
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
    centre: tuple[float, float],
    r_min: float,
    r_max: float,
    spacing: float,
    taken: list[tuple[float, float]],
) -> list[tuple[float, float]]:
    """``n`` points in an annulus, ``spacing`` metres or more from each other and ``taken``."""
    pts: list[tuple[float, float]] = []
    tries = 0
    while len(pts) < n:
        tries += 1
        if tries > 200_000:
            raise RuntimeError("layout too crowded; lower the spacing")
        r = math.sqrt(rng.uniform(r_min**2, r_max**2))
        a = rng.uniform(0.0, 2.0 * math.pi)
        p = (centre[0] + r * math.cos(a), centre[1] + r * math.sin(a))
        if all(math.dist(p, q) >= spacing for q in (*taken, *pts)):
            pts.append(p)
    return pts


def build(rng: np.random.Generator) -> tuple[list[dict], list[dict], list[dict]]:
    communities: list[dict] = []
    facilities: list[dict] = []
    taken: list[tuple[float, float]] = []

    for d in DIVISIONS:
        setting = "rural" if d.kind == "town" else "urban"
        # -- community points ----------------------------------------------------
        if d.kind == "core":
            n_seat = d.n_communities
            pts = scatter(rng, n_seat, d.centre, 0.0, d.radius_m, 480.0, taken)
            seat_flags = [True] * n_seat
        else:
            n_seat = 5 if d.kind == "outer" else 3
            seat_r = 1100.0 if d.kind == "outer" else 650.0
            pts = scatter(rng, n_seat, d.centre, 0.0, seat_r, 420.0, taken)
            pts += scatter(
                rng,
                d.n_communities - n_seat,
                d.centre,
                seat_r + 700.0,
                d.radius_m,
                900.0,
                taken + pts,
            )
            seat_flags = [True] * n_seat + [False] * (d.n_communities - n_seat)
        taken += pts
        # -- populations: seats are bigger than villages -----------------------------
        shape = 6.0 if d.kind == "core" else 4.0
        w = rng.gamma(shape, 1.0, size=d.n_communities)
        w *= np.where(seat_flags, 2.5 if d.kind != "core" else 1.0, 1.0)
        pops = largest_remainder(d.pop, w)
        if d.key == "GL":
            # community 01 is 白衣堂, the home of the 儒易托 station: put it near the centre
            near = int(np.argmin([math.dist(p, d.centre) for p in pts]))
            pts[0], pts[near] = pts[near], pts[0]
        base_dem = DEMAND[setting]
        for k, (p, pop, seat) in enumerate(zip(pts, pops, seat_flags, strict=True)):
            n = k + 1
            if d.key == "GL" and k == 0:
                name = "白衣堂社区"
            elif d.kind == "town" and not seat:
                name = f"{d.zh}镇 村片{n:02d}"
            else:
                name = f"{d.zh}{'镇' if d.kind == 'town' else '街道'} 社区{n:02d}"
            mix_jit = rng.normal(0.0, 0.01, size=2)
            infant = round(AGE_MIX["infant"] + mix_jit[0], 3)
            toddler = round(AGE_MIX["toddler"] + mix_jit[1], 3)
            older = round(1.0 - infant - toddler, 3)
            scale = float(np.clip(rng.normal(1.0, 0.12), 0.7, 1.3))
            row = {
                "id": f"{d.key}{n:02d}",
                "name": name,
                "group": d.zh,
                "population": int(pop),
                "births_per_1000": BIRTHS_PER_1000,
                "x_m": round(p[0]),
                "y_m": round(p[1]),
                "age_mix.infant": infant,
                "age_mix.toddler": toddler,
                "age_mix.older": older,
            }
            for t, v in base_dem.items():
                row[f"demand.{t}"] = round(v * scale, 4)
            row["_seat"] = seat
            communities.append(row)

    # -- facilities ---------------------------------------------------------------
    # Sizes: lognormal draws, urban larger; scaled so that all 58 hold exactly 3,060.
    others = []
    for d in DIVISIONS:
        rows = [c for c in communities if c["group"] == d.zh and c["_seat"]]
        n = d.n_facilities - (1 if d.key == "GL" else 0)
        weights = np.array([c["population"] for c in rows], dtype=float)
        if d.key == "GL":
            weights[0] = 0.0  # 白衣堂 already has the station
        pick = rng.choice(len(rows), size=n, replace=False, p=weights / weights.sum())
        for c_idx in pick:
            c = rows[c_idx]
            a = rng.uniform(0.0, 2.0 * math.pi)
            r = rng.uniform(60.0, 300.0)
            size = rng.lognormal(math.log(60.0 if d.kind != "town" else 30.0), 0.35)
            others.append((d, c["x_m"] + r * math.cos(a), c["y_m"] + r * math.sin(a), size))
    sizes = largest_remainder(
        TOTAL_PLACES - sum(RUYITUO_PLACES.values()), np.array([o[3] for o in others])
    )
    gl01 = next(c for c in communities if c["id"] == "GL01")
    ruyituo = {
        "id": "F_RYT",
        "name": "儒易托托育服务站（白衣堂社区）",
        "group": "鼓楼",
        "x_m": gl01["x_m"] + 150,  # a parent walks there in about 3 minutes
        "y_m": gl01["y_m"] + 110,
        **{f"places.{a}": n for a, n in RUYITUO_PLACES.items()},
        **{f"reserved.{t}": n for t, n in RUYITUO_RESERVED.items()},
        "staff.teacher": 1,
        "staff.nursery": 2,
        "staff.health": 1,
        "area_m2": 500,
        "shifts.day": 2,
        "shifts.late": 1,
    }
    facilities.append(ruyituo)
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
        day = math.ceil(1.1 * full_house)  # about 10% cover for absent caregivers
        late = max(1, round(0.25 * full_house))
        direct = day + late
        teacher = max(1, round(0.4 * direct))
        area = math.ceil(total * AREA_M2_PER_CHILD * rng.uniform(1.3, 2.0) / 10.0) * 10
        row = {
            "id": f"F_{d.key}{counters[d.key]:02d}",
            "name": f"{d.zh}托育机构{counters[d.key]:02d}",
            "group": d.zh,
            "x_m": round(x),
            "y_m": round(y),
            **{f"places.{a}": n for a, n in places.items()},
            "staff.teacher": teacher,
            "staff.nursery": direct - teacher,
            "staff.health": 1,
            "area_m2": area,
            "shifts.day": day,
            "shifts.late": late,
        }
        # a few larger urban centres keep some drop-in places
        if d.kind == "core" and total >= 70 and rng.uniform() < 0.5:
            row["reserved.drop_in"] = int(rng.integers(2, 6))
        facilities.append(row)

    # -- candidate sites ------------------------------------------------------------
    fac_xy = np.array([[f["x_m"], f["y_m"]] for f in facilities], dtype=float)

    def reach(c: dict) -> float:
        return float(np.min(np.hypot(fac_xy[:, 0] - c["x_m"], fac_xy[:, 1] - c["y_m"]))) * DETOUR

    core = {d.zh for d in DIVISIONS if d.kind == "core"}
    uncovered = sorted(
        (c for c in communities if reach(c) > RADIUS_M), key=lambda c: -c["population"]
    )
    covered_dense = sorted(
        (c for c in communities if reach(c) <= RADIUS_M and c["group"] in core),
        key=lambda c: -c["population"],
    )
    sites: list[dict] = []
    picks = [(c, "gap") for c in uncovered[:20]] + [(c, "relief") for c in covered_dense[:10]]
    for n, (c, why) in enumerate(picks, start=1):
        a = rng.uniform(0.0, 2.0 * math.pi)
        r = rng.uniform(40.0, 180.0)
        rural = c["group"] in {d.zh for d in DIVISIONS if d.kind == "town"}
        max_places = int(rng.choice([20, 30, 40]) if rural else rng.choice([40, 60, 80, 100]))
        row = {
            "id": f"S{n:02d}",
            "name": f"{c['name']} 候选点（{'服务空白' if why == 'gap' else '扩容'}）",
            "group": c["group"],
            "x_m": round(c["x_m"] + r * math.cos(a)),
            "y_m": round(c["y_m"] + r * math.sin(a)),
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

    # Every community still outside the 1 km circle of a facility or candidate gets
    # one small candidate in its village service centre (assumption: a free room,
    # only a fit-out to pay), so "every community within 1 km" is a question the
    # optimizer can answer rather than an impossibility.
    def near_site(c: dict) -> bool:
        pts = np.array([[x["x_m"], x["y_m"]] for x in [*facilities, *sites]], dtype=float)
        return bool(
            np.min(np.hypot(pts[:, 0] - c["x_m"], pts[:, 1] - c["y_m"])) * DETOUR <= RADIUS_M
        )

    for c in sorted(communities, key=lambda c: -c["population"]):
        if near_site(c):
            continue
        a = rng.uniform(0.0, 2.0 * math.pi)
        r = rng.uniform(40.0, 180.0)
        sites.append(
            {
                "id": f"S{len(sites) + 1:02d}",
                "name": f"{c['name']} 村（居）委会服务中心（候选）",
                "group": c["group"],
                "x_m": round(c["x_m"] + r * math.cos(a)),
                "y_m": round(c["y_m"] + r * math.sin(a)),
                "max_places": 20,
                "area_m2": 200,
                "fixed_cost_cny": 120_000,
            }
        )

    for c in communities:
        del c["_seat"]
    return communities, facilities, sites


COMMUNITY_COLUMNS = [
    "id",
    "name",
    "group",
    "population",
    "births_per_1000",
    "x_m",
    "y_m",
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
    "x_m",
    "y_m",
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
SITE_COLUMNS = ["id", "name", "group", "x_m", "y_m", "max_places", "area_m2", "fixed_cost_cny"]


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in columns})
    tmp.replace(path)


def check_totals(communities: list[dict], facilities: list[dict]) -> None:
    places = sum(int(f[f"places.{a}"]) for f in facilities for a in RATIO)
    pop = sum(int(c["population"]) for c in communities)
    urban = sum(
        int(c["population"])
        for c in communities
        if c["group"] in {d.zh for d in DIVISIONS if d.kind != "town"}
    )
    assert len(facilities) == TOTAL_FACILITIES, len(facilities)
    assert places == TOTAL_PLACES, places
    assert pop == TOTAL_POPULATION, pop
    assert urban == URBAN_POPULATION, urban
    assert f"{1000 * places / pop:.2f}" == "5.66"
    assert len({d.zh for d in DIVISIONS}) == 12


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="validate and print a summary")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(SEED)
    communities, facilities, sites = build(rng)
    check_totals(communities, facilities)
    write_csv(args.out / "communities.csv", COMMUNITY_COLUMNS, communities)
    write_csv(args.out / "facilities.csv", FACILITY_COLUMNS, facilities)
    write_csv(args.out / "candidate_sites.csv", SITE_COLUMNS, sites)
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
    big = [f.id for f in s.facilities if f.total_places >= s.staff.full_time_health_from_children]
    print(f"facilities with >= {s.staff.full_time_health_from_children} places: {big}")


if __name__ == "__main__":
    raise SystemExit(main())
