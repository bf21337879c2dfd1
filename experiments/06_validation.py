"""06 — The simulation against exact queueing results, in one table and one figure.

Cases and runner live in :mod:`tuoyu_sim.theory_cases` (shared with the test suite).
"""

from __future__ import annotations

import numpy as np
from _common import Experiment, md_table
from matplotlib.figure import Figure

from tuoyu_sim.theory_cases import CheckResult, get_case, run_all, run_case

QUESTION = (
    "Does the day model reproduce the exact results of queueing theory — Erlang B with places "
    "or caregivers binding, the finite-horizon loss system starting empty at opening (places "
    "binding, caregivers binding, two age classes sharing caregivers), insensitivity of "
    "blocking to the stay distribution, and Little's law?"
)
QUANTITY = {
    "turn_away": ("拒收率", "turn-away"),
    "mean_occupancy": ("平均在园人数", "mean occupancy"),
    "little_ratio": ("L / (λW)", "L / (λW)"),
}


def figure(results: list[CheckResult], cjk: bool) -> Figure:
    """Simulated mean / exact with 95% (thick) and 99% (thin) intervals, one row per check."""
    n = len(results)
    fig = Figure(figsize=(10, 0.42 * n + 1.6), layout="constrained")
    ax = fig.subplots()
    y = np.arange(n)[::-1]
    for yi, r in zip(y, results, strict=True):
        colour = "#2ca02c" if r.inside else ("#ff7f0e" if r.inside99 else "#d62728")
        ax.plot([r.ci99_low / r.exact, r.ci99_high / r.exact], [yi, yi], color=colour, lw=1)
        ax.plot(
            [r.ci_low / r.exact, r.ci_high / r.exact],
            [yi, yi],
            color=colour,
            lw=4,
            solid_capstyle="butt",
        )
        ax.plot(r.mean / r.exact, yi, "o", color="black", ms=4)
    ax.axvline(1.0, color="black", lw=1, ls="--")
    labels = [
        f"{r.case} · {QUANTITY[r.quantity][0 if cjk else 1]}  (exact {r.exact:.4g})"
        for r in results
    ]
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel(
        "模拟值 / 精确值（粗线 95% CI，细线 99% CI；绿=95%内，橙=仅99%内，红=外）"
        if cjk
        else "simulated / exact (thick: 95% CI, thin: 99% CI; green inside 95%, "
        "orange inside 99% only, red outside)"
    )
    ax.set_title("仿真与排队论精确解对照" if cjk else "Simulation against exact queueing results")
    return fig


def main() -> int:
    exp = Experiment("06_validation", QUESTION)
    scale = 0.1 if exp.quick else 1.0
    exp.log(f"running every case (days x {scale:g})")
    results = run_all(scale=scale, level=0.95, workers=exp.workers)
    exp.csv("validation.csv", [r.record() for r in results])
    exp.figure(
        figure(results, exp.cjk),
        "validation.png",
        "Every theory comparison: the simulated mean divided by the exact value, with its "
        "95% (thick) and 99% (thin) confidence intervals; 1 is exact.",
    )
    inside95 = sum(r.inside for r in results)
    inside99 = sum(r.inside99 for r in results)
    table = md_table(
        [
            {
                "case": r.case,
                "q": QUANTITY[r.quantity][1],
                "theory": r.theory,
                "exact": f"{r.exact:.5g}",
                "steady": "—" if r.steady_state is None else f"{r.steady_state:.5g}",
                "sim": f"{r.mean:.5g}",
                "ci": f"{r.ci_low:.5g} – {r.ci_high:.5g}",
                "err": f"{100 * r.relative_error:+.2f}%",
                "hw": f"{100 * r.relative_half_width:.2f}%",
                "in": ("yes" if r.inside else ("99% only" if r.inside99 else "**no**")),
                "n": f"{r.replications} × {r.days}",
            }
            for r in results
        ],
        [
            ("case", "case"),
            ("q", "quantity"),
            ("theory", "exact value from"),
            ("exact", "exact"),
            ("steady", "steady-state formula"),
            ("sim", "simulated mean"),
            ("ci", "95% CI"),
            ("err", "error"),
            ("hw", "CI half-width"),
            ("in", "exact inside"),
            ("n", "replications × days"),
        ],
    )
    misses = [r for r in results if not r.inside]
    miss_text = ""
    follow_rows: list[CheckResult] = []
    if misses:
        miss_text = (
            "Outside the 95% interval: "
            + "; ".join(
                f"{r.case} {QUANTITY[r.quantity][1]} (simulated {r.mean:.5g} vs exact "
                f"{r.exact:.5g}, {100 * r.relative_error:+.2f}%, "
                f"{'inside' if r.inside99 else 'outside'} the 99% interval)"
                for r in misses
            )
            + ". With this many independent 95% intervals about one miss in twenty is expected."
        )
        # Follow-up rule, fixed in advance: every case with a miss is run again on a
        # fresh seed (case seed + 1000) with four times the replications.
        for name in dict.fromkeys(r.case for r in misses):
            case = get_case(name)
            reps = max(5, round(case.replications * (0.5 if exp.quick else 4)))
            days = max(1, round(case.days * scale))
            exp.log(f"follow-up: {name}, {reps} replications, seed {case.seed + 1000}")
            follow_rows.extend(
                run_case(
                    case,
                    days=days,
                    replications=reps,
                    seed=case.seed + 1000,
                    workers=exp.workers,
                ).results
            )
        follow_table = md_table(
            [
                {
                    "case": r.case,
                    "q": QUANTITY[r.quantity][1],
                    "exact": f"{r.exact:.5g}",
                    "sim": f"{r.mean:.5g}",
                    "ci": f"{r.ci_low:.5g} – {r.ci_high:.5g}",
                    "err": f"{100 * r.relative_error:+.2f}%",
                    "in": "yes" if r.inside else ("99% only" if r.inside99 else "**no**"),
                    "n": f"{r.replications} × {r.days}",
                }
                for r in follow_rows
            ],
            [
                ("case", "case"),
                ("q", "quantity"),
                ("exact", "exact"),
                ("sim", "simulated mean"),
                ("ci", "95% CI"),
                ("err", "error"),
                ("in", "exact inside"),
                ("n", "replications × days"),
            ],
        )
        still = [r for r in follow_rows if not r.inside99]
        reps_text = "half the full-mode" if exp.quick else "four times the"
        miss_text += (
            "\n\n**Follow-up** (rule fixed in advance: a case with a miss is re-run on a fresh "
            f"seed, case seed + 1000, with {reps_text} replications): "
            + (
                "the exact value is inside the 99% interval of every follow-up figure, so the "
                "miss reads as chance, not bias."
                if not still
                else "still outside the 99% interval: "
                + ", ".join(f"{r.case} {QUANTITY[r.quantity][1]}" for r in still)
                + " — worth investigating."
            )
            + "\n\n"
            + follow_table
        )
        exp.csv("validation_follow_up.csv", [r.record() for r in follow_rows])
    answer = f"""
The exact value lies inside the simulation's 95% interval in **{inside95} of {len(results)}**
comparisons and inside the 99% interval (the test suite's level) in **{inside99} of
{len(results)}**; the largest relative error is
{max(abs(r.relative_error) for r in results):.2%} and the intervals are
{min(r.relative_half_width for r in results):.2%}–{max(r.relative_half_width for r in results):.2%}
of the exact value wide. {miss_text}

{table}
"""
    method = """
Each case (`tuoyu_sim.theory_cases.cases()`, the same cases as `tests/test_theory_simulation.py`)
is a one-facility scenario with Poisson walk-ins on a flat profile; it is simulated with
independent replications and each quantity is estimated once per replication (turn-away pooled
over the replication's days; mean occupancy = child-minutes / opening minutes) and given as a
mean with Student-t intervals. Exact values come from `tuoyu_sim.queueing` (Erlang B; the
forward equations of the loss CTMC over the 07:30–19:00 day starting empty) and Little's law.
"""
    caveats = [
        "The Erlang B cases run a 24-hour day that starts empty, so their exact value is the "
        "finite-horizon day (forward equations); the steady-state formula (Erlang B, a(1 − B)) "
        "is shown beside it and differs by 0.1–0.2%, which the narrow occupancy intervals can "
        "see.",
        "95% intervals miss about 1 time in 20 by design; a single miss is not evidence of "
        "a bug, a pattern of misses in one direction would be.",
        "Quick mode runs a tenth of the days; its intervals are wide and say little.",
    ]
    exp.summary(method, answer, caveats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
