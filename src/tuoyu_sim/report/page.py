"""The page being built: its language, results and targets, and its sections in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tuoyu_sim.report.labels import T
from tuoyu_sim.report.markup import Html, el
from tuoyu_sim.report.results import Results


@dataclass
class _Page:
    lang: str
    results: Results
    targets: dict[str, Any]
    sections: list[Html] = field(default_factory=list)
    toc: list[tuple[str, str]] = field(default_factory=list)

    @property
    def t(self) -> dict[str, str]:
        return T[self.lang]

    def section(self, anchor: str, title: str, *body: Any) -> None:
        self.toc.append((anchor, title))
        self.sections.append(el("section", el("h2", title), *body, id=anchor))


def _targets(results: Results) -> dict[str, Any]:
    out: dict[str, Any] = {}
    opt = results.optimization
    if opt and isinstance(opt.get("targets"), Mapping):
        out.update(opt["targets"])
    sc = results.scenario or {}
    if isinstance(sc.get("targets"), Mapping):
        out.update(sc["targets"])
    return out
