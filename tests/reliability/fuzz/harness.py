"""Running an atheris (libFuzzer) harness: seeds, arguments, the contract.

A harness module defines ``test_one_input(data: bytes) -> None`` and ``seeds()`` and
calls :func:`main`. The contract of every harness: the code under test may refuse an
input only with one of the hub's declared errors (:class:`hub.errors.HubError`
subclasses - FrameError, RecordError, CloudEventError, RowRejected, InputFormatError,
...) or a result that says why (a Rejection, a 4xx answer); anything else escaping is a
crash, and libFuzzer exits non-zero with the input saved.

Run one by hand (libFuzzer flags pass through)::

    .venv/bin/python -m tests.reliability.fuzz.fuzz_wire -atheris_runs=100000
    .venv/bin/python -m tests.reliability.fuzz.fuzz_wire -max_total_time=600 CORPUS_DIR

Without a corpus directory the harness writes its seeds to a temporary one; an empty
corpus directory gets the seeds written into it.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import atheris

__all__ = ["main"]


def main(test_one_input: Callable[[bytes], None], seeds: Callable[[], Iterable[bytes]]) -> None:
    argv = list(sys.argv)
    corpora = [Path(arg) for arg in argv[1:] if not arg.startswith("-")]
    if not corpora:
        corpora = [Path(tempfile.mkdtemp(prefix="rmt-fuzz-corpus-"))]
        argv.append(str(corpora[0]))
    if corpora[0].is_dir() and not any(corpora[0].iterdir()):
        write_seeds(corpora[0], seeds())
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


def write_seeds(directory: Path, seeds: Iterable[bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for index, seed in enumerate(seeds):
        (directory / f"seed-{index:03d}").write_bytes(seed)
