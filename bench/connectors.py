"""Throughput and peak memory of the gemeente CSV importer, end to end.

Generates gemeente exports (``;``-separated, Dutch headers, dd-mm-jjjj dates, ~1% bad
rows) with the demo generator, then imports each through the real pipeline: streaming
CSV reader -> field parsing and validation -> ClientProfile -> deterministic event id ->
wire-format Avro with CloudEvents headers -> the partner's outbox on the embedded broker
(schemas in an embedded registry), bad rows to the dead-letter topic. Each size runs on
topics of its own, so de-duplication starts from an empty outbox. Record security is on,
as by default: the partner signs and encrypts what it publishes, with keys this script
creates in its temporary data directory.

Prints rows/s and the peak resident memory of this process while importing (sampled
every 10 ms, above the level just before the import), for a small and a large file: if
memory did not stay flat with the file size, the two peaks would differ by the ratio of
the sizes. Usage::

    python bench/connectors.py [--rows 100000] [--small 10000] [--warmup 2000]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._broker import add_broker_option, describe_broker, use_broker
from connectors.demo import write_gemeente_csv
from connectors.gemeente import import_gemeente
from hub.broker import broker_for
from hub.config import HubSettings, load_settings
from hub.registry.embedded import EmbeddedRegistry
from hub.sdk import PartnerClient
from hub.security.config import ensure_keys
from topics import apply_to_cluster, build_catalogue
from topics.partners import load_partners

PARTNER = "gemeente-amsterdam"
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """Resident set size of this process, now."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * _PAGE


class PeakRss:
    """Samples the RSS every 10 ms on a thread; ``peak`` is the highest seen."""

    def __init__(self) -> None:
        self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_bytes())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


def fresh_topics(settings: HubSettings) -> HubSettings:
    isolated = settings.model_copy(update={"topic_prefix": f"bench{uuid.uuid4().hex[:8]}"})
    apply_to_cluster(isolated, build_catalogue(isolated))
    return isolated


def run(settings: HubSettings, workdir: Path, rows: int) -> tuple[float, float, int, int]:
    """(rows/s, peak MiB above baseline, published, rejected) of importing ``rows`` rows."""
    path = workdir / f"gemeente-{rows}.csv"
    write_gemeente_csv(path, rows=rows, seed=rows)
    isolated = fresh_topics(settings)
    with PartnerClient(isolated, PARTNER) as client:
        client.preload()  # reading the (empty) outbox and registering are not the import
        baseline = rss_bytes()
        with PeakRss() as peak:
            started = time.perf_counter()
            report = import_gemeente(client, path, progress=False)
            elapsed = time.perf_counter() - started
    return (
        rows / elapsed,
        (peak.peak - baseline) / 2**20,
        report.published,
        report.rejected_rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=2_000, help="rows imported first, unmeasured")
    add_broker_option(parser)
    args = parser.parse_args()
    use_broker(args.broker)
    logging.disable(logging.WARNING)  # the development pseudonym key warning
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with (
            broker_for(load_settings(data_dir=workdir / "hub")) as running,
            EmbeddedRegistry(running, port=0) as registry,
        ):
            settings = running.model_copy(update={"schema_registry_url": registry.url})
            ensure_keys(settings, load_partners(settings.partners_file))
            run(settings, workdir, args.warmup)  # warm-up: schema registration, imports, caches
            print(f"gemeente CSV importer, embedded broker on {settings.bootstrap_servers}")
            print(describe_broker(settings))
            print(f"{'rows':>9} {'rows/s':>9} {'peak RSS':>10} {'published':>10} {'rejected':>9}")
            for rows in (args.small, args.rows):
                rate, peak, published, rejected = run(settings, workdir, rows)
                print(f"{rows:>9} {rate:>9,.0f} {peak:>7.1f} MiB {published:>10} {rejected:>9}")


if __name__ == "__main__":
    main()
