"""HTML fragments: an :class:`Html` is trusted markup; a plain ``str`` put into one is escaped."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any


class Html(str):
    """A fragment of trusted HTML; a plain ``str`` put into one is escaped."""

    __slots__ = ()


def esc(value: Any) -> Html:
    """Escape text for HTML (fragments that are already :class:`Html` pass through)."""
    if isinstance(value, Html):
        return value
    if value is None:
        return Html("")
    return Html(html.escape(str(value), quote=True))


def join(parts: Iterable[Any], sep: str = "") -> Html:
    return Html(esc(sep).join(esc(p) for p in parts))


def el(tag: str, *content: Any, **attrs: Any) -> Html:
    """``<tag attrs>content</tag>``; attribute names use ``_`` for ``-``, ``cls`` for class."""
    items = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        name = "class" if name == "cls" else name.rstrip("_").replace("_", "-")
        items.append(f" {name}" if value is True else f' {name}="{esc(value)}"')
    inner = join(_flatten(content))
    if tag in ("img", "meta", "br"):
        return Html(f"<{tag}{''.join(items)}>")
    return Html(f"<{tag}{''.join(items)}>{inner}</{tag}>")


def _flatten(content: Iterable[Any]) -> Iterable[Any]:
    for c in content:
        if isinstance(c, list | tuple):
            yield from _flatten(c)
        elif c is not None:
            yield c
