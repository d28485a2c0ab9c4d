"""The layer contracts of pyproject.toml hold (``lint-imports``), and they bite.

The second test copies the packages to a temporary directory, adds a domain module that
imports Kafka there and shows ``lint-imports`` failing on it; the real tree is not touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("hub", "schemas", "topics", "consent", "connectors")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with ``root``'s pyproject.toml and ``root``'s packages first on the path."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_layer_contracts_hold() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_domain_module_importing_kafka_breaks_the_domain_contract(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(
            REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "schemas" / "leaky.py").write_text("import kafka\n", encoding="utf-8")

    result = lint_imports(tmp_path)

    assert result.returncode != 0, result.stdout
    assert "import no Kafka client, faust or FastAPI, not even indirectly BROKEN" in result.stdout
    assert "schemas.leaky -> kafka" in result.stdout
    assert "faust only in the stream modules KEPT" in result.stdout
