"""The report's words, in Chinese and English.

The label tables are package data, ``labels.toml`` next to this module:
:data:`T` holds the page's words by language and key, :data:`TARGET_NAMES`
and :data:`COST_NAMES` the names of the scenario's ``[targets]`` and
``[costs]`` keys, and the ``*_NAMES_ZH`` tables the Chinese names that
:func:`_type_name`, :func:`_age_name` and :func:`_role_name` put next to the
scenario's care types, classes and staff roles.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

LANGS = ("zh", "en")


def _read_labels() -> dict[str, Any]:
    """The tables of ``labels.toml``, the package data file of the labels."""
    text = resources.files("tuoyu_sim.report").joinpath("labels.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


_LABELS = _read_labels()

CARE_TYPE_NAMES_ZH: dict[str, str] = _LABELS["care_type_names_zh"]
AGE_NAMES_ZH: dict[str, str] = _LABELS["age_names_zh"]
ROLE_NAMES_ZH: dict[str, str] = _LABELS["role_names_zh"]
T: dict[str, dict[str, str]] = _LABELS["text"]
TARGET_NAMES: dict[str, dict[str, str]] = _LABELS["target_names"]
COST_NAMES: dict[str, dict[str, str]] = _LABELS["cost_names"]
SHARE_TARGETS = {"coverage_share", "min_community_share", "max_turn_away", "max_breach_day_share"}


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
