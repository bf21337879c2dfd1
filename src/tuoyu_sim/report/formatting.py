"""Numbers, shares and 95% intervals as the page shows them, and verdicts against targets."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any


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


def _kv(value: Any, lang: str, namer: Callable[[str, str], str]) -> str:
    if not isinstance(value, Mapping):
        return "—" if value is None else str(value)
    sep = "，" if lang == "zh" else ", "
    return sep.join(f"{namer(str(k), lang)} {fmt_g(v)}" for k, v in value.items())
