"""Provenance and versions: scenario, seed, replications, files read, software versions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuoyu_sim.report.formatting import _mapping, fmt_num
from tuoyu_sim.report.markup import Html, el
from tuoyu_sim.report.page import _Page
from tuoyu_sim.report.tables import _deflist


def _provenance(page: _Page) -> None:
    t = page.t
    res = page.results
    s = res.summary or {}
    sim = res.simulation or {}
    sc = res.scenario or {}
    ssim = _mapping(sc.get("simulation"))
    items: list[tuple[str, Any]] = [
        (t["scenario_name"], s.get("scenario") or sc.get("name")),
        (
            t["scenario_file"],
            s.get("scenario_file") or sim.get("scenario_file") or res.scenario_file,
        ),
        (t["seed"], s.get("seed", ssim.get("seed"))),
        (t["replications"], sim.get("replications", ssim.get("replications"))),
        (t["days"], sim.get("days", ssim.get("days"))),
    ]
    if s.get("run_seconds") is not None:
        items.append((t["run_seconds"], fmt_num(s.get("run_seconds"), 1)))
    items.append((t["files"], ", ".join(res.files)))
    body: list[Html] = [_deflist(items)]
    if sc.get("description"):
        body.append(el("h3", t["description"]))
        body.append(el("p", str(sc["description"]).strip(), cls="pre"))
    if sc.get("provenance"):
        body.append(el("h3", t["provenance_key"]))
        body.append(el("p", str(sc["provenance"]).strip(), cls="pre"))
    versions = s.get("versions") or sim.get("versions")
    if isinstance(versions, Mapping) and versions:
        body.append(el("h3", t["versions"]))
        body.append(_deflist([(str(k), str(v)) for k, v in versions.items()]))
    page.section("provenance", t["provenance"], body)
