#!/usr/bin/env python3
"""Developer entry point that needs nothing but Python 3.11+.

    python3 dev.py run     # the hub on the embedded broker (creates .venv on first use)
    python3 dev.py test    # ruff, mypy and the whole test suite
    python3 dev.py help    # every task

The virtual environment is rebuilt only when pyproject.toml changes (a stamp file
holds its hash), so repeated runs start at once.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".rmt-hub-installed"
MIN_PYTHON = (3, 11)


def _say(message: str) -> None:
    print(f"\033[1m[dev]\033[0m {message}", flush=True)


def _run(cmd: Sequence[str | os.PathLike[str]]) -> None:
    _say(" ".join(str(c) for c in cmd))
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, check=False)
    if result.returncode != 0:
        raise SystemExit(result.returncode)


# Debian packages the test suite needs, each with a file that shows it is installed.
SYSTEM_PACKAGES: dict[str, str] = {
    "postgresql": "/usr/lib/postgresql/*/bin/initdb",  # consent store tests on PostgreSQL
    "chromium": "/usr/bin/chromium",  # browser tests (tests/e2e), driven by Playwright
    "maven": "/usr/bin/mvn",  # fetches Apache Kafka's jars (hub/broker/kafka/pom.xml)
    "kcat": "/usr/bin/kcat",  # a stock librdkafka reader of an inbox (tests/integration)
}


def ensure_system_packages() -> None:
    """Install the Debian packages the tests need (as root, with apt-get) when missing."""
    missing = [pkg for pkg, probe in SYSTEM_PACKAGES.items() if not glob.glob(probe)]
    if not missing:
        return
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(f"the tests need these Debian packages: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
    ):
        _say(" ".join(cmd))
        if subprocess.run(cmd, env=env, check=False).returncode != 0:
            raise SystemExit(f"could not install {' '.join(missing)}")


def ensure_venv() -> None:
    """Create .venv and install the project with its dev extras when needed."""
    if sys.version_info < MIN_PYTHON:
        raise SystemExit(f"rmt-hub needs Python {'.'.join(map(str, MIN_PYTHON))}+")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not (BIN / "python").exists():
        _say(f"creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    _run([BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    _run([BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev]"])
    STAMP.write_text(wanted)


def ensure_kafka() -> None:
    """Fetch Apache Kafka through Maven once per machine, unless Tansu is asked for or
    there is no Java to run it (then the hub says so and runs Tansu)."""
    if os.environ.get("HUB_EMBEDDED_BROKER", "").lower() == "tansu":
        return
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        _say("no Java found (JAVA_HOME, PATH): the hub will run Tansu, not Apache Kafka")
        return
    _run([BIN / "rmt-hub", "broker", "--install"])


def task_install(_: list[str]) -> None:
    """create .venv, install rmt-hub with its dev tools and fetch Apache Kafka"""
    ensure_venv()
    ensure_kafka()


def task_run(args: list[str]) -> None:
    """run the hub on the embedded defaults (rmt-hub up); extra args go to 'rmt-hub up'"""
    ensure_venv()
    ensure_kafka()
    os.execv(str(BIN / "rmt-hub"), [str(BIN / "rmt-hub"), "up", *args])


def task_lint(_: list[str]) -> None:
    """ruff (lint and format check), mypy --strict, the schema rules and compatibility gate"""
    ensure_venv()
    _run([BIN / "ruff", "check", "."])
    _run([BIN / "ruff", "format", "--check", "."])
    _run([BIN / "mypy"])
    _run([BIN / "lint-imports"])  # the layer contracts in pyproject.toml
    _run([BIN / "rmt-hub", "schemas", "validate"])
    _run([BIN / "rmt-hub", "schemas", "check"])  # compatibility gate vs schemas/released


LOCALE = ROOT / "hub" / "locale"
POT = LOCALE / "rmt_hub.pot"


def task_i18n(args: list[str]) -> None:
    """extract the pages' texts to hub/locale/rmt_hub.pot and merge them into the Dutch
    catalogue (then translate the new entries in hub/locale/nl/LC_MESSAGES/rmt_hub.po);
    'i18n check' only checks that nothing is missing (docs/i18n.md)"""
    ensure_venv()
    pybabel = BIN / "pybabel"
    extract = [
        pybabel,
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "NP_:1c,2",
        "--add-location=file",
        "--sort-output",
        "--no-wrap",
        "--project=rmt-hub",
        "--copyright-holder=rmt-hub contributors",
        "-o",
        POT,
        ".",
    ]
    if args[:1] == ["check"]:
        _pytest(["tests/unit/test_i18n.py", "-q"])
        return
    _run(extract)
    po = LOCALE / "nl" / "LC_MESSAGES" / "rmt_hub.po"
    if po.exists():
        _run(
            [
                pybabel,
                "update",
                "--no-wrap",
                "-D",
                "rmt_hub",
                "-i",
                POT,
                "-d",
                LOCALE,
                "-l",
                "nl",
                "--ignore-obsolete",
            ]
        )
    else:
        _run([pybabel, "init", "--no-wrap", "-D", "rmt_hub", "-i", POT, "-d", LOCALE, "-l", "nl"])
    _say(f"translate the empty or fuzzy entries of {po.relative_to(ROOT)}")


def task_format(_: list[str]) -> None:
    """apply ruff's formatter and safe fixes"""
    ensure_venv()
    _run([BIN / "ruff", "check", "--fix", "."])
    _run([BIN / "ruff", "format", "."])


def _pytest(args: Sequence[str], **env: str) -> None:
    """Run pytest; with ``env`` set in its environment (and said)."""
    if env:
        _say(" ".join(f"{k}={v}" for k, v in env.items()))
    cmd = [str(BIN / "python"), "-m", "pytest", *args]
    _say(" ".join(cmd))
    done = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **env}, check=False)
    if done.returncode != 0:
        raise SystemExit(done.returncode)


class _Beside:
    """A command run in the background; what it printed is shown when it is finished
    (``only``: just the lines holding one of these words)."""

    def __init__(
        self,
        what: str,
        cmd: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        only: tuple[str, ...] = (),
    ) -> None:
        self.what, self.only = what, only
        self.log = VENV / f"beside-{os.getpid()}-{len(what)}.log"
        said = " ".join(f"{k}={v}" for k, v in (env or {}).items())
        _say(f"beside it: {what} ({said} {' '.join(cmd)})".replace("( ", "("))
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out, stderr=out
            )

    def finish(self) -> None:
        """Wait, print what it printed; exit with its code if it failed."""
        code = self.proc.wait()
        _say(f"{self.what}, run beside the tier above:")
        for line in self.log.read_text(errors="replace").splitlines(keepends=True):
            if not self.only or any(word in line for word in self.only):
                sys.stdout.write(line)
        sys.stdout.flush()
        self.log.unlink(missing_ok=True)
        if code != 0:
            raise SystemExit(code)


def java_sdk_build() -> _Beside | None:
    """Build and test the Java partner SDK (sdk/java: mvn verify, the Maven repository in
    ~/.m2) in the background; it shows one line per artifact fetched, the test counts and
    errors. None (said) without java and mvn."""
    mvn = shutil.which("mvn")
    if mvn is None or shutil.which("java") is None:
        _say("no java or mvn on PATH: the Java SDK (sdk/java) is not built or tested")
        return None
    cmd = [mvn, "--batch-mode", "--file", str(ROOT / "sdk" / "java" / "pom.xml"), "verify"]
    return _Beside(
        "the Java SDK build", cmd, only=("Downloaded from", "Tests run:", "BUILD", "ERROR")
    )


# every core; worksteal evens out the few long hypothesis tests (tests/monitor)
PARALLEL = ["-n", "auto", "--dist", "worksteal"]


def task_test(args: list[str]) -> None:
    """lint, every test on Apache Kafka, a smoke set on Tansu; args: one pytest run instead"""
    ensure_system_packages()
    task_lint([])
    ensure_kafka()
    if args:
        _pytest(args)
        return
    # the broker-free tier on every core with the Java SDK's build beside it (the broker
    # tiers use its jar), then the broker tiers one test at a time (the broker:
    # HUB_EMBEDDED_BROKER, else Apache Kafka where Java 17+ runs), then the smoke set on
    # Tansu (after them: beside them, Tansu's client sockets were cut under the load)
    java = java_sdk_build()
    try:
        _pytest(["-m", "not integration", *PARALLEL, "--durations=10"])
    finally:
        if java is not None:
            java.finish()
    _pytest(["-m", "integration and not tansu_only", "--durations=20"])
    _pytest(["-m", "tansu or tansu_only", "-p", "no:cacheprovider"], HUB_EMBEDDED_BROKER="tansu")


def task_unit(args: list[str]) -> None:
    """the broker-free tier, in parallel (no broker, no reliability runs); args go to pytest"""
    ensure_venv()
    started = time.monotonic()
    try:
        # reliability tests are the long runs (memory, fuzzing): `dev.py test` runs them
        _pytest(["-m", "not integration and not reliability", "-q", *PARALLEL, *args])
    finally:
        _say(f"dev.py unit took {time.monotonic() - started:.0f} s")


def task_reliability(args: list[str]) -> None:
    """long runs: full-size fault and hostile-input suites, a soak; writes bench/RESULTS.md"""
    ensure_venv()
    _run([BIN / "python", ROOT / "bench" / "reliability.py", *args])


def task_help(_: list[str]) -> None:
    """list the tasks"""
    print(__doc__)
    for name, fn in TASKS.items():
        print(f"  {name:<10} {fn.__doc__}")


TASKS: dict[str, Callable[[list[str]], None]] = {
    "help": task_help,
    "install": task_install,
    "run": task_run,
    "test": task_test,
    "unit": task_unit,
    "lint": task_lint,
    "format": task_format,
    "i18n": task_i18n,
    "reliability": task_reliability,
}


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in TASKS:
        task_help([])
        raise SystemExit(0 if not argv else 2)
    TASKS[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
