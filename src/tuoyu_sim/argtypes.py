"""Argument types for the command line: numbers with their allowed range.

Each raises ``argparse.ArgumentTypeError`` with a message naming the value and
what is allowed, so a bad option exits 2 with argparse's usage line.
"""

from __future__ import annotations

import argparse
import math


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be 0 or more")
    return value


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be a finite number >= 0")
    return value


def positive_float(text: str) -> float:
    value = non_negative_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be > 0")
    return value


def relative_gap(text: str) -> float:
    value = non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"{value} must be a relative gap below 1 (e.g. 0.001)")
    return value


def year_range(text: str) -> tuple[int, ...]:
    """``2026-2030`` (or one year, ``2026``): the calendar years, first to last."""
    first, sep, last = text.strip().partition("-")
    try:
        lo = int(first)
        hi = int(last) if sep else lo
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a range of years; write e.g. 2026-2030 or 2026"
        ) from None
    if not (1900 <= lo <= 2200 and 1900 <= hi <= 2200):
        raise argparse.ArgumentTypeError(f"{text!r}: years must lie in 1900–2200")
    if hi < lo:
        raise argparse.ArgumentTypeError(f"{text!r}: the last year comes before the first")
    return tuple(range(lo, hi + 1))
