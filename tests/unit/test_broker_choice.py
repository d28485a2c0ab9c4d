"""Which broker the hub starts itself, and why (no broker runs here: real `java`
executables are stood in for by tiny scripts that print a version, as java does)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.broker import choose_broker, distribution
from hub.config import load_settings


@pytest.fixture(autouse=True)
def _fresh_java_lookup() -> Iterator[None]:
    distribution.find_java.cache_clear()
    yield
    distribution.find_java.cache_clear()


def _java_home(tmp_path: Path, version: str) -> Path:
    home = tmp_path / f"jdk-{version}"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2025-04-15' >&2\n")
    java.chmod(0o755)
    return home


def _only(monkeypatch: pytest.MonkeyPatch, home: Path | None) -> None:
    """JAVA_HOME is ``home`` and PATH holds no java at all."""
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("HUB_EMBEDDED_BROKER", raising=False)
    if home is None:
        monkeypatch.delenv("JAVA_HOME", raising=False)
    else:
        monkeypatch.setenv("JAVA_HOME", str(home))


def test_java_17_or_later_means_apache_kafka(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _java_home(tmp_path, "21.0.2")
    _only(monkeypatch, home)
    choice = choose_broker(load_settings(data_dir=tmp_path))
    assert choice.kind == "kafka"
    assert str(home / "bin" / "java") in choice.reason
    assert choice.describe().startswith(f"Apache Kafka {distribution.kafka_version()} (Java 21")


def test_no_java_means_tansu_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _only(monkeypatch, None)
    choice = choose_broker(load_settings(data_dir=tmp_path))
    assert choice.kind == "tansu"
    assert "no Java found through JAVA_HOME or PATH" in choice.describe()


def test_an_old_java_means_tansu_and_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _java_home(tmp_path, "1.8.0_392")
    _only(monkeypatch, home)
    choice = choose_broker(load_settings(data_dir=tmp_path))
    assert choice.kind == "tansu"
    assert "is Java 8, Apache Kafka needs 17+" in choice.reason


def test_the_setting_wins_over_the_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _only(monkeypatch, _java_home(tmp_path, "17.0.15"))
    monkeypatch.setenv("HUB_EMBEDDED_BROKER", "tansu")
    assert choose_broker(load_settings(data_dir=tmp_path)).kind == "tansu"
    _only(monkeypatch, None)
    monkeypatch.setenv("HUB_EMBEDDED_BROKER", "kafka")
    assert choose_broker(load_settings(data_dir=tmp_path)).kind == "kafka"


def test_the_jar_cache_lives_outside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RMT_HUB_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert distribution.libs_dir().is_relative_to(tmp_path / "xdg" / "rmt-hub")
    monkeypatch.setenv("RMT_HUB_CACHE", str(tmp_path / "own"))
    libs = distribution.libs_dir()
    assert libs.is_relative_to(tmp_path / "own")
    assert f"kafka-{distribution.kafka_version()}-" in str(libs)
    assert not distribution.installed()  # nothing was fetched into the new place
    repo = Path(__file__).resolve().parents[2]
    assert not Path(os.path.commonpath([libs, repo])).samefile(repo)
