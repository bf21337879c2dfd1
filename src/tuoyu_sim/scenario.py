"""The scenario: schema, loading and validation.

A scenario is one TOML file, optionally referencing tables next to it
(``[tables]``: CSV, GeoJSON, Excel workbooks, GeoPackage or Shapefile layers,
read by :mod:`tuoyu_sim.tables_io`), and optionally a distance matrix CSV. It
can also be built from pandas DataFrames (:meth:`Scenario.from_frames`). It is
validated on load with pydantic; unknown keys are errors, and every problem is
reported as one line naming the file (or the table, sheet and row), the key
path, the value and what is allowed.

A :class:`Scenario` is immutable. Variants are made with
:meth:`Scenario.with_changes`, which returns a new, re-validated scenario.

Clock: times of day are minutes after midnight (``float``); ``"07:30"`` is 450.
All durations inside the engine are minutes; scenario keys say their unit
(``mean_hours``, ``service_radius_m``).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from tuoyu_sim.errors import ScenarioError

if TYPE_CHECKING:
    from tuoyu_sim.tables_io import ScenarioFrames

CARE_TYPES: tuple[str, ...] = ("full_day", "half_day", "extended", "hourly", "drop_in")
"""The five care types, in reporting order."""

CARE_TYPE_NAMES_ZH: dict[str, str] = {
    "full_day": "全日托",
    "half_day": "半日托",
    "extended": "延时托",
    "hourly": "计时托",
    "drop_in": "临时托",
}

ROLES: tuple[str, ...] = ("teacher", "nursery", "health")
DIRECT_ROLES: tuple[str, ...] = ("teacher", "nursery")
"""Roles that count toward caregiver-to-child ratios."""

MINUTES_PER_DAY = 1440.0

_CLOCK_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_clock(value: Any) -> float:
    """Turn ``"HH:MM"`` (or minutes after midnight) into minutes after midnight."""
    if isinstance(value, bool):
        raise ValueError('a time of day is written as "HH:MM"')
    if isinstance(value, int | float):
        minutes = float(value)
    elif isinstance(value, str):
        match = _CLOCK_RE.match(value.strip())
        if not match:
            raise ValueError('a time of day is written as "HH:MM", e.g. "07:30"')
        hours, mins = int(match.group(1)), int(match.group(2))
        if mins >= 60:
            raise ValueError('minutes must be 00–59 in "HH:MM"')
        minutes = 60.0 * hours + mins
    else:
        raise ValueError('a time of day is written as "HH:MM", e.g. "07:30"')
    if not 0.0 <= minutes <= MINUTES_PER_DAY:
        raise ValueError("a time of day lies between 00:00 and 24:00")
    return minutes


def format_clock(minutes: float) -> str:
    """Minutes after midnight as ``"HH:MM"`` (rounded to the minute)."""
    total = round(minutes)
    return f"{total // 60:02d}:{total % 60:02d}"


Clock = Annotated[
    float,
    BeforeValidator(parse_clock),
    PlainSerializer(format_clock, return_type=str, when_used="json"),
]
"""A time of day: ``"HH:MM"`` in files, minutes after midnight inside."""

Window = tuple[Clock, Clock]
NonNeg = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]
Ident = Annotated[str, Field(min_length=1, max_length=200)]


class _CrossProblems(ValueError):
    """Problems found across sections, each with its own key path."""

    def __init__(self, problems: list[tuple[str, Any, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(p[2] for p in problems))


def _bad(path: str, value: Any, allowed: str) -> _CrossProblems:
    """A problem at ``path`` relative to the section being validated."""
    return _CrossProblems([(path, value, allowed)])


class Strict(BaseModel):
    """Base of every scenario section: unknown keys are errors; values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _parse_profile(value: Any) -> Any:
    """``"flat"`` or a list of hourly weights ≥ 0; one clear message otherwise."""
    if value == "flat":
        return value
    if isinstance(value, list | tuple):
        for i, w in enumerate(value):
            ok = isinstance(w, int | float) and not isinstance(w, bool) and math.isfinite(w)
            if not ok or w < 0:
                raise _bad(f"[{i}]", w, "an hourly weight: a finite number ≥ 0")
        return tuple(float(w) for w in value)
    raise ValueError('"flat", or a list of relative hourly weights over the window')


def _check_window(window: tuple[float, float] | None, what: str) -> None:
    if window is not None and window[1] <= window[0]:
        shown = [format_clock(window[0]), format_clock(window[1])]
        raise _bad(what, shown, "must end after it starts")


class Simulation(Strict):
    """``[simulation]``: how many days and replications, and opening hours."""

    days: int = Field(ge=1, le=100_000)
    replications: int = Field(ge=1, le=100_000)
    seed: int = Field(ge=0, le=2**63 - 1)
    open: Clock
    close: Clock
    curve_step_minutes: int = Field(15, ge=1, le=240)

    @model_validator(mode="after")
    def _close_after_open(self) -> Simulation:
        if self.close <= self.open:
            raise _bad(
                "close", format_clock(self.close), f"must be after open ({format_clock(self.open)})"
            )
        return self

    @property
    def open_minutes(self) -> float:
        """Opening hours per day, in minutes."""
        return self.close - self.open


class DistanceDecay(Strict):
    """How demand is split among facilities within reach (``geography.decay``)."""

    kind: Literal["linear", "power", "exponential"] = "exponential"
    beta: float = Field(0.002, gt=0, description="exponential: per metre; power: exponent")


class Geography(Strict):
    """``[geography]``: distances and the service circle."""

    distance: Literal["euclidean", "haversine", "matrix"] = "euclidean"
    detour_factor: float = Field(1.0, ge=1.0, le=5.0)
    service_radius_m: float = Field(1000.0, gt=0, le=1_000_000)
    cutoff_m: float | None = Field(None, gt=0, le=1_000_000)
    matrix_csv: str | None = None
    walk_speed_m_per_min: float = Field(80.0, gt=0, le=2000)
    assignment: Literal["nearest", "decay"] = "nearest"
    decay: DistanceDecay = DistanceDecay()

    @model_validator(mode="after")
    def _matrix_needs_file(self) -> Geography:
        if self.distance == "matrix" and not self.matrix_csv:
            raise _bad("matrix_csv", None, 'distance = "matrix" needs matrix_csv = "file.csv"')
        if self.cutoff_m is not None and self.cutoff_m < self.service_radius_m:
            raise _bad(
                "cutoff_m",
                self.cutoff_m,
                f"at least service_radius_m ({self.service_radius_m:g})",
            )
        return self

    @property
    def reach_m(self) -> float:
        """The cut-off beyond which demand is never assigned (default: the service radius)."""
        return self.cutoff_m if self.cutoff_m is not None else self.service_radius_m


class AgeGroup(Strict):
    """``[age_groups.NAME]``: an age class of the national standard."""

    months: tuple[int, int]
    ratio: int = Field(ge=1, le=100, description="children per direct caregiver")
    class_size: int = Field(ge=1, le=100)
    area_m2_per_child: float = Field(9.0, gt=0, le=1000)

    @field_validator("months")
    @classmethod
    def _months_order(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not (0 <= v[0] < v[1] <= 72):
            raise ValueError("months = [from, to] with 0 ≤ from < to ≤ 72")
        return v


class Stay(Strict):
    """How long a child stays, in hours (``stay = { dist = ..., ... }``).

    ``exponential``: ``mean_hours``. ``lognormal``: ``mean_hours``, ``sd_hours``.
    ``normal``: ``mean_hours``, ``sd_hours``, truncated to [``min_hours``,
    ``max_hours``] (default [0, 24]). ``uniform``: ``min_hours``, ``max_hours``.
    ``fixed``: ``mean_hours``.
    """

    dist: Literal["exponential", "lognormal", "normal", "uniform", "fixed"]
    mean_hours: float | None = Field(None, gt=0, le=24)
    sd_hours: float | None = Field(None, ge=0, le=24)
    min_hours: float | None = Field(None, ge=0, le=24)
    max_hours: float | None = Field(None, gt=0, le=24)

    @model_validator(mode="after")
    def _parameters(self) -> Stay:
        need: dict[str, tuple[str, ...]] = {
            "exponential": ("mean_hours",),
            "lognormal": ("mean_hours", "sd_hours"),
            "normal": ("mean_hours", "sd_hours"),
            "uniform": ("min_hours", "max_hours"),
            "fixed": ("mean_hours",),
        }
        allowed: dict[str, tuple[str, ...]] = {
            "exponential": ("mean_hours",),
            "lognormal": ("mean_hours", "sd_hours"),
            "normal": ("mean_hours", "sd_hours", "min_hours", "max_hours"),
            "uniform": ("min_hours", "max_hours"),
            "fixed": ("mean_hours",),
        }
        missing = [k for k in need[self.dist] if getattr(self, k) is None]
        if missing:
            raise _bad(missing[0], None, f'dist = "{self.dist}" needs {", ".join(missing)}')
        extra = [
            k
            for k in ("mean_hours", "sd_hours", "min_hours", "max_hours")
            if getattr(self, k) is not None and k not in allowed[self.dist]
        ]
        if extra:
            raise _bad(
                extra[0],
                getattr(self, extra[0]),
                f'dist = "{self.dist}" takes only {", ".join(allowed[self.dist])}; '
                f"remove {', '.join(extra)}",
            )
        lo = self.min_hours if self.min_hours is not None else 0.0
        hi = self.max_hours if self.max_hours is not None else 24.0
        if self.dist in ("uniform", "normal") and hi <= lo:
            raise _bad("max_hours", self.max_hours, f"greater than min_hours ({lo:g})")
        if self.dist == "lognormal" and self.sd_hours == 0:
            raise _bad("sd_hours", 0, 'dist = "lognormal" needs sd_hours > 0 (use "fixed")')
        return self


class Session(Strict):
    """One session of an enrolled care type: arrival window and latest departure."""

    window: Window
    until: Clock

    @model_validator(mode="after")
    def _order(self) -> Session:
        _check_window(self.window, "window")
        if self.until <= self.window[0]:
            raise _bad(
                "until",
                format_clock(self.until),
                f"after the session's window starts ({format_clock(self.window[0])})",
            )
        return self


class CareType(Strict):
    """``[care_types.KEY]``: the daily time pattern of one care type."""

    mode: Literal["walk_in", "enrolled"]
    window: Window | None = None
    profile: Annotated[Literal["flat"] | tuple[float, ...], BeforeValidator(_parse_profile)] = (
        "flat"
    )
    stay: Stay
    attendance: Share = 1.0
    redirect: bool = False
    until: Clock | None = None
    sessions: tuple[Session, ...] | None = None
    place_share: float | None = Field(None, gt=0, le=1)

    @model_validator(mode="after")
    def _consistent(self) -> CareType:
        _check_window(self.window, "window")
        if isinstance(self.profile, tuple):
            if not self.profile:
                raise _bad("profile", [], "at least one hourly weight")
            if sum(self.profile) <= 0:
                raise _bad("profile", list(self.profile), "weights must not all be zero")
        if self.mode == "walk_in":
            bad = [k for k in ("sessions", "until", "place_share") if getattr(self, k) is not None]
            if self.attendance != 1.0:
                bad.append("attendance")
            if bad:
                raise _bad(bad[0], getattr(self, bad[0]), 'applies to mode = "enrolled" only')
        else:
            if self.redirect:
                raise _bad("redirect", True, 'applies to mode = "walk_in" only')
            if self.sessions is not None and self.window is not None:
                raise _bad("sessions", "...", "give either window or sessions, not both")
            if self.sessions is not None:
                for n, (a, b) in enumerate(zip(self.sessions, self.sessions[1:], strict=False)):
                    if b.window[0] < a.until:
                        raise _bad(
                            f"sessions[{n}].until",
                            format_clock(a.until),
                            "sessions must not overlap: at most the next session's window "
                            f"start ({format_clock(b.window[0])})",
                        )
        return self


class ShiftSpec(Strict):
    """A named shift in ``[staff.shifts]``."""

    start: Clock
    end: Clock
    share: float = Field(1.0, gt=0, le=1, description="share of direct caregivers on it")

    @model_validator(mode="after")
    def _order(self) -> ShiftSpec:
        if self.end <= self.start:
            raise _bad("end", format_clock(self.end), f"after start ({format_clock(self.start)})")
        return self


class StaffPolicy(Strict):
    """``[staff]``: shifts, absence and the health-staff minimum."""

    shift: Window | None = None
    shifts: dict[Ident, ShiftSpec] | None = None
    absence_probability: float = Field(0.0, ge=0, lt=1)
    min_health_per_facility: int = Field(0, ge=0, le=100)
    full_time_health_from_children: int = Field(150, ge=1)

    @model_validator(mode="after")
    def _shifts(self) -> StaffPolicy:
        _check_window(self.shift, "shift")
        if self.shifts is not None:
            if not self.shifts:
                raise _bad("shifts", {}, "at least one shift when given")
            total = sum(s.share for s in self.shifts.values())
            if abs(total - 1.0) > 1e-6:
                raise _bad(
                    "shifts",
                    {k: v.share for k, v in self.shifts.items()},
                    f"shares must add up to 1 (they add up to {total:g})",
                )
        return self


class Targets(Strict):
    """``[targets]``: service levels a plan must meet."""

    places_per_1000: float | None = Field(None, ge=0, le=1000)
    coverage_share: Share = 0.0
    min_community_share: Share = 0.0
    max_turn_away: Share = 0.05
    max_breach_day_share: Share = 0.01
    max_waitlist: int = Field(0, ge=0)


class RoleCosts(Strict):
    teacher: NonNeg = 0.0
    nursery: NonNeg = 0.0
    health: NonNeg = 0.0


class Costs(Strict):
    """``[costs]``: capital and staff costs in yuan (CNY)."""

    per_place_cny: NonNeg = 0.0
    per_site_cny: NonNeg = 0.0
    per_caregiver_year_cny: RoleCosts = RoleCosts()
    years: float = Field(1.0, gt=0, le=100)


class Fees(Strict):
    """``[fees]``: what families are charged, yuan (CNY), by care type.

    ``monthly_cny`` holds the fee of enrolled care types (per child a month),
    ``hourly_cny`` that of walk-in types (per child an hour); a facility's
    ``fee_cny`` overrides either. Facilities marked ``affordable = true`` (普惠)
    charge at most ``cap_monthly_cny`` / ``cap_hourly_cny``. Read by
    :mod:`tuoyu_sim.fees`; ``None`` everywhere means "not written", so a saved
    scenario stays as it was written.
    """

    monthly_cny: dict[Ident, NonNeg] = Field(default_factory=lambda: {"full_day": 1900.0})
    hourly_cny: dict[Ident, NonNeg] = Field(default_factory=dict)
    cap_monthly_cny: dict[Ident, NonNeg] = Field(default_factory=dict)
    cap_hourly_cny: dict[Ident, NonNeg] = Field(default_factory=dict)
    open_days_per_year: float = Field(250.0, gt=0, le=366)


class Subsidies(Strict):
    """``[subsidies]``: public money, yuan (CNY) (:mod:`tuoyu_sim.fees`).

    To operators per enrolled child a month (``pass_through`` of it lowers the
    fee families pay) and per place a year; to families per child under three a
    year (the national allowance, 3,600 yuan from 2025), paid to every
    under-three (``allowance_for = "all_under3"``) or only to enrolled children.
    """

    operator_per_child_month_cny: NonNeg = 0.0
    operator_per_place_year_cny: NonNeg = 0.0
    pass_through: Share = 1.0
    family_allowance_per_child_year_cny: NonNeg = 3600.0
    allowance_for: Literal["all_under3", "enrolled"] = "all_under3"


class FeeResponse(Strict):
    """How take-up of one care type falls with its net fee (``[takeup.fee_response.TYPE]``).

    ``logistic``: ``midpoint_cny`` and ``scale_cny``; ``elasticity``:
    ``elasticity`` and ``saturation_cny`` (the net fee at or below which take-up
    is at its maximum). Fees in the type's unit (a month or an hour).
    """

    midpoint_cny: float | None = Field(None, ge=0, le=1_000_000)
    scale_cny: float | None = Field(None, gt=0, le=1_000_000)
    elasticity: float | None = Field(None, gt=0, le=50)
    saturation_cny: float | None = Field(None, gt=0, le=1_000_000)


DEFAULT_FEE_RESPONSE: dict[str, dict[str, FeeResponse]] = {
    "logistic": {"full_day": FeeResponse(midpoint_cny=1570.0, scale_cny=510.0)},
    "elasticity": {},
}
"""Curve parameters used when ``[takeup.fee_response]`` leaves a care type out.

Full day, logistic: the curve through two sourced points, both read as the
share of families wanting care who take it up at a monthly fee (that reading is
an assumption): over 70 % of parents accept under 2,000 yuan (30 % at 2,000),
and 12 % of under-threes enrolled against 35 % of families wanting care (34 %)
at the 2025 average fee of about 1,900 yuan. scenarios/README.md shows the
arithmetic."""


_EXAMPLE_RESPONSE = {
    "logistic": {
        True: "midpoint_cny = 1570, scale_cny = 510",
        False: "midpoint_cny = 40, scale_cny = 15",
    },
    "elasticity": {
        True: "elasticity = 0.5, saturation_cny = 500",
        False: "elasticity = 0.5, saturation_cny = 10",
    },
}
"""Examples in the message of a missing curve parameter (monthly, hourly fees)."""


class TakeUp(Strict):
    """``[takeup]``: demand that answers to the net fee and the distance (:mod:`tuoyu_sim.takeup`).

    With it, a community's ``demand`` shares are the most that would take up
    care (net fee 0, facility at the door); without it they are taken as they
    are ("no response").
    """

    curve: Literal["logistic", "elasticity"] = "logistic"
    choice: Literal["nearest", "logit"] = "nearest"
    distance: Literal["decay", "off"] = "decay"
    logit_per_km: float = Field(1.0, ge=0, le=1000)
    logit_per_100_cny: float = Field(0.5, ge=0, le=1000)
    fee_response: dict[Ident, FeeResponse] = Field(default_factory=dict)

    def response(self, care_type: str) -> FeeResponse | None:
        """The curve parameters of ``care_type``: written, else the default, else None."""
        if care_type in self.fee_response:
            return self.fee_response[care_type]
        return DEFAULT_FEE_RESPONSE[self.curve].get(care_type)


AccessStep = tuple[Annotated[float, Field(gt=0, le=1_000_000)], Annotated[float, Field(gt=0, le=1)]]
"""One step of an E2SFCA weight: ``[upper_m, weight]``."""


def _parse_steps(value: Any) -> Any:
    """A list of ``[upper_m, weight]`` pairs; one clear message for a malformed step."""
    if isinstance(value, list | tuple):
        for i, step in enumerate(value):
            if not (isinstance(step, list | tuple) and len(step) == 2):
                raise _bad(f"[{i}]", step, "a step is [upper_m, weight], e.g. [500, 0.68]")
    return value


class Accessibility(Strict):
    """``[access]``: catchment, distance weights and desert thresholds of ``tuoyu-sim access``.

    ``catchment_m`` defaults to ``geography.service_radius_m``, ``weight`` to
    ``"gaussian"`` and ``steps`` to thirds of the catchment weighted 1, 0.68,
    0.22 (:mod:`tuoyu_sim.accessibility` resolves the defaults; ``None`` here means
    "not written", so that a saved scenario stays as it was written). A weight
    written out (``weight`` or ``steps``) must come with its ``catchment_m``:
    the weights are a shape over the catchment.
    """

    catchment_m: float | None = Field(None, gt=0, le=1_000_000)
    weight: Literal["gaussian", "steps"] | None = None
    steps: Annotated[tuple[AccessStep, ...] | None, BeforeValidator(_parse_steps)] = None
    desert_min_children: float = Field(50.0, ge=0)
    desert_children_per_place: float = Field(3.0, gt=0)

    @model_validator(mode="after")
    def _weights_over_a_catchment(self) -> Accessibility:
        if self.catchment_m is None:
            for key in ("weight", "steps"):
                if getattr(self, key) is not None:
                    raise _bad(
                        key,
                        getattr(self, key),
                        "a weight function needs its catchment: give catchment_m "
                        "(metres; the weight is 0 beyond it), e.g. catchment_m = 1000",
                    )
        if self.steps is not None:
            if not self.steps:
                raise _bad("steps", [], "at least one [upper_m, weight] step")
            for n, (a, b) in enumerate(zip(self.steps, self.steps[1:], strict=False)):
                if b[0] <= a[0]:
                    raise _bad(
                        f"steps[{n + 1}]", list(b), f"upper_m above the step before ({a[0]:g})"
                    )
                if b[1] > a[1]:
                    raise _bad(
                        f"steps[{n + 1}]",
                        list(b),
                        f"a weight at most the step before's ({a[1]:g}): "
                        "weights fall with distance",
                    )
            last = self.steps[-1][0]
            if self.catchment_m is not None and abs(last - self.catchment_m) > 1e-9:
                raise _bad(
                    "steps",
                    [list(s) for s in self.steps],
                    f"the last step ends at the catchment (catchment_m = {self.catchment_m:g}), "
                    f"not at {last:g}",
                )
        return self


class StaffCount(Strict):
    teacher: int = Field(0, ge=0, le=10_000)
    nursery: int = Field(0, ge=0, le=10_000)
    health: int = Field(0, ge=0, le=10_000)

    @property
    def direct(self) -> int:
        """Caregivers who count toward ratios."""
        return self.teacher + self.nursery


class Located(Strict):
    """A point: ``x_m``/``y_m`` (metres) or ``lon``/``lat`` (degrees)."""

    id: Ident
    name: str = ""
    group: str = ""
    x_m: float | None = None
    y_m: float | None = None
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)

    @model_validator(mode="after")
    def _point(self) -> Located:
        xy = (self.x_m is not None, self.y_m is not None)
        ll = (self.lon is not None, self.lat is not None)
        if xy[0] != xy[1]:
            raise _bad("x_m" if self.x_m is None else "y_m", None, "give both x_m and y_m")
        if ll[0] != ll[1]:
            raise _bad("lon" if self.lon is None else "lat", None, "give both lon and lat")
        return self


class Community(Located):
    """``[[communities]]``: where the children live."""

    population: int = Field(ge=0, le=100_000_000)
    children_under3: float | None = Field(None, ge=0)
    births_per_1000: float | None = Field(None, ge=0, le=100)
    age_mix: dict[Ident, Share]
    demand: dict[Ident, NonNeg] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _children(self) -> Community:
        if self.children_under3 is None and self.births_per_1000 is None:
            raise _bad("children_under3", None, "give children_under3, or births_per_1000")
        return self

    @field_validator("age_mix")
    @classmethod
    def _mix_sums_to_one(cls, v: dict[str, float]) -> dict[str, float]:
        total = sum(v.values())
        if not v or abs(total - 1.0) > 1e-6:
            raise ValueError(f"shares must add up to 1 (they add up to {total:g})")
        return v

    @property
    def under3(self) -> float:
        """Children under three: given, or three birth cohorts from the birth rate."""
        if self.children_under3 is not None:
            return self.children_under3
        assert self.births_per_1000 is not None
        return 3.0 * self.births_per_1000 * self.population / 1000.0


WALK_IN_POOL = "walk_in"
"""``reserved.walk_in``: places held for every walk-in care type without places of
its own (one pool they share)."""


class Facility(Located):
    """``[[facilities]]``: an existing childcare facility."""

    places: dict[Ident, Annotated[int, Field(ge=0, le=100_000)]]
    reserved: dict[Ident, int | dict[Ident, Annotated[int, Field(ge=0)]]] = Field(
        default_factory=dict
    )
    staff: StaffCount = StaffCount()
    area_m2: float | None = Field(None, gt=0)
    shifts: dict[Ident, Annotated[int, Field(ge=0)]] | None = None
    fee_cny: dict[Ident, NonNeg] | None = None
    affordable: bool | None = None

    @property
    def total_places(self) -> int:
        return sum(self.places.values())

    @property
    def reserved_places(self) -> int:
        """Places held for walk-in care types, every class and type together."""
        return sum(_reserved_total(r) for r in self.reserved.values())


class CandidateSite(Located):
    """``[[candidate_sites]]``: where a new facility could open."""

    max_places: int = Field(ge=0, le=100_000)
    area_m2: float | None = Field(None, gt=0)
    fixed_cost_cny: float | None = Field(None, ge=0)


class Tables(Strict):
    """``[tables]``: table files, relative to the scenario's folder.

    ``.csv``, ``.geojson``/``.json``, ``.xlsx`` (the sheet named after the table,
    or ``"file.xlsx#sheet"``), ``.gpkg`` (the layer named after the table, the
    only layer, or ``"file.gpkg#layer"``) or ``.shp``; the GIS files need the
    ``[gis]`` extra.
    """

    communities: str | None = None
    facilities: str | None = None
    candidate_sites: str | None = None


# -- projection: under-threes year by year (read only by tuoyu_sim.projection) ------

YEAR_RANGE: tuple[int, int] = (1900, 2200)
"""Years a projection may name."""

UNDER3_MONTHS: tuple[int, int] = (0, 36)
"""The age band of "children under three", in months."""


def _year_table(value: Any, what: str, allowed: str, lo: float, hi: float | None) -> Any:
    """``{year = number}`` with years as TOML keys (``2026 = 3100``); one message per bad entry."""
    if not isinstance(value, Mapping):
        raise ValueError(f"a table {{ year = {what} }}, e.g. {{ 2026 = 3100 }}")
    out: dict[int, float] = {}
    problems: list[tuple[str, Any, str]] = []
    for key, v in value.items():
        text = str(key).strip()
        year = int(text) if text.isdigit() and not isinstance(key, bool) else None
        if year is None or not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
            problems.append((text, key, f"a year from {YEAR_RANGE[0]} to {YEAR_RANGE[1]}"))
            continue
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        if not ok or v < lo or (hi is not None and v > hi):
            problems.append((text, v, allowed))
            continue
        out[year] = float(v)
    if problems:
        raise _CrossProblems(problems)
    return out


def _births_table(value: Any) -> Any:
    return _year_table(value, "births", "a number of births: finite and ≥ 0", 0.0, None)


BirthTable = Annotated[dict[int, float], BeforeValidator(_births_table)]
"""Births in the district by calendar year: ``{ 2024 = 3449, 2025 = 2863 }``."""


def _survival_table(value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise ValueError("a table { age in months = share alive }, e.g. { 12 = 0.995 }")
    out: dict[int, float] = {}
    problems: list[tuple[str, Any, str]] = []
    for key, v in value.items():
        text = str(key).strip()
        age = int(text) if text.isdigit() and not isinstance(key, bool) else None
        if age is None or age > 72:
            problems.append((text, key, "an age in whole months from 0 to 72"))
            continue
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        if not ok or not 0 < v <= 1:
            problems.append((text, v, "the share of live births alive at that age: > 0 and ≤ 1"))
            continue
        out[age] = float(v)
    if not problems:
        ages = sorted(out)
        for a, b in itertools.pairwise(ages):
            if out[b] > out[a]:
                problems.append(
                    (
                        str(b),
                        out[b],
                        f"at most the share at {a} months ({out[a]:g}): survival "
                        "never rises with age",
                    )
                )
    if problems:
        raise _CrossProblems(problems)
    return out


def _month_weights(value: Any) -> Any:
    if value == "uniform":
        return value
    if isinstance(value, list | tuple):
        if len(value) != 12:
            raise ValueError(f'"uniform", or 12 weights, January to December (found {len(value)})')
        for i, w in enumerate(value):
            ok = isinstance(w, int | float) and not isinstance(w, bool) and math.isfinite(w)
            if not ok or w <= 0:
                raise _bad(f"[{i}]", w, "a month's relative weight: a finite number > 0")
        return tuple(float(w) for w in value)
    raise ValueError('"uniform", or 12 relative weights, January to December')


class Births(Strict):
    """``[projection.births]``: the district's births by calendar year.

    ``observed`` years (counted or estimated from published figures), then each
    named variant's assumed years after them. A variant's series is the observed
    years followed by its own.
    """

    observed: BirthTable = Field(default_factory=dict)
    variants: dict[Ident, BirthTable] = Field(min_length=1)
    month_weights: Annotated[
        Literal["uniform"] | tuple[float, ...], BeforeValidator(_month_weights)
    ] = "uniform"

    @model_validator(mode="after")
    def _assumed_after_observed(self) -> Births:
        if not self.observed:
            return self
        last = max(self.observed)
        problems = [
            (
                f"variants.{name}.{year}",
                table[year],
                f"an assumed year comes after the observed ones (the last is {last})",
            )
            for name, table in self.variants.items()
            for year in sorted(table)
            if year <= last
        ]
        if problems:
            raise _CrossProblems(problems)
        return self

    def series(self, variant: str) -> dict[int, float]:
        """Births by year: the observed years, then the variant's assumed ones."""
        return {**self.observed, **self.variants[variant]}


class PropensityChange(Strict):
    """``[projection.propensity]``: how enrolled demand per child changes by year.

    Counted from the base year; applies to the enrolled care types (walk-in
    demand follows the children only).
    """

    multiplier_per_year: float = Field(1.0, ge=0, le=10)
    points_per_year: float = Field(0.0, ge=-1, le=1)

    @model_validator(mode="after")
    def _one_kind(self) -> PropensityChange:
        if self.multiplier_per_year != 1.0 and self.points_per_year != 0.0:
            raise _bad(
                "points_per_year",
                self.points_per_year,
                "give multiplier_per_year or points_per_year, not both",
            )
        return self


class Projection(Strict):
    """``[projection]``: under-threes year by year, from births (optional section).

    The scenario's communities describe ``base_year``; the projection carries
    them forward to the end of ``horizon``. Only :mod:`tuoyu_sim.projection`
    reads this section: ``simulate`` and ``optimize`` on the scenario itself are
    unchanged by it.
    """

    base_year: int = Field(ge=YEAR_RANGE[0], le=YEAR_RANGE[1])
    horizon: tuple[int, int]
    reference_month: int = Field(7, ge=1, le=12)
    births: Births
    survival: Annotated[dict[int, float], BeforeValidator(_survival_table)] = Field(
        default_factory=dict
    )
    net_migration_per_1000: float = Field(0.0, ge=-500, le=500)
    share: Literal["current", "trend"] = "current"
    trend: dict[Ident, Annotated[float, Field(gt=0, le=10)]] = Field(default_factory=dict)
    propensity: PropensityChange = PropensityChange()
    variant: Ident | None = None
    """The births variant a plan over several years uses unless told otherwise
    (``None``: ``central`` when the births name one, else the first they name);
    a sweep may set it (``--set projection.variant=low,central,high``)."""

    @model_validator(mode="after")
    def _years_and_share(self) -> Projection:
        first, last = self.horizon
        problems: list[tuple[str, Any, str]] = []
        if self.variant is not None and self.variant not in self.births.variants:
            problems.append(
                (
                    "variant",
                    self.variant,
                    f"a variant of projection.births.variants: {', '.join(self.births.variants)}",
                )
            )
        if not (YEAR_RANGE[0] <= first <= last <= YEAR_RANGE[1]):
            problems.append(("horizon", [first, last], "[first year, last year] with first ≤ last"))
        elif first < self.base_year:
            problems.append(
                (
                    "horizon",
                    [first, last],
                    f"years from the base year ({self.base_year}) on: the scenario describes "
                    "the base year and the projection runs forward only",
                )
            )
        elif last - self.base_year > 100:
            problems.append(("horizon", [first, last], "at most 100 years after the base year"))
        if self.share == "trend" and not self.trend:
            problems.append(
                ("trend", {}, 'share = "trend" needs trend = { community id or group = factor }')
            )
        if self.share != "trend" and self.trend:
            problems.append(("trend", dict(self.trend), 'applies to share = "trend" only'))
        if problems:
            raise _CrossProblems(problems)
        return self

    @property
    def default_variant(self) -> str:
        """``variant``, else ``central`` when the births name it, else the first they name."""
        if self.variant is not None:
            return self.variant
        names = list(self.births.variants)
        return "central" if "central" in names else names[0]

    @property
    def years(self) -> tuple[int, ...]:
        """The base year, then every year to the end of the horizon."""
        return tuple(range(self.base_year, self.horizon[1] + 1))

    def birth_years_needed(self, year: int, max_age_months: int) -> tuple[int, int]:
        """First and last calendar year whose births make up ``year``'s children.

        On the reference date of ``year`` (the 1st of ``reference_month``), the
        children aged 0 to ``max_age_months`` months were born in these years.
        """
        t = 12 * year + self.reference_month - 1
        return (t - max_age_months) // 12, (t - 1) // 12


# -- phasing: costs and limits of a multi-year plan (read only by allocate.phased) --

CONVERT_SHARE_DEFAULT = 0.25
"""Default cost of converting a place to another age class, as a share of
``costs.per_place_cny`` (an assumption: refitting a room -- furniture, fittings,
equipment -- without the building work; no sourced figure)."""


def _per_1000_trajectory(value: Any) -> Any:
    """A number, or ``{year = number}``: places per 1,000 residents (0 to 1000)."""
    if isinstance(value, Mapping):
        return _year_table(
            value, "places per 1,000", "places per 1,000 residents: 0 to 1000", 0.0, 1000.0
        )
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not 0 <= value <= 1000:
        raise ValueError(
            "places per 1,000 residents (0 to 1000), or a table { year = number }, "
            "e.g. { 2026 = 4.5, 2030 = 5.5 }"
        )
    return float(value)


class Phasing(Strict):
    """``[phasing]``: costs and limits of a multi-year plan (optional section).

    Read only by :mod:`tuoyu_sim.allocate.phased` (``optimize --years``); a
    one-year ``optimize`` ignores it. ``costs.years`` does not apply to a phased
    plan: salaries are paid in every year a caregiver is employed.
    """

    discount_rate: float = Field(0.0, ge=0, lt=1)
    convert_cost_per_place_cny: NonNeg | None = None
    release_saving_per_place_cny: NonNeg = 0.0
    hire_cost_cny: NonNeg = 0.0
    let_go_cost_cny: NonNeg = 0.0
    max_hires_per_year: int | None = Field(None, ge=0)
    min_utilization: Share = 0.0
    empty_place_year_cny: NonNeg = 0.0
    per_1000: Annotated[float | dict[int, float], BeforeValidator(_per_1000_trajectory)] | None = (
        None
    )

    def convert_cost(self, per_place_cny: float) -> float:
        """Cost of converting one place to another age class (the default: a share
        of the place cost, :data:`CONVERT_SHARE_DEFAULT`)."""
        if self.convert_cost_per_place_cny is not None:
            return float(self.convert_cost_per_place_cny)
        return CONVERT_SHARE_DEFAULT * float(per_place_cny)

    def per_1000_in(self, year: int, default: float | None) -> float | None:
        """Places per 1,000 residents ``year`` must reach: the number, the table's
        entry (the last year named at or before ``year``; ``default`` before the
        first), or ``default`` (``targets.places_per_1000``) without one."""
        target = self.per_1000
        if target is None:
            return default
        if not isinstance(target, dict):
            return float(target)
        named = [y for y in sorted(target) if y <= year]
        return float(target[named[-1]]) if named else default


class Scenario(Strict):
    """A whole scenario. Immutable: use :meth:`with_changes` for variants."""

    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    provenance: str = ""
    simulation: Simulation
    geography: Geography = Geography()
    age_groups: dict[Ident, AgeGroup] = Field(min_length=1)
    care_types: dict[Ident, CareType] = Field(min_length=1)
    staff: StaffPolicy = StaffPolicy()
    targets: Targets = Targets()
    costs: Costs = Costs()
    access: Accessibility | None = None
    fees: Fees | None = None
    subsidies: Subsidies | None = None
    takeup: TakeUp | None = None
    tables: Tables = Tables()
    communities: tuple[Community, ...]
    facilities: tuple[Facility, ...]
    candidate_sites: tuple[CandidateSite, ...] = ()
    projection: Projection | None = None
    phasing: Phasing | None = None

    _source: Path | None = PrivateAttr(default=None)
    _matrix: dict[tuple[str, str], float] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        problems: list[tuple[str, Any, str]] = []
        ages = set(self.age_groups)
        types = set(self.care_types)
        sim = self.simulation
        for key in self.care_types:
            if key not in CARE_TYPES:
                problems.append(
                    (f"care_types.{key}", key, f"a care type is one of {', '.join(CARE_TYPES)}")
                )
        for key, ct in self.care_types.items():
            windows: list[tuple[str, tuple[float, float]]] = []
            if ct.window is not None:
                windows.append(("window", ct.window))
            for i, s in enumerate(ct.sessions or ()):
                windows.append((f"sessions[{i}].window", s.window))
            for where, w in windows:
                if w[0] < sim.open or w[1] > sim.close:
                    problems.append(
                        (
                            f"care_types.{key}.{where}",
                            [format_clock(w[0]), format_clock(w[1])],
                            f"must lie within opening hours {format_clock(sim.open)}–"
                            f"{format_clock(sim.close)}",
                        )
                    )
            if isinstance(ct.profile, tuple):
                lo, hi = ct.window if ct.window is not None else (sim.open, sim.close)
                hours = math.ceil((hi - lo) / 60.0 - 1e-9)
                if len(ct.profile) != hours:
                    problems.append(
                        (
                            f"care_types.{key}.profile",
                            list(ct.profile),
                            f"one weight per hour of the window {format_clock(lo)}–"
                            f"{format_clock(hi)}: {hours} weights (found {len(ct.profile)})",
                        )
                    )
            share = ct.place_share if ct.place_share is not None else 1.0
            if share < 1.0:
                n_sessions = len(ct.sessions or ())
                if n_sessions * share < 1.0 - 1e-9:
                    problems.append(
                        (
                            f"care_types.{key}.place_share",
                            share,
                            f"children sharing a place need at least {math.ceil(1 / share)} "
                            f"non-overlapping sessions (found {n_sessions})",
                        )
                    )
        for i, c in enumerate(self.communities):
            for a in c.age_mix:
                if a not in ages:
                    problems.append(
                        (f"communities[{i}].age_mix.{a}", a, _one_of("an age class", ages))
                    )
            for t in c.demand:
                if t not in types:
                    problems.append(
                        (f"communities[{i}].demand.{t}", t, _one_of("a defined care type", types))
                    )
        walk_in = {k for k, v in self.care_types.items() if v.mode == "walk_in"}
        shift_names = set(self.staff.shifts or {})
        for i, f in enumerate(self.facilities):
            for a in f.places:
                if a not in ages:
                    problems.append(
                        (f"facilities[{i}].places.{a}", a, _one_of("an age class", ages))
                    )
            for t, r in f.reserved.items():
                if t not in walk_in and not (t == WALK_IN_POOL and walk_in):
                    problems.append(
                        (
                            f"facilities[{i}].reserved.{t}",
                            t,
                            _one_of(
                                f"a walk-in care type, or {WALK_IN_POOL} (any of them)", walk_in
                            ),
                        )
                    )
                    continue
                if isinstance(r, dict):
                    for a, n in r.items():
                        if a not in f.places:
                            problems.append(
                                (
                                    f"facilities[{i}].reserved.{t}.{a}",
                                    a,
                                    _one_of("an age class with places here", set(f.places)),
                                )
                            )
                        elif n > f.places[a]:
                            problems.append(
                                (
                                    f"facilities[{i}].reserved.{t}.{a}",
                                    n,
                                    f"at most the {f.places[a]} places of that class",
                                )
                            )
                elif r < 0 or r > f.total_places:
                    problems.append(
                        (
                            f"facilities[{i}].reserved.{t}",
                            r,
                            f"a whole number from 0 to the {f.total_places} places",
                        )
                    )
            if f.reserved_places > f.total_places:
                problems.append(
                    (
                        f"facilities[{i}].reserved",
                        dict(f.reserved),
                        "more than the facility's places",
                    )
                )
            if f.shifts is not None:
                for shift_name in f.shifts:
                    if shift_name not in shift_names:
                        problems.append(
                            (
                                f"facilities[{i}].shifts.{shift_name}",
                                shift_name,
                                _one_of("a shift named in [staff.shifts]", shift_names),
                            )
                        )
                if sum(f.shifts.values()) != f.staff.direct:
                    problems.append(
                        (
                            f"facilities[{i}].shifts",
                            dict(f.shifts),
                            f"caregivers on shifts must add up to teacher + nursery = "
                            f"{f.staff.direct}",
                        )
                    )
        seen: dict[str, str] = {}
        for i, c in enumerate(self.communities):
            if c.id in seen:
                problems.append(
                    (f"communities[{i}].id", c.id, f"ids must be unique ({seen[c.id]})")
                )
            seen.setdefault(c.id, f"also communities[{i}]")
        seen = {}
        for kind, rows in (
            ("facilities", self.facilities),
            ("candidate_sites", self.candidate_sites),
        ):
            for i, p in enumerate(rows):
                if p.id in seen:
                    problems.append(
                        (
                            f"{kind}[{i}].id",
                            p.id,
                            f"facility and site ids must be unique (also {seen[p.id]})",
                        )
                    )
                seen.setdefault(p.id, f"{kind}[{i}]")
        dist = self.geography.distance
        located: tuple[tuple[str, Sequence[Located]], ...] = (
            ("communities", self.communities),
            ("facilities", self.facilities),
            ("candidate_sites", self.candidate_sites),
        )
        for kind, points in located:
            for i, p in enumerate(points):
                if dist == "euclidean" and p.x_m is None:
                    problems.append(
                        (f"{kind}[{i}]", p.id, 'distance = "euclidean" needs x_m and y_m')
                    )
                elif dist == "haversine" and p.lon is None:
                    problems.append(
                        (f"{kind}[{i}]", p.id, 'distance = "haversine" needs lon and lat')
                    )
        problems.extend(self._projection_problems())
        problems.extend(self._phasing_problems())
        problems.extend(self._fee_problems())
        if problems:
            raise _CrossProblems(problems)
        return self

    def _fee_problems(self) -> list[tuple[str, Any, str]]:
        """Checks of ``[fees]``, ``[subsidies]``, ``[takeup]`` and facility fees."""
        problems: list[tuple[str, Any, str]] = []
        enrolled = {k for k, v in self.care_types.items() if v.mode == "enrolled"}
        walk_in = set(self.care_types) - enrolled
        fees = self.fees
        if fees is not None:
            for key, allowed, what in (
                ("monthly_cny", enrolled, "an enrolled care type (monthly fee)"),
                ("cap_monthly_cny", enrolled, "an enrolled care type (monthly fee)"),
                ("hourly_cny", walk_in, "a walk-in care type (hourly fee)"),
                ("cap_hourly_cny", walk_in, "a walk-in care type (hourly fee)"),
            ):
                for t in getattr(fees, key):
                    if t not in allowed and key in fees.model_fields_set:
                        problems.append((f"fees.{key}.{t}", t, _one_of(what, allowed)))
        for i, f in enumerate(self.facilities):
            for t in f.fee_cny or {}:
                if t not in self.care_types:
                    problems.append(
                        (
                            f"facilities[{i}].fee_cny.{t}",
                            t,
                            _one_of("a care type", set(enrolled | walk_in)),
                        )
                    )
        if self.subsidies is not None and fees is not None:
            passed = self.subsidies.pass_through * self.subsidies.operator_per_child_month_cny
            for i, f in enumerate(self.facilities):
                for t in sorted(enrolled):
                    fee = self.fee_cny(f, t)
                    if fee is not None and passed > fee + 1e-9:
                        problems.append(
                            (
                                "subsidies.operator_per_child_month_cny",
                                self.subsidies.operator_per_child_month_cny,
                                f"at most the fee it lowers: pass_through x subsidy = {passed:g} "
                                f"yuan a month is above the {fee:g}-yuan {t} fee of "
                                f"facilities[{i}] ({f.id}); lower the subsidy or pass_through",
                            )
                        )
                        return problems
        tu = self.takeup
        if tu is None:
            return problems
        wanted = {t for c in self.communities for t, p in c.demand.items() if p > 0}
        need = (
            ("midpoint_cny", "scale_cny")
            if tu.curve == "logistic"
            else ("elasticity", "saturation_cny")
        )
        other = (
            ("elasticity", "saturation_cny")
            if tu.curve == "logistic"
            else ("midpoint_cny", "scale_cny")
        )
        alt = "elasticity" if tu.curve == "logistic" else "logistic"
        reported: set[str] = set()
        for t, r in tu.fee_response.items():
            if t not in self.care_types:
                problems.append(
                    (
                        f"takeup.fee_response.{t}",
                        t,
                        _one_of("a defined care type", set(self.care_types)),
                    )
                )
                continue
            misplaced = [key for key in other if getattr(r, key) is not None]
            if misplaced:
                reported.add(t)
                problems.append(
                    (
                        f"takeup.fee_response.{t}",
                        r.model_dump(exclude_none=True),
                        f'{" and ".join(misplaced)}: parameters of curve = "{alt}", '
                        f'not of curve = "{tu.curve}" (give {" and ".join(need)})',
                    )
                )
        table = fees if fees is not None else Fees()
        for t in sorted(wanted & set(self.care_types), key=CARE_TYPES.index):
            wrote = tu.response(t)
            missing = [k for k in need if wrote is None or getattr(wrote, k) is None]
            if missing and t not in reported:
                problems.append(
                    (
                        f"takeup.fee_response.{t}",
                        None if wrote is None else wrote.model_dump(exclude_none=True),
                        f'curve = "{tu.curve}" needs {" and ".join(missing)} for every care type '
                        f"with demand, e.g. [takeup.fee_response.{t}] "
                        + _EXAMPLE_RESPONSE[tu.curve][t in enrolled],
                    )
                )
            unit = "monthly_cny" if t in enrolled else "hourly_cny"
            if t not in getattr(table, unit) and any(
                t not in (f.fee_cny or {}) for f in self.facilities
            ):
                problems.append(
                    (
                        f"fees.{unit}.{t}",
                        None,
                        f"a take-up model needs the fee of every care type with demand: "
                        f"give fees.{unit}.{t} (or fee_cny.{t} at every facility)",
                    )
                )
        return problems

    def fee_cny(self, facility: Facility, care_type: str) -> float | None:
        """The fee ``facility`` charges for ``care_type`` (a month or an hour), capped
        for an affordable (普惠) facility; None when no fee is given."""
        fees = self.fees if self.fees is not None else Fees()
        enrolled = self.care_types[care_type].mode == "enrolled"
        district = fees.monthly_cny if enrolled else fees.hourly_cny
        fee = (facility.fee_cny or {}).get(care_type, district.get(care_type))
        if fee is None:
            return None
        if facility.affordable:
            cap = (fees.cap_monthly_cny if enrolled else fees.cap_hourly_cny).get(care_type)
            if cap is not None:
                fee = min(fee, cap)
        return fee

    def _projection_problems(self) -> list[tuple[str, Any, str]]:
        """Checks of ``[projection]`` against the rest of the scenario."""
        pr = self.projection
        if pr is None:
            return []
        problems: list[tuple[str, Any, str]] = []
        max_age = max([UNDER3_MONTHS[1], *(g.months[1] for g in self.age_groups.values())])
        base_lo, base_hi = pr.birth_years_needed(pr.base_year, max_age)
        last_hi = pr.birth_years_needed(pr.horizon[1], max_age)[1]
        when = f"children up to {max_age} months old on 1 {MONTHS_EN[pr.reference_month - 1]}"
        early: dict[str, list[int]] = {}
        late: dict[str, list[int]] = {}
        for name in pr.births.variants:
            have = pr.births.series(name)
            missing = [y for y in range(base_lo, last_hi + 1) if y not in have]
            early[name] = [y for y in missing if y <= base_hi]
            late[name] = [y for y in missing if y > base_hi]
        if any(early.values()):
            problems.append(
                (
                    "projection.base_year",
                    pr.base_year,
                    f"the base year's {when} were born in {base_lo}–{base_hi}; "
                    f"projection.births has no births for {_missing_years(early)}",
                )
            )
        if any(late.values()):
            problems.append(
                (
                    "projection.horizon",
                    list(pr.horizon),
                    f"the {when} of every year {pr.base_year}–{pr.horizon[1]} were born in "
                    f"{base_lo}–{last_hi}; projection.births has no births for "
                    f"{_missing_years(late)}",
                )
            )
        if not any(early.values()):
            for name in pr.births.variants:
                have = pr.births.series(name)
                for y in range(base_lo, base_hi + 1):
                    if have[y] <= 0:
                        where = "observed" if y in pr.births.observed else f"variants.{name}"
                        problems.append(
                            (
                                f"projection.births.{where}.{y}",
                                have[y],
                                f"more than 0: the base year's {when} were born in "
                                f"{base_lo}–{base_hi}, and the projection is relative to them",
                            )
                        )
        known = {c.id for c in self.communities} | {c.group for c in self.communities if c.group}
        for key in pr.trend:
            if key not in known:
                problems.append(
                    (f"projection.trend.{key}", key, "a community id, or a group of communities")
                )
        points = pr.propensity.points_per_year
        if points != 0.0:
            enrolled = {k for k, ct in self.care_types.items() if ct.mode == "enrolled"}
            under3 = self.children_under3
            wanted = sum(
                c.under3 * sum(c.demand.get(k, 0.0) for k in enrolled) for c in self.communities
            )
            rate = wanted / under3 if under3 > 0 else 0.0
            years = pr.horizon[1] - pr.base_year
            if rate <= 0:
                problems.append(
                    (
                        "projection.propensity.points_per_year",
                        points,
                        "needs enrolled demand in the base year to change (there is none); "
                        "use multiplier_per_year",
                    )
                )
            elif rate + points * years < 0:
                problems.append(
                    (
                        "projection.propensity.points_per_year",
                        points,
                        f"at least {-rate / years:.4g}: the district's enrolled share "
                        f"({rate:.4g} in {pr.base_year}) would fall below 0 by {pr.horizon[1]}",
                    )
                )
        return problems

    def _phasing_problems(self) -> list[tuple[str, Any, str]]:
        """Checks of ``[phasing]`` against ``[costs]`` and ``[projection]``."""
        ph = self.phasing
        if ph is None:
            return []
        problems: list[tuple[str, Any, str]] = []
        place = self.costs.per_place_cny
        if ph.release_saving_per_place_cny > place:
            problems.append(
                (
                    "phasing.release_saving_per_place_cny",
                    ph.release_saving_per_place_cny,
                    f"at most costs.per_place_cny ({place:g}): a place added and then "
                    "released must never pay",
                )
            )
        pr = self.projection
        # a year's own scenario (projection.scenario_for_year) has no [projection]:
        # its table was checked against the horizon in the scenario it came from
        if isinstance(ph.per_1000, dict) and pr is not None:
            for year in sorted(ph.per_1000):
                if not pr.horizon[0] <= year <= pr.horizon[1]:
                    problems.append(
                        (
                            f"phasing.per_1000.{year}",
                            year,
                            f"a year of projection.horizon ({pr.horizon[0]}–{pr.horizon[1]})",
                        )
                    )
        return problems

    # -- derived views -------------------------------------------------------

    @property
    def source(self) -> Path | None:
        """The file this scenario was loaded from, if any."""
        return self._source

    @property
    def population(self) -> int:
        return sum(c.population for c in self.communities)

    @property
    def children_under3(self) -> float:
        return sum(c.under3 for c in self.communities)

    @property
    def total_places(self) -> int:
        return sum(f.total_places for f in self.facilities)

    @property
    def places_per_1000(self) -> float:
        pop = self.population
        return 1000.0 * self.total_places / pop if pop else 0.0

    def place_share(self, care_type: str) -> float:
        """The share of a place one enrolled child holds.

        Children of a type with k non-overlapping sessions share a place k ways
        (half-day with a morning and an afternoon session: 0.5) unless
        ``place_share`` says otherwise.
        """
        ct = self.care_types[care_type]
        if ct.place_share is not None:
            return ct.place_share
        return 1.0 / len(ct.sessions) if ct.sessions else 1.0

    def shift_window(self) -> tuple[float, float]:
        """The default shift of every caregiver (the opening hours unless set)."""
        if self.staff.shift is not None:
            return self.staff.shift
        return (self.simulation.open, self.simulation.close)

    def matrix(self) -> dict[tuple[str, str], float] | None:
        """The user-supplied distance matrix in metres, keyed by (from id, to id)."""
        return self._matrix

    def to_dict(self) -> dict[str, Any]:
        """A plain dict that :func:`validate_data` turns back into an equal scenario.

        Rows from ``[tables]`` are written inline, so the dict stands alone.
        """
        data = self.model_dump(mode="json", exclude_none=True)
        data.pop("tables", None)
        return data

    def with_changes(self, changes: Mapping[str, Any]) -> Scenario:
        """A copy with values changed at dotted key paths, re-validated.

        ``{"care_types.drop_in.stay.mean_hours": 3.0}`` sets one value;
        ``communities.*.demand.drop_in`` addresses every community. A list index is
        written ``facilities.3.places.older`` or ``facilities[3].places.older``.
        """
        data = self.to_dict()
        for path, value in changes.items():
            set_path(data, path, value)
        new = validate_data(
            data, self._source, base_dir=self._source.parent if self._source else None
        )
        new._matrix = self._matrix
        return new

    # -- tables: frames and workbooks ------------------------------------------

    @classmethod
    def from_frames(
        cls,
        *,
        communities: Any = None,
        facilities: Any = None,
        candidate_sites: Any = None,
        settings: Mapping[str, Any] | str | Path,
        distances: Any = None,
        base_dir: str | Path | None = None,
    ) -> Scenario:
        """A scenario from pandas DataFrames (or GeoDataFrames) and its settings.

        Parameters
        ----------
        communities, facilities, candidate_sites
            One row per record, one column per key, as in a CSV table: dotted
            column names nest (``places.older``, ``age_mix.toddler``), empty
            cells (NaN, None, ``pd.NA``) take the key's default. A GeoDataFrame's
            Point geometries give the coordinates (a projected CRS: ``x_m``/``y_m``
            in metres; a geographic CRS: ``lon``/``lat``; see
            :mod:`tuoyu_sim.tables_io`). A frame replaces the table of the same
            name in ``settings`` (inline rows or ``[tables]``); ``None`` keeps it.
        settings
            The rest of the scenario: a dict with the TOML file's keys
            (``name``, ``simulation``, ``age_groups``, ...), or the path of a TOML
            file (its ``[tables]`` are read as :func:`load_scenario` reads them).
        distances
            A distance matrix (columns ``from``, ``to``, ``distance_m`` or
            ``minutes``) instead of the file ``geography.matrix_csv`` names.
        base_dir
            Where tables and the matrix named in a dict ``settings`` lie
            (default: the working folder); a TOML path's own folder otherwise.

        Raises
        ------
        ScenarioError
            With the same checks and messages as a file; a problem in a frame is
            named by frame, row (the index label) and column, e.g.
            ``communities frame, row 3, column population (communities[3].population)
            = -5: input should be greater than or equal to 0``.
        """
        from tuoyu_sim.tables_io import scenario_from_frames

        return scenario_from_frames(
            communities=communities,
            facilities=facilities,
            candidate_sites=candidate_sites,
            settings=settings,
            distances=distances,
            base_dir=base_dir,
        )

    def to_frames(self) -> ScenarioFrames:
        """The scenario as DataFrames: ``communities``, ``facilities``,
        ``candidate_sites`` (dotted columns, integer columns as ``Int64``), ``settings``
        (everything else, as :meth:`to_dict`) and, with a distance matrix,
        ``distances``. ``Scenario.from_frames(**scenario.to_frames())`` is equal to
        the scenario. An empty table gets the columns a planner would fill in.
        """
        from tuoyu_sim.tables_io import scenario_to_frames

        return scenario_to_frames(self)

    def to_workbook(self, path: str | Path) -> Path:
        """Write the scenario's tables to an ``.xlsx`` workbook (atomically).

        One sheet per table (``communities``, ``facilities``, ``candidate_sites``),
        row 1 the column names; a scenario whose ``[tables]`` name this workbook
        reads the same rows back. :func:`tuoyu_sim.output.write_scenario_workbook`
        writes the TOML file that goes with it.
        """
        from tuoyu_sim.tables_io import write_tables_workbook

        return write_tables_workbook(path, self)


MONTHS_EN: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _year_span(years: Sequence[int]) -> str:
    """``[2029, 2030, 2031]`` -> ``"2029–2031"``; gaps split into runs."""
    runs: list[list[int]] = []
    for y in sorted(years):
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


def _missing_years(by_variant: Mapping[str, list[int]]) -> str:
    """Missing years grouped by the variants that miss them: ``"2031 (low, high)"``."""
    groups: dict[str, list[str]] = {}
    for name, years in by_variant.items():
        if years:
            groups.setdefault(_year_span(years), []).append(name)
    return "; ".join(f"{span} (variant {', '.join(names)})" for span, names in groups.items())


def _one_of(what: str, allowed: set[str]) -> str:
    if not allowed:
        return f"{what}; none is defined"
    return f"{what}: one of {', '.join(sorted(allowed))}"


def _reserved_total(r: int | dict[str, int]) -> int:
    return sum(r.values()) if isinstance(r, dict) else r


_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_path(path: str) -> list[str | int]:
    """Split ``facilities[3].places.older`` or ``facilities.3.places.older``."""
    parts: list[str | int] = []
    for name, index in _PATH_TOKEN.findall(path):
        if index:
            parts.append(int(index))
        elif name.isdigit():
            parts.append(int(name))
        else:
            parts.append(name)
    return parts


def set_path(data: Any, path: str, value: Any) -> None:
    """Set ``value`` at a dotted key path inside nested dicts and lists (in place).

    ``*`` addresses every element of a list. Intermediate tables are created.
    """
    parts = split_path(path)
    if not parts:
        raise ScenarioError(f"{path!r}: an empty key path")
    _set(data, parts, value, path)


def _set(node: Any, parts: list[str | int], value: Any, path: str) -> None:
    key, rest = parts[0], parts[1:]
    if key == "*":
        if not isinstance(node, list):
            raise ScenarioError(f"{path}: '*' addresses a list, found {type(node).__name__}")
        for item in node:
            _set(item, rest, value, path) if rest else None
        return
    if isinstance(node, list):
        if not isinstance(key, int) or not 0 <= key < len(node):
            raise ScenarioError(f"{path}: index {key} is out of range (0–{len(node) - 1})")
    elif isinstance(node, dict):
        if isinstance(key, int):
            key = str(key)
    else:
        raise ScenarioError(f"{path}: cannot go into a {type(node).__name__}")
    if not rest:
        node[key] = value
        return
    if isinstance(node, dict) and key not in node:
        node[key] = {}
    _set(node[key], rest, value, path)


# -- loading ---------------------------------------------------------------------


def format_loc(loc: Sequence[Any]) -> str:
    """``('facilities', 3, 'places', 'infant')`` -> ``facilities[3].places.infant``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


_PYDANTIC_TAGS = re.compile(r"^(function-after|function-before|function-plain)\[.*\]$")


def _clean_loc(loc: Sequence[Any]) -> list[Any]:
    # pydantic adds union-branch tags such as 'int' or 'tuple[...]' to a loc; drop them.
    cleaned: list[Any] = []
    for part in loc:
        if isinstance(part, str) and (
            _PYDANTIC_TAGS.match(part)
            or part in ("int", "float", "str", "bool", "literal['flat']")
            or part.startswith(("tuple[", "dict[", "literal[", "list["))
        ):
            continue
        cleaned.append(part)
    return cleaned


def _describe(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    msg = str(err.get("msg", ""))
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown key (check the spelling against scenarios/README.md)"
    if kind == "missing":
        return "required key is missing"
    if kind in ("finite_number",):
        return "must be a finite number (not NaN or infinity)"
    if kind == "value_error":
        err_obj = ctx.get("error")
        return str(err_obj) if err_obj is not None else msg.removeprefix("Value error, ")
    return msg[0].lower() + msg[1:] if msg else kind


class Origin(NamedTuple):
    """Where a table row came from, for messages.

    ``table`` names the file, sheet, layer or frame (``"communities.csv"``,
    ``"district.xlsx, sheet facilities"``, ``"communities frame"``) and ``row``
    the row in it (``"row 5"`` as a spreadsheet numbers it, ``"row 3"`` by a
    frame's index label, ``"feature 7"``, ``"features[2]"``). A workbook row
    also knows its Excel row number and its columns' letters, so that a message
    can name the cell.
    """

    table: str
    row: str
    excel_row: int | None = None
    letters: Mapping[str, str] | None = None

    @property
    def where(self) -> str:
        """``"district.xlsx, sheet facilities, row 5"``."""
        return f"{self.table}, {self.row}"

    def column(self, key: str) -> str:
        """How a message names the column of ``key`` (``places.older, cell F5``)."""
        letter = (self.letters or {}).get(key)
        return f"{key}, cell {letter}{self.excel_row}" if letter and self.excel_row else key


def validate_data(
    data: Mapping[str, Any],
    source: Path | str | None = None,
    *,
    base_dir: Path | None = None,
    origins: Mapping[tuple[str, int], Origin] | None = None,
    matrix: Mapping[tuple[str, str], float] | None = None,
    label: str | None = None,
) -> Scenario:
    """Validate a scenario given as a plain dict; raise :class:`ScenarioError`.

    ``source`` is the file the scenario comes from (its folder is where a
    distance matrix is looked up unless ``base_dir`` says otherwise); ``label``
    names it in messages (default: ``source``); ``origins`` maps ``(section,
    index)`` of rows that came from a table to their :class:`Origin`; ``matrix``
    is a distance matrix already read (then no file is read).
    """
    label = label or (str(source) if source is not None else "<scenario>")
    origins = origins or {}
    try:
        scenario = Scenario.model_validate(dict(data))
    except ValidationError as exc:
        problems: list[_Problem] = []
        for err in exc.errors():
            ctx_err = (err.get("ctx") or {}).get("error")
            if isinstance(ctx_err, _CrossProblems):
                prefix = format_loc(_clean_loc(err["loc"])) if err["loc"] else ""
                for path, value, allowed in ctx_err.problems:
                    full = (
                        f"{prefix}.{path}" if prefix and not path.startswith("[") else prefix + path
                    )
                    problems.append(_Problem(full, value, allowed))
                continue
            path = format_loc(_clean_loc(err["loc"]))
            missing = err.get("type") == "missing"
            problems.append(_Problem(path, err.get("input"), _describe(err), missing))
        raise ScenarioError(list(dict.fromkeys(_render(problems, label, origins)))) from None
    if source is not None:
        scenario._source = Path(source)
    if matrix is not None:
        scenario._matrix = dict(matrix)
    elif scenario.geography.distance == "matrix" or scenario.geography.matrix_csv:
        folder = base_dir or (Path(source).parent if source is not None else Path.cwd())
        scenario._matrix = _load_matrix(scenario, folder, label)
    return scenario


_ROW_PATH = re.compile(r"^(communities|facilities|candidate_sites)\[(\d+)\]")

_ROWS_SHOWN = 5
"""Rows a message lists when one problem repeats on many rows of a table."""


class _Problem(NamedTuple):
    path: str
    value: Any
    allowed: str
    missing: bool = False


def _row_origin(
    path: str, origins: Mapping[tuple[str, int], Origin]
) -> tuple[str, Origin, str] | None:
    """The section and origin of the table row a key path lies in, and the path within it."""
    m = _ROW_PATH.match(path)
    if m and (m.group(1), int(m.group(2))) in origins:
        rest = path[m.end() :].lstrip(".")
        return m.group(1), origins[(m.group(1), int(m.group(2)))], rest
    return None


def _render(
    problems: Sequence[_Problem], label: str, origins: Mapping[tuple[str, int], Origin]
) -> list[str]:
    """One line per problem; a problem repeated on many rows of one table (a
    misspelt column such as ``places.oldr``) is one line listing the rows."""
    order: list[str | tuple[Any, ...]] = []
    groups: dict[tuple[Any, ...], list[tuple[Origin, _Problem]]] = {}
    for prob in problems:
        found = _row_origin(prob.path, origins)
        if found is None:
            shown = "" if prob.missing else f" = {_show(prob.value)}"
            order.append(f"{label}: {prob.path}{shown}: {prob.allowed}")
            continue
        section, origin, rest = found
        value = None if prob.missing else _show(prob.value)
        key = (section, origin.table, rest, value, prob.allowed, prob.missing)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append((origin, prob))
    lines = []
    for item in order:
        if isinstance(item, str):
            lines.append(item)
            continue
        section, table, rest, value, allowed, missing = item
        members = groups[item]
        column = f", column {rest}" if rest else ""
        if len(members) == 1:
            origin, prob = members[0]
            column = f", column {origin.column(rest)}" if rest else ""
            where, path = origin.where, prob.path
        else:
            rows = [o.row for o, _ in members]
            numbered = all(r.startswith("row ") for r in rows)
            labels = [r.removeprefix("row ") for r in rows] if numbered else rows
            more = len(labels) - _ROWS_SHOWN
            listed = ", ".join(labels[:_ROWS_SHOWN]) + (f" and {more} more" if more > 0 else "")
            where = f"{table}, {'rows ' if numbered else ''}{listed}"
            path = f"{section}[*]" + (f".{rest}" if rest else "")
        if missing:
            lines.append(f"{where}{column} ({path}): {allowed} (an empty cell)")
        else:
            lines.append(f"{where}{column} ({path}) = {value}: {allowed}")
    return lines


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge tables into, and validate a scenario file.

    Raises
    ------
    ScenarioError
        The file is missing, empty, not TOML, references a table outside its
        folder, or holds invalid values. The message lists every problem.
    """
    path = Path(path)
    data = read_scenario_toml(path)
    origins = merge_tables(data, path.parent, str(path))
    return validate_data(data, path, base_dir=path.parent, origins=origins)


def read_scenario_toml(path: Path) -> dict[str, Any]:
    """The scenario file's keys, as TOML gives them (tables not yet read)."""
    label = str(path)
    if not path.exists():
        raise ScenarioError(f"{label}: no such file")
    if path.is_dir():
        raise ScenarioError(f"{label}: is a folder; give the scenario's .toml file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioError(f"{label}: cannot be read ({exc.strerror})") from None
    if not text.strip():
        raise ScenarioError(
            f"{label}: the file is empty; a scenario needs at least name, "
            "[simulation], [age_groups.*], [care_types.*], communities and facilities"
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{label}: not valid TOML: {exc}") from None


TABLE_SECTIONS: tuple[str, ...] = ("communities", "facilities", "candidate_sites")
"""The sections a ``[tables]`` entry may fill."""


def merge_tables(data: dict[str, Any], folder: Path, label: str) -> dict[tuple[str, int], Origin]:
    """Read the files ``[tables]`` names into ``data`` (in place), after inline rows.

    Returns the origin of every row read, by ``(section, index)``.
    """
    from tuoyu_sim.tables_io import TABLE_SUFFIXES, read_table_file, split_ref

    origins: dict[tuple[str, int], Origin] = {}
    tables = data.get("tables")
    if not isinstance(tables, dict):
        return origins
    geo = data.get("geography")
    distance = geo.get("distance", "euclidean") if isinstance(geo, dict) else "euclidean"
    for section in TABLE_SECTIONS:
        ref = tables.get(section)
        if ref is None:
            continue
        if not isinstance(ref, str):
            raise ScenarioError(
                f"{label}: tables.{section} = {_show(ref)}: a file name "
                f"({', '.join(TABLE_SUFFIXES)}) relative to the scenario's folder"
            )
        file, part = split_ref(ref)
        table_path = _inside(folder, file, label, f"tables.{section}")
        rows, where = read_table_file(table_path, section, distance, part)
        inline = data.get(section, [])
        if not isinstance(inline, list):
            inline = []
        start = len(inline)
        for j, origin in enumerate(where):
            origins[(section, start + j)] = origin
        data[section] = [*inline, *rows]
    return origins


def _inside(folder: Path, ref: str, label: str, key: str) -> Path:
    target = (folder / ref).resolve()
    root = folder.resolve()
    if root != target and root not in target.parents:
        raise ScenarioError(
            f"{label}: {key} = {_show(ref)}: a table must lie inside the scenario's folder ({root})"
        )
    if not target.is_file():
        raise ScenarioError(f"{label}: {key} = {_show(ref)}: no such file ({target})")
    return target


def read_table(
    path: Path, scenario_data: Mapping[str, Any] | None = None, *, section: str = "communities"
) -> list[dict[str, Any]]:
    """Rows of a table file as nested dicts (see :mod:`tuoyu_sim.tables_io`).

    CSV: a header row; dotted column names build nested keys
    (``places.infant``, ``age_mix.older``); empty cells are left out. GeoJSON: a
    FeatureCollection of Points; ``properties`` become keys (dotted names nest),
    the coordinates become ``x_m``/``y_m`` when the scenario's distance is
    ``euclidean`` and ``lon``/``lat`` otherwise. Workbooks and GIS files: the
    sheet or layer named after ``section``. The header is checked against the
    schema of ``section``.
    """
    from tuoyu_sim.tables_io import read_table_file

    geo = (scenario_data or {}).get("geography")
    distance = geo.get("distance", "euclidean") if isinstance(geo, dict) else "euclidean"
    return read_table_file(Path(path), section, distance)[0]


def _load_matrix(scenario: Scenario, folder: Path, label: str) -> dict[tuple[str, str], float]:
    ref = scenario.geography.matrix_csv
    assert ref is not None
    path = _inside(folder, ref, label, "geography.matrix_csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        records = ((f"{path}, row {n}", row) for n, row in enumerate(reader, start=2))
        return matrix_from_rows(
            records, reader.fieldnames or [], str(path), scenario.geography.walk_speed_m_per_min
        )


def matrix_from_rows(
    records: Iterable[tuple[str, Mapping[str, Any]]],
    columns: Sequence[str],
    label: str,
    speed_m_per_min: float,
) -> dict[tuple[str, str], float]:
    """A distance matrix in metres from ``(where, row)`` records of text cells.

    Columns ``from``, ``to`` and ``distance_m`` or ``minutes`` (at
    ``speed_m_per_min``); a row's ``distance_m`` wins when both are filled.
    """
    cols = set(columns)
    if not {"from", "to"} <= cols or not ({"distance_m", "minutes"} & cols):
        raise ScenarioError(
            f"{label}: columns from, to and distance_m (or minutes) are needed; "
            f"found {', '.join(sorted(cols)) or 'none'}"
        )
    matrix: dict[tuple[str, str], float] = {}
    for where, row in records:
        key = "distance_m" if row.get("distance_m") not in (None, "") else "minutes"
        try:
            value = float(row[key])
        except (TypeError, ValueError, KeyError):
            raise ScenarioError(
                f"{where}, column {key} = {_show(row.get(key))}: a number"
            ) from None
        if not math.isfinite(value) or value < 0:
            raise ScenarioError(f"{where}, column {key} = {value}: a finite number ≥ 0")
        metres = value if key == "distance_m" else value * speed_m_per_min
        matrix[(str(row["from"]).strip(), str(row["to"]).strip())] = metres
    return matrix


def dump_toml(
    scenario: Scenario,
    *,
    matrix_csv: str | None = None,
    tables: Mapping[str, str] | None = None,
) -> str:
    """The scenario as TOML text; ``matrix_csv`` replaces the reference to the
    distance matrix file.

    Rows are written inline, unless ``tables`` names a file for a section
    (``{"communities": "district.xlsx", ...}``): then that section is left out
    and ``[tables]`` points at the file instead.
    """
    import tomli_w

    data = scenario.to_dict()
    if matrix_csv is not None:
        data["geography"]["matrix_csv"] = matrix_csv
    if tables:
        for section in tables:
            data.pop(section, None)
        data["tables"] = dict(tables)
    header = f"# {scenario.name}\n"
    if scenario.provenance:
        header += "".join(f"# {line}\n" for line in scenario.provenance.splitlines())
    return header + tomli_w.dumps(data)
