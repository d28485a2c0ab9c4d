"""``rmt-hub intake advise``: the selection aid on the command line, Dutch first."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hub.cli.intake import app
from schemas.examples import example


def _profile_file(tmp_path: Path) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(example("ClientProfile").model_dump_json(), encoding="utf-8")
    return path


def test_the_aid_scores_in_dutch_and_leaves_the_decision_open(tmp_path: Path) -> None:
    path = _profile_file(tmp_path)
    env = {"COLUMNS": "160"}
    said = CliRunner().invoke(app, ["advise", str(path), "--on", "2021-03-09"], env=env)
    assert said.exit_code == 0, said.output
    assert "Selectiehulp, 9 maart 2021" in said.output
    assert "sector voor werkloosheid krimpt" in said.output
    assert "Groot Amsterdam" in said.output
    assert "De criteria samen wijzen op selectie." in said.output
    assert "Nog te beoordelen: eigen behoefte en motivatie, schoolverlater." in said.output
    assert "de beslissing is aan u" in said.output
    judged = CliRunner().invoke(
        app, ["advise", str(path), "--on", "2021-03-09", "--own-need", "--lang", "en"], env=env
    )
    assert judged.exit_code == 0, judged.output
    assert "Selection aid, 9 March 2021" in judged.output
    assert "Still to judge: school leaver." in judged.output
    score = next(line for line in said.output.splitlines() if line.startswith("Score"))
    judged_score = next(line for line in judged.output.splitlines() if line.startswith("Score"))
    assert score.startswith("Score 4,5 van drempel 3")  # Dutch decimals
    assert judged_score.startswith("Score 6.5 of threshold 3")  # own need weighs 2


def test_a_file_that_is_no_profile_is_refused_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    path.write_text('{"bsn": 1}', encoding="utf-8")
    said = CliRunner().invoke(app, ["advise", str(path)], env={"COLUMNS": "160"})
    assert said.exit_code != 0
    assert "not a client profile" in said.output
