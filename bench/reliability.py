"""The long reliability runs, and their results in bench/RESULTS.md.

Runs, in order:

1. ``pytest tests/reliability --reliability=full``: the fault tests at full size (router
   workers SIGKILLed at random points of a 50,000-record stream, the consent service
   stopped and killed mid-stream, the broker killed and recovered by replay), the
   hostile-input suites with many more hypothesis examples and fuzzing runs, and the
   security regressions;
2. ``bench/soak.py`` at ``--soak-rate`` records/s for ``--soak-duration`` seconds.

Then it writes ``--results`` (bench/RESULTS.md): the machine it ran on, the commit, each
test with its outcome and duration, and the soak's report lines and verdict. Exit status
1 when a test or the soak failed (the file is written either way: a failure is a result).

Usage::

    python3 dev.py reliability            # = python bench/reliability.py
    python bench/reliability.py --soak-duration 1800 --soak-rate 300
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._broker import add_broker_option, use_broker  # noqa: E402


@dataclass(frozen=True)
class TestOutcome:
    name: str
    outcome: str
    seconds: float
    detail: str


def machine() -> list[tuple[str, str]]:
    """What the runs ran on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    try:
        from bench._broker import describe_broker  # noqa: PLC0415
        from hub.config import load_settings  # noqa: PLC0415

        broker = describe_broker(load_settings()).removeprefix("broker: ")
    except Exception as exc:
        broker = f"unknown ({type(exc).__name__})"
    return [
        ("CPU", f"{cpu}, {os.cpu_count()} cores visible"),
        ("memory", memory),
        ("OS", f"{platform.system()} {platform.release()} ({platform.machine()})"),
        ("Python", platform.python_version()),
        ("broker", broker),
    ]


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def git_commit() -> str:
    try:
        head = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' (with uncommitted changes)' if dirty else ''}"


def run_tests(extra: list[str]) -> tuple[int, list[TestOutcome], float]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "tests/reliability",
            "--reliability=full",
            "-q",
            "--timeout=3600",
            f"--junitxml={report}",
            *extra,
        ]
        print("$", " ".join(command), flush=True)
        began = time.monotonic()
        code = subprocess.run(command, cwd=ROOT, check=False).returncode
        elapsed = time.monotonic() - began
        outcomes: list[TestOutcome] = []
        if report.exists():
            for case in ET.parse(report).getroot().iter("testcase"):
                outcome, detail = "passed", ""
                for kind in ("failure", "error", "skipped"):
                    found = case.find(kind)
                    if found is not None:
                        outcome = {"failure": "FAILED", "error": "ERROR"}.get(kind, "skipped")
                        detail = (
                            (found.get("message") or "").splitlines()[0][:160]
                            if (found.get("message"))
                            else ""
                        )
                        break
                module = (case.get("classname") or "").rsplit(".", 1)[-1]
                outcomes.append(
                    TestOutcome(
                        f"{module}::{case.get('name')}",
                        outcome,
                        float(case.get("time") or 0),
                        detail,
                    )
                )
    return code, outcomes, elapsed


def run_soak(rate: int, duration: int, interval: int) -> tuple[int, list[str]]:
    command = [
        sys.executable,
        "bench/soak.py",
        f"--broker={os.environ['HUB_EMBEDDED_BROKER']}",
        "--rate",
        str(rate),
        "--duration",
        str(duration),
        "--interval",
        str(interval),
    ]
    print("$", " ".join(command), flush=True)
    lines: list[str] = []
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            lines.append(line.rstrip("\n"))
    return proc.returncode, lines


_NOISE = re.compile(r"(WARNING|ERROR|INFO|DEBUG)\s|Traceback|^\s+File ")


def write_results(
    path: Path,
    *,
    started: datetime,
    command: str,
    tests: tuple[int, list[TestOutcome], float] | None,
    soak: tuple[int, list[str]] | None,
    soak_args: str,
) -> None:
    out: list[str] = [
        "# Reliability results",
        "",
        f"Last long run: {started:%Y-%m-%d %H:%M} UTC, commit {git_commit()}, by `{command}`.",
        "Written by bench/reliability.py; rerun it to replace this file.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in machine()),
        "",
    ]
    if tests is not None:
        code, outcomes, elapsed = tests
        passed = sum(o.outcome == "passed" for o in outcomes)
        out += [
            "## tests/reliability at full size (`--reliability=full`)",
            "",
            f"{passed} of {len(outcomes)} passed in {elapsed / 60:.1f} min "
            f"(pytest exit code {code}; atheris {os.environ.get('RMT_FUZZ_SECONDS', '300')} s "
            "per harness).",
            "",
            "| test | result | seconds |",
            "|---|---|---:|",
            *(
                f"| `{o.name}` | {o.outcome}{' — ' + o.detail if o.detail else ''} "
                f"| {o.seconds:.1f} |"
                for o in outcomes
            ),
            "",
        ]
    if soak is not None:
        code, lines = soak
        report = [line for line in lines if line.strip() and not _NOISE.search(line)]
        out += [
            f"## Soak: `python bench/soak.py {soak_args}`",
            "",
            f"Verdict: {'passed' if code == 0 else f'FAILED (exit code {code})'}.",
            "",
            "```",
            *report[-60:],
            "```",
            "",
        ]
    kept = _brokers_section(path)
    path.write_text("\n".join([*out, *kept]), encoding="utf-8")
    print(f"wrote {path}")


def _brokers_section(path: Path) -> list[str]:
    """The section bench/brokers.py wrote into ``path`` (kept when rewriting it)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = "<!-- brokers:start -->", "<!-- brokers:end -->"
    if start not in text or end not in text:
        return []
    return [start + text.split(start, 1)[1].split(end, 1)[0] + end, ""]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--soak-rate", type=int, default=200, help="records/s of the soak (200)")
    parser.add_argument(
        "--soak-duration", type=int, default=900, help="seconds of soak publishing (900)"
    )
    parser.add_argument("--soak-interval", type=int, default=30, help="seconds per line (30)")
    parser.add_argument(
        "--fuzz-seconds", type=int, default=300, help="seconds per atheris harness (300)"
    )
    add_broker_option(parser)
    parser.add_argument("--skip-tests", action="store_true", help="only the soak")
    parser.add_argument("--skip-soak", action="store_true", help="only the tests")
    parser.add_argument(
        "--results", type=Path, default=ROOT / "bench" / "RESULTS.md", help="where to write"
    )
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args()
    use_broker(args.broker)  # the tests' session broker and the soak's
    started = datetime.now(UTC)
    os.environ["RMT_FUZZ_SECONDS"] = str(args.fuzz_seconds)
    tests = None if args.skip_tests else run_tests(args.pytest_args)
    soak = (
        None if args.skip_soak else run_soak(args.soak_rate, args.soak_duration, args.soak_interval)
    )
    soak_args = (
        f"--rate {args.soak_rate} --duration {args.soak_duration} --interval {args.soak_interval}"
    )
    command = "python3 dev.py reliability" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    write_results(
        args.results,
        started=started,
        command=command,
        tests=tests,
        soak=soak,
        soak_args=soak_args,
    )
    failed = (tests is not None and tests[0] != 0) or (soak is not None and soak[0] != 0)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
