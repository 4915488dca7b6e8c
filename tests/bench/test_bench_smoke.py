"""`python -m bench --quick` end to end on the cheap sections: it runs, and the report is whole.

No timing is asserted: only that every section is there, that the sections run
produced their tables, and that the ones left out say so.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.sections import CHEAP, SECTIONS
from tests.support.procs import REPO

pytestmark = pytest.mark.slow


def test_quick_run_of_the_cheap_sections_writes_every_section(tmp_path: Path) -> None:
    output = tmp_path / "benchmarks.md"
    only = [arg for name in CHEAP for arg in ("--only", name)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_MULTIPROC")}
    env["PYTHONPATH"] = str(REPO)
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", *only, "--listings", "5000",
         "--state", str(tmp_path / "state"), "--output", str(output)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    text = output.read_text()
    assert text.startswith("# Benchmarks")
    assert "--quick" in text and "(quick mode)" in text
    for field in ("- Command:", "- Date:", "- Machine:", "- Python", "- Servers:", "- Code:"):
        assert field in text
    parts = text.split("\n## ")[1:]
    titles = [part.splitlines()[0] for part in parts]
    assert titles == [*SECTIONS.values(), "Decisions behind these numbers"]
    parts = parts[: len(SECTIONS)]
    for name, part in zip(SECTIONS, parts, strict=True):
        if name in CHEAP:
            assert "|---" in part and "failed" not in part, part
        else:
            assert "_Not run in this invocation._" in part


def test_only_refuses_an_unknown_section() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "nonsense"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2
    assert "invalid choice" in run.stderr
