"""What a run returns: its records, its tables, its figures, and how it is saved.

One class per command — :class:`SimulationRun`, :class:`OptimizationRun`,
:class:`PlanRun`, :class:`SweepRun`, :class:`AccessRun`, and :class:`PhasedRun`
for ``optimize``/``plan`` over several years — built by the functions of
:mod:`tuoyu_sim.api` and by nothing else. Each holds

* ``summary``: the ``summary.json`` record (plain JSON values);
* its tables as CSV rows (``rows(name)``) and as pandas DataFrames
  (``table(name)`` and a property per table, e.g. ``run.facilities``);
* ``figures()``: the PNG figures by file stem, as matplotlib Figures, and a
  ``plot_*`` method per figure;
* ``save(folder)``: exactly the files the command line writes (the CSVs,
  ``results.xlsx``, ``summary.json``, the scenario, the figures), each
  atomically, everything computed before the first file is written;
* ``_repr_html_``: a few headline lines for a notebook.

The command line (:mod:`tuoyu_sim.cli`) only calls these and prints: a saved
folder is the same whether it came from ``tuoyu-sim simulate`` or from
``tuoyu_sim.simulate(...).save(...)``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuoyu_sim.errors import UserError
from tuoyu_sim.scenario import ROLES, Scenario

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from tuoyu_sim.accessibility import AccessResult
    from tuoyu_sim.allocate.api import CrossCheck
    from tuoyu_sim.allocate.results import Plan
    from tuoyu_sim.planning import PlanOutcome
    from tuoyu_sim.simulation import SimulationResult
    from tuoyu_sim.stopping import StoppingRule
    from tuoyu_sim.sweeps import Axis, Point
    from tuoyu_sim.sweeps import SweepProgress as _SweepProgress

WORKBOOK = "results.xlsx"
"""The workbook every results folder holds: one sheet per CSV table."""

NOT_IN_WORKBOOK = frozenset({"episodes"})
"""Tables kept out of the workbook: one row per child can pass Excel's rows many
times over and take minutes to write; it stays in its CSV."""

Rows = list[dict[str, Any]]


@dataclass
class _Table:
    rows: Rows
    columns: list[str] | None = None
    """Column order (default: the first row's keys)."""

    @property
    def header(self) -> list[str]:
        if self.columns is not None:
            return list(self.columns)
        return list(self.rows[0]) if self.rows else []


class _Run:
    """Tables, figures, saving and notebook display shared by every run."""

    summary: dict[str, Any]
    scenario: Scenario
    _tables: dict[str, _Table]

    # -- tables ---------------------------------------------------------------

    @property
    def table_names(self) -> list[str]:
        """The tables of this run, in the order they are written."""
        return list(self._tables)

    def rows(self, name: str) -> Rows:
        """The CSV rows of table ``name`` (``name.csv`` in a saved folder)."""
        try:
            return self._tables[name].rows
        except KeyError:
            raise KeyError(f"no table {name!r}; the tables are {', '.join(self._tables)}") from None

    def table(self, name: str) -> pd.DataFrame:
        """Table ``name`` as a pandas DataFrame (the columns of ``name.csv``)."""
        import pandas as pd

        t = self._tables.get(name)
        if t is None:
            self.rows(name)  # raises the KeyError with the list of tables
            raise AssertionError  # pragma: no cover
        return pd.DataFrame(t.rows, columns=t.header)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table as a DataFrame, by name."""
        return {name: self.table(name) for name in self._tables}

    # -- figures --------------------------------------------------------------

    def figures(self) -> dict[str, Figure]:
        """The run's PNG figures by file stem (new Figures on every call)."""
        return {}

    # -- saving ---------------------------------------------------------------

    def _extra_files(self, out: Path) -> None:
        """Files beyond the tables, figures and summary (scenario, points)."""

    def save(self, folder: str | Path, *, figures: bool = True, lang: str = "zh") -> Path:
        """Write the run's folder: CSVs, ``results.xlsx``, figures, scenario, ``summary.json``.

        Parameters
        ----------
        folder
            Created if missing; files already in it are replaced one by one
            (each atomically), others are left.
        figures
            Also write the PNG figures (the command line's ``--no-figures``
            is ``figures=False``).
        lang
            Language of the workbook's column headers (``zh`` or ``en``).

        Returns
        -------
        Path
            The folder.
        """
        from tuoyu_sim.output import (
            prepare_out_dir,
            save_figure,
            write_csv,
            write_json,
            write_workbook,
        )

        figs = self.figures() if figures else {}
        out = prepare_out_dir(folder)
        for name, t in self._tables.items():
            write_csv(out / f"{name}.csv", t.rows, t.header)
        book = {n: t for n, t in self._tables.items() if n not in NOT_IN_WORKBOOK}
        write_workbook(
            out / WORKBOOK,
            {n: t.rows for n, t in book.items()},
            lang,
            columns={n: t.header for n, t in book.items()},
        )
        for name, fig in figs.items():
            save_figure(fig, out / f"{name}.png")
        self._extra_files(out)
        write_json(out / "summary.json", self.summary)
        return out

    # -- display --------------------------------------------------------------

    def headline(self) -> list[tuple[str, str]]:
        """(label, value) lines for a notebook or a log."""
        return []

    def _repr_html_(self) -> str:
        title = html.escape(f"{type(self).__name__}: {self.scenario.name}")
        lines = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self.headline()
        )
        tables = html.escape(", ".join(self._tables))
        return (
            f"<div><strong>{title}</strong><table>{lines}</table>"
            f"<small>tables: {tables}</small></div>"
        )

    def __repr__(self) -> str:
        body = "; ".join(f"{k} {v}" for k, v in self.headline())
        return f"<{type(self).__name__} {self.scenario.name!r}: {body}>"


def _geopandas() -> Any:
    try:
        import geopandas
    except ImportError:
        raise UserError("GeoDataFrames need GeoPandas: pip install 'tuoyu-sim[gis]'") from None
    return geopandas


def _pct(value: Mapping[str, Any] | float | None) -> str:
    from tuoyu_sim.report.formatting import fmt_ci

    return fmt_ci(value)


def _safe(text: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)
    return keep or "x"


# -- simulate ---------------------------------------------------------------------


def simulation_figures(
    summary: Mapping[str, Any], tabs: Mapping[str, Rows], scenario: Scenario
) -> dict[str, Figure]:
    """The PNG figures of a simulation, by file stem."""
    from tuoyu_sim.plots.simulation import (
        group_curves,
        group_panels,
        turn_away_by_facility,
        utilization_curve,
    )

    curves = tabs["curves"]
    figs: dict[str, Figure] = {"utilization_district": utilization_curve(curves, "district", "all")}
    if any(r["scope"] == "group" for r in curves):
        figs["utilization_by_group"] = group_curves(curves)
        figs["utilization_group_panels"] = group_panels(curves)
    if len(scenario.facilities) <= 12:
        for f in scenario.facilities:
            figs[f"utilization_facility_{_safe(f.id)}"] = utilization_curve(
                curves, "facility", f.id
            )
    figs["turn_away_by_facility"] = turn_away_by_facility(
        dict(summary), scenario.targets.max_turn_away
    )
    return figs


SIMULATION_TABLES = ("facilities", "care_types", "daily", "curves", "breach_by_hour", "episodes")
"""The simulation's tables in the order a planner reads them (the workbook's sheets)."""


def _ordered(tabs: Mapping[str, Any]) -> list[str]:
    return [n for n in SIMULATION_TABLES if n in tabs] + [
        n for n in tabs if n not in SIMULATION_TABLES
    ]


class SimulationRun(_Run):
    """Ordinary days at every facility: what :func:`tuoyu_sim.simulate` returns.

    Tables: ``facilities``, ``care_types``, ``daily``, ``curves`` (and more, see
    ``table_names``; ``episodes`` when asked for), and the scenario's
    accessibility, ``access`` and ``by_class`` (:attr:`accessibility`, ``None``
    when the scenario cannot be measured; ``summary["access"]``). Headline
    figures are in ``summary["district"]``.
    """

    def __init__(self, scenario: Scenario, result: SimulationResult, seconds: float) -> None:
        from tuoyu_sim.metrics import summarize, tables

        self.scenario = scenario
        self.result = result
        self.summary = summarize(result)
        self.summary["run_seconds"] = round(seconds, 3)
        tabs = tables(result, self.summary)
        self._tables = {n: _Table(tabs[n]) for n in _ordered(tabs)}
        self.accessibility, self.summary["access"] = _measure_access(scenario)
        if self.accessibility is not None:
            self._tables.update(self.accessibility.tables())

    @property
    def district(self) -> dict[str, Any]:
        """District-wide figures (utilization, turn-away, waitlist, …) with 95% intervals."""
        return dict(self.summary["district"])

    @property
    def facilities(self) -> pd.DataFrame:
        return self.table("facilities")

    @property
    def care_types(self) -> pd.DataFrame:
        return self.table("care_types")

    @property
    def curves(self) -> pd.DataFrame:
        return self.table("curves")

    @property
    def daily(self) -> pd.DataFrame:
        return self.table("daily")

    def figures(self) -> dict[str, Figure]:
        figs = simulation_figures(self.summary, {"curves": self.rows("curves")}, self.scenario)
        if self.accessibility is not None:
            figs.update(self.accessibility.figures())
        return figs

    def plot_utilization(self, scope: str = "district", key: str = "all") -> Figure:
        """Occupancy over the day with its 95% band (``scope``: district, group or facility)."""
        from tuoyu_sim.plots.simulation import utilization_curve

        return utilization_curve(self.rows("curves"), scope, key)

    def plot_turn_away(self) -> Figure:
        """Walk-in turn-away by facility against the target."""
        from tuoyu_sim.plots.simulation import turn_away_by_facility

        return turn_away_by_facility(self.summary, self.scenario.targets.max_turn_away)

    def _extra_files(self, out: Path) -> None:
        from tuoyu_sim.output import write_scenario

        write_scenario(out / "scenario.toml", self.scenario)

    def headline(self) -> list[tuple[str, str]]:
        s, d = self.summary, self.summary["district"]
        return [
            ("runs", f"{s['replications']} replications × {s['days']} days, seed {s['seed']}"),
            ("places", f"{d['places']:,} ({d['places_per_1000']:.2f} per 1,000)"),
            ("utilization", _pct(d["utilization"])),
            ("walk-in turn-away", _pct(d["turn_away_rate"])),
            ("breach days", _pct(d["breach_day_share"])),
            (
                "enrolled",
                f"{d['enrolled']:,} of {d['enrolled_demand']:,} (waitlist {d['waitlist']:,})",
            ),
        ]


# -- optimize ---------------------------------------------------------------------


def places_by_group(before: Scenario, after: Scenario) -> Rows:
    """Places per 1,000 residents by community group (subdistrict), before and after.

    A facility counts in its own ``group``, else in the group of its nearest
    community.
    """
    from tuoyu_sim.geography import distance_m

    pop: dict[str, float] = {}
    for c in after.communities:
        pop[c.group or "(none)"] = pop.get(c.group or "(none)", 0.0) + c.population

    def tally(sc: Scenario) -> dict[str, float]:
        out = dict.fromkeys(pop, 0.0)
        for f in sc.facilities:
            g = f.group
            if not g or g not in pop:
                near = min(sc.communities, key=lambda c, f=f: distance_m(sc, c, f))  # type: ignore[misc]
                g = str(near.group or "(none)")
            out[g] += f.total_places
        return out

    b, a = tally(before), tally(after)
    return [
        {
            "group": g,
            "population": pop[g],
            "places_before": int(b[g]),
            "places_after": int(a[g]),
            "per_1000_before": 1000.0 * b[g] / pop[g] if pop[g] else 0.0,
            "per_1000_after": 1000.0 * a[g] / pop[g] if pop[g] else 0.0,
        }
        for g in sorted(pop)
    ]


def _geo_points(scenario: Scenario, ids: Sequence[str]) -> tuple[list[Any], str | None]:
    """Point geometries of facilities and candidate sites, and their CRS."""
    from shapely.geometry import Point as ShapelyPoint

    where = {p.id: p for p in [*scenario.facilities, *scenario.candidate_sites]}
    pts = []
    lonlat = False
    for i in ids:
        p = where[i]
        if p.lon is not None and p.lat is not None:
            lonlat = True
            pts.append(ShapelyPoint(p.lon, p.lat))
        else:
            pts.append(ShapelyPoint(p.x_m, p.y_m))
    return pts, ("EPSG:4326" if lonlat else None)


class OptimizationRun(_Run):
    """Where to open sites and add places and caregivers: what :func:`tuoyu_sim.optimize`
    returns.

    Tables: ``plan`` (one row per new or changed site; also ``sites``),
    ``assignment`` (community → site shares), ``places_by_group``, and the
    accessibility before and after the plan, ``access``, ``access_planned`` and
    ``by_class`` (:attr:`accessibility`; ``summary["access"]``).
    ``planned`` is the scenario with the plan applied.
    """

    def __init__(
        self,
        scenario: Scenario,
        plan: Plan,
        *,
        radius_m: float | None,
        decay: str,
        beta: float | None,
        check: CrossCheck | None = None,
    ) -> None:
        from tuoyu_sim.allocate import build_instance, plan_rows, planned_scenario, summary

        self.scenario = scenario
        self.plan = plan
        self.check = check
        self.planned = planned_scenario(plan, scenario)
        self.summary = summary(plan, scenario)
        if check is not None:
            self.summary["cross_check"] = check.record()
        self._instance = build_instance(scenario, radius_m=radius_m, decay=decay, beta=beta)  # type: ignore[arg-type]
        rows, cols = plan_rows(plan, self._instance.classes)
        assignment = [
            {"community": c, "site": s, "share": round(x, 6)} for c, s, x in plan.assignment
        ]
        self._tables = {
            "plan": _Table(rows, cols),
            "assignment": _Table(assignment, ["community", "site", "share"]),
            "places_by_group": _Table(places_by_group(scenario, self.planned)),
        }
        self.accessibility, self.summary["access"] = _measure_access(scenario, self.planned)
        if self.accessibility is not None:
            self._tables.update(self.accessibility.tables())

    @property
    def sites(self) -> pd.DataFrame:
        """``plan.csv``: one row per new or changed site."""
        return self.table("plan")

    @property
    def assignment(self) -> pd.DataFrame:
        return self.table("assignment")

    @property
    def places_by_group(self) -> pd.DataFrame:
        return self.table("places_by_group")

    @property
    def cost_cny(self) -> float:
        return float(self.plan.cost_cny)

    def to_geo(self, name: str = "plan") -> Any:
        """Table ``plan`` (or ``assignment``, by site) as a GeoDataFrame of points.

        Needs the ``gis`` extra (GeoPandas). Lon/lat scenarios come in EPSG:4326;
        planar ones carry no CRS (their x/y are metres on the scenario's own plane).
        """
        gpd = _geopandas()
        frame = self.table(name)
        points, crs = _geo_points(self.planned, list(frame["site"]))
        return gpd.GeoDataFrame(frame, geometry=points, crs=crs)

    def figures(self) -> dict[str, Figure]:
        figs = {"map": self.plot_map(), "per_1000_by_group": self.plot_per_1000()}
        if self.accessibility is not None:
            figs.update(self.accessibility.figures())
        return figs

    def plot_map(self) -> Figure:
        """Communities, facilities and opened sites with their catchments."""
        from tuoyu_sim.allocate.results import map_data
        from tuoyu_sim.plots.maps import plan_map

        return plan_map(map_data(self.plan, self._instance))

    def plot_per_1000(self) -> Figure:
        """Places per 1,000 residents by group, before and after, against the target."""
        from tuoyu_sim.plots.maps import per_1000_by_group

        return per_1000_by_group(
            self.rows("places_by_group"), self.plan.targets.get("places_per_1000")
        )

    def _extra_files(self, out: Path) -> None:
        from tuoyu_sim.output import write_scenario

        write_scenario(out / "scenario.planned.toml", self.planned)

    def headline(self) -> list[tuple[str, str]]:
        p = self.plan
        gap = "" if p.gap is None else f", gap {p.gap:.4%}"
        lines = [
            ("status", f"{p.objective}: {p.status} ({p.solver}, {p.solve_seconds:.2f} s{gap})"),
            (
                "new sites",
                f"{len(p.new_sites)}  {', '.join(p.new_sites[:12])}"
                + (" …" if len(p.new_sites) > 12 else ""),
            ),
            ("added places", f"{p.added_places:,}"),
            ("added caregivers", ", ".join(f"{r} {n}" for r, n in p.added_caregivers.items())),
            ("cost", f"{p.cost_cny:,.0f} yuan"),
            (
                "children covered",
                f"{p.covered_children:,.0f} of {p.children_under3:,.0f} ({p.coverage_share:.1%})",
            ),
        ]
        if p.served_share is not None:
            lines.append(("demand served", f"{p.served_share:.1%}"))
        lines.append(
            ("places per 1,000", f"{p.places_per_1000_before:.2f} → {p.places_per_1000_after:.2f}")
        )
        lines += [("note", m) for m in p.messages]
        return lines


# -- plan -------------------------------------------------------------------------


def _plan_rows(before: Scenario, final: Scenario) -> tuple[Rows, list[dict[str, Any]]]:
    """``plan.csv`` rows and the ``sites`` of summary.json: every new or changed facility."""
    old_by_id = {f.id: f for f in before.facilities}
    ages = list(before.age_groups)
    sites, rows = [], []
    for f in final.facilities:
        old = old_by_id.get(f.id)
        if old is not None and old.places == f.places and old.staff == f.staff:
            continue
        site = {
            "id": f.id,
            "kind": "new" if old is None else "existing",
            "places": dict(f.places),
            "places_total": f.total_places,
            "added_places": f.total_places - (old.total_places if old else 0),
            "staff": f.staff.model_dump(),
        }
        sites.append(site)
        row: dict[str, Any] = {"site": f.id, "kind": site["kind"], "group": f.group}
        for a in ages:
            row[f"places_{a}"] = f.places.get(a, 0)
        row["added_places"] = site["added_places"]
        for r in ROLES:
            row[r] = getattr(f.staff, r)
        rows.append(row)
    return rows, sites


NEEDS_COLUMNS = [
    "facility",
    "places_optimizer",
    "places_final",
    "caregivers_optimizer",
    "caregivers_final",
    "why",
]


def plan_record(
    scenario: Scenario,
    outcome: PlanOutcome,
    stopping: StoppingRule,
    seconds: float,
) -> dict[str, Any]:
    """The ``summary.json`` of ``plan``: optimize's keys for the final plan, the passes,
    the cost against the optimizer's, and the final simulation's headline figures."""
    from tuoyu_sim.allocate.results import summary as plan_summary
    from tuoyu_sim.planning import scenario_cost

    final = outcome.final
    cost = scenario_cost(scenario, final)
    first_cost = scenario_cost(scenario, outcome.first_planned or final)
    record = plan_summary(outcome.first_plan, scenario)
    sim = outcome.final_summary
    _, sites = _plan_rows(scenario, final)
    record.update(
        {
            "command": "plan",
            "status": record["status"] if outcome.converged else "not_converged",
            "converged": outcome.converged,
            "solve_seconds": record["solve_seconds"],
            "run_seconds": round(seconds, 3),
            "new_sites": cost["new_sites"],
            "added_places": cost["added_places"],
            "added_caregivers": cost["added_caregivers"],
            "cost": round(cost["cost_cny"], 2),
            "cost_breakdown": {
                k: cost[k] for k in ("site_cost_cny", "place_cost_cny", "staff_cost_cny")
            },
            "places_per_1000_before": round(scenario.places_per_1000, 4),
            "places_per_1000_after": round(final.places_per_1000, 4),
            "sites": sites,
            "iterations": [it.record() for it in outcome.iterations],
            "optimizer_cost_cny": round(first_cost["cost_cny"], 2),
            "optimizer_added_caregivers": first_cost["added_caregivers"],
            "final_over_optimizer_cost": round(cost["cost_cny"] / first_cost["cost_cny"], 4)
            if first_cost["cost_cny"]
            else None,
            "stopping_rule": {
                "test": "one-sided t per facility and level; Holm at alpha / max_rounds",
                "alpha": stopping.alpha,
                "indifference": stopping.indifference,
                "max_rounds": stopping.max_rounds,
                "confirmation": "a fresh-seed pass must hold too",
            },
            "needs": outcome.needs,
            "notes": outcome.notes,
            "simulation": {
                "seed": sim.get("seed"),
                "replications": sim.get("replications"),
                "days": sim.get("days"),
                "district": sim.get("district"),
                "care_types": sim.get("care_types"),
            },
            "facilities": sim.get("facilities", []),
        }
    )
    return record


def _iteration_rows(iterations: Sequence[Mapping[str, Any]]) -> Rows:
    return [
        {
            **{k: v for k, v in it.items() if k not in ("shortfalls", "changes", "new_sites")},
            "new_sites": " ".join(it["new_sites"]),
            "shortfalls": "; ".join(it["shortfalls"]),
            "changes": "; ".join(it["changes"]),
        }
        for it in iterations
    ]


class PlanRun(_Run):
    """Optimize, verify by simulation, re-size: what :func:`tuoyu_sim.plan` returns.

    Tables: ``plan`` (every new or changed facility; also ``sites``),
    ``iterations`` (one row per pass), ``places_by_group``, ``needs`` (what each
    facility needed beyond the optimizer's plan, and why), and the final
    simulation's tables (``facilities``, ``care_types``, ``daily``, ``curves``, …),
    and the accessibility before and after the final plan, ``access``,
    ``access_planned`` and ``by_class`` (:attr:`accessibility`; ``summary["access"]``).
    ``final`` is the planned scenario; ``converged`` says whether it holds.
    """

    def __init__(
        self,
        scenario: Scenario,
        outcome: PlanOutcome,
        stopping: StoppingRule,
        seconds: float,
        target_per_1000: float | None,
    ) -> None:
        self.scenario = scenario
        self.outcome = outcome
        self.final = outcome.final
        self.converged = outcome.converged
        self.summary = plan_record(scenario, outcome, stopping, seconds)
        self._target = target_per_1000 or scenario.targets.places_per_1000
        rows, _ = _plan_rows(scenario, outcome.final)
        self._tables = {
            "plan": _Table(rows),
            "iterations": _Table(_iteration_rows(self.summary["iterations"])),
            "places_by_group": _Table(places_by_group(scenario, outcome.final)),
            "needs": _Table(outcome.needs, NEEDS_COLUMNS),
            **{n: _Table(outcome.final_tables[n]) for n in _ordered(outcome.final_tables)},
        }
        self.accessibility, self.summary["access"] = _measure_access(scenario, outcome.final)
        if self.accessibility is not None:
            self._tables.update(self.accessibility.tables())

    @property
    def sites(self) -> pd.DataFrame:
        """``plan.csv``: every new or changed facility with its places and staff."""
        return self.table("plan")

    @property
    def iterations(self) -> pd.DataFrame:
        return self.table("iterations")

    @property
    def needs(self) -> pd.DataFrame:
        return self.table("needs")

    @property
    def facilities(self) -> pd.DataFrame:
        """The final simulation's facilities table."""
        return self.table("facilities")

    @property
    def curves(self) -> pd.DataFrame:
        return self.table("curves")

    @property
    def cost_cny(self) -> float:
        return float(self.summary["cost"])

    def to_geo(self, name: str = "plan") -> Any:
        """Table ``plan`` (or the final ``facilities``) as a GeoDataFrame of points.

        Needs the ``gis`` extra (GeoPandas); the CRS as in :meth:`OptimizationRun.to_geo`.
        """
        gpd = _geopandas()
        frame = self.table(name)
        col = "site" if "site" in frame.columns else "facility"
        points, crs = _geo_points(self.final, list(frame[col]))
        return gpd.GeoDataFrame(frame, geometry=points, crs=crs)

    def figures(self) -> dict[str, Figure]:
        figs = simulation_figures(
            self.outcome.final_summary, {"curves": self.rows("curves")}, self.final
        )
        figs["per_1000_by_group"] = self.plot_per_1000()
        if self.accessibility is not None:
            figs.update(self.accessibility.figures())
        return figs

    def plot_utilization(self, scope: str = "district", key: str = "all") -> Figure:
        """The final simulation's occupancy over the day."""
        from tuoyu_sim.plots.simulation import utilization_curve

        return utilization_curve(self.rows("curves"), scope, key)

    def plot_per_1000(self) -> Figure:
        from tuoyu_sim.plots.maps import per_1000_by_group

        return per_1000_by_group(self.rows("places_by_group"), self._target)

    def _extra_files(self, out: Path) -> None:
        from tuoyu_sim.output import write_scenario

        write_scenario(out / "scenario.planned.toml", self.final)
        write_scenario(out / "scenario.toml", self.final)

    def headline(self) -> list[tuple[str, str]]:
        s = self.summary
        return [
            ("converged", "yes" if self.converged else "no"),
            ("iterations", str(len(s["iterations"]))),
            ("new sites", f"{len(s['new_sites'])}  {', '.join(s['new_sites'][:12])}"),
            ("added places", f"{s['added_places']:,}"),
            ("added caregivers", ", ".join(f"{r} {n}" for r, n in s["added_caregivers"].items())),
            ("cost", f"{s['cost']:,.0f} yuan (optimizer's plan {s['optimizer_cost_cny']:,.0f})"),
            (
                "places per 1,000",
                f"{s['places_per_1000_before']:.2f} → {s['places_per_1000_after']:.2f}",
            ),
        ]


# -- several years ----------------------------------------------------------------


def _enrolled_demand(scenario: Scenario) -> dict[str, float]:
    """Children who want an enrolled place, per community (unrounded)."""
    enrolled = [t for t, ct in scenario.care_types.items() if ct.mode != "walk_in"]
    return {
        c.id: c.under3 * sum(c.age_mix.values()) * sum(c.demand.get(t, 0.0) for t in enrolled)
        for c in scenario.communities
    }


def _network_row(network: Scenario) -> dict[str, Any]:
    """Sites, places by class, caregivers of one year's network."""
    row: dict[str, Any] = {"sites": len(network.facilities)}
    row["places"] = sum(f.total_places for f in network.facilities)
    for a in network.age_groups:
        row[f"places_{a}"] = sum(f.places.get(a, 0) for f in network.facilities)
    row["walk_in_places"] = sum(f.reserved_places for f in network.facilities)
    for r in ROLES:
        row[r] = sum(getattr(f.staff, r) for f in network.facilities)
    return row


def action_count(row: Mapping[str, Any]) -> float:
    """How many a phase row does, as a planner counts it: places converted (the
    receiving side), released, caregivers let go, all as positive numbers."""
    n = float(row["count"] or 0)
    if row["action"] == "convert":
        return max(0.0, n)
    return abs(n)


def phased_year_rows(
    scenario: Scenario,
    years: Sequence[int],
    variant: str,
    networks: Mapping[int, Scenario],
    plans: Mapping[int, Plan],
    phases: Rows,
    targets: Mapping[int, float | None],
    simulated: Mapping[int, Mapping[str, Any]] | None = None,
) -> Rows:
    """``years.csv``: one row per year of a phased plan.

    Demand from the projection; places and staff from each year's network;
    the expected enrolled children from the optimizer's assignment (share of
    each community's enrolled demand served), their utilization against the
    enrolled places (places not held for walk-ins); costs from the phases; and,
    for a simulated plan, the simulation's figures for that year's network.
    """
    from tuoyu_sim.projection import project

    frame = project(scenario, variant).district_frame().set_index("year")
    cost = {y: 0.0 for y in years}
    present = {y: 0.0 for y in years}
    opened: dict[int, int] = {y: 0 for y in years}
    for r in phases:
        y = int(r["year"])
        if y in cost:
            cost[y] += float(r["cost_cny"])
            present[y] += float(r["discounted_cny"])
            if r["action"] == "open":
                opened[y] += 1
    rows: Rows = []
    for y in years:
        net = networks[y]
        demand = _enrolled_demand(net)
        expected = sum(demand.get(c, 0.0) * sh for c, _s, sh in plans[y].assignment)
        row: dict[str, Any] = {
            "year": y,
            "under3": round(float(frame.loc[y, "under3"]), 1),
            "enrolled_demand": round(float(frame.loc[y, "enrolled_demand"]), 1),
            "walk_in_per_day": round(float(frame.loc[y, "walk_in_per_day"]), 2),
            "new_sites": opened[y],
            **_network_row(net),
        }
        enrolled_places = row["places"] - row["walk_in_places"]
        row["places_per_1000"] = round(net.places_per_1000, 3)
        row["target_per_1000"] = targets.get(y)
        row["expected_enrolled"] = round(expected, 1)
        row["expected_utilization"] = (
            round(expected / enrolled_places, 4) if enrolled_places > 0 else None
        )
        row["empty_places"] = round(max(0.0, enrolled_places - expected), 1)
        row["cost_cny"] = round(cost[y], 2)
        row["discounted_cny"] = round(present[y], 2)
        if simulated is not None:
            sim = simulated.get(y, {})
            d = sim.get("district", {})
            u = d.get("utilization") or {}
            facs = sim.get("facilities", [])
            row.update(
                {
                    "enrolled": d.get("enrolled"),
                    "waitlist": d.get("waitlist"),
                    "utilization": u.get("mean"),
                    "utilization_low": u.get("low"),
                    "utilization_high": u.get("high"),
                    "worst_turn_away": max(
                        (f["turn_away_rate"]["mean"] or 0.0 for f in facs if f["walk_in_arrivals"]),
                        default=0.0,
                    ),
                    "worst_breach_day_share": max(
                        (f["breach_day_share"]["mean"] or 0.0 for f in facs), default=0.0
                    ),
                    "holds": sim.get("holds"),
                }
            )
        rows.append(row)
    return rows


def variant_band(scenario: Scenario, years: Sequence[int]) -> dict[str, list[tuple[float, float]]]:
    """Under-threes and enrolled demand per year: (lowest, highest) across the births variants."""
    from tuoyu_sim.projection import project, variants

    names = variants(scenario)
    if len(names) < 2:
        return {}
    frames = [project(scenario, v).district_frame().set_index("year") for v in names]
    band: dict[str, list[tuple[float, float]]] = {}
    for key in ("under3", "enrolled_demand"):
        band[key] = [
            (min(float(f.loc[y, key]) for f in frames), max(float(f.loc[y, key]) for f in frames))
            for y in years
        ]
    return band


def network_rows(networks: Mapping[int, Scenario], base: Scenario) -> Rows:
    """``network.csv``: every facility of every year, with its places and staff."""
    today = {f.id for f in base.facilities}
    rows: Rows = []
    for y, net in networks.items():
        for f in net.facilities:
            row: dict[str, Any] = {
                "year": y,
                "site": f.id,
                "kind": "existing" if f.id in today else "new",
                "group": f.group,
            }
            for a in net.age_groups:
                row[f"places_{a}"] = f.places.get(a, 0)
            row["walk_in_places"] = f.reserved_places
            for r in ROLES:
                row[r] = getattr(f.staff, r)
            rows.append(row)
    return rows


class PhasedRun(_Run):
    """A plan over several years: what :func:`tuoyu_sim.optimize` and
    :func:`tuoyu_sim.plan` return when given ``years``.

    Tables: ``phases`` (year, site, action, class or role, count, cost, present
    value), ``years`` (one row per year: under-threes, demand, places, enrolled,
    utilization, cost; with the simulation's figures for ``plan``), ``network``
    (every facility every year). ``plan`` runs add ``iterations`` and ``needs``
    (with a ``year`` column) and ``facilities`` (each year's final simulation).
    ``networks`` maps each year to its network (a scenario with that year's
    demand).
    """

    def __init__(
        self,
        scenario: Scenario,
        outcome: Any,
        seconds: float,
        *,
        command: str,
        per_1000: Mapping[int, float | None],
    ) -> None:
        from tuoyu_sim.allocate.phased import (
            empty_places,
            phase_rows,
            present_cost,
            verify_phases,
        )
        from tuoyu_sim.allocate.results import versions
        from tuoyu_sim.projection import variants

        self.scenario = scenario
        self.outcome = outcome
        self.years: tuple[int, ...] = tuple(outcome.years)
        self.variant: str = outcome.variant
        self.networks: dict[int, Scenario] = dict(outcome.networks)
        self.phased = outcome.phased
        simulated = command == "plan"
        self.converged = outcome.converged if simulated else None
        phases = phase_rows(
            scenario,
            self.networks,
            empty_places=empty_places(self.networks, self.phased.in_use),
        )
        # the optimizer's networks are its plans': who is served where is checked too;
        # the plan loop may grow a year's network beyond the plan (it simulated it)
        problems = verify_phases(
            scenario,
            self.years,
            self.variant,
            phases,
            plans=None if simulated else self.phased.plans,
        )
        if problems:  # a bug, not a user error: fail loudly
            raise RuntimeError(
                "the phased plan fails the independent check:\n" + "\n".join(problems)
            )
        plans = self.phased.plans
        sims: dict[int, dict[str, Any]] | None = None
        if simulated:
            sims = {
                y: {**o.final_summary, "holds": o.converged} for y, o in outcome.outcomes.items()
            }
        self._band = variant_band(scenario, self.years)
        year_rows = phased_year_rows(
            scenario, self.years, self.variant, self.networks, plans, phases, per_1000, sims
        )
        first = plans[self.years[0]]
        opened_by_year = {
            y: [r["site"] for r in phases if r["action"] == "open" and int(r["year"]) == y]
            for y in self.years
        }
        self.summary: dict[str, Any] = {
            "command": command,
            "scenario": scenario.name,
            "scenario_file": str(scenario.source) if scenario.source else None,
            "versions": versions(),
            "objective": "min-cost",
            "years": list(self.years),
            "variant": self.variant,
            "variants": list(variants(scenario)),
            "status": self.phased.status,
            "solver": first.solver,
            "gap": self.phased.gap,
            "solve_seconds": round(self.phased.solve_seconds, 3),
            "run_seconds": round(seconds, 3),
            "discount_rate": self.phased.discount_rate,
            "present_cost_cny": round(present_cost(phases), 2),
            "model_objective_cny": None
            if self.phased.objective_cny is None
            else round(self.phased.objective_cny, 2),
            "cost_by_year": {str(r["year"]): r["cost_cny"] for r in year_rows},
            "new_sites_by_year": {str(y): v for y, v in opened_by_year.items()},
            "targets": dict(first.targets),
            "per_1000_by_year": {str(y): per_1000.get(y) for y in self.years},
            "per_year": year_rows,
            "variant_band": {k: [list(v) for v in vs] for k, vs in self._band.items()},
            "actions": {
                a: round(sum(action_count(r) for r in phases if r["action"] == a), 3)
                for a in dict.fromkeys(r["action"] for r in phases)
            },
        }
        self._tables = {
            "phases": _Table(phases),
            "years": _Table(year_rows),
            "network": _Table(network_rows(self.networks, scenario)),
        }
        if simulated:
            self.summary.update(
                {
                    "converged": outcome.converged,
                    "first_failing_year": outcome.first_failing_year,
                    "rounds": outcome.rounds,
                    "notes": list(outcome.notes),
                }
            )
            its, needs, facs = [], [], []
            for y in self.years:
                o = outcome.outcomes[y]
                its += [
                    {"year": y, **r} for r in _iteration_rows([i.record() for i in o.iterations])
                ]
                needs += [{"year": y, **n} for n in o.needs]
                facs += [{"year": y, **r} for r in o.final_tables["facilities"]]
            self._tables["iterations"] = _Table(its)
            self._tables["needs"] = _Table(needs, ["year", *NEEDS_COLUMNS])
            self._tables["facilities"] = _Table(facs)

    @property
    def phases(self) -> pd.DataFrame:
        """``phases.csv``: what to open, add, convert, release, hire, in which year."""
        return self.table("phases")

    @property
    def per_year(self) -> pd.DataFrame:
        """``years.csv``: one row per year."""
        return self.table("years")

    @property
    def network(self) -> pd.DataFrame:
        return self.table("network")

    @property
    def present_cost_cny(self) -> float:
        return float(self.summary["present_cost_cny"])

    def figures(self) -> dict[str, Figure]:
        return {"trajectory": self.plot_trajectory(), "map_phased": self.plot_map()}

    def plot_trajectory(self, lang: str | None = None) -> Figure:
        """Under-threes, demand, places, enrolled children and utilization per year,
        with the band across births variants."""
        from tuoyu_sim.plots.phases import trajectory

        return trajectory(
            self.rows("years"), self._band, name=self.scenario.name, variant=self.variant, lang=lang
        )

    def plot_map(self, lang: str | None = None) -> Figure:
        """Sites coloured by the year they open."""
        from tuoyu_sim.plots.phases import phased_map

        sc = self.scenario
        degrees = sc.geography.distance == "haversine"

        def xy(p: Any) -> tuple[float, float]:
            return (float(p.lon), float(p.lat)) if degrees else (float(p.x_m), float(p.y_m))

        last = self.networks[self.years[-1]]
        places = {f.id: f.total_places for f in last.facilities}
        opened: dict[str, int] = {}
        for y in self.years:
            for f in self.networks[y].facilities:
                opened.setdefault(f.id, y)
        today = {f.id for f in sc.facilities}
        sites = {s.id: s for s in sc.candidate_sites}
        return phased_map(
            [(*xy(c), c.under3) for c in sc.communities],
            [(*xy(f), places.get(f.id, 0)) for f in sc.facilities],
            [
                (sid, *xy(sites[sid]), places.get(sid, 0), y)
                for sid, y in opened.items()
                if sid not in today and sid in sites
            ],
            [xy(s) for s in sc.candidate_sites if s.id not in opened],
            self.years,
            degrees=degrees,
            name=sc.name,
            lang=lang,
        )

    def _extra_files(self, out: Path) -> None:
        from tuoyu_sim.output import write_scenario

        for y, net in self.networks.items():
            write_scenario(out / f"scenario.planned.{y}.toml", net)

    def headline(self) -> list[tuple[str, str]]:
        s = self.summary
        gap = "" if s["gap"] is None else f", gap {s['gap']:.4%}"
        lines = [
            ("years", f"{self.years[0]}–{self.years[-1]} (births variant {self.variant})"),
            ("status", f"{s['status']} ({s['solver']}, {s['solve_seconds']:.1f} s{gap})"),
            (
                "present cost",
                f"{s['present_cost_cny']:,.0f} yuan (discount rate {s['discount_rate']:.1%})",
            ),
        ]
        for r in s["per_year"]:
            opened = s["new_sites_by_year"][str(r["year"])]
            text = (
                f"{r['places']:,} places, {r['enrolled_demand']:,.0f} want one, "
                f"expected utilization {_pct(r['expected_utilization'])}"
            )
            if "utilization" in r:
                text += f", simulated {_pct(r['utilization'])}" + (
                    "" if r["holds"] else " — does NOT hold"
                )
            if opened:
                text += f"; opens {len(opened)}"
            text += f"; cost {r['cost_cny']:,.0f} yuan"
            lines.append((str(r["year"]), text))
        if "converged" in s:
            lines.append(
                (
                    "holds every year",
                    "yes"
                    if s["converged"]
                    else f"no — first failing year {s['first_failing_year']}",
                )
            )
        return lines


# -- sweep ------------------------------------------------------------------------


class SweepRun(_Run):
    """A what-if grid: what :func:`tuoyu_sim.sweep` returns.

    Table ``sweep``: one row per point (the axes, then headline figures with
    95% intervals). ``records`` holds every point's full record by id.
    """

    def __init__(
        self,
        scenario: Scenario,
        axes: Sequence[Axis],
        points: Sequence[Point],
        progress: _SweepProgress,
        summary: dict[str, Any],
        folder: Path | None = None,
    ) -> None:
        from tuoyu_sim.sweeps import sweep_rows

        self.scenario = scenario
        self.axes = list(axes)
        self.points = list(points)
        self.progress = progress
        self.summary = summary
        self.folder = folder
        """Where the points were streamed as they finished (``None``: a temporary folder)."""
        rows, cols = sweep_rows(self.points, self.axes, progress.records)
        self._tables = {"sweep": _Table(rows, cols)}

    @property
    def records(self) -> dict[str, dict[str, Any]]:
        return self.progress.records

    @property
    def frame(self) -> pd.DataFrame:
        """``sweep.csv`` as a DataFrame."""
        return self.table("sweep")

    def figures(self) -> dict[str, Figure]:
        fig = self.plot_response()
        out = {} if fig is None else {"response_curves": fig}
        price = self.plot_price()
        if price is not None:
            out["price_response"] = price
        return out

    def plot_price(self) -> Figure | None:
        """Enrollment, revenue, public cost and public cost per extra enrolled child
        against the first axis (None: not a priced scenario, or no rows)."""
        from tuoyu_sim.plots.sweep import price_response

        rows = [r for r in self.rows("sweep") if not r.get("error")]
        if not rows or "public_cost_cny_per_year" not in rows[0]:
            return None
        return price_response(rows, [a.key for a in self.axes])

    def plot_response(self) -> Figure | None:
        """Turn-away, utilization, breach days and waitlist against the axes (None: no rows)."""
        from tuoyu_sim.plots.sweep import response_curves

        rows = [r for r in self.rows("sweep") if not r.get("error")]
        return response_curves(rows, [a.key for a in self.axes]) if rows else None

    def _extra_files(self, out: Path) -> None:
        from tuoyu_sim.output import write_scenario
        from tuoyu_sim.sweeps import save_point

        write_scenario(out / "scenario.toml", self.scenario)
        if self.folder is None or self.folder.resolve() != out.resolve():
            for record in self.progress.records.values():
                save_point(out, record)

    def headline(self) -> list[tuple[str, str]]:
        s = self.summary
        return [
            (
                "points",
                f"{s['points']} ({s['points_computed']} computed, "
                f"{s['points_resumed']} resumed, {s['points_failed']} failed)",
            ),
            ("axes", ", ".join(a.key for a in self.axes)),
            ("runs", f"{s['replications']} replications × {s['days']} days, seed {s['seed']}"),
        ]


# -- access -----------------------------------------------------------------------


def _access_versions() -> dict[str, str]:
    import platform

    import numpy
    import scipy

    from tuoyu_sim import __version__

    return {
        "tuoyu_sim": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
    }


class Accessibility:
    """Accessibility and care deserts of a scenario and, with a plan, of the planned
    scenario measured with the scenario's settings: the tables, the summary record and
    the figures that ``access``, ``simulate``, ``optimize`` and ``plan`` share.

    ``result`` (and ``planned_result``) hold the arrays
    (:class:`~tuoyu_sim.accessibility.AccessResult`).
    """

    def __init__(
        self,
        scenario: Scenario,
        result: AccessResult,
        planned: Scenario | None = None,
        planned_result: AccessResult | None = None,
    ) -> None:
        self.scenario = scenario
        self.result = result
        self.planned = planned
        self.planned_result = planned_result

    @classmethod
    def measure(cls, scenario: Scenario, planned: Scenario | None = None) -> Accessibility:
        """Measure the scenario, and the planned scenario with the scenario's settings."""
        from tuoyu_sim.accessibility import measure, settings

        spec = settings(scenario)
        result = measure(scenario, spec)
        after = measure(planned, spec) if planned is not None else None
        return cls(scenario, result, planned, after)

    def class_rows(self) -> Rows:
        """``by_class.csv``: per class, current (and planned)."""
        rows = self.result.class_rows("current")
        if self.planned_result is not None:
            rows += self.planned_result.class_rows("planned")
        return rows

    def tables(self) -> dict[str, _Table]:
        """``access``, with a plan ``access_planned``, and ``by_class``."""
        out = {"access": _Table(self.result.rows(), self.result.columns())}
        if self.planned_result is not None:
            after = self.planned_result
            out["access_planned"] = _Table(after.rows(), after.columns())
        out["by_class"] = _Table(self.class_rows())
        return out

    def record(self) -> dict[str, Any]:
        """The short ``access`` record of a simulate/optimize/plan ``summary.json``:
        the scenario file measured (the report redraws the maps from it), the
        settings, and communities that are deserts and the children in them by
        class (``all``: every place together; ``any``: in at least one age class),
        ``current`` and with a plan ``planned``."""

        def short(result: AccessResult) -> dict[str, Any]:
            rows = result.class_rows()
            return {
                "facilities": len(result.facilities),
                "deserts": {r["age_class"]: r["deserts"] for r in rows},
                "children_in_deserts": {r["age_class"]: r["children_in_deserts"] for r in rows},
            }

        source = self.scenario.source
        out: dict[str, Any] = {
            "scenario_file": str(source) if source else None,
            "settings": self.result.settings.record(),
            "classes": list(self.result.classes),
            "communities": len(self.result.communities),
            "current": short(self.result),
        }
        if self.planned_result is not None:
            out["planned"] = short(self.planned_result)
        return out

    def figures(self, lang: str | None = None) -> dict[str, Figure]:
        """The maps (only when every community and facility has coordinates; zoomed
        ones when the district has a dense core) and, with a plan, the deserts before
        and after."""
        from tuoyu_sim.plots.accessibility import core_window, has_coordinates

        figs: dict[str, Figure] = {}
        if has_coordinates(self.result):
            zoom = core_window(self.result) is not None
            figs["access_map"] = self.plot_map(lang=lang)
            if zoom:
                figs["access_map_core"] = self.plot_map(core=True, lang=lang)
            if self.planned_result is not None and has_coordinates(self.planned_result):
                figs["access_map_planned"] = self.plot_map(planned=True, lang=lang)
                if zoom:
                    figs["access_map_planned_core"] = self.plot_map(
                        planned=True, core=True, lang=lang
                    )
        if self.planned_result is not None:
            figs["deserts_before_after"] = self.plot_before_after(lang)
        return figs

    def plot_map(
        self, planned: bool = False, core: bool = False, lang: str | None = None
    ) -> Figure:
        """Communities coloured by the headline score, one panel per class, deserts
        outlined (``planned=True``: after the plan, new sites as stars, on the same
        colour scale; ``core=True``: zoomed on the densest part, deserts labelled)."""
        from tuoyu_sim.plots.accessibility import (
            access_map,
            core_window,
            planned_title,
            score_limit,
        )

        results = [self.result]
        if self.planned_result is not None:
            results.append(self.planned_result)
        window = core_window(self.result)
        options: dict[str, Any] = {
            "vmax": score_limit(*results),
            "window": window if core else None,
            "mark": None if core else window,
            "lang": lang,
        }
        if not planned:
            return access_map(
                self.result,
                title=self.scenario.name,
                detour_factor=self.scenario.geography.detour_factor,
                **options,
            )
        if self.planned_result is None or self.planned is None:
            raise UserError("plot_map(planned=True): this run has no planned scenario")
        old = {f.id for f in self.scenario.facilities}
        return access_map(
            self.planned_result,
            title=planned_title(self.planned.name, lang),
            new_facilities={f.id for f in self.planned.facilities if f.id not in old},
            detour_factor=self.planned.geography.detour_factor,
            **options,
        )

    def plot_before_after(self, lang: str | None = None) -> Figure:
        """Deserts and children in deserts by class, current against planned."""
        from tuoyu_sim.plots.accessibility import deserts_before_after

        if self.planned_result is None:
            raise UserError("plot_before_after(): this run has no planned scenario")
        return deserts_before_after(self.class_rows(), lang)


def _measure_access(
    scenario: Scenario, planned: Scenario | None = None
) -> tuple[Accessibility | None, dict[str, Any]]:
    """Accessibility for simulate, optimize and plan, and their summary's ``access``
    record. A scenario the measure refuses (an age class named ``all``) still runs:
    no access tables or figures, and the record says why."""
    try:
        part = Accessibility.measure(scenario, planned)
    except UserError as exc:
        return None, {"skipped": "; ".join(exc.problems)}
    return part, part.record()


class AccessRun(_Run):
    """Accessibility and care deserts by age class: what :func:`tuoyu_sim.access` returns.

    Tables: ``access`` (one row per community: per class the children, places
    within the catchment, the Gaussian 2SFCA and E2SFCA scores, children per
    place and the CAP desert flag), ``by_class`` (per class, deserts and the
    children in them), and with a plan ``access_planned``. ``result`` (and
    ``planned_result``) hold the arrays (:class:`~tuoyu_sim.accessibility.AccessResult`).
    """

    def __init__(
        self,
        scenario: Scenario,
        result: AccessResult,
        planned: Scenario | None = None,
        planned_result: AccessResult | None = None,
    ) -> None:
        self.scenario = scenario
        self.result = result
        self.planned = planned
        self.planned_result = planned_result
        self.accessibility = Accessibility(scenario, result, planned, planned_result)
        self.summary = {
            "command": "access",
            "scenario": scenario.name,
            "scenario_file": str(scenario.source) if scenario.source else None,
            "versions": _access_versions(),
            "settings": result.settings.record(),
            "classes": list(result.classes),
            "current": result.record(),
        }
        if planned_result is not None:
            self.summary["planned"] = planned_result.record()
        self._tables = self.accessibility.tables()

    @property
    def access(self) -> pd.DataFrame:
        """``access.csv``: one row per community, a column per measure and class."""
        return self.table("access")

    @property
    def by_class(self) -> pd.DataFrame:
        """``by_class.csv``: deserts and the children in them, per class (and plan)."""
        return self.table("by_class")

    @property
    def deserts(self) -> dict[str, int]:
        """Communities that are deserts, by class (``any``: in at least one age class)."""
        by = self.summary["current"]["by_class"]
        return {a: int(v["deserts"]) for a, v in by.items()}

    def figures(self) -> dict[str, Figure]:
        return self.accessibility.figures()

    def plot_map(
        self, planned: bool = False, core: bool = False, lang: str | None = None
    ) -> Figure:
        """Communities coloured by the headline score, one panel per class, deserts
        outlined (``planned=True``: after the plan, new sites as stars, on the same
        colour scale; ``core=True``: zoomed on the densest part, deserts labelled);
        labels in ``lang`` (``zh``/``en``; default Chinese when a CJK font is available)."""
        return self.accessibility.plot_map(planned, core, lang)

    def plot_before_after(self, lang: str | None = None) -> Figure:
        """Deserts and children in deserts by class, current against planned."""
        return self.accessibility.plot_before_after(lang)

    def _extra_files(self, out: Path) -> None:
        from tuoyu_sim.output import write_scenario

        write_scenario(out / "scenario.toml", self.scenario)
        if self.planned is not None:
            write_scenario(out / "scenario.planned.toml", self.planned)

    def headline(self) -> list[tuple[str, str]]:
        s = self.summary["settings"]
        method = "Gaussian 2SFCA" if s["weight"] == "gaussian" else "enhanced 2SFCA (steps)"

        def deserts(record: Mapping[str, Any]) -> str:
            return ", ".join(f"{a} {v['deserts']}" for a, v in record["by_class"].items())

        lines = [
            ("catchment", f"{s['catchment_m']:,.0f} m walking; headline score {method}"),
            (
                "desert rule",
                f"more than {s['desert_min_children']:g} children under 3 and no place or "
                f"more than {s['desert_children_per_place']:g} children per place",
            ),
            (
                "deserts",
                f"{deserts(self.summary['current'])} of "
                f"{self.summary['current']['communities']} communities",
            ),
        ]
        if "planned" in self.summary:
            lines.append(("deserts after the plan", deserts(self.summary["planned"])))
        return lines
