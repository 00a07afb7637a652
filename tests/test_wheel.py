"""The built wheel, installed into a fresh virtual environment, runs the README's quick start outside the repository."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "runs",
                                     ".mypy_cache", ".pytest_cache", ".hypothesis")


def readme_quick_start() -> str:
    """The first python block of README's "Quick start" section."""
    section = (ROOT / "README.md").read_text().split("## Quick start", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def run(*args: str | Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_wheel_installs_and_runs_the_quick_start(tmp_path):
    setuptools = tuple(int(x) for x in importlib.metadata.version("setuptools").split(".")[:2])
    if setuptools < (77, 0):
        pytest.skip("building the wheel offline needs setuptools >= 77 in this environment")
    source, dist, venv, elsewhere = (tmp_path / name for name in ("source", "dist", "venv", "elsewhere"))
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)   # build from a copy: the repository stays untouched
    elsewhere.mkdir()
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, source,
        cwd=elsewhere)
    wheel, = dist.glob("memtasks-*.whl")

    # A fresh venv; the dependencies (torch, gymnasium, …) come from this environment through a .pth file,
    # so nothing is downloaded. Its .pth files (an editable install of memtasks) are not processed there.
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=elsewhere)
    python = venv / "bin" / "python"
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=elsewhere).strip())
    (purelib / "_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel,
        cwd=elsewhere)

    check = ("import importlib.metadata as m, pathlib, agents, curricula, memtasks\n"
             "for p in (memtasks, curricula, agents):\n"
             "    here = pathlib.Path(p.__file__).parent\n"
             "    assert (here / 'py.typed').is_file(), here\n"
             "    print(here)\n"
             "meta = m.metadata('memtasks')\n"
             "print(meta['License-Expression'], sorted(p.name for p in m.files('memtasks') if 'licenses' in str(p)))\n")
    lines = run(python, "-c", check, cwd=elsewhere).splitlines()
    assert all(Path(line).is_relative_to(purelib) for line in lines[:3]), lines   # the wheel's copies, not the repo's
    assert lines[3] == "MIT ['LICENSE']"
    assert run(python, "-c", readme_quick_start(), cwd=elsewhere).strip()   # it prints labels and correctness
    import memtasks
    assert run(venv / "bin" / "memtasks", "--version", cwd=elsewhere) == f"memtasks {memtasks.__version__}\n"
