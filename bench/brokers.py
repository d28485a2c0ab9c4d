"""The broker-bound benchmarks on Apache Kafka and on Tansu, side by side.

Runs each bench script that measures through a broker (router, crypto, monitor, soak,
connectors) once per broker with ``--broker``, keeps the lines that carry its figures,
prints them per script and broker, and writes them into bench/RESULTS.md between the
``brokers`` markers (bench/reliability.py keeps that section when it rewrites the file).
The load average before and after is printed and written too: on a machine shared with
other work the figures are lower bounds, while each script's ratio against its own
baseline (measured in the same run) still holds.

    python bench/brokers.py                # the sizes below, ~10 minutes
    python bench/brokers.py --size tiny    # seconds per script (what CI runs)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
START = "<!-- brokers:start -->"
END = "<!-- brokers:end -->"


@dataclass(frozen=True)
class Script:
    name: str
    figures: str
    """A regular expression for the lines that carry the script's figures."""
    sizes: dict[str, tuple[str, ...]]


SCRIPTS = (
    Script(
        "router.py",
        r"^(broker:|(router|passthrough|router/passthrough)\b)",
        {
            "tiny": (
                "--records",
                "50",
                "--latency-records",
                "10",
                "--rate",
                "50",
                "--subjects",
                "10",
            ),
            "small": ("--records", "3000", "--latency-records", "400", "--rate", "200"),
        },
    ),
    Script(
        "crypto.py",
        r"^(broker:|router throughput|  mean|  round)",
        {
            "tiny": ("--records", "50", "--rounds", "1", "--subjects", "10", "--size", "100"),
            "small": ("--records", "2000", "--rounds", "2"),
        },
    ),
    Script(
        "monitor.py",
        r"^(broker:|faust agent|in process)",
        {"tiny": ("--people", "50", "--rounds", "1"), "small": ("--people", "2000")},
    ),
    Script(
        "soak.py",
        r"^(broker:|summary:)",
        {
            "tiny": ("--rate", "20", "--duration", "4", "--interval", "2", "--subjects", "10"),
            "small": ("--rate", "100", "--duration", "60", "--interval", "20"),
        },
    ),
    Script(
        "connectors.py",
        r"^(broker:|\s+\d+\s+[\d,]+\s)",
        {"tiny": ("--rows", "200", "--small", "100"), "small": ("--rows", "5000")},
    ),
)


@dataclass
class Run:
    script: str
    broker: str
    code: int
    seconds: float
    figures: list[str]


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min)"


def run(script: Script, broker: str, size: str) -> Run:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(BENCH / script.name), *script.sizes[size], "--broker", broker],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    pattern = re.compile(script.figures)
    figures = [line.rstrip() for line in proc.stdout.splitlines() if pattern.search(line)]
    if proc.returncode != 0:
        figures.append(f"FAILED (exit code {proc.returncode}): {proc.stderr.strip()[-300:]}")
    return Run(script.name, broker, proc.returncode, time.monotonic() - started, figures)


def section(runs: list[Run], *, size: str, before: str, after: str) -> list[str]:
    out = [
        START,
        "## Benchmarks on both brokers (`python bench/brokers.py"
        + ("" if size == "small" else f" --size {size}")
        + "`)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average {before} before, "
        f"{after} after (2 cores: figures measured while other work ran are lower bounds; "
        "each script's ratio against its own baseline holds).",
        "",
    ]
    for script in (s for s in SCRIPTS if any(r.script == s.name for r in runs)):
        out += [f"### `bench/{script.name} {' '.join(script.sizes[size])}`", ""]
        for item in (r for r in runs if r.script == script.name):
            out += [f"{item.broker} ({item.seconds:.0f} s):", "", "```", *item.figures, "```", ""]
    out.append(END)
    return out


def write(path: Path, lines: list[str]) -> None:
    """Replace the brokers section of ``path`` (or append it)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = "\n".join(lines)
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=("tiny", "small"), default="small")
    parser.add_argument(
        "--brokers", default="kafka,tansu", help="comma-separated: kafka, tansu (default both)"
    )
    parser.add_argument(
        "--scripts",
        default=",".join(s.name for s in SCRIPTS),
        help="comma-separated bench scripts to run (default all five)",
    )
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    brokers = [b for b in args.brokers.split(",") if b]
    wanted = {name for name in args.scripts.split(",") if name}
    unknown = wanted - {s.name for s in SCRIPTS}
    if unknown:
        parser.error(f"unknown scripts: {', '.join(sorted(unknown))}")
    scripts = [s for s in SCRIPTS if s.name in wanted]
    before = load()
    print(f"load average before: {before}")
    runs: list[Run] = []
    total = len(scripts) * len(brokers)
    for index, (script, broker) in enumerate(((s, b) for s in scripts for b in brokers), start=1):
        print(f"[{index}/{total}] bench/{script.name} on {broker} ...", flush=True)
        item = run(script, broker, args.size)
        runs.append(item)
        for line in item.figures:
            print(f"    {line}")
        print(f"    ({item.seconds:.0f} s)", flush=True)
    after = load()
    print(f"load average after: {after}")
    if not args.no_write:
        write(args.results, section(runs, size=args.size, before=before, after=after))
        print(f"wrote {args.results}")
    failed = [f"{r.script} on {r.broker}" for r in runs if r.code != 0]
    print(f"brokers: {len(runs) - len(failed)} of {len(runs)} runs succeeded")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
