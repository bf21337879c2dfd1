"""A CJK-capable font for matplotlib, so Chinese labels never render as boxes.

Order: the Noto Sans CJK collection shipped by the ``noto-cjk-sans-otc``
package (a dependency), then any system font that covers CJK. If none is
found, :func:`cjk_font` returns ``None`` and plots fall back to English labels.
"""

from __future__ import annotations

import functools
import logging

log = logging.getLogger(__name__)

_PROBE = "托育临时托全日托兖州区"
SC_FACE = "Noto Sans CJK SC"


@functools.cache
def cjk_font() -> str | None:
    """The family name of a CJK-capable font registered with matplotlib, or None."""
    from matplotlib import font_manager

    candidates: list[str] = []
    try:
        import noto_cjk_sans_otc

        candidates.append(str(noto_cjk_sans_otc.FONT_PATH))
    except ImportError:  # pragma: no cover - the dependency is installed by default
        log.info("noto-cjk-sans-otc is not installed; looking for a system CJK font")
    for path in candidates:
        try:
            font_manager.fontManager.addfont(path)
            name = font_manager.FontProperties(fname=path).get_name()
            if covers_cjk(path):
                # a collection holds JP, KR, SC, TC and HK faces; hanzi take the
                # Simplified Chinese shapes only in the SC face
                faces = {e.name for e in font_manager.fontManager.ttflist if e.fname == path}
                return SC_FACE if SC_FACE in faces else name
        except (OSError, RuntimeError, ValueError) as exc:  # pragma: no cover
            log.warning("cannot load font %s: %s", path, exc)
    for entry in font_manager.fontManager.ttflist:
        low = entry.name.lower()
        known = ("cjk", "wenquanyi", "droid sans fallback", "source han", "simhei")
        if any(s in low for s in known) and covers_cjk(entry.fname):
            return str(entry.name)
    return None


def covers_cjk(path: str) -> bool:
    """Whether the font file has glyphs for the probe characters."""
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(path)
    except (OSError, RuntimeError):  # pragma: no cover
        return False
    charmap = font.get_charmap()
    return all(ord(ch) in charmap for ch in _PROBE)


def use_cjk() -> bool:
    """Make matplotlib draw with the CJK font (if any); True if Chinese can be drawn."""
    import matplotlib

    name = cjk_font()
    if name is None:
        return False
    families = list(matplotlib.rcParams["font.sans-serif"])
    if name not in families:
        matplotlib.rcParams["font.sans-serif"] = [name, *families]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    return True


def label_language(lang: str | None) -> str:
    """The language to label a figure in: ``lang`` if it can be drawn, else English.

    With ``lang=None``, Chinese when a CJK font is available. Chinese is never
    drawn without a CJK font (it would render as boxes).
    """
    has_cjk = use_cjk()
    if lang is None:
        return "zh" if has_cjk else "en"
    return lang if (lang == "en" or has_cjk) else "en"
