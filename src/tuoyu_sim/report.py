"""The proposal-ready HTML report of a results folder.

:func:`load_results` reads whatever a results folder holds (``simulate``:
``summary.json``, ``facilities.csv``, ``care_types.csv``, ``curves.csv``,
``breach_by_hour.csv``, ``scenario.toml``; ``optimize``/``plan``:
``summary.json`` with ``objective``, ``plan.csv``, ``scenario.planned.toml``;
``sweep``: ``sweep.csv``), :func:`render_report` turns it into one
self-contained HTML page (figures as base64 PNG, CSS inline, the Chinese
glyphs the page uses embedded as a subset of Noto Sans CJK, no script and no
network reference), and :func:`write_report` writes it atomically.

Every piece of text that comes from the results or the scenario (names, ids,
groups, provenance) is escaped: the page is built from :class:`Html` fragments,
and a plain ``str`` is always escaped when it is put into one.

The report draws figures with :mod:`tuoyu_sim.plots` from the CSV tables and
reads the headline figures from ``summary.json``; it computes no statistics of
its own beyond sums over facilities (group totals) and comparisons with the
scenario's targets.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import functools
import html
import io
import json
import logging
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuoyu_sim import __version__
from tuoyu_sim.errors import UserError

log = logging.getLogger(__name__)

LANGS = ("zh", "en")

#: Columns of the results CSV files that hold text, never numbers.
TEXT_COLUMNS = frozenset(
    {
        "scope",
        "key",
        "care_type",
        "time",
        "facility",
        "name",
        "group",
        "hour",
        "mode",
        "name_zh",
        "site",
        "kind",
        "id",
        "status",
        "point",
        "error",
    }
)

CARE_TYPE_NAMES_ZH = {
    "full_day": "全日托",
    "half_day": "半日托",
    "extended": "延时托",
    "hourly": "计时托",
    "drop_in": "临时托",
}
AGE_NAMES_ZH = {"infant": "乳儿班", "toddler": "托小班", "older": "托大班", "mixed": "混龄班"}
ROLE_NAMES_ZH = {"teacher": "托育师", "nursery": "保育师", "health": "保健人员"}


# --------------------------------------------------------------------------- HTML


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


# --------------------------------------------------------------------------- labels

T: dict[str, dict[str, str]] = {
    "zh": {
        "title": "托育服务能力规划报告",
        "lang_attr": "zh-CN",
        "generated": "生成时间",
        "folder": "结果目录",
        "headline": "主要指标",
        "district_places": "全区托位",
        "places_facilities": "{n} 家机构",
        "per_1000": "每千人口托位数",
        "target": "目标",
        "target_min": "目标 ≥ {t}",
        "target_max": "目标 ≤ {t}",
        "utilization": "托位利用率",
        "utilization_note": "在园幼儿时均数 / 托位",
        "utilization_col": "托位利用率",
        "per_1000_col": "每千人口托位数",
        "turn_away": "临时托、计时托拒收率",
        "enrolled": "入托幼儿 / 有入托需求",
        "enrolled_share": "满足 {p}",
        "waitlist": "候补名单",
        "children": "{n} 名",
        "out_of_reach": "服务半径外的需求",
        "out_of_reach_value": "入托 {e} 名；临时/计时托 {w} 人次/日",
        "breach": "师幼比不达标天数占比",
        "breach_note": "机构-日中出现任一分钟不达标的比例",
        "ok": "达标",
        "miss": "未达标",
        "unclear": "置信区间跨越目标",
        "ci_note": "数值为各次重复模拟的均值，方括号内为 95% 置信区间。",
        "care_types": "各托育类型",
        "care_type": "托育类型",
        "mode": "方式",
        "mode_enrolled": "入托",
        "mode_walk_in": "随到",
        "arrivals": "到达人次",
        "admitted": "接收",
        "redirected": "转介",
        "turned_away": "拒收",
        "turn_away_rate": "拒收率",
        "mean_occupancy": "平均在园人数",
        "facilities": "各机构（问题最多者在前）",
        "facilities_note": "标记 ✗ 的数值均值超过目标。",
        "facility": "机构",
        "group": "街道/镇",
        "places": "托位",
        "enrolled_col": "入托",
        "waitlist_col": "候补",
        "breach_share": "不达标天数占比",
        "breach_minutes": "不达标分钟/日",
        "health": "保健人员（现有/应有）",
        "flags": "未达标项",
        "flag_turn_away": "拒收率",
        "flag_breach": "师幼比",
        "flag_waitlist": "候补",
        "flag_health": "保健人员",
        "groups": "各街道/镇",
        "population": "常住人口",
        "under3": "3 岁以下幼儿",
        "facilities_n": "机构数",
        "facilities_missing": "未达标机构",
        "turned_away_share": "临时/计时托拒收比例",
        "figures": "图表",
        "fig_district": (
            "全区一日利用率曲线：均值、95% 置信区间和日间波动（5–95%），下图为各托育类型在园人数。"
        ),
        "fig_groups": "各街道/镇的一日利用率。",
        "fig_turn": "各机构临时托、计时托拒收率（95% 置信区间），红色为超过目标。",
        "fig_heat": "师幼比不达标的时段：每家机构每小时平均不达标分钟数。",
        "fig_facility": "{name}：一日利用率曲线（未达标机构，问题最多的前三家）。",
        "fig_facility_title": "{name}：一日利用率曲线",
        "fig_skipped": "图表“{what}”未能生成：{why}",
        "plan": "选址与扩容方案",
        "objective": "优化目标",
        "status": "求解状态",
        "solver": "求解器",
        "gap": "最优间隙",
        "solve_seconds": "求解时间（秒）",
        "new_sites": "新开站点",
        "added_places": "新增托位",
        "added_caregivers": "新增人员",
        "cost": "成本（元）",
        "covered_children": "覆盖幼儿",
        "coverage_share": "覆盖比例",
        "per_1000_before_after": "每千人口托位数（方案前 → 方案后）",
        "messages": "说明",
        "sites": "站点明细",
        "kind": "类型",
        "places_total": "托位合计",
        "plan_table": "方案表（plan.csv）",
        "iterations": "优化—模拟迭代（iterations.csv）",
        "fig_per_1000": "各街道/镇每千人口托位数：方案前后对比，虚线为目标。",
        "fig_map": "方案地图（optimize 写出的 map.png）。",
        "fig_sweep": "情景扫描响应曲线：各主要指标随扫描参数的变化（均值与 95% 置信区间）。",
        "planned_scenario": "已写出应用方案后的情景文件 {f}，可直接用于 simulate。",
        "sweep": "情景分析（sweep.csv）",
        "sweep_rows": "共 {n} 个情景点",
        "sweep_truncated": "仅列出前 {n} 行。",
        "assumptions": "模型假设",
        "assumptions_from": "取自结果目录中的 {f}。",
        "no_scenario": "结果目录中没有情景文件，无法列出假设。",
        "bad_scenario": "无法读取 {f}：{why}",
        "opening": "开放时间",
        "sim_setup": "模拟设置",
        "sim_setup_value": "{days} 天 × {reps} 次重复，随机种子 {seed}，曲线步长 {step} 分钟",
        "geography": "距离与服务半径",
        "distance": "距离计算",
        "detour": "绕行系数",
        "radius": "服务半径",
        "cutoff": "最远分配距离",
        "assignment": "需求分配",
        "walk_speed": "步行速度",
        "age_groups": "班级与师幼比",
        "age_group": "班级",
        "months": "月龄",
        "ratio": "师幼比",
        "class_size": "班级人数上限",
        "area": "每童面积（m²）",
        "care_patterns": "托育类型的时间模式",
        "window": "到达时段",
        "profile": "分时权重",
        "stay": "停留时间",
        "attendance": "出勤率",
        "redirect": "可转介",
        "until": "最晚离园",
        "place_share": "每人占托位",
        "staff": "人员",
        "community": "社区",
        "communities": "社区与需求",
        "communities_summary": "{n} 个社区（点击展开）",
        "demand_note": (
            "入托类型：有该需求的 3 岁以下幼儿比例；随到类型：每名幼儿每个开放日的到达人次。"
        ),
        "shifts": "班次",
        "absence": "缺勤概率",
        "min_health": "每机构最少保健人员",
        "full_time_health": "需专职保健人员的幼儿数",
        "targets": "目标",
        "costs": "成本",
        "yes": "是",
        "no": "否",
        "flat": "均匀",
        "provenance": "情景来源与版本",
        "scenario_name": "情景名称",
        "scenario_file": "情景文件",
        "description": "说明",
        "provenance_key": "数据来源",
        "seed": "随机种子",
        "replications": "重复次数",
        "days": "每次模拟天数",
        "run_seconds": "运行时间（秒）",
        "versions": "软件版本",
        "files": "读取的文件",
        "report_by": "由 tuoyu-sim {v} 生成",
        "none": "无",
        "no_simulation": "该结果目录不含模拟结果（summary.json 中没有全区指标）。",
    },
    "en": {
        "title": "Childcare capacity planning report",
        "lang_attr": "en",
        "generated": "generated",
        "folder": "results folder",
        "headline": "Headline figures",
        "district_places": "District places",
        "places_facilities": "{n} facilities",
        "per_1000": "Places per 1,000 residents",
        "target": "target",
        "target_min": "target ≥ {t}",
        "target_max": "target ≤ {t}",
        "utilization": "Utilization of places",
        "utilization_note": "mean children present / places",
        "utilization_col": "utilization",
        "per_1000_col": "places per 1,000",
        "turn_away": "Walk-in turn-away (drop-in, hourly)",
        "enrolled": "Enrolled / wanting a place",
        "enrolled_share": "{p} served",
        "waitlist": "Waitlist",
        "children": "{n} children",
        "out_of_reach": "Demand out of reach",
        "out_of_reach_value": "enrolled {e}; walk-in {w} per day",
        "breach": "Ratio-breach day share",
        "breach_note": "facility-days with any minute below the staff ratio",
        "ok": "meets target",
        "miss": "misses target",
        "unclear": "CI straddles target",
        "ci_note": (
            "Figures are means over replications; brackets give the 95% confidence interval."
        ),
        "care_types": "Care types",
        "care_type": "care type",
        "mode": "mode",
        "mode_enrolled": "enrolled",
        "mode_walk_in": "walk-in",
        "arrivals": "arrivals",
        "admitted": "admitted",
        "redirected": "redirected",
        "turned_away": "turned away",
        "turn_away_rate": "turn-away rate",
        "mean_occupancy": "mean children present",
        "facilities": "Facilities (worst first)",
        "facilities_note": "A value marked ✗ has a mean beyond the target.",
        "facility": "facility",
        "group": "subdistrict/town",
        "places": "places",
        "enrolled_col": "enrolled",
        "waitlist_col": "waitlist",
        "breach_share": "breach day share",
        "breach_minutes": "breach min/day",
        "health": "health staff (have/need)",
        "flags": "targets missed",
        "flag_turn_away": "turn-away",
        "flag_breach": "ratio",
        "flag_waitlist": "waitlist",
        "flag_health": "health staff",
        "groups": "Subdistricts and towns",
        "population": "population",
        "under3": "children under 3",
        "facilities_n": "facilities",
        "facilities_missing": "facilities missing targets",
        "turned_away_share": "walk-ins turned away",
        "figures": "Figures",
        "fig_district": "District utilization through the day: mean, 95% CI and day-to-day spread "
        "(5–95%); below, children present by care type.",
        "fig_groups": "Utilization through the day by subdistrict/town.",
        "fig_turn": "Walk-in turn-away rate by facility (95% CI); red bars exceed the target.",
        "fig_heat": "When the staff ratio is breached: mean minutes of breach per day, "
        "by facility and hour.",
        "fig_facility": "{name}: utilization through the day (a facility missing targets; "
        "at most the three worst are shown).",
        "fig_facility_title": "{name}: utilization through the day",
        "fig_skipped": "Figure “{what}” could not be drawn: {why}",
        "plan": "Sites and places plan",
        "objective": "objective",
        "status": "status",
        "solver": "solver",
        "gap": "optimality gap",
        "solve_seconds": "solve time (s)",
        "new_sites": "new sites",
        "added_places": "added places",
        "added_caregivers": "added staff",
        "cost": "cost (CNY)",
        "covered_children": "children covered",
        "coverage_share": "coverage share",
        "per_1000_before_after": "places per 1,000 (before → after)",
        "messages": "notes",
        "sites": "Sites",
        "kind": "kind",
        "places_total": "places total",
        "plan_table": "Plan table (plan.csv)",
        "iterations": "Optimize–simulate iterations (iterations.csv)",
        "fig_per_1000": "Places per 1,000 residents by subdistrict/town, before and after the "
        "plan; the dashed line is the target.",
        "fig_map": "Plan map (map.png written by optimize).",
        "fig_sweep": "Sweep response curves: headline figures against each swept parameter "
        "(mean and 95% CI).",
        "planned_scenario": "The scenario with the plan applied is in {f}, ready for simulate.",
        "sweep": "What-if sweep (sweep.csv)",
        "sweep_rows": "{n} points",
        "sweep_truncated": "Only the first {n} rows are shown.",
        "assumptions": "Assumptions",
        "assumptions_from": "From {f} in the results folder.",
        "no_scenario": "The results folder holds no scenario file; assumptions cannot be listed.",
        "bad_scenario": "Cannot read {f}: {why}",
        "opening": "opening hours",
        "sim_setup": "simulation",
        "sim_setup_value": "{days} days × {reps} replications, seed {seed}, curve step {step} min",
        "geography": "Distances and service circle",
        "distance": "distance",
        "detour": "detour factor",
        "radius": "service radius",
        "cutoff": "assignment cut-off",
        "assignment": "demand assignment",
        "walk_speed": "walking speed",
        "age_groups": "Classes and staff ratios",
        "age_group": "class",
        "months": "months",
        "ratio": "caregiver : children",
        "class_size": "class size",
        "area": "m² per child",
        "care_patterns": "Care-type patterns",
        "window": "arrival window",
        "profile": "hourly weights",
        "stay": "stay",
        "attendance": "attendance",
        "redirect": "redirect",
        "until": "leaves by",
        "place_share": "place share",
        "staff": "Staff",
        "community": "community",
        "communities": "Communities and demand",
        "communities_summary": "{n} communities (click to open)",
        "demand_note": "Enrolled types: share of under-3 children wanting that type; walk-in "
        "types: arrivals per child per open day.",
        "shifts": "shifts",
        "absence": "absence probability",
        "min_health": "minimum health staff per facility",
        "full_time_health": "children needing a full-time health worker",
        "targets": "Targets",
        "costs": "Costs",
        "yes": "yes",
        "no": "no",
        "flat": "flat",
        "provenance": "Provenance and versions",
        "scenario_name": "scenario",
        "scenario_file": "scenario file",
        "description": "description",
        "provenance_key": "provenance",
        "seed": "seed",
        "replications": "replications",
        "days": "days per replication",
        "run_seconds": "run time (s)",
        "versions": "versions",
        "files": "files read",
        "report_by": "made by tuoyu-sim {v}",
        "none": "none",
        "no_simulation": "This results folder holds no simulation figures "
        "(summary.json has no district figures).",
    },
}

TARGET_NAMES = {
    "zh": {
        "places_per_1000": "每千人口托位数 ≥",
        "coverage_share": "入托需求覆盖比例 ≥",
        "min_community_share": "每个社区最低覆盖比例 ≥",
        "max_turn_away": "拒收率 ≤",
        "max_breach_day_share": "师幼比不达标天数占比 ≤",
        "max_waitlist": "候补人数 ≤",
    },
    "en": {
        "places_per_1000": "places per 1,000 ≥",
        "coverage_share": "share of enrolled demand served ≥",
        "min_community_share": "each community's share served ≥",
        "max_turn_away": "walk-in turn-away ≤",
        "max_breach_day_share": "ratio-breach day share ≤",
        "max_waitlist": "waitlist ≤",
    },
}
COST_NAMES = {
    "zh": {
        "per_place_cny": "每个新增托位（元）",
        "per_site_cny": "每个新开站点（元）",
        "per_caregiver_year_cny": "每人每年人员成本（元）",
        "years": "规划年限（年）",
    },
    "en": {
        "per_place_cny": "per added place (CNY)",
        "per_site_cny": "per site opened (CNY)",
        "per_caregiver_year_cny": "per staff member and year (CNY)",
        "years": "planning horizon (years)",
    },
}
SHARE_TARGETS = {"coverage_share", "min_community_share", "max_turn_away", "max_breach_day_share"}


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Results:
    """What a results folder holds (``None`` or empty where a file is absent)."""

    folder: Path
    summary: dict[str, Any] | None = None
    facilities_csv: list[dict[str, Any]] = field(default_factory=list)
    care_types_csv: list[dict[str, Any]] = field(default_factory=list)
    curves: list[dict[str, Any]] = field(default_factory=list)
    breach_by_hour: list[dict[str, Any]] = field(default_factory=list)
    plan_rows: list[dict[str, str]] = field(default_factory=list)
    iterations: list[dict[str, str]] = field(default_factory=list)
    places_by_group: list[dict[str, Any]] = field(default_factory=list)
    sweep_rows: list[dict[str, Any]] = field(default_factory=list)
    map_png: bytes | None = None
    scenario: dict[str, Any] | None = None
    scenario_file: str | None = None
    scenario_problem: str | None = None
    planned_scenario: bool = False
    files: tuple[str, ...] = ()

    @property
    def simulation(self) -> dict[str, Any] | None:
        """The simulation part of the summary (``simulate``, or ``plan``'s last check)."""
        s = self.summary or {}
        if isinstance(s.get("district"), dict):
            return s
        inner = s.get("simulation")
        if isinstance(inner, dict) and isinstance(inner.get("district"), dict):
            merged = dict(inner)  # ``plan`` keeps the facilities and versions at the top
            for key in ("facilities", "versions", "scenario_file"):
                if key not in merged and key in s:
                    merged[key] = s[key]
            return merged
        return None

    @property
    def optimization(self) -> dict[str, Any] | None:
        s = self.summary or {}
        return s if "objective" in s else None


_NP_REPR = re.compile(r"^np\.\w+\((.*)\)$")


def _value(text: str) -> Any:
    """A CSV cell as a number where it is one (``""`` → None)."""
    text = text.strip()
    m = _NP_REPR.match(text)
    if m:  # a numpy scalar's repr, e.g. ``np.float64(3.0)``
        text = m.group(1)
    if text == "":
        return None
    if text in ("True", "False"):
        return text == "True"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_csv(path: Path, typed: bool = True) -> list[dict[str, Any]]:
    """Rows of a results CSV; numbers parsed except in :data:`TEXT_COLUMNS`."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{path}: cannot read it as a CSV table ({exc})") from None
    if not typed:
        return [{k: (v or "") for k, v in r.items() if k is not None} for r in rows]
    return [
        {k: (v if k in TEXT_COLUMNS else _value(v or "")) for k, v in r.items() if k is not None}
        for r in rows
    ]


def _read_png(path: Path, files: list[str]) -> bytes | None:
    """A PNG figure written by another command (``optimize``'s map), if it is one."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        log.warning("%s is not a PNG file; left out of the report", path)
        return None
    files.append(path.name)
    return data


def _read_toml(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return None, str(exc)


def load_results(folder: str | Path) -> Results:
    """Read a results folder of ``simulate``, ``optimize``, ``plan`` or ``sweep``.

    Raises
    ------
    UserError
        The folder does not exist, is not a folder, holds neither
        ``summary.json`` nor ``sweep.csv``, or ``summary.json`` is not valid JSON.
    """
    folder = Path(folder)
    if not folder.exists():
        raise UserError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder (give the results folder of a run)")
    summary_path = folder / "summary.json"
    sweep_path = folder / "sweep.csv"
    if not summary_path.is_file() and not sweep_path.is_file():
        raise UserError(
            f"{folder}: not a results folder — it has no summary.json (written by simulate, "
            "optimize or plan) and no sweep.csv (written by sweep); "
            f"run e.g. `tuoyu-sim simulate SCENARIO --out {folder}` first"
        )
    files: list[str] = []
    summary: dict[str, Any] | None = None
    if summary_path.is_file():
        try:
            data = json.loads(summary_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{summary_path}: cannot read it ({exc})") from None
        except json.JSONDecodeError as exc:
            raise UserError(
                f"{summary_path}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg}); re-run the command that wrote it"
            ) from None
        if not isinstance(data, dict):
            raise UserError(f"{summary_path}: expected a JSON object, found {type(data).__name__}")
        summary = data
        files.append("summary.json")

    def table(name: str, typed: bool = True) -> list[dict[str, Any]]:
        path = folder / name
        if not path.is_file():
            return []
        files.append(name)
        return read_csv(path, typed)

    scenario = None
    scenario_file = None
    problem = None
    for name in ("scenario.toml", "scenario.planned.toml"):
        path = folder / name
        if path.is_file():
            scenario_file = name
            scenario, problem = _read_toml(path)
            files.append(name)
            break
    planned = (folder / "scenario.planned.toml").is_file()
    if planned and "scenario.planned.toml" not in files:
        files.append("scenario.planned.toml")
    return Results(
        folder=folder,
        summary=summary,
        facilities_csv=table("facilities.csv"),
        care_types_csv=table("care_types.csv"),
        curves=table("curves.csv"),
        breach_by_hour=table("breach_by_hour.csv"),
        plan_rows=table("plan.csv", typed=False),
        iterations=table("iterations.csv", typed=False),
        places_by_group=table("places_by_group.csv"),
        sweep_rows=table("sweep.csv"),
        map_png=_read_png(folder / "map.png", files),
        scenario=scenario,
        scenario_file=scenario_file,
        scenario_problem=problem,
        planned_scenario=planned,
        files=tuple(files),
    )


# --------------------------------------------------------------------------- formatting


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def fmt_int(value: Any) -> str:
    v = _num(value)
    return "—" if v is None else f"{round(v):,}"


def fmt_num(value: Any, digits: int = 2) -> str:
    v = _num(value)
    if v is None:
        return "—" if value in (None, "") else str(value)
    if isinstance(value, int) or digits == 0:
        return f"{round(v):,}"
    return f"{v:,.{digits}f}"


def fmt_g(value: Any) -> str:
    """A parameter as written, without padding zeros: ``2``, ``0.0164``, ``72,000``."""
    v = _num(value)
    if v is None:
        return "—" if value in (None, "") else str(value)
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:.6g}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    v = _num(value)
    return "—" if v is None else f"{100 * v:.{digits}f}%"


def fmt_ci(stat: Any, pct: bool = True, digits: int = 1) -> str:
    """``12.3% [11.9–12.8]`` from a ``{"mean", "ci95"}`` record.

    The Student-t interval of a share or a count can reach past its range
    (below 0, above 100%); the bounds are shown clipped to it (shares to
    [0, 1], other figures to ≥ 0), since the true value cannot lie outside.
    """
    if not isinstance(stat, Mapping):
        return fmt_pct(stat, digits) if pct else fmt_num(stat, digits)
    mean = _num(stat.get("mean"))
    if mean is None:
        return "—"
    ci = stat.get("ci95")
    scale = 100.0 if pct else 1.0
    unit = "%" if pct else ""
    text = f"{scale * mean:,.{digits}f}{unit}"
    if isinstance(ci, Sequence) and len(ci) == 2 and all(_num(c) is not None for c in ci):
        lo, hi = max(0.0, float(ci[0])), max(0.0, float(ci[1]))
        if pct:
            lo, hi = min(lo, 1.0), min(hi, 1.0)
        lo, hi = scale * lo, scale * hi
        text += f" [{lo:,.{digits}f}–{hi:,.{digits}f}]"
    return text


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _mean(stat: Any) -> float | None:
    return _num(stat.get("mean")) if isinstance(stat, Mapping) else _num(stat)


def judge(stat: Any, target: Any, at_most: bool) -> str | None:
    """``ok``, ``miss`` or ``unclear`` (the 95% interval straddles the target); None."""
    t = _num(target)
    mean = _mean(stat)
    if t is None or mean is None:
        return None
    ci = stat.get("ci95") if isinstance(stat, Mapping) else None
    lo = hi = mean
    if isinstance(ci, Sequence) and len(ci) == 2 and all(_num(c) is not None for c in ci):
        lo, hi = float(ci[0]), float(ci[1])
    eps = 1e-12
    if at_most:
        if hi <= t + eps:
            return "ok"
        return "miss" if lo > t + eps else "unclear"
    if lo >= t - eps:
        return "ok"
    return "miss" if hi < t - eps else "unclear"


def _type_name(key: str, lang: str) -> str:
    zh = CARE_TYPE_NAMES_ZH.get(key)
    if lang == "zh":
        return f"{zh}（{key}）" if zh else key
    return f"{key.replace('_', '-')} ({zh})" if zh else key


def _age_name(key: str, lang: str) -> str:
    zh = AGE_NAMES_ZH.get(key)
    if lang == "zh":
        return f"{zh}（{key}）" if zh else key
    return f"{key} ({zh})" if zh else key


def _role_name(key: str, lang: str) -> str:
    zh = ROLE_NAMES_ZH.get(key)
    if lang == "zh":
        return zh or key
    return f"{key} ({zh})" if zh else key


# --------------------------------------------------------------------------- figures


def figure_png(fig: Any, dpi: int = 110) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is not kept)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def _img(png: bytes, alt: str) -> Html:
    data = base64.b64encode(png).decode("ascii")
    return el("img", src=f"data:image/png;base64,{data}", alt=alt)


# --------------------------------------------------------------------------- sections


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


def _card(
    title: str,
    value: str,
    detail: Any = None,
    verdict: str | None = None,
    t: Mapping[str, str] | None = None,
) -> Html:
    badge = None
    if verdict and t is not None:
        badge = el(
            "span",
            ("✓ " if verdict == "ok" else "✗ " if verdict == "miss" else "? ") + t[verdict],
            cls=f"badge {verdict}",
        )
    return el(
        "div",
        el("div", title, cls="card-title"),
        el("div", value, cls="card-value"),
        el("div", detail, cls="card-detail") if detail else None,
        badge,
        cls=f"card {verdict or ''}".strip(),
    )


def _headline(page: _Page) -> None:
    sim = page.results.simulation
    t = page.t
    tg = page.targets
    if sim is None:
        return
    d = sim.get("district") or {}
    cards: list[Html] = []
    cards.append(
        _card(
            t["district_places"],
            fmt_int(d.get("places")),
            t["places_facilities"].format(n=fmt_int(d.get("facilities"))),
        )
    )
    per = _num(d.get("places_per_1000"))
    target = _num(tg.get("places_per_1000"))
    cards.append(
        _card(
            t["per_1000"],
            fmt_num(per, 2),
            t["target_min"].format(t=fmt_num(target, 2)) if target is not None else None,
            judge(per, target, at_most=False),
            t,
        )
    )
    cards.append(_card(t["utilization"], fmt_ci(d.get("utilization")), t["utilization_note"]))
    mt = _num(tg.get("max_turn_away"))
    cards.append(
        _card(
            t["turn_away"],
            fmt_ci(d.get("turn_away_rate")),
            t["target_max"].format(t=fmt_pct(mt)) if mt is not None else None,
            judge(d.get("turn_away_rate"), mt, at_most=True),
            t,
        )
    )
    enrolled, demand = _num(d.get("enrolled")), _num(d.get("enrolled_demand"))
    share = enrolled / demand if enrolled is not None and demand else None
    cov = _num(tg.get("coverage_share"))
    detail = t["enrolled_share"].format(p=fmt_pct(share))
    if cov:
        detail += " · " + t["target_min"].format(t=fmt_pct(cov))
    cards.append(
        _card(
            t["enrolled"],
            f"{fmt_int(enrolled)} / {fmt_int(demand)}",
            detail,
            judge(share, cov, at_most=False) if cov else None,
            t,
        )
    )
    mw = _num(tg.get("max_waitlist"))
    cards.append(
        _card(
            t["waitlist"],
            t["children"].format(n=fmt_int(d.get("waitlist"))),
            t["target_max"].format(t=fmt_int(mw)) if mw is not None else None,
            judge(_num(d.get("waitlist")), mw, at_most=True),
            t,
        )
    )
    cards.append(
        _card(
            t["out_of_reach"],
            t["children"].format(n=fmt_int(d.get("unreached_enrolled"))),
            t["out_of_reach_value"].format(
                e=fmt_int(d.get("unreached_enrolled")),
                w=fmt_num(d.get("unreached_walk_in_per_day"), 1),
            ),
        )
    )
    mb = _num(tg.get("max_breach_day_share"))
    detail_b = t["breach_note"]
    if mb is not None:
        detail_b += " · " + t["target_max"].format(t=fmt_pct(mb))
    cards.append(
        _card(
            t["breach"],
            fmt_ci(d.get("breach_day_share")),
            detail_b,
            judge(d.get("breach_day_share"), mb, at_most=True),
            t,
        )
    )
    page.section(
        "headline", t["headline"], el("div", *cards, cls="cards"), el("p", t["ci_note"], cls="note")
    )


def _table(
    head: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    numeric: Sequence[bool] | None = None,
    row_classes: Sequence[str | None] | None = None,
    cls: str = "",
) -> Html:
    numeric = numeric or [False] * len(head)
    thead = el(
        "thead",
        el(
            "tr",
            [el("th", h, cls="num" if n else None) for h, n in zip(head, numeric, strict=True)],
        ),
    )
    body = []
    for i, row in enumerate(rows):
        rc = row_classes[i] if row_classes else None
        body.append(
            el(
                "tr",
                [
                    el("td", _ci_cell(c), cls="num" if n else None)
                    for c, n in zip(row, numeric, strict=True)
                ],
                cls=rc,
            )
        )
    return el("div", el("table", thead, el("tbody", body), cls=cls or None), cls="table-wrap")


_CI_TEXT = re.compile(r"(.+) (\[[^\[\]]*\])")


def _ci_cell(value: Any) -> Any:
    """``mean [lo–hi]`` with the interval kept on one line (it may wrap below the mean)."""
    if isinstance(value, str) and not isinstance(value, Html):
        m = _CI_TEXT.fullmatch(value)
        if m:
            return [m.group(1), " ", el("span", m.group(2), cls="ci")]
    return value


def _care_types(page: _Page) -> None:
    sim = page.results.simulation
    t = page.t
    types: Mapping[str, Any] | None = sim.get("care_types") if sim else None
    if not types and page.results.care_types_csv:
        types = {
            str(r["care_type"]): _nest(r, ("turn_away_rate", "mean_occupancy"))
            for r in page.results.care_types_csv
        }
    if not types:
        return
    mt = _num(page.targets.get("max_turn_away"))
    rows, classes = [], []
    for key, v in types.items():
        walk = v.get("mode") == "walk_in"
        verdict = judge(v.get("turn_away_rate"), mt, at_most=True) if walk else None
        rate = fmt_ci(v.get("turn_away_rate")) if walk else "—"
        if verdict == "miss":
            rate = "✗ " + rate
        rows.append(
            [
                _type_name(key, page.lang),
                t["mode_walk_in"] if walk else t["mode_enrolled"],
                fmt_int(v.get("enrolled")) if not walk else "—",
                fmt_int(v.get("arrivals")),
                fmt_int(v.get("admitted")),
                fmt_int(v.get("redirected")),
                fmt_int(v.get("turned_away")),
                rate,
                fmt_ci(v.get("mean_occupancy"), pct=False),
            ]
        )
        classes.append("miss" if verdict == "miss" else None)
    head = [
        t["care_type"],
        t["mode"],
        t["enrolled_col"],
        t["arrivals"],
        t["admitted"],
        t["redirected"],
        t["turned_away"],
        t["turn_away_rate"],
        t["mean_occupancy"],
    ]
    page.section(
        "care-types", t["care_types"], _table(head, rows, [False, False] + [True] * 7, classes)
    )


def _nest(row: Mapping[str, Any], stats: Sequence[str]) -> dict[str, Any]:
    """A flat CSV row (``x``, ``x_lo``, ``x_hi``) as summary-style ``{"mean", "ci95"}``."""
    out = dict(row)
    for s in stats:
        if s in row:
            lo, hi = row.get(f"{s}_lo"), row.get(f"{s}_hi")
            out[s] = {"mean": row.get(s), "ci95": [lo, hi] if lo is not None else None}
    return out


def _facility_records(results: Results) -> list[dict[str, Any]]:
    sim = results.simulation
    if sim and isinstance(sim.get("facilities"), list):
        return [f for f in sim["facilities"] if isinstance(f, dict)]
    stats = ("utilization", "mean_occupancy", "turn_away_rate", "breach_day_share")
    out = []
    for r in results.facilities_csv:
        rec = _nest(r, stats)
        rec["id"] = r.get("facility")
        out.append(rec)
    return out


def _facility_flags(f: Mapping[str, Any], targets: Mapping[str, Any]) -> list[str]:
    flags = []
    mt, mb, mw = (
        _num(targets.get(k)) for k in ("max_turn_away", "max_breach_day_share", "max_waitlist")
    )
    ta = _mean(f.get("turn_away_rate"))
    if mt is not None and ta is not None and ta > mt + 1e-12:
        flags.append("turn_away")
    br = _mean(f.get("breach_day_share"))
    if mb is not None and br is not None and br > mb + 1e-12:
        flags.append("breach")
    wl = _num(f.get("waitlist"))
    if mw is not None and wl is not None and wl > mw:
        flags.append("waitlist")
    if f.get("health_short") is True:
        flags.append("health")
    return flags


def _facilities(page: _Page) -> list[dict[str, Any]]:
    t = page.t
    facs = _facility_records(page.results)
    if not facs:
        return []
    tg = page.targets

    def badness(f: Mapping[str, Any]) -> tuple[float, ...]:
        return (
            -len(_facility_flags(f, tg)),
            -(_mean(f.get("turn_away_rate")) or 0.0),
            -(_mean(f.get("breach_day_share")) or 0.0),
            -(_num(f.get("waitlist")) or 0.0),
        )

    ordered = sorted(facs, key=badness)
    rows, classes = [], []
    for f in ordered:
        flags = _facility_flags(f, tg)

        def mark(text: str, flag: str, flags: list[str] = flags) -> str:
            return f"✗ {text}" if flag in flags else text

        health = "—"
        if f.get("staff") is not None or f.get("health_required") is not None:
            have = (
                (f.get("staff") or {}).get("health")
                if isinstance(f.get("staff"), Mapping)
                else None
            )
            health = mark(f"{fmt_int(have)} / {fmt_int(f.get('health_required'))}", "health")
        rows.append(
            [
                f.get("id"),
                f.get("name") or "",
                f.get("group") or "",
                fmt_int(f.get("places")),
                fmt_int(f.get("enrolled")),
                mark(fmt_int(f.get("waitlist")), "waitlist"),
                fmt_ci(f.get("utilization")),
                mark(fmt_ci(f.get("turn_away_rate")), "turn_away"),
                mark(fmt_ci(f.get("breach_day_share")), "breach"),
                fmt_ci(f.get("breach_minutes_per_day"), pct=False)
                if f.get("breach_minutes_per_day") is not None
                else "—",
                health,
                "、".join(t[f"flag_{x}"] for x in flags)
                if page.lang == "zh"
                else ", ".join(t[f"flag_{x}"] for x in flags),
            ]
        )
        classes.append("miss" if flags else None)
    head = [
        "ID",
        t["facility"],
        t["group"],
        t["places"],
        t["enrolled_col"],
        t["waitlist_col"],
        t["utilization_col"],
        t["turn_away_rate"],
        t["breach_share"],
        t["breach_minutes"],
        t["health"],
        t["flags"],
    ]
    numeric = [False, False, False] + [True] * 8 + [False]
    page.section(
        "facilities",
        t["facilities"],
        el("p", t["facilities_note"], cls="note"),
        _table(head, rows, numeric, classes, cls="facilities"),
    )
    return ordered


def _groups(page: _Page, facs: Sequence[Mapping[str, Any]]) -> None:
    t = page.t
    groups: dict[str, dict[str, float]] = {}
    sc = page.results.scenario or {}
    for c in sc.get("communities") or []:
        if isinstance(c, Mapping):
            groups.setdefault(str(c.get("group") or ""), {})
    for f in sorted(facs, key=lambda f: str(f.get("id"))):
        g = str(f.get("group") or "")
        rec = groups.setdefault(g, {})
        rec["facilities"] = rec.get("facilities", 0) + 1
        for key in ("places", "enrolled", "waitlist", "walk_in_arrivals", "walk_in_turned_away"):
            rec[key] = rec.get(key, 0) + (_num(f.get(key)) or 0.0)
        rec["occupancy"] = rec.get("occupancy", 0) + (_mean(f.get("mean_occupancy")) or 0.0)
        rec["missing"] = rec.get("missing", 0) + (1 if _facility_flags(f, page.targets) else 0)
    for c in sc.get("communities") or []:
        if not isinstance(c, Mapping):
            continue
        g = str(c.get("group") or "")
        rec = groups.setdefault(g, {})
        rec["population"] = rec.get("population", 0) + (_num(c.get("population")) or 0.0)
        under3 = _num(c.get("children_under3"))
        if under3 is None and _num(c.get("births_per_1000")) is not None:
            under3 = 3.0 * float(c["births_per_1000"]) * (_num(c.get("population")) or 0) / 1000
        rec["under3"] = rec.get("under3", 0) + (under3 or 0.0)
    named = [g for g in groups if g]
    if not named:
        return
    rows = []
    for g in sorted(groups, key=lambda k: k == ""):
        r = groups[g]
        pop = r.get("population")
        places = r.get("places", 0.0)
        per = 1000 * places / pop if pop else None
        util = r["occupancy"] / places if places and "occupancy" in r else None
        ta = r["walk_in_turned_away"] / r["walk_in_arrivals"] if r.get("walk_in_arrivals") else None
        rows.append(
            [
                g or "—",
                fmt_int(pop),
                fmt_num(r.get("under3"), 0) if "under3" in r else "—",
                fmt_int(r.get("facilities", 0)),
                fmt_int(places),
                fmt_num(per, 2),
                fmt_int(r.get("enrolled")),
                fmt_int(r.get("waitlist")),
                fmt_pct(util),
                fmt_pct(ta),
                fmt_int(r.get("missing", 0)),
            ]
        )
    head = [
        t["group"],
        t["population"],
        t["under3"],
        t["facilities_n"],
        t["places"],
        t["per_1000_col"],
        t["enrolled_col"],
        t["waitlist_col"],
        t["utilization_col"],
        t["turned_away_share"],
        t["facilities_missing"],
    ]
    page.section("groups", t["groups"], _table(head, rows, [False] + [True] * 10))


def _figures(page: _Page, facs: Sequence[Mapping[str, Any]]) -> None:
    from tuoyu_sim.plots.heatmap import breach_heatmap
    from tuoyu_sim.plots.simulation import group_curves, turn_away_by_facility, utilization_curve

    t = page.t
    res = page.results
    lang = page.lang
    jobs: list[tuple[str, str, Callable[[], Any]]] = []
    if res.curves:
        jobs.append(
            (
                "utilization_district",
                t["fig_district"],
                lambda: utilization_curve(res.curves, "district", "all", lang=lang),
            )
        )
        if any(r.get("scope") == "group" for r in res.curves):
            jobs.append(
                (
                    "utilization_by_group",
                    t["fig_groups"],
                    lambda: group_curves(res.curves, lang=lang),
                )
            )
    sim = res.simulation
    if sim and facs and all("walk_in_arrivals" in f for f in facs):
        mt = _num(page.targets.get("max_turn_away"))
        jobs.append(
            (
                "turn_away_by_facility",
                t["fig_turn"],
                lambda: turn_away_by_facility({"facilities": list(facs)}, mt, lang=lang),
            )
        )
    if res.breach_by_hour:
        names = {str(f.get("id")): str(f.get("name") or "") for f in facs}
        jobs.append(
            (
                "breach_heatmap",
                t["fig_heat"],
                lambda: breach_heatmap(res.breach_by_hour, names, top=20, lang=lang),
            )
        )
    if res.curves and facs:
        have = {r.get("key") for r in res.curves if r.get("scope") == "facility"}
        worst = [f for f in facs if f.get("id") in have and _facility_flags(f, page.targets)]
        for f in worst[:3]:
            fid = str(f.get("id"))
            label = f"{f.get('name') or fid} ({fid})"

            draw_facility = functools.partial(
                utilization_curve,
                res.curves,
                "facility",
                fid,
                lang=lang,
                title=t["fig_facility_title"].format(name=label),
            )
            jobs.append(
                (f"utilization_facility_{fid}", t["fig_facility"].format(name=label), draw_facility)
            )
    if not jobs:
        return
    body = [_figure(page, name, caption, draw) for name, caption, draw in jobs]
    page.section("figures", t["figures"], body)


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


def _plan(page: _Page) -> None:
    t = page.t
    res = page.results
    opt = res.optimization
    if opt is None and not res.plan_rows and not res.places_by_group:
        return
    body: list[Html] = []
    if opt is not None:
        added = opt.get("added_caregivers")
        added_text = (
            ("、" if page.lang == "zh" else ", ").join(
                f"{_role_name(str(k), page.lang)} {fmt_int(v)}" for k, v in added.items()
            )
            if isinstance(added, Mapping)
            else fmt_num(added)
        )
        new_sites = opt.get("new_sites")
        sites_text = ", ".join(str(s) for s in new_sites) if isinstance(new_sites, list) else ""
        items = [
            (t["objective"], opt.get("objective")),
            (t["status"], opt.get("status")),
            (t["solver"], opt.get("solver")),
            (t["gap"], fmt_num(opt.get("gap"), 4) if opt.get("gap") is not None else "—"),
            (t["solve_seconds"], fmt_num(opt.get("solve_seconds"), 2)),
            (t["new_sites"], sites_text or t["none"]),
            (t["added_places"], fmt_int(opt.get("added_places"))),
            (t["added_caregivers"], added_text),
            (t["cost"], fmt_num(opt.get("cost"), 0)),
            (t["covered_children"], fmt_num(opt.get("covered_children"), 0)),
            (t["coverage_share"], fmt_pct(opt.get("coverage_share"))),
            (
                t["per_1000_before_after"],
                f"{fmt_num(opt.get('places_per_1000_before'), 2)} → "
                f"{fmt_num(opt.get('places_per_1000_after'), 2)}",
            ),
        ]
        body.append(_deflist(items))
        messages = [
            m for key in ("messages", "notes") if isinstance(opt.get(key), list) for m in opt[key]
        ]
        if messages:
            body.append(el("h3", t["messages"]))
            body.append(el("ul", [el("li", str(m)) for m in messages]))
        sites = opt.get("sites")
        if isinstance(sites, list) and sites:
            rows = []
            for s in sites:
                if not isinstance(s, Mapping):
                    continue
                places = s.get("places")
                staff = s.get("staff")
                rows.append(
                    [
                        s.get("id"),
                        s.get("kind"),
                        _kv(places, page.lang, _age_name),
                        fmt_int(s.get("places_total")),
                        fmt_int(s.get("added_places")),
                        _kv(staff, page.lang, _role_name),
                        fmt_num(s.get("cost"), 0),
                    ]
                )
            head = [
                "ID",
                t["kind"],
                t["places"],
                t["places_total"],
                t["added_places"],
                t["staff"],
                t["cost"],
            ]
            body.append(el("h3", t["sites"]))
            body.append(_table(head, rows, [False, False, False, True, True, False, True]))
    if res.plan_rows:
        body.append(el("h3", t["plan_table"]))
        body.append(_generic_table(res.plan_rows))
    if res.places_by_group:
        from tuoyu_sim.plots.maps import per_1000_by_group

        target = _num(page.targets.get("places_per_1000"))
        group_rows = res.places_by_group
        body.append(
            _figure(
                page,
                "per_1000_by_group",
                t["fig_per_1000"],
                lambda: per_1000_by_group(group_rows, target),
            )
        )
    if res.map_png is not None:
        body.append(_figure_html("map", t["fig_map"], res.map_png))
    if res.iterations:
        body.append(el("h3", t["iterations"]))
        body.append(_generic_table(res.iterations))
    if res.planned_scenario:
        body.append(el("p", t["planned_scenario"].format(f="scenario.planned.toml"), cls="note"))
    page.section("plan", t["plan"], body)


def _kv(value: Any, lang: str, namer: Callable[[str, str], str]) -> str:
    if not isinstance(value, Mapping):
        return "—" if value is None else str(value)
    sep = "，" if lang == "zh" else ", "
    return sep.join(f"{namer(str(k), lang)} {fmt_g(v)}" for k, v in value.items())


def _generic_table(rows: Sequence[Mapping[str, str]], limit: int | None = None) -> Html:
    cols = list(rows[0].keys()) if rows else []
    shown = rows[:limit] if limit else rows
    numeric = [
        all(_num(_value(r.get(c) or "")) is not None or not r.get(c) for r in shown) for c in cols
    ]
    body = [[_cell(r.get(c, "")) for c in cols] for r in shown]
    return _table(cols, body, numeric)


def _cell(text: str) -> str:
    v = _value(text or "")
    if isinstance(v, float):
        return fmt_num(v, 4 if abs(v) < 1 else 2)
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}" if abs(v) >= 10_000 else str(v)
    return "" if v is None else str(v)


def _sweep_params(res: Results) -> list[str]:
    """The swept keys: from ``summary.json``'s grid, else the dotted columns of ``sweep.csv``."""
    grid = (res.summary or {}).get("grid")
    cols = list(res.sweep_rows[0]) if res.sweep_rows else []
    if isinstance(grid, list):
        keys = [str(g.get("key")) for g in grid if isinstance(g, Mapping) and g.get("key")]
        if keys and all(k in cols for k in keys):
            return keys
    return [c for c in cols if "." in c]


def _sweep(page: _Page) -> None:
    res = page.results
    rows = res.sweep_rows
    if not rows:
        return
    t = page.t
    params = _sweep_params(res)
    cols = list(rows[0])
    ci_cols = [c for c in cols if f"{c}_lo" in cols and f"{c}_hi" in cols and c not in params]
    skip = {"point", "index", "error", *params, *ci_cols}
    skip |= {f"{c}_lo" for c in ci_cols} | {f"{c}_hi" for c in ci_cols}
    other = [c for c in cols if c not in skip]
    has_error = any(r.get("error") for r in rows)
    head = ["#", *params, *ci_cols, *other] + (["error"] if has_error else [])
    limit = 200
    table_rows = []
    for r in rows[:limit]:
        cells: list[Any] = [fmt_g(r.get("index"))]
        cells += [str(r.get(k)) if r.get(k) is not None else "—" for k in params]
        for c in ci_cols:
            stat = {"mean": r.get(c), "ci95": [r.get(f"{c}_lo"), r.get(f"{c}_hi")]}
            share = any(w in c for w in ("rate", "share", "utilization"))
            cells.append(fmt_ci(stat, pct=share, digits=1 if share else 2))
        cells += [fmt_g(r.get(c)) for c in other]
        if has_error:
            cells.append(r.get("error") or "")
        table_rows.append(cells)
    body: list[Html] = [el("p", t["sweep_rows"].format(n=len(rows)), cls="note")]
    finished = [r for r in rows if not r.get("error")]
    figures = [f for f in ("turn_away_rate", "utilization") if f in cols]
    if finished and params and figures:
        from tuoyu_sim.plots.sweep import response_curves

        body.append(
            _figure(
                page,
                "response_curves",
                t["fig_sweep"],
                lambda: response_curves(finished, params, figures, lang=page.lang),
            )
        )
    if len(rows) > limit:
        body.append(el("p", t["sweep_truncated"].format(n=limit), cls="note"))
    numeric = [True] + [False] * len(params) + [True] * (len(ci_cols) + len(other))
    numeric += [False] if has_error else []
    body.append(_table(head, table_rows, numeric))
    page.section("sweep", t["sweep"], body)


def _deflist(items: Sequence[tuple[str, Any]]) -> Html:
    return el(
        "dl",
        [[el("dt", k), el("dd", "—" if v in (None, "") else v)] for k, v in items],
        cls="facts",
    )


def _stay_text(stay: Any, lang: str) -> str:
    if not isinstance(stay, Mapping):
        return "—"
    h = "小时" if lang == "zh" else "h"
    parts = [str(stay.get("dist", "?"))]
    names = {
        "mean_hours": "mean" if lang == "en" else "均值",
        "sd_hours": "sd" if lang == "en" else "标准差",
        "min_hours": "min" if lang == "en" else "最短",
        "max_hours": "max" if lang == "en" else "最长",
    }
    for key, label in names.items():
        if stay.get(key) is not None:
            parts.append(f"{label} {fmt_g(stay[key])} {h}")
    return ", ".join(parts)


def _window_text(ct: Mapping[str, Any]) -> str:
    if isinstance(ct.get("window"), list):
        return "–".join(str(x) for x in ct["window"])
    sessions = ct.get("sessions")
    if isinstance(sessions, list):
        out = []
        for s in sessions:
            if isinstance(s, Mapping) and isinstance(s.get("window"), list):
                text = "–".join(str(x) for x in s["window"])
                if s.get("until"):
                    text += f" (→{s['until']})"
                out.append(text)
        return "; ".join(out)
    return "—"


def _assumptions(page: _Page) -> None:
    t = page.t
    res = page.results
    lang = page.lang
    if res.scenario is None:
        msg = (
            t["bad_scenario"].format(f=res.scenario_file, why=res.scenario_problem)
            if res.scenario_problem
            else t["no_scenario"]
        )
        page.section("assumptions", t["assumptions"], el("p", msg, cls="note warn"))
        return
    sc = res.scenario
    body: list[Html] = [el("p", t["assumptions_from"].format(f=res.scenario_file), cls="note")]
    sim = _mapping(sc.get("simulation"))
    geo = _mapping(sc.get("geography"))
    yes_no = {True: t["yes"], False: t["no"]}
    facts = [
        (t["opening"], f"{sim.get('open', '?')}–{sim.get('close', '?')}"),
        (
            t["sim_setup"],
            t["sim_setup_value"].format(
                days=sim.get("days", "?"),
                reps=sim.get("replications", "?"),
                seed=sim.get("seed", "?"),
                step=sim.get("curve_step_minutes", 15),
            ),
        ),
        (t["distance"], geo.get("distance", "euclidean")),
        (t["detour"], fmt_num(geo.get("detour_factor", 1.0), 2)),
        (t["radius"], f"{fmt_num(geo.get('service_radius_m', 1000), 0)} m"),
    ]
    if geo.get("cutoff_m") is not None:
        facts.append((t["cutoff"], f"{fmt_num(geo.get('cutoff_m'), 0)} m"))
    if geo.get("assignment"):
        decay = geo.get("decay")
        text = str(geo["assignment"])
        if geo["assignment"] == "decay" and isinstance(decay, Mapping):
            text += " (" + ", ".join(f"{k} {v}" for k, v in decay.items()) + ")"
        facts.append((t["assignment"], text))
    if geo.get("walk_speed_m_per_min") is not None:
        facts.append((t["walk_speed"], f"{fmt_num(geo['walk_speed_m_per_min'], 0)} m/min"))
    body.append(_deflist(facts))

    ages = sc.get("age_groups")
    if isinstance(ages, Mapping) and ages:
        rows = []
        for key, a in ages.items():
            if not isinstance(a, Mapping):
                continue
            months = a.get("months")
            rows.append(
                [
                    _age_name(str(key), lang),
                    "–".join(str(m) for m in months) if isinstance(months, list) else "—",
                    f"1:{a.get('ratio', '?')}",
                    fmt_int(a.get("class_size")),
                    fmt_num(a.get("area_m2_per_child"), 1),
                ]
            )
        body.append(el("h3", t["age_groups"]))
        body.append(
            _table(
                [t["age_group"], t["months"], t["ratio"], t["class_size"], t["area"]],
                rows,
                [False, True, True, True, True],
            )
        )

    cts = sc.get("care_types")
    if isinstance(cts, Mapping) and cts:
        rows = []
        for key, ct in cts.items():
            if not isinstance(ct, Mapping):
                continue
            walk = ct.get("mode") == "walk_in"
            profile = ct.get("profile", "flat")
            prof = (
                t["flat"]
                if profile == "flat"
                else (
                    ", ".join(fmt_g(p) for p in profile)
                    if isinstance(profile, list)
                    else str(profile)
                )
            )
            rows.append(
                [
                    _type_name(str(key), lang),
                    t["mode_walk_in"] if walk else t["mode_enrolled"],
                    _window_text(ct),
                    prof,
                    _stay_text(ct.get("stay"), lang),
                    "—" if walk else fmt_pct(ct.get("attendance", 1.0), 0),
                    yes_no[bool(ct.get("redirect", False))],
                    ct.get("until") or "—",
                    fmt_num(ct.get("place_share"), 2) if ct.get("place_share") is not None else "—",
                ]
            )
        body.append(el("h3", t["care_patterns"]))
        body.append(
            _table(
                [
                    t["care_type"],
                    t["mode"],
                    t["window"],
                    t["profile"],
                    t["stay"],
                    t["attendance"],
                    t["redirect"],
                    t["until"],
                    t["place_share"],
                ],
                rows,
            )
        )

    communities = [c for c in sc.get("communities") or [] if isinstance(c, Mapping)]
    if communities:
        type_keys = list(cts) if isinstance(cts, Mapping) else []
        rows = []
        for c in communities:
            demand = _mapping(c.get("demand"))
            under3 = c.get("children_under3")
            if under3 is None and c.get("births_per_1000") is not None:
                under3 = (
                    3.0
                    * (_num(c["births_per_1000"]) or 0)
                    * (_num(c.get("population")) or 0)
                    / 1000
                )
            rows.append(
                [
                    str(c.get("id")),
                    c.get("name") or "",
                    c.get("group") or "",
                    fmt_int(c.get("population")),
                    fmt_num(under3, 0),
                ]
                + [fmt_g(demand.get(k)) if demand.get(k) is not None else "—" for k in type_keys]
            )
        head = ["ID", t["community"], t["group"], t["population"], t["under3"]] + [
            _type_name(str(k), lang) for k in type_keys
        ]
        body.append(el("h3", t["communities"]))
        body.append(
            el(
                "details",
                el("summary", t["communities_summary"].format(n=len(communities))),
                el("p", t["demand_note"], cls="note"),
                _table(head, rows, [False, False, False] + [True] * (2 + len(type_keys))),
            )
        )

    staff = sc.get("staff")
    if isinstance(staff, Mapping):
        shifts = []
        if isinstance(staff.get("shift"), list):
            shifts.append("–".join(str(x) for x in staff["shift"]))
        if isinstance(staff.get("shifts"), Mapping):
            for name, s in staff["shifts"].items():
                if isinstance(s, Mapping):
                    shifts.append(
                        f"{name}: {s.get('start')}–{s.get('end')} "
                        f"({fmt_pct(s.get('share', 1.0), 0)})"
                    )
        items = [
            (t["shifts"], "; ".join(shifts) or f"{sim.get('open', '?')}–{sim.get('close', '?')}"),
            (t["absence"], fmt_pct(staff.get("absence_probability", 0.0), 1)),
            (t["min_health"], fmt_int(staff.get("min_health_per_facility", 0))),
            (
                t["full_time_health"],
                "≥ " + fmt_int(staff.get("full_time_health_from_children", 150)),
            ),
        ]
        body.append(el("h3", t["staff"]))
        body.append(_deflist(items))

    tg = sc.get("targets")
    if isinstance(tg, Mapping) and tg:
        names = TARGET_NAMES[lang]
        items = []
        for key, v in tg.items():
            value = "—" if v is None else (fmt_pct(v, 1) if key in SHARE_TARGETS else fmt_num(v, 2))
            items.append((names.get(str(key), str(key)), value))
        body.append(el("h3", t["targets"]))
        body.append(_deflist(items))

    costs = sc.get("costs")
    if isinstance(costs, Mapping) and costs:
        items = []
        for key, v in costs.items():
            value = _kv(v, lang, _role_name) if isinstance(v, Mapping) else fmt_g(v)
            items.append((COST_NAMES[lang].get(str(key), str(key)), value))
        body.append(el("h3", t["costs"]))
        body.append(_deflist(items))
    page.section("assumptions", t["assumptions"], body)


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


# --------------------------------------------------------------------------- page

CSS = """
:root { --ink:#1d2733; --muted:#5b6673; --line:#d9dee4; --bg:#f6f8fa; --ok:#1a7f37;
        --miss:#c62828; --unclear:#b26a00; --accent:#1f5fa8; }
* { box-sizing: border-box; }
body { margin:0; color:var(--ink); background:#fff; line-height:1.55;
       font-family:%(fonts)s; font-size:15px; }
header { background:var(--accent); color:#fff; padding:24px 32px; }
header h1 { margin:0 0 4px; font-size:26px; }
header .sub { opacity:.9; font-size:14px; }
main { max-width:1180px; margin:0 auto; padding:8px 32px 48px; }
nav { margin:16px 0; font-size:14px; }
nav a { color:var(--accent); margin-right:14px; text-decoration:none; }
h2 { border-bottom:2px solid var(--accent); padding-bottom:4px; margin-top:36px; font-size:21px; }
h3 { font-size:16px; margin:20px 0 8px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(250px,1fr)); gap:12px; }
.card { border:1px solid var(--line); border-left:5px solid var(--line); border-radius:6px;
        padding:10px 14px; background:var(--bg); }
.card.ok { border-left-color:var(--ok); } .card.miss { border-left-color:var(--miss); }
.card.unclear { border-left-color:var(--unclear); }
.card-title { font-size:13px; color:var(--muted); }
.card-value { font-size:22px; font-weight:600; margin:2px 0; }
.card-detail { font-size:12.5px; color:var(--muted); }
.badge { display:inline-block; margin-top:6px; font-size:12px; padding:1px 8px; border-radius:10px;
         color:#fff; }
.badge.ok { background:var(--ok); } .badge.miss { background:var(--miss); }
.badge.unclear { background:var(--unclear); }
.note { color:var(--muted); font-size:13px; }
.warn { color:var(--unclear); }
.table-wrap { overflow-x:auto; }
table { border-collapse:collapse; width:100%%; font-size:13px; margin:6px 0 12px; }
th, td { border-bottom:1px solid var(--line); padding:4px 8px; text-align:left;
         vertical-align:top; }
th { background:var(--bg); font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.num { white-space:nowrap; } .ci { white-space:nowrap; }
tr.miss td { background:#fdecea; }
table.facilities td:nth-child(2) { min-width:9em; }
table.facilities td.num { white-space:normal; min-width:4.5em; }
figure { margin:18px 0; page-break-inside:avoid; }
figure img { max-width:100%%; height:auto; border:1px solid var(--line); display:block; }
figcaption { font-size:13px; color:var(--muted); margin-top:4px; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:3px 18px; font-size:14px; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; }
details summary { cursor:pointer; color:var(--accent); margin:4px 0; }
.pre { white-space:pre-wrap; background:var(--bg); padding:8px 12px; border-radius:4px;
       font-size:13.5px; }
footer { color:var(--muted); font-size:12px; margin-top:40px; border-top:1px solid var(--line);
         padding-top:8px; }
@media print { header { background:none; color:var(--ink); } nav { display:none; }
               main { max-width:none; } }
"""

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
        and results.summary
    ):
        page.sections.append(el("p", t["no_simulation"], cls="note"))
    _care_types(page)
    facs = _facilities(page)
    _groups(page, facs)
    _figures(page, facs)
    _plan(page)
    _sweep(page)
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
