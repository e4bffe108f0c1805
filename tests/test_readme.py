"""The README's quick-start command works as written, on a fresh copy in a fresh virtualenv."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def quick_start() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    commands = re.findall(r"```sh\n(.+?)\n```", section)
    assert commands, "the README has no quick-start command"
    return commands[0]


def test_the_quick_start_is_the_install_and_demo_command() -> None:
    assert quick_start().endswith("pip install -e . && nmem demo")


@pytest.mark.slow
def test_readme_quick_start_runs_on_a_fresh_copy(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(
        ROOT, copy,
        ignore=shutil.ignore_patterns(".venv", ".git", "*.egg-info", "__pycache__",
                                      ".mypy_cache", ".ruff_cache", ".pytest_cache", "results",
                                      "node_modules"),
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    env["NMEM_HOME"] = str(tmp_path / "home")
    env["NO_COLOR"] = "1"
    done = subprocess.run(["bash", "-c", quick_start()], cwd=copy, env=env, capture_output=True,
                          text=True, timeout=900, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "NeuralMemory demo" in done.stdout
    assert "PostgreSQL 16" in done.stdout
    assert (tmp_path / "home" / "log" / "data.mdb").exists()
