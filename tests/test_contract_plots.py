"""Plot functions: what they draw on small inputs, and that Chinese renders with a CJK font.

Every plot function takes plain results and returns a ``Figure``; these tests
check the axes and artists it holds, not only its type. The font tests render
to Agg and check that the font matplotlib resolves for a Chinese label has
glyphs for every character, and that no "Glyph ... missing from font" warning
is emitted (a control test shows that the check does catch a missing glyph).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

from tuoyu_sim.plots.fonts import covers_cjk, use_cjk
from tuoyu_sim.plots.heatmap import breach_heatmap
from tuoyu_sim.plots.simulation import group_curves, turn_away_by_facility, utilization_curve

CHINESE = "兖州区托育：临时托与全日托利用率"
RUYITUO = Path(__file__).resolve().parent.parent / "scenarios" / "ruyituo.toml"
MISSING_GLYPH = re.compile(r"Glyph \d+ .*missing from font")


# --------------------------------------------------------------------------- inputs


def curve_rows() -> list[dict[str, Any]]:
    """District, two groups and one facility; four 60-minute bins; two care types."""
    rows: list[dict[str, Any]] = []
    scopes = [
        ("district", "all", 20.0),
        ("group", "鼓楼", 12.0),
        ("group", "龙桥", 8.0),
        ("facility", "f1", 12.0),
    ]
    for scope, key, places in scopes:
        for b, minute in enumerate((480.0, 540.0, 600.0, 660.0)):
            parts = {"full_day": 2.0 + b, "drop_in": 1.0 + 0.5 * b}
            total = sum(parts.values())
            has_band = scope != "group"
            for care_type, mean in [("all", total), *parts.items()]:
                rows.append(
                    {
                        "scope": scope,
                        "key": key,
                        "care_type": care_type,
                        "time": f"{int(minute // 60):02d}:00",
                        "minute": minute,
                        "mean": mean,
                        "mean_lo": mean - 0.5,
                        "mean_hi": mean + 0.5,
                        "places": places,
                        "utilization": mean / places,
                        "p05": (total - 1) / places if has_band and care_type == "all" else None,
                        "p95": (total + 1) / places if has_band and care_type == "all" else None,
                    }
                )
    return rows


def summary_facilities() -> dict[str, Any]:
    def fac(fid: str, name: str, rate: float, arrivals: int) -> dict[str, Any]:
        return {
            "id": fid,
            "name": name,
            "walk_in_arrivals": arrivals,
            "turn_away_rate": {"mean": rate, "ci95": [max(0.0, rate - 0.02), rate + 0.02]},
        }

    return {
        "facilities": [
            fac("f1", "白衣堂社区托育站", 0.10, 50),
            fac("f2", "龙桥托育机构", 0.01, 80),
            fac("f3", "no walk-ins", 0.0, 0),
        ]
    }


def breach_rows() -> list[dict[str, Any]]:
    minutes = {
        "f1": [0.0, 30.0, 10.0, 0.0],
        "f2": [5.0, 0.0, 0.0, 0.0],
        "f3": [0.0, 0.0, 0.0, 0.0],
    }
    hours = ["08:00", "09:00", "10:00", "11:00"]
    return [
        {"facility": f, "group": "g", "hour": h, "breach_minutes_per_day": m}
        for f, values in minutes.items()
        for h, m in zip(hours, values, strict=True)
    ]


def heat(fig: Figure) -> Any:
    """The array drawn by the heat map's (only) image."""
    images = [a for a in fig.axes[0].get_children() if isinstance(a, AxesImage)]
    assert len(images) == 1
    data = images[0].get_array()
    assert data is not None
    return data


# --------------------------------------------------------------------------- shapes


def test_utilization_curve_has_bands_mean_and_stack() -> None:
    fig = utilization_curve(curve_rows(), "district", "all", lang="en")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    top, bottom = fig.axes
    bands = [c for c in top.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2  # day-to-day band and CI of the mean
    mean_lines = [ln for ln in top.get_lines() if np.size(ln.get_xdata()) == 4]
    assert len(mean_lines) == 1
    mean = np.asarray(mean_lines[0].get_ydata(), dtype=float)
    assert mean == pytest.approx([3 / 20, 4.5 / 20, 6 / 20, 7.5 / 20])
    assert len(bottom.collections) == 2  # one stacked area per care type
    legend = bottom.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == ["full-day", "drop-in"]


def test_utilization_curve_without_rows_says_so() -> None:
    fig = utilization_curve(curve_rows(), "facility", "nope", lang="en")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["no data"]


def test_group_curves_draws_one_line_per_group_and_the_district() -> None:
    fig = group_curves(curve_rows(), lang="zh")
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels == ["鼓楼", "龙桥", "全区"]


def test_turn_away_bars_worst_first_and_target_colour() -> None:
    fig = turn_away_by_facility(summary_facilities(), max_turn_away=0.05, lang="en")
    ax = fig.axes[0]
    bars = [b for b in ax.patches if isinstance(b, Rectangle)]
    assert len(bars) == 2  # the facility with no walk-ins is left out
    # drawn bottom-up, so the worst facility is the top (last) bar
    widths = [b.get_width() for b in bars]
    assert widths == pytest.approx([0.01, 0.10])
    red = [b for b in bars if to_hex(b.get_facecolor(), keep_alpha=False) == "#d62728"]
    assert len(red) == 1 and red[0].get_width() == pytest.approx(0.10)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["龙桥托育机构", "白衣堂社区托育站"]


def test_breach_heatmap_rows_are_breaching_facilities_worst_first() -> None:
    names = {"f1": "白衣堂", "f2": "龙桥"}
    fig = breach_heatmap(breach_rows(), names, lang="en")
    assert len(fig.axes) == 2  # heat map and colour bar
    ax = fig.axes[0]
    data = heat(fig)
    assert data.shape == (2, 4)  # f3 never breaches
    assert list(data[0]) == pytest.approx([0.0, 30.0, 10.0, 0.0])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["白衣堂 (f1)", "龙桥 (f2)"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["08:00", "09:00", "10:00", "11:00"]
    # small grid: every non-zero cell is annotated
    assert sorted(t.get_text() for t in ax.texts) == ["10.0", "30.0", "5.0"]


def test_breach_heatmap_top_n_and_note_of_the_rest() -> None:
    fig = breach_heatmap(breach_rows(), top=1, lang="en")
    ax = fig.axes[0]
    assert heat(fig).shape == (1, 4)
    assert "1 more facilities" in fig.get_supxlabel()
    assert "1 worst" in ax.get_title()


def test_breach_heatmap_without_breach_has_one_axes_and_a_message() -> None:
    rows = [dict(r, breach_minutes_per_day=0.0) for r in breach_rows()]
    fig = breach_heatmap(rows, lang="en")
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert not [a for a in ax.get_children() if isinstance(a, AxesImage)]
    assert any("no facility breached" in t.get_text() for t in ax.texts)


def test_breach_heatmap_reads_csv_strings() -> None:
    rows = [dict(r, breach_minutes_per_day=str(r["breach_minutes_per_day"])) for r in breach_rows()]
    fig = breach_heatmap(rows, lang="en")
    assert heat(fig).shape == (2, 4)


# --------------------------------------------------------------------------- CJK fonts


@pytest.fixture
def glyph_warnings(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[str]]]:
    """Collect "missing glyph" complaints from both ``warnings`` and ``logging``."""
    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        def found() -> list[str]:
            messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
            return [m for m in messages if MISSING_GLYPH.search(m)]

        yield found


def _render(fig: Figure) -> None:
    FigureCanvasAgg(fig).draw()


def _font_has(path: str, text: str) -> bool:
    charmap = FT2Font(path).get_charmap()
    return all(ord(ch) in charmap for ch in text if not ch.isspace())


def test_chinese_title_resolves_to_a_font_with_its_glyphs(
    glyph_warnings: Callable[[], list[str]],
) -> None:
    assert use_cjk(), "no CJK-capable font: the noto-cjk-sans-otc dependency is missing"
    fig = Figure()
    ax = fig.subplots()
    title = ax.set_title(CHINESE)
    ax.set_xlabel("时刻")
    _render(fig)
    path = font_manager.findfont(title.get_fontproperties(), fallback_to_default=False)
    assert covers_cjk(path)
    assert _font_has(path, CHINESE), f"{path} lacks glyphs for {CHINESE!r}"
    assert glyph_warnings() == []


def test_missing_glyph_check_is_not_vacuous(glyph_warnings: Callable[[], list[str]]) -> None:
    fig = Figure()
    ax = fig.subplots()
    ax.set_title(CHINESE, fontfamily="DejaVu Sans")
    _render(fig)
    assert glyph_warnings(), "drawing Chinese with DejaVu Sans should warn of missing glyphs"


def _access_run() -> Any:
    """``access`` of ruyituo.toml against a plan with one new site."""
    import tuoyu_sim as ty
    from tuoyu_sim.scenario import validate_data

    data = ty.load_scenario(RUYITUO).to_dict()
    data["facilities"].append({"id": "new", "x_m": 400, "y_m": 400, "places": {"older": 30}})
    return ty.access(RUYITUO, planned=validate_data(data, RUYITUO))


@pytest.mark.parametrize(
    "draw",
    [
        lambda: utilization_curve(curve_rows(), "group", "鼓楼", lang="zh"),
        lambda: group_curves(curve_rows(), lang="zh"),
        lambda: turn_away_by_facility(summary_facilities(), 0.05, lang="zh"),
        lambda: breach_heatmap(breach_rows(), {"f1": "白衣堂", "f2": "龙桥"}, lang="zh"),
        lambda: _access_run().plot_map(planned=True, lang="zh"),
        lambda: _access_run().plot_before_after(lang="zh"),
    ],
    ids=["utilization_curve", "group_curves", "turn_away_by_facility", "breach_heatmap",
         "access_map", "deserts_before_after"],
)  # fmt: skip
def test_plots_in_chinese_draw_every_glyph(
    draw: Callable[[], Figure], glyph_warnings: Callable[[], list[str]]
) -> None:
    fig = draw()
    _render(fig)
    title = fig.axes[0].title
    assert re.search(r"[\u4e00-\u9fff]", title.get_text()), title.get_text()
    path = font_manager.findfont(title.get_fontproperties(), fallback_to_default=False)
    assert _font_has(path, title.get_text())
    assert glyph_warnings() == []
