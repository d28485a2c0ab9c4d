"""The atheris harnesses of tests/reliability/fuzz, each run in a subprocess for a
bounded number of inputs: libFuzzer exits 0 when no input made the code under test
raise anything but the hub's declared errors (see fuzz/harness.py), and non-zero with
the input saved (``crash-*`` in the test's tmp dir) and the traceback when one did.

CI runs a few thousand inputs per harness with a fixed seed; ``--reliability=full``
runs each for ``RMT_FUZZ_SECONDS`` (300) seconds with a random seed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins.reliability import Scale

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
HARNESSES = {
    # harness: inputs in the short (CI) run
    "fuzz_wire": 20_000,
    "fuzz_router": 8_000,
    "fuzz_rows": 6_000,
    "fuzz_webhook": 20_000,
}


FULL_SECONDS = int(os.environ.get("RMT_FUZZ_SECONDS", "300"))
"""How long each harness runs at full size."""


@pytest.mark.timeout(FULL_SECONDS + 600)
@pytest.mark.parametrize("harness", sorted(HARNESSES))
def test_harness_finds_no_crash(harness: str, scale: Scale, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    budget = (
        [f"-max_total_time={FULL_SECONDS}", f"-atheris_runs={10**9}"]
        if scale.full
        else [f"-atheris_runs={HARNESSES[harness]}", "-seed=1"]
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            f"tests.reliability.fuzz.{harness}",
            *budget,
            "-max_len=8192",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ],
        cwd=ROOT,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},  # a traceback before libFuzzer's report
        capture_output=True,
        text=True,
        timeout=FULL_SECONDS + 500,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:  # the traceback, not pages of libFuzzer's progress lines
        report = [line for line in output.splitlines() if "REDUCE" not in line]
        pytest.fail("\n".join(report[-150:]))
    assert "Done" in output, output[-2000:]
    assert not list(tmp_path.glob("crash-*"))
