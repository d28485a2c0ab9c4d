"""Feeding generated demo files through the connectors: what ``rmt-hub up --demo`` runs.

:func:`feed_demo` reads ``manifest.json`` in a directory written by
:func:`~connectors.demo.generator.generate` and imports every file as its partner: UWV,
gemeente and SBB files through their file connectors, the social partners' notices as
real HTTP POSTs to their webhook (served on a free loopback port for the duration).
Running it twice publishes nothing new the second time.

Given a consent service, it first grants the demo consents (``consents.jsonl``, see
:mod:`connectors.demo.consents`): the router delivers only what arrives after a
consent, so they go in before any record.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from rich.console import Console
from rich.table import Table

from connectors.common import ConnectorError, ImportReport, RowError
from connectors.demo.consents import grant_demo_consents
from connectors.demo.generator import DemoFile, DemoManifest
from connectors.gemeente import import_gemeente
from connectors.sbb import import_sbb
from connectors.social_partners import create_app
from connectors.uwv import import_uwv
from hub.config import HubSettings
from hub.http import HttpServer
from hub.registry import RegistryClient, client_for
from hub.sdk import PartnerClient
from schemas.models.enums import DeadLetterReason

if TYPE_CHECKING:
    from consent.service import ConsentService

__all__ = ["FeedItem", "FeedSummary", "feed_demo"]


@dataclass(frozen=True)
class FeedItem:
    """One demo file fed through its connector."""

    file: DemoFile
    report: ImportReport


@dataclass
class FeedSummary:
    """What :func:`feed_demo` did, per file and in total."""

    items: list[FeedItem] = field(default_factory=list)
    consents_granted: int = 0

    @property
    def rows(self) -> int:
        return sum(i.report.rows for i in self.items)

    @property
    def published(self) -> int:
        return sum(i.report.published for i in self.items)

    @property
    def duplicates(self) -> int:
        return sum(i.report.duplicates for i in self.items)

    @property
    def rejected(self) -> int:
        return sum(i.report.rejected_rows for i in self.items)

    def summary(self) -> str:
        return (
            f"demo feed: {self.consents_granted} consents granted, {len(self.items)} inputs, "
            f"{self.rows} rows, {self.published} records published, {self.duplicates} already "
            f"there, {self.rejected} rows rejected"
        )

    def table(self) -> Table:
        table = Table(title="Demo data through the connectors")
        for column in ("partner", "input", "rows", "published", "already", "rejected"):
            table.add_column(column, justify="right" if column[0] in "rpa" else "left")
        for item in self.items:
            r = item.report
            table.add_row(
                item.file.partner,
                item.file.path,
                str(r.rows),
                str(r.published),
                str(r.duplicates),
                f"[yellow]{r.rejected_rows}[/]" if r.rejected_rows else "0",
            )
        return table


def _post(server_url: str, file: DemoFile, path: Path) -> ImportReport:
    """POST one notice and turn the answer into an ImportReport."""
    assert file.endpoint is not None
    response = httpx.post(
        server_url + file.endpoint,
        content=path.read_bytes(),
        headers={"content-type": "application/json"},
        timeout=60,
    )
    body = response.json()
    report = ImportReport(source=f"POST {file.endpoint} ({file.path})")
    report.rows = int(body.get("items", 0))
    report.published = int(body.get("published", 0))
    report.duplicates = int(body.get("duplicates", 0))
    report.rejected_rows = int(body.get("rejected", 0))
    report.errors = [
        RowError(
            file.path,
            int(e["item"]) + 1 if e.get("item") is not None else 0,
            e.get("field"),
            str(e.get("reason")),
            DeadLetterReason.SCHEMA_INVALID,
        )
        for e in body.get("errors", [])
    ]
    if response.status_code not in (202, 422):
        raise ConnectorError(f"{file.path}: the webhook answered HTTP {response.status_code}")
    return report


@contextmanager
def _registry(settings: HubSettings, url: str | None) -> Iterator[RegistryClient]:
    """A registry client: ``url``, HUB_SCHEMA_REGISTRY_URL, or an embedded registry."""
    if url or settings.schema_registry_url:
        with client_for(settings, url) as client:
            yield client
        return
    from hub.registry.embedded import EmbeddedRegistry  # noqa: PLC0415 - server side only

    with EmbeddedRegistry(settings, port=0) as registry, RegistryClient(registry.url) as client:
        yield client


def feed_demo(
    settings: HubSettings,
    directory: Path,
    *,
    registry_url: str | None = None,
    console: Console | None = None,
    consent_service: ConsentService | None = None,
) -> FeedSummary:
    """Import every file of a generated demo directory as its partner.

    With ``consent_service``, the demo consents are granted first (those already given
    are skipped), so the router delivers the records that follow. The registry is
    ``registry_url``, else ``HUB_SCHEMA_REGISTRY_URL``, else an embedded one started (on a
    free port) for the duration. Topics must exist (``topics apply``).
    """
    manifest = DemoManifest.load(directory)
    summary = FeedSummary()
    if consent_service is not None:
        summary.consents_granted = grant_demo_consents(settings, directory, consent_service)
    out = console or Console(stderr=True)
    with _registry(settings, registry_url) as registry, ExitStack() as stack:
        clients: dict[str, PartnerClient] = {}
        servers: dict[str, str] = {}

        def client(partner: str) -> PartnerClient:
            if partner not in clients:
                clients[partner] = stack.enter_context(
                    PartnerClient(settings, partner, registry=registry)
                )
            return clients[partner]

        for file in manifest.files:
            path = directory / file.path
            partner = client(file.partner)
            if file.kind == "uwv":
                report = import_uwv(partner, path, console=out)
            elif file.kind == "gemeente":
                report = import_gemeente(partner, path, console=out)
            elif file.kind == "sbb":
                report = import_sbb(partner, path, console=out)
            elif file.kind == "social_partners":
                if file.partner not in servers:
                    server = HttpServer(create_app(partner), port=0, name=f"webhook-{file.partner}")
                    servers[file.partner] = server.start()
                    stack.callback(server.stop)
                report = _post(servers[file.partner], file, path)
            else:
                raise ConnectorError(f"{file.path}: unknown demo input kind {file.kind!r}")
            summary.items.append(FeedItem(file, report))
    return summary
