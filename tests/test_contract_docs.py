"""Every command and code example in the docs runs; the references stay true.

Each Markdown file's ```bash blocks are run in order in a scratch folder that
sees the project's `scenarios/` (commands write their results under it):
lines that call `tuoyu-sim` (or `.venv/bin/tuoyu-sim`) run through this
interpreter; `bash scripts/...` set-up lines are what CI itself runs and are
skipped. A trailing `|| true` allows a non-zero exit, as in a shell. ```python
blocks run as scripts in the same folder.
"""

from __future__ import annotations

import csv
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted(
    [
        ROOT / "README.md",
        ROOT / "scenarios" / "README.md",
        ROOT / "experiments" / "README.md",
        ROOT / "benchmarks" / "README.md",
        *(ROOT / "docs").rglob("*.md"),
    ]
)
BLOCK = re.compile(r"^```(bash|python)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(path: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(path.read_text(encoding="utf-8"))]


def commands(text: str) -> list[tuple[list[str], bool]]:
    """``tuoyu-sim`` command lines of a bash block, with whether failure is allowed."""
    out = []
    for line in text.replace("\\\n", " ").splitlines():
        line = line.split(" #")[0].strip()
        allow = line.endswith("|| true")
        line = line.removesuffix("|| true").strip()
        words = shlex.split(line) if line else []
        if words and words[0] in ("tuoyu-sim", ".venv/bin/tuoyu-sim"):
            out.append((words[1:], allow))
    return out


RUNNABLE = [
    p
    for p in DOCS
    if any(commands(b) for k, b in blocks(p) if k == "bash")
    or any(k == "python" for k, _ in blocks(p))
]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios", target_is_directory=True)
    return tmp_path


def test_some_docs_have_examples() -> None:
    names = {p.name for p in RUNNABLE}
    assert {"tutorial.md", "README.md"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("doc", RUNNABLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_examples_run(doc: Path, workdir: Path) -> None:
    env = {**os.environ, "COLUMNS": "100", "MPLBACKEND": "Agg"}
    for kind, text in blocks(doc):
        if kind == "python":
            script = workdir / "example.py"
            script.write_text(text, encoding="utf-8")
            run = subprocess.run(
                [sys.executable, str(script)],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert run.returncode == 0, f"{doc.name}: python example failed:\n{run.stderr}"
            continue
        for args, allow_failure in commands(text):
            run = subprocess.run(
                [sys.executable, "-m", "tuoyu_sim", *args],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert "Traceback" not in run.stderr, f"{doc.name}: {args}\n{run.stderr}"
            if not allow_failure:
                assert run.returncode == 0, (
                    f"{doc.name}: tuoyu-sim {shlex.join(args)}\n{run.stderr}"
                )


SHELL_BLOCK = re.compile(r"^```(?:bash|sh|shell|console)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SCRIPTS = sorted(
    p for d in ("scripts", "benchmarks", "experiments") for p in (ROOT / d).glob("*.py")
)
# how a reader may start a command after the README's set-up: the project's own
# environment, or (after `source .venv/bin/activate`, as the tutorial says) its tools
ALLOWED = {".venv/bin/python", ".venv/bin/tuoyu-sim", ".venv/bin/pip", "tuoyu-sim", "bash"}
STARTERS = re.compile(r"^(\S*python3?|\S*/tuoyu-sim|tuoyu-sim|\S*pip3?|bash)$")


def _command_lines() -> list[tuple[str, str]]:
    """(where, line) of every shell command in the docs and in the scripts' usage lines."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for block in SHELL_BLOCK.findall(text):
            for line in block.replace("\\\n", " ").splitlines():
                found.append((str(doc.relative_to(ROOT)), line.split(" #")[0].strip()))
    for script in SCRIPTS:
        head = (
            script.read_text(encoding="utf-8").split('"""')[1]
            if '"""' in script.read_text(encoding="utf-8")
            else ""
        )
        for line in head.splitlines():
            line = line.strip().removeprefix("Run:").strip().strip("`")
            found.append((str(script.relative_to(ROOT)), line.split(" #")[0].strip()))
    return [(w, ln) for w, ln in found if ln and STARTERS.match(ln.split()[0])]


def test_every_command_uses_the_projects_environment() -> None:
    """Commands in every README, doc page and script usage line run as written on a
    fresh clone after the README's set-up: no machine's absolute interpreter path."""
    lines = _command_lines()
    assert len(lines) > 30
    wrong = [f"{w}: {ln}" for w, ln in lines if ln.split()[0] not in ALLOWED]
    assert not wrong, "\n".join(wrong)


def test_no_doc_names_a_path_of_the_machine_it_was_written_on() -> None:
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        assert "/work/" not in text and "/home/" not in text, doc


def test_cli_reference_is_current() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_cli_reference.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_option_is_in_the_cli_reference() -> None:
    import argparse

    from tuoyu_sim.cli import build_parser

    text = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in sub.choices.items():
        assert f"`tuoyu-sim {name}`" in text
        for action in p._actions:
            for opt in action.option_strings:
                if opt not in ("-h", "--help"):
                    assert f"`{opt}`" in text, f"{name} {opt} missing from docs/reference/cli.md"


@pytest.mark.slow
def test_every_output_column_is_documented(workdir: Path) -> None:
    """Run simulate, optimize, access and sweep on small cases; every CSV column is in
    outputs.md."""
    doc = (ROOT / "docs" / "reference" / "outputs.md").read_text(encoding="utf-8")
    runs = {
        "sim": [
            "simulate",
            "scenarios/ruyituo.toml",
            "--replications",
            "2",
            "--days",
            "1",
            "--quiet",
            "--no-figures",
            "--episodes",
            "--out",
            "sim",
        ],
        "opt": ["optimize", "scenarios/ruyituo.toml", "--no-figures", "--out", "opt"],
        "access": [
            "access",
            "scenarios/ruyituo.toml",
            "--planned",
            "scenarios/ruyituo.toml",
            "--no-figures",
            "--out",
            "access",
        ],
        "sweep": [
            "sweep",
            "scenarios/minimal.toml",
            "--set",
            "care_types.drop_in.stay.mean_hours=1,2",
            "--replications",
            "2",
            "--days",
            "1",
            "--quiet",
            "--no-figures",
            "--out",
            "sweep",
        ],
    }
    for out, args in runs.items():
        run = subprocess.run(
            [sys.executable, "-m", "tuoyu_sim", *args],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stderr
        for table in (workdir / out).glob("*.csv"):
            with table.open(encoding="utf-8") as fh:
                header = next(csv.reader(fh))
            for col in header:
                if "." in col:  # a swept key path, named by the user
                    continue
                base = re.sub(r"_(lo|hi)$", "", col)
                generic = re.sub(r"_(infant|toddler|older)$", "_<class>", base)
                generic = re.sub(r"_(drop_in|hourly)$", "_<type>", generic)
                assert f"`{generic}`" in doc, f"{table.name}: column {col} is not in outputs.md"
