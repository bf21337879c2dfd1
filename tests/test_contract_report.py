"""``tuoyu-sim report``: the self-contained HTML report of a results folder.

The results folder comes from a real (small) ``simulate`` run of a scenario
whose facility is named ``<script>alert(1)</script>`` and whose community and
group names hold ``&``, so every test also guards the escaping. The browser
tests open the page in headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium): they are skipped where Chromium is
not installed, and fail instead when the ``CI`` environment variable is set.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tuoyu_sim.cli import main
from tuoyu_sim.errors import UserError
from tuoyu_sim.report import (
    esc,
    fmt_ci,
    judge,
    load_results,
    read_csv,
    render_report,
    write_report,
)

XSS_NAME = "<script>alert(1)</script>"
COMMUNITY_NAME = "张庄 & 李庄社区"
GROUP_NAME = "鼓楼 & 龙桥"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

SCENARIO: dict[str, Any] = {
    "name": "Test <b>district</b> & co",
    "description": "A & B <i>test</i>",
    "provenance": "Synthetic <script>alert('p')</script> & made up",
    "simulation": {
        "days": 4,
        "replications": 3,
        "seed": 3,
        "open": "07:30",
        "close": "19:00",
        "curve_step_minutes": 60,
    },
    "geography": {"distance": "euclidean", "service_radius_m": 1000},
    "age_groups": {"older": {"months": [24, 36], "ratio": 7, "class_size": 20}},
    "care_types": {
        "full_day": {
            "mode": "enrolled",
            "window": ["07:30", "08:30"],
            "stay": {
                "dist": "normal",
                "mean_hours": 9.0,
                "sd_hours": 0.5,
                "min_hours": 8.0,
                "max_hours": 10.0,
            },
            "attendance": 0.92,
        },
        "drop_in": {
            "mode": "walk_in",
            "window": ["07:30", "19:00"],
            "profile": "flat",
            "stay": {"dist": "exponential", "mean_hours": 2.0},
        },
    },
    "staff": {"shift": ["07:30", "19:00"], "absence_probability": 0.0},
    "targets": {
        "places_per_1000": 4.5,
        "coverage_share": 0.5,
        "max_turn_away": 0.05,
        "max_breach_day_share": 0.02,
    },
    "communities": [
        {
            "id": "c1",
            "name": COMMUNITY_NAME,
            "group": GROUP_NAME,
            "population": 10000,
            "children_under3": 300,
            "x_m": 0,
            "y_m": 0,
            "age_mix": {"older": 1.0},
            "demand": {"drop_in": 0.1, "full_day": 0.05},
        },
        {
            "id": "c2",
            "name": "白衣堂社区",
            "group": "龙桥",
            "population": 5000,
            "children_under3": 150,
            "x_m": 900,
            "y_m": 0,
            "age_mix": {"older": 1.0},
            "demand": {"drop_in": 0.05, "full_day": 0.02},
        },
    ],
    "facilities": [
        {  # one caregiver for twelve enrolled children: ratio breach every day
            "id": "f1",
            "name": XSS_NAME,
            "group": GROUP_NAME,
            "x_m": 0,
            "y_m": 0,
            "places": {"older": 12},
            "staff": {"teacher": 1, "nursery": 0, "health": 0},
        },
        {
            "id": "f2",
            "name": "龙桥托育站",
            "group": "龙桥",
            "x_m": 900,
            "y_m": 0,
            "places": {"older": 20},
            "staff": {"teacher": 3, "nursery": 1, "health": 0},
        },
    ],
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results folder of ``simulate`` (no PNGs: the report draws its own)."""
    root = tmp_path_factory.mktemp("report")
    scenario = root / "hostile.toml"
    scenario.write_text(tomli_w.dumps(SCENARIO), encoding="utf-8")
    out = root / "results"
    rc = main(
        ["simulate", str(scenario), "--out", str(out), "--workers", "1", "--quiet", "--no-figures"]
    )
    assert rc == 0
    return out


@pytest.fixture(scope="module")
def report_zh(results_dir: Path) -> str:
    assert main(["report", str(results_dir)]) == 0
    return (results_dir / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report_en(results_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The English report of the same run, without the curve and breach tables.

    (The figures are checked on the Chinese report; leaving their tables out
    keeps this one quick, and checks that the report does without them.)
    """
    root = tmp_path_factory.mktemp("en")
    folder = _copy(
        results_dir,
        root / "results",
        {"summary.json", "facilities.csv", "care_types.csv", "scenario.toml"},
    )
    out = root / "report-en.html"
    assert main(["report", str(folder), "--lang", "en", "--out", str(out)]) == 0
    assert not (folder / "report.html").exists()
    return out.read_text(encoding="utf-8")


def _copy(results_dir: Path, dest: Path, keep: set[str]) -> Path:
    dest.mkdir()
    for name in keep:
        if (results_dir / name).exists():
            shutil.copy(results_dir / name, dest / name)
    return dest


def _img_sources(page: str) -> list[str]:
    return re.findall(r'<img[^>]*\ssrc="([^"]*)"', page)


# --------------------------------------------------------------------------- content


@pytest.mark.slow
def test_report_is_self_contained(report_zh: str) -> None:
    assert report_zh.startswith("<!DOCTYPE html>")
    assert "<script" not in report_zh.lower()
    assert "<link" not in report_zh.lower()
    refs = re.findall(r'\b(?:src|href)="([^"]*)"', report_zh)
    assert refs, "the page should have figures and in-page links"
    assert all(r.startswith(("data:", "#")) for r in refs), [r[:40] for r in refs]
    assert "url(data:font/woff;base64," in report_zh  # the Chinese glyphs travel with it
    assert not re.search(r"url\((?!data:)", report_zh)
    assert not re.search(r"https?://", report_zh)


@pytest.mark.slow
def test_figures_are_embedded_pngs(report_zh: str) -> None:
    sources = _img_sources(report_zh)
    # district curve, subdistrict curves, turn-away bars, breach heat map, worst facility;
    # the accessibility map, redrawn from the folder's scenario.toml
    assert len(sources) == 6
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
    names = re.findall(r'data-figure="([^"]+)"', report_zh)
    assert names == [
        "utilization_district",
        "utilization_by_group",
        "turn_away_by_facility",
        "breach_heatmap",
        "utilization_facility_f1",
        "access_map",
    ]


def test_scenario_text_is_escaped(report_zh: str, report_en: str) -> None:
    for page in (report_zh, report_en):
        assert XSS_NAME not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<b>district</b>" not in page
        assert "Test &lt;b&gt;district&lt;/b&gt; &amp; co" in page
        assert "<i>test</i>" not in page and "A &amp; B &lt;i&gt;test&lt;/i&gt;" in page
        assert "alert(&#x27;p&#x27;)" in page
        assert html_escaped(COMMUNITY_NAME) in page
        assert html_escaped(GROUP_NAME) in page
        assert COMMUNITY_NAME not in page  # a bare & would be unescaped


def html_escaped(text: str) -> str:
    return str(esc(text))


def test_headline_figures_come_from_summary(results_dir: Path, report_zh: str) -> None:
    summary = json.loads((results_dir / "summary.json").read_text(encoding="utf-8"))
    d = summary["district"]
    assert f'<div class="card-value">{d["places"]:,}</div>' in report_zh
    assert f"{d['places_per_1000']:.2f}" in report_zh
    assert fmt_ci(d["utilization"]) in report_zh
    assert fmt_ci(d["turn_away_rate"]) in report_zh
    assert fmt_ci(d["breach_day_share"]) in report_zh
    assert f"{d['enrolled']:,} / {d['enrolled_demand']:,}" in report_zh
    # 32 places for 15,000 residents is far below 4.5 per 1,000; turn-away far above 5%
    cards = re.findall(r'<div class="card (ok|miss|unclear)">', report_zh)
    assert cards.count("miss") >= 3


def test_facilities_worst_first_and_flagged(report_zh: str, report_en: str) -> None:
    table = re.search(r'<table class="facilities">(.*?)</table>', report_en, re.S)
    assert table
    rows = re.findall(r"<tr( class=\"miss\")?><td>(\w+)</td>", table.group(1))
    assert [(bool(flag), fid) for flag, fid in rows] == [(True, "f1"), (False, "f2")]
    first = table.group(1).split("</tr>")[1]
    assert "turn-away, ratio" in first
    assert "✗ 100.0%" in first  # breach day share flagged


def test_groups_table_joins_communities_and_facilities(report_en: str) -> None:
    section = re.search(r'<section id="groups">(.*?)</section>', report_en, re.S)
    assert section
    body = section.group(1)
    assert html_escaped(GROUP_NAME) in body and "龙桥" in body
    assert "10,000" in body and "5,000" in body  # group populations from the scenario
    assert "1.20" in body  # 12 places / 10,000 residents


def test_assumptions_and_provenance(report_zh: str, report_en: str) -> None:
    for page, words in (
        (report_zh, ["模型假设", "开放时间", "07:30–19:00", "1:7", "服务半径", "1,000 m"]),
        (report_en, ["Assumptions", "opening hours", "07:30–19:00", "1:7", "1,000 m"]),
    ):
        for w in words:
            assert w in page, w
    prov = re.search(r'<section id="provenance">(.*?)</section>', report_en, re.S)
    assert prov
    text = prov.group(1)
    assert "hostile.toml" in text
    assert "<dd>3</dd>" in text  # seed and replications
    assert "tuoyu_sim" in text and "numpy" in text  # versions


def test_chinese_by_default_english_on_request(report_zh: str, report_en: str) -> None:
    assert '<html lang="zh-CN">' in report_zh and "主要指标" in report_zh
    assert '<html lang="en">' in report_en and "Headline figures" in report_en
    assert "主要指标" not in report_en


def test_written_atomically_without_leftovers(results_dir: Path, report_zh: str) -> None:
    leftovers = [p.name for p in results_dir.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    assert (results_dir / "report.html").read_text(encoding="utf-8") == report_zh


# --------------------------------------------------------------------------- bad input


def test_missing_folder_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope"
    assert main(["report", str(missing)]) == 1
    err = capsys.readouterr().err
    assert "no such folder" in err and str(missing) in err
    assert "Traceback" not in err
    assert not missing.exists()


def test_non_results_folder_is_a_user_error_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    assert main(["report", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "not a results folder" in err and "summary.json" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_file_is_not_a_folder(tmp_path: Path) -> None:
    f = tmp_path / "summary.json"
    f.write_text("{}", encoding="utf-8")
    with pytest.raises(UserError, match="not a folder"):
        load_results(f)


def test_broken_summary_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text('{"district": ', encoding="utf-8")
    with pytest.raises(UserError, match=r"summary\.json: not valid JSON \(line 1"):
        write_report(tmp_path)
    assert not (tmp_path / "report.html").exists()


def test_out_must_not_be_a_folder(results_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is a folder"):
        write_report(results_dir, out=tmp_path)


def test_unknown_language_is_a_usage_error(results_dir: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", str(results_dir), "--lang", "fr"])
    assert exc.value.code == 2


def test_python_dash_m(tmp_path: Path) -> None:
    (tmp_path / "sweep.csv").write_text("point,turn_away_rate\n0,0.031\n", encoding="utf-8")
    out = tmp_path / "sub" / "r.html"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tuoyu_sim",
            "report",
            str(tmp_path),
            "--out",
            str(out),
            "--lang",
            "en",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout
    assert out.is_file() and "What-if sweep" in out.read_text(encoding="utf-8")
    assert not (tmp_path / "report.html").exists()


# --------------------------------------------------------------------------- degrading


def test_summary_only_still_reports(results_dir: Path, tmp_path: Path) -> None:
    folder = _copy(results_dir, tmp_path / "bare", {"summary.json"})
    page = render_report(load_results(folder), "en")
    assert "Headline figures" in page
    assert "holds no scenario file" in page
    # turn-away bars need only the summary; no curves, no heat map
    assert re.findall(r'data-figure="([^"]+)"', page) == ["turn_away_by_facility"]


def test_csv_tables_stand_in_for_a_thin_summary(results_dir: Path, tmp_path: Path) -> None:
    folder = _copy(
        results_dir,
        tmp_path / "thin",
        {"summary.json", "facilities.csv", "care_types.csv", "scenario.toml"},
    )
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    del summary["facilities"], summary["care_types"]
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    page = render_report(load_results(folder), "en")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # facility from facilities.csv
    assert "drop-in (临时托)" in page  # care type from care_types.csv


def test_numpy_reprs_in_csv_are_read_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("facility,places,mean\n007,np.float64(3060.0),\n", encoding="utf-8")
    assert read_csv(path) == [{"facility": "007", "places": 3060.0, "mean": None}]


@pytest.mark.slow
def test_optimize_folder_gets_a_plan_section(results_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "opt"
    folder.mkdir()
    summary = {
        "scenario": "Test & plan",
        "seed": 3,
        "objective": "min-cost",
        "status": "Optimal",
        "solver": "cbc",
        "gap": 0.0,
        "solve_seconds": 0.4,
        "new_sites": ["s<1>"],
        "added_places": 40,
        "added_caregivers": {"teacher": 3, "nursery": 2, "health": 1},
        "cost": 1234567.0,
        "covered_children": 400.0,
        "coverage_share": 0.9,
        "places_per_1000_before": 2.13,
        "places_per_1000_after": 4.8,
        "targets": {"max_turn_away": 0.05},
        "sites": [
            {
                "id": "s<1>",
                "kind": "new",
                "places": {"older": 40},
                "places_total": 40,
                "added_places": 40,
                "staff": {"teacher": 3, "nursery": 2, "health": 1},
                "cost": 1234567.0,
            },
        ],
        "messages": ["budget <ok> & fine"],
        "cross_check": {
            "solver": "highs",
            "status": "optimal",
            "objective_value": 1234567.0,
            "agree": True,
            "kept": "cbc",
            "message": "highs agrees",
        },
    }
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    (folder / "plan.csv").write_text(
        "site,kind,places_older,cost_cny\ns<1>,new,40,1234567.0\n", encoding="utf-8"
    )
    shutil.copy(results_dir / "scenario.toml", folder / "scenario.planned.toml")
    page = render_report(load_results(folder), "en")
    plan = re.search(r'<section id="plan">(.*?)</section>', page, re.S)
    assert plan
    text = plan.group(1)
    assert "min-cost" in text and "Optimal" in text and "2.13 → 4.80" in text
    assert "s&lt;1&gt;" in text and "s<1>" not in text
    assert "budget &lt;ok&gt; &amp; fine" in text
    assert "cross-check" in text and "agrees: highs optimal at 1,234,567" in text
    summary["cross_check"].update(agree=False, kept="highs")  # type: ignore[attr-defined]
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    zh = render_report(load_results(folder), "zh")
    assert "交叉验证" in zh and "不一致：highs 求得 optimal" in zh and "采用 highs 的方案" in zh
    assert "scenario.planned.toml" in text
    assert 'id="assumptions"' in page and "From scenario.planned.toml" in page
    assert "<img" not in page  # nothing to draw without simulation tables


def test_sweep_folder_gets_a_sweep_table(tmp_path: Path) -> None:
    (tmp_path / "sweep.csv").write_text(
        "point,index,care_types.drop_in.stay.mean_hours,turn_away_rate,places,error\n"
        "a1,0,1.5,0.031,8,\n"
        "b2,1,<2>,0.072,8,failed: <bad> & worse\n",
        encoding="utf-8",
    )
    page = render_report(load_results(tmp_path), "zh")
    sweep = re.search(r'<section id="sweep">(.*?)</section>', page, re.S)
    assert sweep
    text = sweep.group(1)
    assert "care_types.drop_in.stay.mean_hours" in text
    assert "0.072" in text and "&lt;2&gt;" in text and "failed: &lt;bad&gt; &amp; worse" in text
    assert "共 2 个情景点" in text


def test_sweep_with_intervals_draws_response_curves(tmp_path: Path) -> None:
    grid = [{"key": "staff.absence_probability", "values": [0.0, 0.1]}]
    summary = {"command": "sweep", "scenario": "s", "grid": grid}
    (tmp_path / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    head = (
        "point,index,staff.absence_probability,utilization,utilization_lo,utilization_hi,"
        "turn_away_rate,turn_away_rate_lo,turn_away_rate_hi,error\n"
    )
    (tmp_path / "sweep.csv").write_text(
        head + "p0,0,0.0,0.4,0.35,0.45,0.02,-0.01,0.05,\np1,1,0.1,0.41,0.36,0.46,0.06,0.03,0.09,\n",
        encoding="utf-8",
    )
    page = render_report(load_results(tmp_path), "en")
    assert re.findall(r'data-figure="([^"]+)"', page) == ["response_curves"]
    assert '2.0% <span class="ci">[0.0–5.0]</span>' in page  # one cell, clipped at 0
    assert "holds no simulation figures" not in page


def test_plan_folder_shows_simulation_and_plan(results_dir: Path, tmp_path: Path) -> None:
    sim = json.loads((results_dir / "summary.json").read_text(encoding="utf-8"))
    summary = {
        "command": "plan",
        "scenario": sim["scenario"],
        "seed": sim["seed"],
        "versions": sim["versions"],
        "objective": "min-cost",
        "status": "optimal",
        "notes": ["F1: floor area allows 0 more places"],
        "simulation": {
            k: sim[k] for k in ("seed", "replications", "days", "district", "care_types")
        },
        "facilities": sim["facilities"],
    }
    folder = tmp_path / "plan"
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    (folder / "places_by_group.csv").write_text(
        "group,population,places_before,places_after,per_1000_before,per_1000_after\n"
        "龙桥,5000.0,20,40,4.0,8.0\n",
        encoding="utf-8",
    )
    page = render_report(load_results(folder), "en")
    assert f'<div class="card-value">{sim["district"]["places"]:,}</div>' in page
    assert 'id="facilities"' in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "floor area allows 0 more places" in page
    assert re.findall(r'data-figure="([^"]+)"', page) == [
        "turn_away_by_facility",
        "per_1000_by_group",
    ]


def test_judging_against_targets() -> None:
    assert judge({"mean": 0.03, "ci95": [0.02, 0.04]}, 0.05, at_most=True) == "ok"
    assert judge({"mean": 0.06, "ci95": [0.04, 0.08]}, 0.05, at_most=True) == "unclear"
    assert judge({"mean": 0.09, "ci95": [0.07, 0.11]}, 0.05, at_most=True) == "miss"
    assert judge(5.66, 4.5, at_most=False) == "ok"
    assert judge(2.1, 4.5, at_most=False) == "miss"
    assert judge({"mean": None, "ci95": None}, 0.05, at_most=True) is None
    assert judge(0.1, None, at_most=True) is None


def test_interval_bounds_are_clipped_to_the_range() -> None:
    assert fmt_ci({"mean": 0.98, "ci95": [0.935, 1.025]}) == "98.0% [93.5–100.0]"
    assert fmt_ci({"mean": 0.01, "ci95": [-0.01, 0.03]}) == "1.0% [0.0–3.0]"
    assert fmt_ci({"mean": 1.0, "ci95": [-0.2, 2.2]}, pct=False) == "1.0 [0.0–2.2]"
    assert fmt_ci({"mean": 0.5, "ci95": None}) == "50.0%"


# --------------------------------------------------------------------------- browser


def _browser_or_skip() -> Any:
    """A headless Chromium driven by Selenium; skip (or fail under CI) if missing."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("the selenium package")
    if missing:
        message = f"browser test needs {', '.join(missing)} (apt: chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run it")
        pytest.skip(message)
    profile = tempfile.mkdtemp(prefix="tuoyu-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1280,1600",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    return driver, profile


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver, profile = _browser_or_skip()
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.slow
def test_page_loads_without_console_errors_and_figures_show(
    browser: Any, results_dir: Path, report_zh: str
) -> None:
    browser.get((results_dir / "report.html").resolve().as_uri())
    state = browser.execute_script("return document.readyState")
    assert state == "complete"
    errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert errors == []
    assert browser.execute_script("return document.scripts.length") == 0
    assert browser.title.startswith("托育服务能力规划报告")
    images = browser.execute_script(
        """
        return Array.from(document.images).map(img => {
            const r = img.getBoundingClientRect();
            return {complete: img.complete, natural: img.naturalWidth,
                    width: r.width, height: r.height, alt: img.alt};
        });
        """
    )
    assert len(images) == len(_img_sources(report_zh)) == 6
    for img in images:
        assert img["complete"] and img["natural"] > 0, img["alt"]
        assert img["width"] > 100 and img["height"] > 100, img
    # the facility name is text, not markup
    cell = browser.execute_script(
        "return document.querySelector('table.facilities tbody tr td:nth-child(2)').textContent"
    )
    assert cell == XSS_NAME
    # the Chinese glyphs come from the embedded font, so they render anywhere
    loaded = browser.execute_script(
        "return document.fonts.check('16px TuoyuCJK', '主要指标') && "
        "Array.from(document.fonts).some(f => f.family.includes('TuoyuCJK') "
        "&& f.status === 'loaded')"
    )
    assert loaded


def test_screenshot_is_not_blank(
    browser: Any, results_dir: Path, report_zh: str, tmp_path: Path
) -> None:
    from PIL import Image, ImageStat

    browser.get((results_dir / "report.html").resolve().as_uri())
    png = browser.get_screenshot_as_png()
    shot = tmp_path / "report.png"
    shot.write_bytes(png)
    keep = os.environ.get("TUOYU_SCREENSHOT")
    if keep:  # keep it for a human to look at
        Path(keep).write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    assert width >= 1000 and height >= 800
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # text, cards, header: not one colour
    stddev = ImageStat.Stat(image).stddev
    assert max(stddev) > 20
    # the blue header band is at the top
    r, _g, b = image.getpixel((5, 5))  # type: ignore[misc]
    assert b > 120 and r < 80


# --------------------------------------------------------------------------- access


@pytest.fixture(scope="module")
def access_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results folder of ``access --planned`` on the hostile scenario (maps included).

    Before the plan both communities are deserts (450 children, 32 places within
    reach); the plan opens a site of 200 places next to the first community, which
    then is no desert.
    """
    root = tmp_path_factory.mktemp("access")
    scenario = root / "hostile.toml"
    scenario.write_text(tomli_w.dumps(SCENARIO), encoding="utf-8")
    planned = dict(SCENARIO)
    planned["facilities"] = [
        *SCENARIO["facilities"],
        {"id": "new<1>", "x_m": 0, "y_m": 0, "places": {"older": 200}},
    ]
    planned_file = root / "scenario.planned.toml"
    planned_file.write_text(tomli_w.dumps(planned), encoding="utf-8")
    out = root / "results"
    args = ["access", str(scenario), "--planned", str(planned_file), "--out", str(out)]
    assert main(args) == 0
    return out


def _access_section(page: str) -> str:
    section = re.search(r'<section id="access">(.*?)</section>', page, re.S)
    assert section, "no access section"
    return section.group(1)


@pytest.mark.slow
def test_access_folder_gets_an_access_section(access_dir: Path) -> None:
    summary = json.loads((access_dir / "summary.json").read_text(encoding="utf-8"))
    before = summary["current"]["by_class"]["any"]
    after = summary["planned"]["by_class"]["any"]
    zh = render_report(load_results(access_dir), "zh")
    en = render_report(load_results(access_dir), "en")
    for page, words in (
        (zh, ["可达性与托育荒漠", "任一班级为托育荒漠的社区", "各班级的托育荒漠", "方案前 → 方案后",
              "可达性最差的社区", "以下取值均为假设", "1,000 m", "多于 50 名", "多于 3 名"]),
        (en, ["Accessibility and care deserts", "communities that are deserts in any class",
              "Care deserts by age class", "before → after the plan", "Communities with the worst",
              "These values are assumptions", "a catchment of 1,000 m", "Gaussian 2SFCA",
              "≤ 333 m 1; ≤ 667 m 0.68; ≤ 1,000 m 0.22", "more than 50 children",
              "more than 3 children per place"]),
    ):  # fmt: skip
        text = _access_section(page)
        for w in words:
            assert w in text, w
        assert (before["deserts"], after["deserts"]) == (2, 1)
        assert '<div class="card-value">2 → 1</div>' in text
        assert html_escaped(COMMUNITY_NAME) in text and COMMUNITY_NAME not in text
        assert "holds no simulation figures" not in page and "不含模拟结果" not in page
    assert "可达性与托育荒漠" not in en and "Accessibility and care deserts" not in zh
    assert 'href="#access"' in en


@pytest.mark.slow
def test_access_worst_communities_deserts_first(access_dir: Path) -> None:
    text = _access_section(render_report(load_results(access_dir), "en"))
    worst = text.split("Communities with the worst", 1)[1]
    ids = re.findall(r"<tr><td>(\w+)</td>", worst)
    rows = read_csv(access_dir / "access.csv")
    deserts = [r for r in rows if r["desert_any"] is True]
    expected = sorted(deserts, key=lambda r: -r["children_all"])
    expected += sorted(
        (r for r in rows if r["desert_any"] is not True), key=lambda r: -r["children_all"]
    )
    assert deserts and ids == [r["community"] for r in expected]
    assert "desert in, after the plan" in worst
    first = worst.split("</tr>")[1]  # c1: a desert before the plan, none after
    assert "<td>c1</td>" in first and first.endswith("<td>—</td>")


@pytest.mark.slow
def test_access_maps_embedded_and_page_self_contained(access_dir: Path) -> None:
    page = render_report(load_results(access_dir), "zh")
    names = re.findall(r'data-figure="([^"]+)"', page)
    written = [n for n in ("access_map", "access_map_core", "access_map_planned",
                           "access_map_planned_core", "deserts_before_after")
               if (access_dir / f"{n}.png").is_file()]  # fmt: skip
    assert {"access_map", "access_map_planned", "deserts_before_after"} <= set(written)
    assert names == written
    for src in _img_sources(page):
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<script" not in page.lower() and "<link" not in page.lower()
    refs = re.findall(r'\b(?:src|href)="([^"]*)"', page)
    assert all(r.startswith(("data:", "#")) for r in refs), [r[:40] for r in refs]
    assert not re.search(r"https?://", page)


@pytest.mark.slow
def test_access_tables_stand_in_for_a_thin_summary(access_dir: Path, tmp_path: Path) -> None:
    """Without figures and with only ``command`` in the summary, by_class.csv gives the numbers
    and the deserts before and after (drawn in the page's language); no map."""
    folder = _copy(
        access_dir, tmp_path / "thin", {"access.csv", "access_planned.csv", "by_class.csv"}
    )
    (folder / "summary.json").write_text(json.dumps({"command": "access"}), encoding="utf-8")
    text = _access_section(render_report(load_results(folder), "en"))
    by_class = read_csv(access_dir / "by_class.csv")
    any_before = next(r for r in by_class if r["scenario"] == "current" and r["age_class"] == "any")
    any_after = next(r for r in by_class if r["scenario"] == "planned" and r["age_class"] == "any")
    assert f"{any_before['deserts']} → {any_after['deserts']}</div>" in text
    assert "no scenario to draw them from" in text
    assert re.findall(r'data-figure="([^"]+)"', text) == ["deserts_before_after"]
    assert "These values are assumptions" not in text  # no settings to state
