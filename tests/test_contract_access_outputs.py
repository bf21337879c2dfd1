"""Accessibility inside the simulate, optimize and plan folders, and the access figures
in the report's language (issue 16, part 4).

The scores themselves are proven in ``test_theory_access.py`` (against PySAL); here
the folders must hold exactly what ``tuoyu-sim access`` writes for the same scenario
(and, after a plan, for the same planned scenario): one home for the measure.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

import tuoyu_sim as ty
from tuoyu_sim.cli import main
from tuoyu_sim.report import load_results, read_csv, render_report
from tuoyu_sim.report.labels import _age_name
from tuoyu_sim.report.sections.access import _measured_again
from tuoyu_sim.scenario import validate_data

ROOT = Path(__file__).resolve().parent.parent
RUYITUO = ROOT / "scenarios" / "ruyituo.toml"
MINIMAL = ROOT / "scenarios" / "minimal.toml"
MATRIX = ROOT / "scenarios" / "examples" / "matrix.toml"
CLASSES = ("infant", "toddler", "older")
CJK = re.compile(r"[\u4e00-\u9fff]")
SMALL = ["--replications", "2", "--days", "1", "--workers", "1", "--quiet"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """simulate and optimize of ruyituo.toml, and access on the same scenario (alone,
    and against optimize's scenario.planned.toml)."""
    root = tmp_path_factory.mktemp("access_outputs")
    out = {k: root / k for k in ("sim", "opt", "access", "access_planned")}
    assert main(["simulate", str(RUYITUO), *SMALL, "--out", str(out["sim"])]) == 0
    assert main(["optimize", str(RUYITUO), "--out", str(out["opt"])]) == 0
    assert main(["access", str(RUYITUO), "--no-figures", "--out", str(out["access"])]) == 0
    planned = out["opt"] / "scenario.planned.toml"
    args = ["access", str(RUYITUO), "--planned", str(planned), "--no-figures"]
    assert main([*args, "--out", str(out["access_planned"])]) == 0
    return out


def _summary(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def _section(page: str, name: str) -> str | None:
    found = re.search(rf'<section id="{name}">(.*?)</section>', page, re.S)
    return found.group(1) if found else None


def _deserts(rows: list[dict[str, Any]], scenario: str) -> dict[str, Any]:
    return {r["age_class"]: r["deserts"] for r in rows if r["scenario"] == scenario}


# -- the folders --------------------------------------------------------------------------


@pytest.mark.slow
def test_simulate_folder_holds_what_access_writes(folders: dict[str, Path]) -> None:
    sim, acc = folders["sim"], folders["access"]
    for name in ("access.csv", "by_class.csv"):
        assert (sim / name).read_bytes() == (acc / name).read_bytes(), name
    assert not (sim / "access_planned.csv").exists()
    assert (sim / "access_map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (sim / "deserts_before_after.png").exists()  # no plan, no before/after
    record = _summary(sim)["access"]
    whole = _summary(acc)
    assert record["settings"] == whole["settings"] and record["classes"] == whole["classes"]
    assert record["scenario_file"] == str(RUYITUO)
    assert "planned" not in record
    by_class = read_csv(sim / "by_class.csv")
    assert record["current"]["deserts"] == _deserts(by_class, "current")
    assert set(record["current"]["deserts"]) == {*CLASSES, "all", "any"}
    assert record["current"]["children_in_deserts"] == {
        a: v["children_in_deserts"] for a, v in whole["current"]["by_class"].items()
    }


@pytest.mark.slow
def test_optimize_folder_holds_before_and_after(folders: dict[str, Path]) -> None:
    opt, acc = folders["opt"], folders["access_planned"]
    for name in ("access.csv", "access_planned.csv", "by_class.csv"):
        assert (opt / name).read_bytes() == (acc / name).read_bytes(), name
    for name in ("access_map", "access_map_planned", "deserts_before_after", "map"):
        assert (opt / f"{name}.png").is_file(), name
    record = _summary(opt)["access"]
    by_class = read_csv(opt / "by_class.csv")
    assert record["current"]["deserts"] == _deserts(by_class, "current")
    assert record["planned"]["deserts"] == _deserts(by_class, "planned")
    # a plan adds places: no class has more children in deserts after it
    for a, before in record["current"]["children_in_deserts"].items():
        assert record["planned"]["children_in_deserts"][a] <= before, a


@pytest.mark.slow
def test_plan_folder_compares_the_scenario_with_the_final_plan(tmp_path: Path) -> None:
    run = ty.plan(RUYITUO, workers=1)
    assert run.accessibility is not None and run.accessibility.planned is run.final
    run.save(tmp_path / "plan", figures=False)
    planned = tmp_path / "plan" / "scenario.planned.toml"
    args = ["access", str(RUYITUO), "--planned", str(planned), "--no-figures"]
    assert main([*args, "--out", str(tmp_path / "acc")]) == 0
    for name in ("access.csv", "access_planned.csv", "by_class.csv"):
        assert (tmp_path / "plan" / name).read_bytes() == (tmp_path / "acc" / name).read_bytes()
    figures = run.figures()
    assert {"access_map", "access_map_planned", "deserts_before_after"} <= set(figures)
    page = render_report(load_results(tmp_path / "plan"), "en")
    text = _section(page, "access")
    assert text is not None and "before → after the plan" in text
    assert _section(page, "plan") is not None and _section(page, "facilities") is not None


def test_a_scenario_the_measure_refuses_still_simulates_and_optimizes(tmp_path: Path) -> None:
    data = tomllib.loads(MINIMAL.read_text(encoding="utf-8"))
    data["age_groups"] = {"all": data["age_groups"]["older"]}
    data["communities"][0]["age_mix"] = {"all": 1.0}
    data["facilities"][0]["places"] = {"all": 8}
    sc = validate_data(data, MINIMAL)
    run = ty.simulate(sc, replications=2, days=1, workers=1)
    assert run.accessibility is None
    assert "age_groups.all" in run.summary["access"]["skipped"]
    assert "access" not in run.table_names and "by_class" not in run.table_names
    assert not any(n.startswith(("access", "deserts")) for n in run.figures())
    folder = run.save(tmp_path / "sim", figures=False)
    page = render_report(load_results(folder), "en")
    text = _section(page, "access")
    assert text is not None and "Accessibility was not measured: age_groups.all" in text
    assert _section(page, "facilities") is not None
    opt = ty.optimize(sc)
    assert opt.accessibility is None and "skipped" in opt.summary["access"]


def test_a_matrix_without_coordinates_gets_the_tables_but_no_map() -> None:
    data = tomllib.loads(MATRIX.read_text(encoding="utf-8"))
    for row in [*data["communities"], *data["facilities"], *data.get("candidate_sites", [])]:
        row.pop("x_m", None)
        row.pop("y_m", None)
    run = ty.simulate(validate_data(data, MATRIX), replications=2, days=1, workers=1)
    assert {"access", "by_class"} <= set(run.table_names)
    assert not any(n.startswith("access_map") for n in run.figures())


def test_no_facilities_every_big_community_is_a_desert() -> None:
    run = ty.simulate(
        ROOT / "scenarios" / "examples" / "no_facilities.toml", replications=2, days=1, workers=1
    )
    sc = run.scenario
    big = sum(c.under3 > 50 for c in sc.communities)
    assert run.summary["access"]["current"]["facilities"] == 0
    assert run.summary["access"]["current"]["deserts"]["any"] == big


# -- the report ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_reports_show_the_access_section_beside_their_own(
    folders: dict[str, Path], lang: str
) -> None:
    words = {
        "zh": ["可达性与托育荒漠", "各班级的托育荒漠", "以下取值均为假设"],
        "en": ["Accessibility and care deserts", "Care deserts by age class",
               "These values are assumptions"],
    }[lang]  # fmt: skip
    sim = render_report(load_results(folders["sim"]), lang)
    opt = render_report(load_results(folders["opt"]), lang)
    for page in (sim, opt):
        text = _section(page, "access")
        assert text is not None
        for w in words:
            assert w in text, w
        assert 'href="#access"' in page
    # the simulation's own sections are all there: a simulate folder is no access folder
    for name in ("facilities", "figures"):
        assert _section(sim, name) is not None, name
    assert "holds no simulation figures" not in sim and "不含模拟结果" not in sim
    assert not load_results(folders["sim"]).is_access
    assert load_results(folders["access"]).is_access
    assert _section(opt, "plan") is not None
    before_after = "方案前 → 方案后" if lang == "zh" else "before → after the plan"
    assert before_after in (_section(opt, "access") or "")
    assert before_after not in (_section(sim, "access") or "")
    names = re.findall(r'data-figure="([^"]+)"', _section(opt, "access") or "")
    assert names == ["access_map", "access_map_planned", "deserts_before_after"]


@pytest.mark.slow
def test_maps_are_redrawn_only_from_a_scenario_that_measures_the_same(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    sim = folders["sim"]
    assert _measured_again(load_results(sim)) is not None  # scenario.toml
    assert _measured_again(load_results(folders["opt"])) is not None  # the run's file
    # no scenario anywhere: the PNG the run wrote, as written
    bare = tmp_path / "bare"
    shutil.copytree(sim, bare)
    (bare / "scenario.toml").unlink()
    summary = _summary(bare)
    summary["scenario_file"] = summary["access"]["scenario_file"] = str(tmp_path / "gone.toml")
    (bare / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    results = load_results(bare)
    assert _measured_again(results) is None
    page = render_report(results, "en")
    written = base64.b64encode((sim / "access_map.png").read_bytes()).decode("ascii")
    assert f"data:image/png;base64,{written}" in (_section(page, "access") or "")
    # a scenario edited since the run (more places): not the folder's, not redrawn
    data = tomllib.loads((sim / "scenario.toml").read_text(encoding="utf-8"))
    data["facilities"][0]["places"] = {a: 100 for a in CLASSES}
    import tomli_w

    (bare / "scenario.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
    assert _measured_again(load_results(bare)) is None


# -- the figures' language ----------------------------------------------------------------


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text().strip()]


def test_access_map_labels_follow_lang() -> None:
    run = ty.access(RUYITUO)
    zh, en = _texts(run.plot_map(lang="zh")), _texts(run.plot_map(lang="en"))
    joined_zh, joined_en = "\n".join(zh), "\n".join(en)
    for word in ("托育荒漠", "全部托位", "每名幼儿的托位数", "高斯两步移动搜索法", "服务范围",
                 *(_age_name(a, "zh") for a in CLASSES)):  # fmt: skip
        assert word in joined_zh, word
    for word in ("deserts", "places per child", "all places", "community (size", "x (m)"):
        assert word not in joined_zh, word
        assert word in joined_en, word
    for a in CLASSES:
        assert _age_name(a, "en") in joined_en
    # in English only the class names' own Chinese and the place names are not English
    names = {c.group for c in run.scenario.communities} | {run.scenario.name}
    stripped = [t for t in en if not any(n and n in t for n in names)]
    for t in stripped:
        for a in CLASSES:
            t = t.replace(_age_name(a, "en"), a)
        assert not CJK.search(t), t


def test_deserts_before_after_labels_follow_lang() -> None:
    sc = ty.load_scenario(RUYITUO)
    data = sc.to_dict()
    data["facilities"].append({"id": "new", "x_m": 400, "y_m": 400,
                               "places": {"infant": 10, "toddler": 20, "older": 30}})  # fmt: skip
    run = ty.access(sc, planned=validate_data(data, RUYITUO))
    zh = run.plot_before_after(lang="zh")
    en = run.plot_before_after(lang="en")
    ticks = [t.get_text() for t in zh.axes[0].get_xticklabels()]
    assert ticks == [*(_age_name(a, "zh") for a in CLASSES), "全部托位", "任一班级"]
    assert {"方案前", "方案后", "托育荒漠社区数", "荒漠中的幼儿数"} <= set(_texts(zh))
    assert {"current", "planned", "communities that are deserts"} <= set(_texts(en))
    assert not any(CJK.search(t) for t in _texts(en) if t not in
                   {_age_name(a, "en") for a in CLASSES})  # fmt: skip


def test_the_default_language_is_chinese_when_a_cjk_font_is_there() -> None:
    from tuoyu_sim.plots.fonts import label_language

    run = ty.access(MINIMAL)
    text = "\n".join(_texts(run.plot_map()))
    assert ("托育荒漠" in text) == (label_language(None) == "zh")
