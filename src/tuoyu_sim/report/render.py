"""The whole page: :func:`render_report` renders it, :func:`write_report` writes it."""

from __future__ import annotations

import datetime as _dt
import html
from importlib import resources
from pathlib import Path

from tuoyu_sim import __version__
from tuoyu_sim.errors import UserError
from tuoyu_sim.report.fonts import FONT_STACK, cjk_font_face
from tuoyu_sim.report.labels import LANGS
from tuoyu_sim.report.markup import el, esc
from tuoyu_sim.report.page import _Page, _targets
from tuoyu_sim.report.results import Results, load_results
from tuoyu_sim.report.sections.access import _access
from tuoyu_sim.report.sections.assumptions import _assumptions
from tuoyu_sim.report.sections.care_types import _care_types
from tuoyu_sim.report.sections.facilities import _facilities
from tuoyu_sim.report.sections.figures import _figures
from tuoyu_sim.report.sections.groups import _groups
from tuoyu_sim.report.sections.headline import _headline
from tuoyu_sim.report.sections.phases import _phases
from tuoyu_sim.report.sections.plan import _plan
from tuoyu_sim.report.sections.provenance import _provenance
from tuoyu_sim.report.sections.sweep import _sweep
from tuoyu_sim.report.sections.takeup import _takeup

#: The page's style sheet: package data, ``style.css`` next to this module. It is
#: a %-format template: ``%(fonts)s`` takes :data:`~tuoyu_sim.report.fonts.FONT_STACK`,
#: and ``%%`` is a literal ``%``.
CSS = resources.files("tuoyu_sim.report").joinpath("style.css").read_text(encoding="utf-8")


def render_report(results: Results, lang: str = "zh", now: _dt.datetime | None = None) -> str:
    """The report page as one HTML string (figures, CSS and fonts inline; no script)."""
    if lang not in LANGS:
        raise UserError(f"--lang {lang}: one of {', '.join(LANGS)}")
    page = _Page(lang=lang, results=results, targets=_targets(results))
    t = page.t
    _headline(page)
    if (
        results.simulation is None
        and results.optimization is None
        and not results.sweep_rows
        and not results.is_access
        and not results.is_phased
        and results.summary
    ):
        page.sections.append(el("p", t["no_simulation"], cls="note"))
    _care_types(page)
    facs = _facilities(page)
    _groups(page, facs)
    _figures(page, facs)
    _plan(page)
    _phases(page)
    _sweep(page)
    _access(page)
    _takeup(page)
    _assumptions(page)
    _provenance(page)
    s = results.summary or {}
    sc = results.scenario or {}
    scenario_name = s.get("scenario") or sc.get("name") or results.folder.name
    when = (now or _dt.datetime.now(_dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    header = el(
        "header",
        el("h1", t["title"]),
        el("div", scenario_name, cls="sub"),
        el("div", f"{t['folder']}: {results.folder.name} · {t['generated']}: {when}", cls="sub"),
    )
    nav = el("nav", [el("a", title, href=f"#{anchor}") for anchor, title in page.toc])
    footer = el("footer", t["report_by"].format(v=__version__))
    main = el("main", nav, page.sections, footer)
    body_html = str(header) + str(main)
    title = f"{t['title']} — {scenario_name}"
    font_face = cjk_font_face(title + html.unescape(body_html.replace("<", " <")))
    css = font_face + CSS % {"fonts": FONT_STACK}
    head = (
        '<meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; font-src data:; style-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{css}</style>"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{t["lang_attr"]}"><head>{head}</head>'
        f"<body>{body_html}</body></html>\n"
    )


def default_report_path(folder: str | Path) -> Path:
    return Path(folder) / "report.html"


def write_report(folder: str | Path, lang: str = "zh", out: str | Path | None = None) -> Path:
    """Read a results folder, render the report and write it atomically.

    Nothing is written when the folder is not a results folder (:class:`UserError`).
    """
    from tuoyu_sim.output import atomic_write_text

    target = Path(out) if out is not None else default_report_path(folder)
    if target.is_dir():
        raise UserError(f"--out {target}: is a folder; give a file name such as report.html")
    results = load_results(folder)
    text = render_report(results, lang)
    try:
        return atomic_write_text(target, text)
    except OSError as exc:
        raise UserError(f"--out {target}: cannot write it ({exc.strerror or exc})") from None
