"""Fees, subsidies and take-up: what families pay, public money, and the curve.

Shown when the scenario in the results folder has ``[fees]``, ``[subsidies]``
or ``[takeup]``. With a take-up model it states the curve and choice and every
parameter, and that they are assumptions (the full-day default is derived from
two sourced figures, the derivation itself an assumption; scenarios/README.md).
The money figures come from ``summary.json``'s ``finance`` part
(:func:`tuoyu_sim.fees.finance`). Labels live here, not in ``labels.toml``:
this section is its own module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuoyu_sim.report.formatting import _mapping, fmt_g, fmt_int, fmt_num
from tuoyu_sim.report.labels import _type_name
from tuoyu_sim.report.markup import Html, el
from tuoyu_sim.report.page import _Page
from tuoyu_sim.report.tables import _deflist, _table
from tuoyu_sim.scenario import DEFAULT_FEE_RESPONSE

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "费用、补贴与入托意愿",
        "assumed": (
            "入托意愿模型已启用：社区的需求份额被视为净费用为零、机构就在门口时的最大入托率，"
            "实际入托率随净费用和距离下降。下列曲线参数均为假设（全日托的默认参数由两个有来源的"
            "数字推得，推导本身是假设；见 scenarios/README.md），不是观测值。"
        ),
        "off": "未启用入托意愿模型：需求份额按情景文件原样使用。",
        "curve": "费用响应曲线",
        "choice": "机构选择",
        "distance": "距离响应",
        "logit": "Logit 权重",
        "logit_value": "每公里 {a}，每 100 元 {b}",
        "care_type": "托育类型",
        "parameters": "参数",
        "source": "来源",
        "written": "情景文件（假设）",
        "default": "默认值（由两个有来源的数字推得；推导为假设）",
        "fees": "收费",
        "fee": "区级收费（元）",
        "cap": "普惠限价（元）",
        "per_month": "/月",
        "per_hour": "/小时",
        "subsidies": "补贴",
        "per_child": "运营补贴（每名在托儿童每月，元）",
        "per_place": "运营补贴（每个托位每年，元）",
        "pass_through": "让利给家庭的比例",
        "allowance": "育儿补贴（每名儿童每年，元）",
        "allowance_for": "育儿补贴对象",
        "all_under3": "所有 3 岁以下儿童",
        "enrolled_only": "仅在托儿童",
        "money": "入托、收入与财政支出（每年）",
        "enrolled": "在托儿童",
        "revenue": "机构收入（元/年）",
        "public": "财政支出（元/年）",
        "families": "其中家庭缴费（全日等入托类，元/年）",
        "walk_in": "其中临时/计时托收入（元/年）",
        "sub_child": "其中按在托儿童的运营补贴（元/年）",
        "sub_place": "其中按托位的运营补贴（元/年）",
        "allow": "其中育儿补贴（元/年）",
        "no_fee": "未给出收费的托育类型（收入按 0 计）",
    },
    "en": {
        "title": "Fees, subsidies and take-up",
        "assumed": (
            "A take-up model is on: a community's demand shares are read as the most that would "
            "take up care at a net fee of 0 with a facility at the door, and take-up falls with "
            "the net fee and the distance. The curve's parameters below are assumptions (the "
            "full-day default is derived from two sourced figures, the derivation itself an "
            "assumption; see scenarios/README.md), not observations."
        ),
        "off": "No take-up model: demand shares are used as written.",
        "curve": "fee response curve",
        "choice": "choice of facility",
        "distance": "distance response",
        "logit": "logit weights",
        "logit_value": "{a} per km, {b} per 100 yuan",
        "care_type": "care type",
        "parameters": "parameters",
        "source": "source",
        "written": "scenario file (assumption)",
        "default": "default (derived from two sourced figures; the derivation is an assumption)",
        "fees": "Fees",
        "fee": "district fee (yuan)",
        "cap": "affordable (普惠) cap (yuan)",
        "per_month": "/month",
        "per_hour": "/hour",
        "subsidies": "Subsidies",
        "per_child": "operating subsidy per enrolled child a month (yuan)",
        "per_place": "operating subsidy per place a year (yuan)",
        "pass_through": "share passed on to families",
        "allowance": "family allowance per child a year (yuan)",
        "allowance_for": "allowance paid to",
        "all_under3": "every child under three",
        "enrolled_only": "enrolled children only",
        "money": "Enrollment, revenue and public cost (a year)",
        "enrolled": "enrolled children",
        "revenue": "operators' revenue (yuan a year)",
        "public": "public cost (yuan a year)",
        "families": "of which families pay for enrolled care (yuan a year)",
        "walk_in": "of which walk-in care (yuan a year)",
        "sub_child": "of which operating subsidy per child (yuan a year)",
        "sub_place": "of which operating subsidy per place (yuan a year)",
        "allow": "of which family allowance (yuan a year)",
        "no_fee": "care types without a fee (revenue counted as 0)",
    },
}


def _params_text(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {fmt_g(v)}" for k, v in params.items() if v is not None)


def _mean(value: Any) -> Any:
    return value.get("mean") if isinstance(value, Mapping) else value


def _takeup(page: _Page) -> None:
    sc = page.results.scenario or {}
    fees, subs, tu = (sc.get(k) for k in ("fees", "subsidies", "takeup"))
    if fees is None and subs is None and tu is None:
        return
    L = LABELS[page.lang]
    lang = page.lang
    body: list[Html] = []
    types = _mapping(sc.get("care_types"))
    if isinstance(tu, Mapping):
        body.append(el("p", L["assumed"], cls="note warn"))
        curve = str(tu.get("curve", "logistic"))
        body.append(
            _deflist(
                [
                    (L["curve"], curve),
                    (L["choice"], str(tu.get("choice", "nearest"))),
                    (L["distance"], str(tu.get("distance", "decay"))),
                    (
                        L["logit"],
                        L["logit_value"].format(
                            a=fmt_g(tu.get("logit_per_km", 1.0)),
                            b=fmt_g(tu.get("logit_per_100_cny", 0.5)),
                        ),
                    ),
                ]
            )
        )
        written = _mapping(tu.get("fee_response"))
        rows = []
        for key in types:
            if key in written and isinstance(written[key], Mapping):
                rows.append([_type_name(str(key), lang), _params_text(written[key]), L["written"]])
            elif key in DEFAULT_FEE_RESPONSE.get(curve, {}):
                params = DEFAULT_FEE_RESPONSE[curve][key].model_dump(exclude_none=True)
                rows.append([_type_name(str(key), lang), _params_text(params), L["default"]])
        if rows:
            body.append(_table([L["care_type"], L["parameters"], L["source"]], rows))
    else:
        body.append(el("p", L["off"], cls="note"))
    fee_rows = []
    f = _mapping(fees)
    monthly = _mapping(f.get("monthly_cny")) if fees is not None else {"full_day": 1900}
    for table, cap_key, unit in (
        (monthly, "cap_monthly_cny", L["per_month"]),
        (_mapping(f.get("hourly_cny")), "cap_hourly_cny", L["per_hour"]),
    ):
        caps = _mapping(f.get(cap_key))
        for key, value in table.items():
            cap = caps.get(key)
            fee_rows.append(
                [
                    _type_name(str(key), lang),
                    f"{fmt_num(value, 0)}{unit}",
                    "—" if cap is None else f"{fmt_num(cap, 0)}{unit}",
                ]
            )
    if fee_rows:
        body.append(el("h3", L["fees"]))
        body.append(_table([L["care_type"], L["fee"], L["cap"]], fee_rows, [False, True, True]))
    s = _mapping(subs)
    body.append(el("h3", L["subsidies"]))
    body.append(
        _deflist(
            [
                (L["per_child"], fmt_num(s.get("operator_per_child_month_cny", 0), 0)),
                (L["per_place"], fmt_num(s.get("operator_per_place_year_cny", 0), 0)),
                (L["pass_through"], fmt_g(s.get("pass_through", 1.0))),
                (L["allowance"], fmt_num(s.get("family_allowance_per_child_year_cny", 3600), 0)),
                (
                    L["allowance_for"],
                    L["enrolled_only"] if s.get("allowance_for") == "enrolled" else L["all_under3"],
                ),
            ]
        )
    )
    money = (page.results.summary or {}).get("finance")
    if isinstance(money, Mapping):
        items = [
            (L["enrolled"], fmt_int(money.get("enrolled"))),
            (L["revenue"], fmt_num(_mean(money.get("revenue_cny_per_year")), 0)),
            (L["families"], fmt_num(money.get("families_pay_enrolled_cny_per_year"), 0)),
            (L["walk_in"], fmt_num(_mean(money.get("walk_in_revenue_cny_per_year")), 0)),
            (L["public"], fmt_num(money.get("public_cost_cny_per_year"), 0)),
            (L["sub_child"], fmt_num(money.get("operator_subsidy_per_child_cny_per_year"), 0)),
            (L["sub_place"], fmt_num(money.get("operator_subsidy_per_place_cny_per_year"), 0)),
            (L["allow"], fmt_num(money.get("family_allowance_cny_per_year"), 0)),
        ]
        missing = money.get("no_fee_given") or []
        if missing:
            items.append((L["no_fee"], ", ".join(_type_name(str(k), lang) for k in missing)))
        body.append(el("h3", L["money"]))
        body.append(_deflist(items))
    page.section("takeup", L["title"], body)
