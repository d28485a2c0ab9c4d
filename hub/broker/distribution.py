"""Apache Kafka's broker from Maven Central: a JDK, the jars, and where they are cached.

The jars are fetched once per machine by Maven from the checked-in ``kafka/pom.xml``
(``mvn dependency:copy-dependencies``) into a cache outside the repository:
``$RMT_HUB_CACHE`` or ``$XDG_CACHE_HOME/rmt-hub`` or ``~/.cache/rmt-hub``. Java is
found through ``JAVA_HOME`` or ``PATH``. See docs/decisions/0011-apache-kafka-embedded.md.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hub.errors import BrokerStartError

__all__ = [
    "KAFKA_MIN_JAVA",
    "Java",
    "classpath",
    "find_java",
    "install",
    "installed",
    "kafka_version",
    "libs_dir",
]

KAFKA_MIN_JAVA = 17
_HERE = Path(__file__).resolve().parent / "kafka"
POM = _HERE / "pom.xml"
LOG4J_CONFIG = _HERE / "log4j2.properties"
_POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}
_STAMP = ".complete"
_VERSION_RE = re.compile(r'version "(\d+)(?:\.(\d+))?[^"]*"')


@dataclass(frozen=True)
class Java:
    """A Java runtime: its ``java`` executable and major version."""

    path: str
    major: int


@functools.cache
def kafka_version() -> str:
    """The Apache Kafka version the pom pins (``kafka.version``)."""
    root = ET.parse(POM).getroot()  # noqa: S314 - our own checked-in file
    node = root.find("m:properties/m:kafka.version", _POM_NS)
    if node is None or not node.text:
        raise BrokerStartError(f"{POM} names no kafka.version")
    return node.text.strip()


def _java_candidates() -> list[str]:
    found = []
    home = os.environ.get("JAVA_HOME")
    if home:
        found.append(str(Path(home) / "bin" / "java"))
    on_path = shutil.which("java")
    if on_path:
        found.append(on_path)
    return found


def _major(java: str) -> int | None:
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION_RE.search(out.stderr + out.stdout)
    if match is None:
        return None
    first = int(match.group(1))
    return int(match.group(2) or 0) if first == 1 else first  # "1.8.0" is Java 8


@functools.cache
def find_java() -> Java | None:
    """The first Java runtime of ``JAVA_HOME`` or ``PATH`` (any version), or None."""
    for candidate in _java_candidates():
        if os.access(candidate, os.X_OK):
            major = _major(candidate)
            if major is not None:
                return Java(candidate, major)
    return None


def cache_root() -> Path:
    """Where downloaded broker jars live (outside the repository)."""
    explicit = os.environ.get("RMT_HUB_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "rmt-hub"


def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()[:16]


def libs_dir() -> Path:
    """The jar folder of the pinned version (tied to the pom's content)."""
    return cache_root() / f"kafka-{kafka_version()}-{_pom_digest()}" / "libs"


def installed() -> bool:
    """True when the jars of the pinned version are in the cache."""
    return (libs_dir().parent / _STAMP).is_file()


def classpath() -> str:
    """The broker's class path; raises when the jars are not installed."""
    if not installed():
        raise BrokerStartError(
            f"Apache Kafka {kafka_version()} is not installed; run 'rmt-hub broker --install' "
            "(or 'python3 dev.py install'), which fetches it once through Maven"
        )
    return str(libs_dir() / "*")


_DOWNLOADED = re.compile(r"Downloaded from \S+: (\S+)")


def install(progress: Callable[[str], None] = print) -> Path:
    """Fetch the broker's jars through Maven into the cache (once); return the folder.

    ``progress`` gets a line per fetched artifact and at the end. Needs ``mvn`` on PATH;
    Maven reads its own settings (mirrors, proxies) as usual."""
    target = libs_dir()
    if installed():
        progress(f"Apache Kafka {kafka_version()} is installed in {target}")
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerStartError(
            "Apache Kafka is fetched through Maven, and 'mvn' is not on PATH "
            "(Debian: apt-get install maven), or set HUB_EMBEDDED_BROKER=tansu"
        )
    staging = target.parent / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    command = [
        mvn,
        "--batch-mode",
        "--file",
        str(POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    progress(f"fetching Apache Kafka {kafka_version()} through Maven into {target.parent}")
    fetched = 0
    lines: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=staging
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip())
            match = _DOWNLOADED.search(line)
            if match:
                fetched += 1
                progress(f"  [{fetched:3d}] {match.group(1).rsplit('/', 1)[-1]}")
    if proc.returncode != 0:
        tail = "\n".join(line for line in lines[-25:] if line)
        raise BrokerStartError(
            f"Maven could not fetch Apache Kafka (exit {proc.returncode}):\n{tail}"
        )
    jars = sorted(staging.glob("*.jar"))
    if not any(jar.name.startswith("kafka_2.13-") for jar in jars):
        raise BrokerStartError(f"Maven ran, but no kafka_2.13 jar is in {staging}")
    size = sum(jar.stat().st_size for jar in jars) / 2**20
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    (target.parent / _STAMP).write_text(f"{kafka_version()}\n{len(jars)} jars\n")
    progress(f"Apache Kafka {kafka_version()}: {len(jars)} jars, {size:.0f} MiB in {target}")
    return target
