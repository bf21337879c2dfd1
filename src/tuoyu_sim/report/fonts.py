"""The Chinese glyphs of the page, embedded as a subset of Noto Sans CJK SC (WOFF)."""

from __future__ import annotations

import base64
import functools
import io
import logging

log = logging.getLogger("tuoyu_sim.report")  # one logger name for the whole report


FONT_STACK = (
    '"TuoyuCJK", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", '
    '"PingFang SC", "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif'
)


def cjk_font_face(text: str) -> str:
    """``@font-face`` with the CJK glyphs of ``text`` (Noto Sans CJK SC subset, WOFF).

    Returns ``""`` when the font or ``fontTools`` is unavailable: the page then
    relies on the reader's system fonts.
    """
    chars = frozenset(ord(c) for c in text if ord(c) >= 0x2E80)
    if not chars:
        return ""
    return _font_face(chars)


@functools.lru_cache(maxsize=8)
def _font_face(chars: frozenset[int]) -> str:
    try:
        import noto_cjk_sans_otc
        from fontTools import subset
        from fontTools.ttLib import TTFont

        font = TTFont(str(noto_cjk_sans_otc.FONT_PATH), fontNumber=_sc_index(), lazy=True)
        options = subset.Options()
        options.flavor = "woff"
        options.hinting = False
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.layout_features = ["*"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(chars))
        subsetter.subset(font)
        buf = io.BytesIO()
        font.flavor = "woff"
        font.save(buf)
    except (ImportError, OSError, ValueError, KeyError, AssertionError) as exc:
        log.info("no CJK font embedded in the report: %s", exc)
        return ""
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        '@font-face { font-family:"TuoyuCJK"; font-style:normal; font-weight:100 900; '
        f'src:url(data:font/woff;base64,{data}) format("woff"); '
        "unicode-range:U+2E80-FFFF; }\n"
    )


def _sc_index() -> int:
    """Index of the Simplified Chinese face in the Noto Sans CJK collection."""
    import noto_cjk_sans_otc
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(noto_cjk_sans_otc.FONT_PATH), lazy=True)
    for i, font in enumerate(collection.fonts):
        if font["name"].getDebugName(1) == "Noto Sans CJK SC":
            return i
    return 0
