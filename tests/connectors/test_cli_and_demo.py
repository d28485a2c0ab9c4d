"""`rmt-hub connect` and `rmt-hub demo`, and the demo feed, over the real broker."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from connectors.demo import DemoManifest, feed_demo, generate
from hub.cli import connect, demo
from hub.config import HubSettings
from schemas.identifiers import is_valid_bsn
from schemas.regions import municipality_table
from tests.connectors.helpers import fill_inbox, profile
from tests.helpers.connectors import DATA, read_records
from topics import load_partners

pytestmark = pytest.mark.integration

cli = typer.Typer()
cli.add_typer(connect.app, name="connect")
cli.add_typer(demo.app, name="demo")


def _env(settings: HubSettings) -> dict[str, str]:
    assert settings.bootstrap_servers is not None
    assert settings.schema_registry_url is not None
    return {
        "HUB_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "HUB_TOPIC_PREFIX": settings.topic_prefix,
        "HUB_PARTNERS_FILE": str(settings.partners_file),
        "HUB_SCHEMA_REGISTRY_URL": settings.schema_registry_url,
        "HUB_DATA_DIR": str(settings.data_dir),
    }


def _digest(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_demo_generate_is_deterministic_realistic_and_spoils_a_few_rows(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("a", "b"):
        result = runner.invoke(
            cli,
            ["demo", "generate", "--people", "300", "--out", str(tmp_path / name), "--seed", "5"],
        )
        assert result.exit_code == 0, result.output
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    other = generate(tmp_path / "c", people=300, seed=6)
    assert _digest(tmp_path / "c") != _digest(tmp_path / "a")

    manifest = DemoManifest.load(tmp_path / "a")
    kinds = {f.kind for f in manifest.files}
    assert kinds == {"uwv", "gemeente", "social_partners", "sbb"}
    assert (
        sum(
            f.rows
            for f in manifest.files
            if f.kind != "social_partners" or "vacancies" not in f.path
        )
        > 0
    )
    assert all(
        f.invalid_lines for f in manifest.files if f.rows >= 10 and "vacancies" not in f.path
    )
    assert other.seed == 6

    uwv = next(f for f in manifest.files if f.kind == "uwv")
    lines = (tmp_path / "a" / uwv.path).read_text("utf-8").splitlines()
    good = [json.loads(line) for n, line in enumerate(lines, 1) if n not in uwv.invalid_lines]
    assert all(is_valid_bsn(p["bsn"]) for p in good)
    assert all(p["gemeentecode"] in municipality_table() for p in good)
    assert any("arrangement" in p for p in good)  # menu-card use
    wajongers = [p for p in good if p["uitkering"] == "wajong"]
    assert wajongers
    assert all(p["banenafspraak"] for p in wajongers)
    assert any(
        p["verminderde_loonwaarde"]
        and any(s.get("instrument") == "loondispensatie" for s in p["arrangement"]["diensten"])
        for p in wajongers
        if "arrangement" in p
    )  # wage dispensation only with an established reduced wage value
    assert not any(
        s.get("instrument") == "loondispensatie"
        for p in good
        if not p["verminderde_loonwaarde"] and "arrangement" in p
        for s in p["arrangement"]["diensten"]
    )
    assert len({p["gemeentecode"] for p in good}) > 30  # spread over the country

    amsterdam = next(f for f in manifest.files if f.partner == "gemeente-amsterdam")
    rows = (tmp_path / "a" / amsterdam.path).read_text("utf-8").splitlines()[1:]
    region = municipality_table()["0363"]
    codes = {r.split(";")[5] for n, r in enumerate(rows, 2) if n not in amsterdam.invalid_lines}
    assert all(municipality_table()[c] == region for c in codes)  # the gemeente's own region


def test_connect_import_reports_bad_rows_and_exits_2(env: HubSettings) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "connect",
            "import",
            "gemeente",
            str(DATA / "gemeente_bad.csv"),
            "-p",
            "gemeente-amsterdam",
        ],
        env=_env(env),
    )
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())  # rich wraps at the terminal's width
    assert "Rejected rows" in output
    assert "2 records published" in output
    wrong = runner.invoke(
        cli, ["connect", "import", "uwv", str(DATA / "uwv.jsonl"), "-p", "sbb"], env=_env(env)
    )
    assert wrong.exit_code == 1
    assert "SBB partner" in wrong.output


def test_connect_deliver_once_to_a_file_drop(env: HubSettings, tmp_path: Path) -> None:
    records = [profile(n) for n in range(3)]
    fill_inbox(env, "uwv", records)
    drop = tmp_path / "drop"
    result = CliRunner().invoke(
        cli,
        ["connect", "deliver", "-p", "uwv", "--to", f"file:{drop}", "--format", "csv", "--once"],
        env=_env(env),
    )
    assert result.exit_code == 0, result.output
    assert "3 delivered" in " ".join(result.output.split())
    (file,) = drop.glob("uwv-ClientProfile-*.csv")
    assert len(file.read_text("utf-8").splitlines()) == 4


def test_feed_demo_publishes_everything_once(env: HubSettings, tmp_path: Path) -> None:
    manifest = generate(
        tmp_path / "demo", people=40, seed=11, partners=load_partners(env.partners_file)
    )
    first = feed_demo(env, tmp_path / "demo")
    assert first.published > 0
    assert first.rejected == sum(len(f.invalid_lines) for f in manifest.files)
    second = feed_demo(env, tmp_path / "demo")
    assert second.published == 0
    assert second.duplicates == first.published
    outbox = read_records(env, f"{env.topic_prefix}.partner.uwv.outbox")
    assert len(outbox) == sum(i.report.published for i in first.items if i.file.partner == "uwv")
