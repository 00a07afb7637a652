"""The package's identity: one version everywhere, `memtasks --version`, type markers, licence and citation files."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest

import agents
import curricula
import memtasks

ROOT = Path(__file__).resolve().parents[1]


def test_one_version_everywhere(memtasks_cli):
    version = memtasks.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert curricula.__version__ == agents.__version__ == version
    assert importlib.metadata.version("memtasks") == version   # pyproject reads memtasks/version.py
    code, out, _ = memtasks_cli(["--version"])
    assert code == 0 and out == f"memtasks {version}\n"
    assert re.search(rf"^version: {re.escape(version)}$", (ROOT / "CITATION.cff").read_text(), re.M)
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog and f"## [{version}]" in changelog


def test_packages_are_typed():
    for package in (memtasks, curricula, agents):
        assert (Path(package.__file__).parent / "py.typed").is_file()


def test_licence_and_citation():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    citation = (ROOT / "CITATION.cff").read_text()
    for name in ("Khajehabdollahi", "Zeraati", "Giannakakis", "Schäfer", "Martius", "Levina"):
        assert f"family-names: {name}" in citation
    assert "Emergent mechanisms for long timescales depend on training curriculum" in citation
    assert "year: 2024" in citation and "license: MIT" in citation


@pytest.mark.slow
def test_mypy_finds_no_errors():
    """The typed packages check clean with the settings in pyproject.toml."""
    api = pytest.importorskip("mypy.api")
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(ROOT / ".mypy_cache"),
                                str(ROOT / "memtasks"), str(ROOT / "curricula"),
                                str(ROOT / "agents")])
    assert status == 0, out + err


def test_works_with_table_names_tests_that_exist():
    """Every row of README's "Works with" table names tests, and each named test is defined in its file."""
    section = (ROOT / "README.md").read_text().split("## Works with", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| with ")]
    assert len(rows) >= 10
    for row in rows:
        named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", row)
        assert named, row
        for path, name in named:
            assert f"def {name}(" in (ROOT / path).read_text(), (path, name)
