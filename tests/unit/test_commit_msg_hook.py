"""The commit-msg hook (.githooks/commit-msg) refuses subjects over 72 characters."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HOOK = Path(__file__).resolve().parents[2] / ".githooks" / "commit-msg"


def run_hook(tmp_path: Path, message: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "COMMIT_EDITMSG"
    path.write_text(message, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(HOOK), str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("length", [1, 50, 72])
def test_a_subject_of_at_most_72_characters_passes(tmp_path: Path, length: int) -> None:
    assert run_hook(tmp_path, "x" * length + "\n").returncode == 0


def test_a_subject_of_73_characters_is_refused_with_the_cut_shown(tmp_path: Path) -> None:
    subject = "Fix the bench " + "y" * 59
    assert len(subject) == 73
    result = run_hook(tmp_path, subject + "\n")
    assert result.returncode == 1
    assert "73 characters" in result.stderr
    assert f"{subject[:72]}|{subject[72:]}" in result.stderr


def test_only_the_subject_counts_not_the_body_or_git_comments(tmp_path: Path) -> None:
    message = (
        "# Please enter the commit message for your changes. Lines starting with '#' are ignored\n"
        "\n"
        "Give the bench scripts a tiny size\n"
        "\n"
        + "A body line may be as long as it needs to be, " * 5
        + "\n# On branch docs-layers, a comment line longer than seventy-two characters\n"
    )
    assert run_hook(tmp_path, message).returncode == 0


def test_the_hook_is_executable_for_git() -> None:
    assert HOOK.stat().st_mode & 0o111
