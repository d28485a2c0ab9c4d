"""Sustained load through the whole path at a fixed rate: throughput, latency, lag, memory.

Starts its own embedded broker (or uses ``HUB_BOOTSTRAP_SERVERS``), a schema registry,
``--workers`` router workers (subprocesses, as in production; monitor events on, record
security on unless ``--security off``), grants every subject a consent for the
municipality, then UWV publishes client profiles (encrypted to the hub and signed, as the
SDK does) at ``--rate`` records/s for ``--duration`` seconds. A reader follows the
municipality's inbox and matches every delivery to its record by source event id: the
latency of a record is from its send to its arrival in the inbox.

Every ``--interval`` seconds a line: elapsed time, records published and delivered so
far, throughput and p50/p99 latency of the deliveries of that interval, the router's lag
(outbox records its consumer group has not committed: not yet routed, or routed since
the last commit - the router commits every second, so about one second of records is
normal), the resident memory (VmRSS from /proc) and the CPU share of each router worker
and of the broker. After
``--duration`` publishing stops and the run drains (at most ``--drain`` seconds) until
every record is delivered and the lag is 0; a summary follows.

Exit status 1, with the reason, when:

* **memory grows without bound** in a router worker. Its RSS is sampled every second;
  the first ``--warmup`` seconds (default: a fifth of the run, at least 5 s: imports,
  caches, the first key of each subject) are ignored and the rest is cut in thirds. The
  worker fails when the median of the last third exceeds the median of the first third
  by more than ``--rss-growth-mb`` *and* by more than ``--rss-growth-pct`` percent, *and*
  it is still rising in the last third (its least-squares slope there is at least a
  quarter of the slope between the two thirds): a step that levels off (a cache filling
  up) passes, steady growth does not. The broker's RSS is printed, not judged: the
  embedded broker is memory-only and keeps every record, so it grows with the data by
  design (``--judge-broker`` judges it too, for a broker with retention);
* **the lag does not recover**: after the drain the lag is above ``--max-lag``, or
  records published were never delivered;
* a record is delivered twice.

On the embedded broker, long runs measure the broker as much as the hub: Tansu is
memory-only and its CPU per request grows with the data it holds (measured: a constant
600 records/s of 1 KB produced and consumed took 19% of a core with 9,000 records
stored, 86% with 81,000), so over minutes latency rises and the lag may not recover
although the router has CPU to spare (the CPU column tells which). Point
``HUB_BOOTSTRAP_SERVERS`` at a real cluster for soaks longer than a few minutes.

Usage::

    python bench/soak.py [--rate 200] [--duration 60] [--interval 5] [--workers 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._broker import add_broker_option, describe_broker, router_options, use_broker
from bench.crypto import sealed
from bench.router import RECIPIENT, Arrivals, grant_consents, profiles
from hub.broker import broker_for
from hub.config import HubSettings, load_settings
from hub.kafka import producer
from hub.registry import client_for
from hub.registry.embedded import EmbeddedRegistry
from hub.router.codec import SOURCE_EVENT_HEADER
from hub.router.runtime import RouterProcess, router_lag
from hub.security.config import ensure_keys, partner_key_store
from hub.security.pipeline import PartnerSecurity
from hub.serde.canonical import CanonicalCodec
from topics import apply_to_cluster, build_catalogue, load_partners

PUBLISHER = "uwv"
MIB = 1024.0


# --- memory -----------------------------------------------------------------------------------


def rss_mib(pid: int | None) -> float | None:
    """Resident memory of ``pid`` in MiB (VmRSS of /proc/<pid>/status); None when gone."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / MIB
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of ``pid`` so far (/proc/<pid>/stat); None when gone."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def broker_pid(bootstrap_servers: str) -> int | None:
    """The embedded broker this process started (a child running ``tansu`` on the
    bootstrap port), or None (an external cluster)."""
    port = bootstrap_servers.split(",", maxsplit=1)[0].rsplit(":", 1)[-1]
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me and "tansu" in command and f":{port}" in command:
            return int(entry.name)
    return None


def _slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB) points, in MiB per minute (0 for < 2 points)."""
    if len(points) < 2:
        return 0.0
    mean_t = statistics.fmean(t for t, _ in points)
    mean_m = statistics.fmean(m for _, m in points)
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    return sum((t - mean_t) * (m - mean_m) for t, m in points) / var * 60


@dataclass(frozen=True)
class Growth:
    """The memory verdict of one process (see the module docstring)."""

    start_mib: float
    """Median RSS of the first third after warm-up."""
    end_mib: float
    """Median RSS of the last third."""
    peak_mib: float
    slope_mib_min: float
    """From the first third to the last (centre to centre)."""
    last_slope_mib_min: float
    """Within the last third."""
    unbounded: bool

    @property
    def growth_mib(self) -> float:
        return self.end_mib - self.start_mib


def memory_growth(
    samples: Sequence[tuple[float, float]],
    *,
    warmup_s: float,
    growth_mib: float,
    growth_pct: float,
) -> Growth | None:
    """Judge ``samples`` (seconds since the start, RSS MiB); None when fewer than 6 samples
    follow the warm-up (too short a run to tell)."""
    kept = [(t, m) for t, m in samples if t >= warmup_s]
    if len(kept) < 6:
        return None
    third = len(kept) // 3
    first, last = kept[:third], kept[-third:]
    start = statistics.median(m for _, m in first)
    end = statistics.median(m for _, m in last)
    span = statistics.fmean(t for t, _ in last) - statistics.fmean(t for t, _ in first)
    overall = (end - start) / span * 60 if span > 0 else 0.0
    last_slope = _slope(last)
    grew = end - start > growth_mib and end - start > start * growth_pct / 100
    rising = overall > 0 and last_slope >= overall / 4
    return Growth(
        start_mib=start,
        end_mib=end,
        peak_mib=max(m for _, m in kept),
        slope_mib_min=overall,
        last_slope_mib_min=last_slope,
        unbounded=grew and rising,
    )


# --- probing in the background ----------------------------------------------------------------


@dataclass
class Probe:
    """Samples RSS of named processes every second and the router's lag every
    ``lag_every_s``, in a thread (so the pacing of the publisher is not disturbed)."""

    settings: HubSettings
    processes: Callable[[], dict[str, int | None]]
    lag_every_s: float
    started: float = field(default_factory=time.perf_counter)
    rss: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    cpu: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """Per process, (seconds since the start, CPU seconds used so far)."""
    lag: int | None = None
    lag_error: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Probe:
        self._thread = threading.Thread(target=self._run, name="probe", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def latest(self, name: str) -> float | None:
        found = self.rss.get(name)
        return found[-1][1] if found else None

    def cpu_share(self, name: str, since: float) -> float | None:
        """Percent of one core ``name`` used from ``since`` (seconds) to its last sample."""
        found = [(t, c) for t, c in self.cpu.get(name, []) if t >= since]
        if len(found) < 2 or found[-1][0] <= found[0][0]:
            return None
        return (found[-1][1] - found[0][1]) / (found[-1][0] - found[0][0]) * 100

    def measure_lag(self) -> int | None:
        try:
            self.lag = sum(router_lag(self.settings).values())
            self.lag_error = None
        except Exception as exc:  # a probe must not end the run; the verdict says it
            self.lag_error = f"{type(exc).__name__}: {exc}"
        return self.lag

    def _run(self) -> None:
        next_lag = 0.0
        while not self._stop.is_set():
            now = time.perf_counter() - self.started
            for name, pid in self.processes().items():
                mib, used = rss_mib(pid), cpu_seconds(pid)
                if mib is not None:
                    self.rss.setdefault(name, []).append((now, mib))
                if used is not None:
                    self.cpu.setdefault(name, []).append((now, used))
            if now >= next_lag:
                self.measure_lag()
                next_lag = now + self.lag_every_s
            self._stop.wait(1.0)


# --- the run ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _ms(values: Sequence[float], fraction: float) -> str:
    return f"{percentile(values, fraction):7.1f}" if values else "      -"


def _mib(value: float | None) -> str:
    return f"{value:6.1f}" if value is not None else "     -"


def _pct(value: float | None) -> str:
    return f"{value:4.0f}%" if value is not None else "    -"


def start_workers(settings: HubSettings, count: int, data_dir: Path) -> list[RouterProcess]:
    workers = []
    for number in range(1, count + 1):
        options = router_options(
            settings,
            status_file=data_dir / f"router-{number}.status.json",
            monitor_events=True,
            metrics_port=0,
        )
        workers.append(
            RouterProcess(settings, options, log_file=data_dir / f"router-{number}.log").start()
        )
    deadline = time.monotonic() + 180
    wanted = set(range(settings.topic_partitions))
    while True:
        statuses = [w.status() or {} for w in workers]
        ready = {p for s in statuses for p in s.get("ready", [])}
        if ready == wanted and all(s.get("ready") == s.get("assigned") for s in statuses):
            return workers
        dead = [w for w in workers if not w.running]
        if dead or time.monotonic() > deadline:
            log = (data_dir / "router-1.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"router workers not ready (exited: {len(dead)}):\n{log}")
        time.sleep(0.2)


@dataclass
class Totals:
    published: int = 0
    delivered: int = 0
    duplicates: int = 0
    latencies: list[float] = field(default_factory=list)


def soak(settings: HubSettings, args: Any, data_dir: Path) -> list[str]:
    """Run the soak; returns the reasons it failed (none: passed)."""
    catalogue = build_catalogue(settings)
    apply_to_cluster(settings, catalogue)
    security = args.security == "on"
    if security:
        ensure_keys(settings, load_partners(settings.partners_file))
    codec = CanonicalCodec(client_for(settings))
    subjects = [f"psn-soak-{i:05d}" for i in range(args.subjects)]
    grant_consents(settings, codec, subjects)
    outbox, inbox = catalogue.outbox(PUBLISHER).name, catalogue.inbox(RECIPIENT).name
    batch = profiles(codec, outbox, subjects)
    if security:
        partner = PartnerSecurity.from_store(partner_key_store(settings), PUBLISHER)
        batch = sealed(batch, partner, outbox)

    workers = start_workers(settings, args.workers, data_dir)
    broker = broker_pid(settings.bootstrap_servers or "")
    out = producer(settings, linger_ms=5, batch_size=256 * 1024)
    arrivals = Arrivals(settings, inbox, SOURCE_EVENT_HEADER)
    probe: Probe | None = None
    try:
        warm = batch(len(subjects))  # first key of each subject, caches: not measured
        for _, key, value, headers in warm:
            out.send(outbox, key=key, value=value, headers=headers)
        out.flush()
        arrivals.wait({event_id for event_id, *_ in warm}, timeout_s=180)
        arrivals.seen.clear()

        def processes() -> dict[str, int | None]:
            named: dict[str, int | None] = {f"router-{i}": w.pid for i, w in enumerate(workers, 1)}
            return named | ({"broker": broker} if broker is not None else {})

        probe = Probe(settings, processes, lag_every_s=args.interval).start()
        totals = run_load(args, out=out, outbox=outbox, batch=batch, arrivals=arrivals, probe=probe)
        dead = [w.pid for w in workers if not w.running]
        held = {f"router-{i}": (w.status() or {}).get("held", {}) for i, w in enumerate(workers, 1)}
    finally:
        if probe is not None:
            probe.stop()
        arrivals.close()
        out.close()
        for worker in workers:
            worker.stop()
    failures = verdict(args, totals, probe, dead)
    for name, counts in held.items():
        described = ", ".join(f"{what.replace('_', ' ')} {n:,}" for what, n in counts.items())
        print(f"  {name} holds (ids on disk): {described or 'unknown'}")
    return failures


def run_load(
    args: Any,
    *,
    out: Any,
    outbox: str,
    batch: Callable[[int], list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]]],
    arrivals: Arrivals,
    probe: Probe,
) -> Totals:
    """Publish at the rate for the duration, then drain; print a line per interval."""
    totals = Totals()
    sent: dict[str, float] = {}
    interval: list[float] = []
    started = probe.started
    next_line = args.interval
    last_line = (0.0, 0)
    names = sorted(probe.processes())
    print(
        f"{'elapsed':>8} {'published':>10} {'delivered':>10} {'rec/s':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'lag':>7}  RSS MiB / CPU of one core: "
        + " ".join(f"{name:>15}" for name in names)
    )
    while True:
        now = time.perf_counter()
        elapsed = now - started
        if elapsed < args.duration:
            due = int(args.rate * elapsed) - totals.published
            if due > 0:
                for event_id, key, value, headers in batch(due):
                    out.send(outbox, key=key, value=value, headers=headers)
                    sent[event_id] = time.perf_counter()
                totals.published += due
        for event_id, arrived in list(arrivals.seen.items()):
            arrivals.seen.pop(event_id, None)
            at = sent.pop(event_id, None)
            if at is None:
                totals.duplicates += 1
                continue
            interval.append((arrived - at) * 1000)
            totals.delivered += 1
        if elapsed >= next_line:
            span = elapsed - last_line[0]
            rate = (totals.delivered - last_line[1]) / span if span > 0 else 0.0
            lag = "?" if probe.lag is None else str(probe.lag)
            usage = " ".join(
                f"{_mib(probe.latest(name)):>9}{_pct(probe.cpu_share(name, last_line[0])):>6}"
                for name in names
            )
            print(
                f"{elapsed:7.0f}s {totals.published:>10} {totals.delivered:>10} {rate:>8.0f} "
                f"{_ms(interval, 0.5)} {_ms(interval, 0.99)} {lag:>7}  "
                f"{' ' * 26}{usage}",
                flush=True,
            )
            totals.latencies += interval
            interval = []
            last_line = (elapsed, totals.delivered)
            next_line += args.interval
        if elapsed >= args.duration:
            if not sent and probe.measure_lag() == 0:
                break
            if elapsed >= args.duration + args.drain:
                break
            out.flush()
        time.sleep(0.01)
    totals.latencies += interval
    probe.measure_lag()
    return totals


def verdict(args: Any, totals: Totals, probe: Probe | None, dead: list[int | None]) -> list[str]:
    """Print the summary; the reasons the run failed."""
    assert probe is not None
    failures: list[str] = []
    lat = totals.latencies
    print(
        f"\nsummary: {args.duration:.0f} s at {args.rate:.0f} rec/s, {args.workers} router "
        f"worker(s), security {args.security}: published {totals.published}, delivered "
        f"{totals.delivered} ({totals.published - totals.delivered} missing, "
        f"{totals.duplicates} duplicates), throughput {totals.delivered / args.duration:.0f} "
        f"rec/s, latency p50 {_ms(lat, 0.5).strip()} ms, p99 {_ms(lat, 0.99).strip()} ms"
    )
    warmup = args.warmup if args.warmup is not None else max(5.0, args.duration / 5)
    print(f"memory (after {warmup:.0f} s warm-up; median of the first third -> last third):")
    for name, samples in sorted(probe.rss.items()):
        growth = memory_growth(
            samples, warmup_s=warmup, growth_mib=args.rss_growth_mb, growth_pct=args.rss_growth_pct
        )
        judged = name != "broker" or args.judge_broker
        if growth is None:
            print(f"  {name:<9} too few samples after the warm-up to judge")
            continue
        if not judged:
            state = "not judged (memory-only broker: keeps every record)"
        else:
            state = "GROWING WITHOUT BOUND" if growth.unbounded else "bounded"
        print(
            f"  {name:<9} start {growth.start_mib:6.1f}  end {growth.end_mib:6.1f}  peak "
            f"{growth.peak_mib:6.1f} MiB  growth {growth.growth_mib:+6.1f} MiB  slope "
            f"{growth.slope_mib_min:+5.2f} MiB/min (last third {growth.last_slope_mib_min:+5.2f}), "
            f"CPU {_pct(probe.cpu_share(name, 0.0)).strip()} of a core: {state}"
        )
        if judged and growth.unbounded:
            failures.append(
                f"{name}: RSS grew {growth.growth_mib:+.1f} MiB ({growth.start_mib:.1f} -> "
                f"{growth.end_mib:.1f}) and was still rising at {growth.last_slope_mib_min:+.2f} "
                "MiB/min in the last third"
            )
    lag = probe.lag
    print(f"lag after the drain: {lag if lag is not None else probe.lag_error}")
    if lag is None:
        failures.append(f"the router's lag could not be read: {probe.lag_error}")
    elif lag > args.max_lag:
        failures.append(
            f"lag did not recover: {lag} records not routed {args.drain:.0f} s after "
            f"publishing stopped (at most {args.max_lag})"
        )
    missing = totals.published - totals.delivered
    if missing > 0:
        failures.append(f"{missing} of {totals.published} records never reached the inbox")
    if totals.duplicates:
        failures.append(f"{totals.duplicates} records delivered more than once")
    if dead:
        failures.append(f"router worker(s) {dead} exited during the run")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    option = parser.add_argument
    option("--rate", type=float, default=200.0, help="records published per second (200)")
    option("--duration", type=float, default=60.0, help="seconds of publishing (60)")
    option("--interval", type=float, default=5.0, help="seconds between report lines (5)")
    option("--workers", type=int, default=1, help="router worker processes (1)")
    option("--subjects", type=int, default=200, help="distinct subjects, one consent each (200)")
    option(
        "--drain",
        type=float,
        default=60.0,
        help="seconds to wait after publishing for every delivery and a lag of 0 (60)",
    )
    option(
        "--warmup",
        type=float,
        default=None,
        help="seconds of RSS samples ignored at the start (a fifth of --duration, >= 5)",
    )
    option("--rss-growth-mb", type=float, default=32.0, help="RSS growth tolerated, MiB (32)")
    option(
        "--rss-growth-pct",
        type=float,
        default=10.0,
        help="RSS growth tolerated, %% of the first third (10)",
    )
    option("--max-lag", type=int, default=0, help="lag tolerated after the drain, records (0)")
    option("--security", choices=("on", "off"), default="on", help="record security (on)")
    option(
        "--judge-broker",
        action="store_true",
        help="apply the memory verdict to the broker too (for a broker with retention)",
    )
    option("--data-dir", type=Path, default=None, help="keep logs here (default: a temp dir)")
    add_broker_option(parser)
    args = parser.parse_args()
    use_broker(args.broker)

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        base = load_settings(
            data_dir=data_dir, security_enabled=args.security == "on", topic_prefix="soak"
        )
        with broker_for(base) as running:
            prefix = f"soak{uuid.uuid4().hex[:6]}"
            settings = running.model_copy(
                update={"topic_prefix": prefix, "schema_registry_topic": f"_schemas-{prefix}"}
            )
            with EmbeddedRegistry(settings, port=0) as registry:
                settings = settings.model_copy(update={"schema_registry_url": registry.url})
                print(
                    f"soak: {args.rate:.0f} rec/s for {args.duration:.0f} s, {args.workers} "
                    f"router worker(s), {args.subjects} subjects, {settings.topic_partitions} "
                    f"partitions, security {args.security}, broker {settings.bootstrap_servers}"
                    f", data {data_dir}"
                )
                print(describe_broker(settings))
                failures = soak(settings, args, data_dir)
    if failures:
        raise SystemExit("soak FAILED:\n  " + "\n  ".join(failures))
    print("soak passed")


if __name__ == "__main__":
    main()
