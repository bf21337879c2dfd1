"""Figures in the page: a matplotlib figure as an embedded base64 PNG with its caption."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable
from typing import Any

from tuoyu_sim.report.markup import Html, el
from tuoyu_sim.report.page import _Page

log = logging.getLogger("tuoyu_sim.report")  # one logger name for the whole report


def figure_png(fig: Any, dpi: int = 110) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is not kept)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def _img(png: bytes, alt: str) -> Html:
    data = base64.b64encode(png).decode("ascii")
    return el("img", src=f"data:image/png;base64,{data}", alt=alt)


def _figure(page: _Page, name: str, caption: str, draw: Callable[[], Any]) -> Html:
    """A drawn figure as an embedded PNG with its caption (a note if it cannot be drawn)."""
    try:
        png = figure_png(draw())
    except (KeyError, ValueError, TypeError, IndexError, ZeroDivisionError) as exc:
        log.warning("figure %s skipped: %s", name, exc)
        return el("p", page.t["fig_skipped"].format(what=name, why=exc), cls="note warn")
    return _figure_html(name, caption, png)


def _figure_html(name: str, caption: str, png: bytes) -> Html:
    return el("figure", _img(png, caption), el("figcaption", caption), data_figure=name)
