"""The plan of ``optimize`` or ``plan``: objective and sites, plan table, figures, iterations."""

from __future__ import annotations

from collections.abc import Mapping

from tuoyu_sim.report.figures import _figure, _figure_html
from tuoyu_sim.report.formatting import _kv, _num, fmt_int, fmt_num, fmt_pct
from tuoyu_sim.report.labels import _age_name, _role_name
from tuoyu_sim.report.markup import Html, el
from tuoyu_sim.report.page import _Page
from tuoyu_sim.report.tables import _deflist, _generic_table, _table


def _plan(page: _Page) -> None:
    t = page.t
    res = page.results
    opt = res.optimization
    if res.is_phased or (opt is None and not res.plan_rows and not res.places_by_group):
        return  # a phased plan has its own section (sections/phases.py)
    body: list[Html] = []
    if opt is not None:
        added = opt.get("added_caregivers")
        added_text = (
            ("、" if page.lang == "zh" else ", ").join(
                f"{_role_name(str(k), page.lang)} {fmt_int(v)}" for k, v in added.items()
            )
            if isinstance(added, Mapping)
            else fmt_num(added)
        )
        new_sites = opt.get("new_sites")
        sites_text = ", ".join(str(s) for s in new_sites) if isinstance(new_sites, list) else ""
        items = [
            (t["objective"], opt.get("objective")),
            (t["status"], opt.get("status")),
            (t["solver"], opt.get("solver")),
            (t["gap"], fmt_num(opt.get("gap"), 4) if opt.get("gap") is not None else "—"),
            (t["solve_seconds"], fmt_num(opt.get("solve_seconds"), 2)),
            (t["new_sites"], sites_text or t["none"]),
            (t["added_places"], fmt_int(opt.get("added_places"))),
            (t["added_caregivers"], added_text),
            (t["cost"], fmt_num(opt.get("cost"), 0)),
            (t["covered_children"], fmt_num(opt.get("covered_children"), 0)),
            (t["coverage_share"], fmt_pct(opt.get("coverage_share"))),
            (
                t["per_1000_before_after"],
                f"{fmt_num(opt.get('places_per_1000_before'), 2)} → "
                f"{fmt_num(opt.get('places_per_1000_after'), 2)}",
            ),
        ]
        check = opt.get("cross_check")
        if isinstance(check, Mapping):
            key = "cross_check_agree" if check.get("agree") else "cross_check_differ"
            text = t[key].format(
                solver=check.get("solver"),
                status=check.get("status"),
                value=fmt_num(check.get("objective_value"), 0),
                kept=check.get("kept"),
            )
            items.insert(3, (t["cross_check"], text))
        body.append(_deflist(items))
        messages = [
            m for key in ("messages", "notes") if isinstance(opt.get(key), list) for m in opt[key]
        ]
        if messages:
            body.append(el("h3", t["messages"]))
            body.append(el("ul", [el("li", str(m)) for m in messages]))
        sites = opt.get("sites")
        if isinstance(sites, list) and sites:
            rows = []
            for s in sites:
                if not isinstance(s, Mapping):
                    continue
                places = s.get("places")
                staff = s.get("staff")
                rows.append(
                    [
                        s.get("id"),
                        s.get("kind"),
                        _kv(places, page.lang, _age_name),
                        fmt_int(s.get("places_total")),
                        fmt_int(s.get("added_places")),
                        _kv(staff, page.lang, _role_name),
                        fmt_num(s.get("cost"), 0),
                    ]
                )
            head = [
                "ID",
                t["kind"],
                t["places"],
                t["places_total"],
                t["added_places"],
                t["staff"],
                t["cost"],
            ]
            body.append(el("h3", t["sites"]))
            body.append(_table(head, rows, [False, False, False, True, True, False, True]))
    if res.plan_rows:
        body.append(el("h3", t["plan_table"]))
        body.append(_generic_table(res.plan_rows))
    if res.places_by_group:
        from tuoyu_sim.plots.maps import per_1000_by_group

        target = _num(page.targets.get("places_per_1000"))
        group_rows = res.places_by_group
        body.append(
            _figure(
                page,
                "per_1000_by_group",
                t["fig_per_1000"],
                lambda: per_1000_by_group(group_rows, target),
            )
        )
    if res.map_png is not None:
        body.append(_figure_html("map", t["fig_map"], res.map_png))
    if res.iterations:
        body.append(el("h3", t["iterations"]))
        body.append(_generic_table(res.iterations))
    if res.planned_scenario:
        body.append(el("p", t["planned_scenario"].format(f="scenario.planned.toml"), cls="note"))
    page.section("plan", t["plan"], body)
