"""Every benchmark script runs end to end at a tiny size and prints its figures.

Each script is run as a subprocess, as a reader of the README would run it, with its own
size flags turned down so the whole file stays at a couple of minutes. A script added to
``bench/`` without an entry here fails :func:`test_every_bench_script_is_run_here`, so
none can silently rot again (``bench/connectors.py`` did once: record security became the
default and the script never created the partner's key).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"


@dataclass(frozen=True)
class TinyRun:
    """The arguments of a tiny run and a line its figures must match."""

    args: tuple[str, ...]
    figures: str


TINY: dict[str, TinyRun] = {
    "serde.py": TinyRun(
        ("--records", "200", "--rounds", "1"),
        r"^encode\s+[\d,]+ r/s\s+[\d,]+ r/s\s+\d+\.\d\d$",
    ),
    "consent.py": TinyRun(
        ("--subjects", "200", "--decisions", "200"),
        r"^decisions/s\s+[\d,]+\s",
    ),
    "monitor.py": TinyRun(
        ("--people", "50", "--rounds", "1"),
        r"^faust agent, end to end\s+[\d,]+ events/s",
    ),
    "router.py": TinyRun(
        ("--records", "50", "--latency-records", "10", "--rate", "50", "--subjects", "10"),
        r"^router/passthrough: throughput \d+\.\d+, p50 latency",
    ),
    "crypto.py": TinyRun(
        ("--records", "50", "--rounds", "1", "--subjects", "10", "--size", "100"),
        r"^router throughput on/off: \d+\.\d\d",
    ),
    "brokers.py": TinyRun(
        ("--size", "tiny", "--scripts", "monitor.py", "--brokers", "kafka", "--no-write"),
        r"^brokers: 1 of 1 runs succeeded$",
    ),
    "matching.py": TinyRun(
        ("--people", "500", "--vacancies", "50", "--no-progress"),
        r"^throughput\s+[\d,]+ pairs/s",
    ),
    "soak.py": TinyRun(
        ("--rate", "20", "--duration", "4", "--interval", "2", "--subjects", "10"),
        r"^summary: .* published (\d+), delivered \1 \(0 missing, 0 duplicates\)",
    ),
}
# scripts with tests of their own below: the connectors regression and the long-run driver
OWN_TESTS = {"connectors.py", "reliability.py"}


def run_bench(script: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_printed(result: subprocess.CompletedProcess[str], figures: str) -> None:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert re.search(figures, result.stdout, re.MULTILINE), result.stdout


# scripts that start a broker (all but the in-process consent bench) say which one
NO_BROKER = {"consent.py", "brokers.py", "matching.py"}  # brokers.py: each broker it is given


def test_every_bench_script_is_run_here() -> None:
    scripts = {p.name for p in BENCH.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(TINY) | OWN_TESTS


@pytest.mark.parametrize("script", sorted(TINY))
def test_bench_script_runs_at_tiny_size(script: str) -> None:
    tiny = TINY[script]
    result = run_bench(script, *tiny.args)
    assert_printed(result, tiny.figures)
    if script not in NO_BROKER:  # measured on the default broker, and says so
        assert_printed(result, r"^broker: Apache Kafka \d+\.\d+\.\d+ \(HUB_EMBEDDED_BROKER\)$")


def test_regression_bench_connectors_had_no_key_for_the_partner() -> None:
    # the options the script had when it broke; the default warm-up of 2,000 rows included
    result = run_bench("connectors.py", "--rows", "200", "--small", "100")
    assert "MissingKeyError" not in result.stderr
    # one line per size: rows, rows/s, peak RSS, published, rejected
    assert_printed(result, r"^\s+100\s+[\d,]+\s+[\d.]+ MiB\s+\d+\s+\d+$")
    assert_printed(result, r"^\s+200\s+[\d,]+\s+[\d.]+ MiB\s+\d+\s+\d+$")


def test_reliability_driver_runs_one_quick_test_and_a_short_soak(tmp_path: Path) -> None:
    """The long-run driver, cut down: one quick reliability test and a 4-second soak.

    ``--results`` points into ``tmp_path`` so bench/RESULTS.md keeps the last real run.
    """
    results = tmp_path / "RESULTS.md"
    quick_test = "test_safe_cell_quotes_exactly_the_formula_starts"
    result = run_bench(
        "reliability.py",
        "--soak-rate=20",
        "--soak-duration=4",
        "--soak-interval=2",
        "--fuzz-seconds=1",
        f"--results={results}",
        "--",
        "-k",
        quick_test,
        "-p",
        "no:cacheprovider",
    )
    assert_printed(result, rf"^wrote {re.escape(str(results))}$")
    written = results.read_text(encoding="utf-8")
    assert "1 of 1 passed" in written
    assert f"`test_csv_output::{quick_test}` | passed" in written
    assert "Verdict: passed." in written
