"""Wiring: settings -> store, BSN vault, topic, outbox relay, service, HTTP app.

``ConsentRuntime(settings)`` opens (and migrates) the store, makes sure the consent
changes topic (and the router's disclosure audit topic, when the catalogue has it)
exists, and builds the relay, the disclosure ingester, the service, the grants of subject
keys to entitled partners (:mod:`consent.subject_keys`; with record security on) and the
FastAPI app
(the API, the privacy officer console and ``/metrics``, ``/healthz``, ``/readyz``; the
metrics go to the process's :class:`hub.metrics.HubMetrics` unless ``metrics`` is given).
With record security on, the relay signs the feed with the consent service's key
(``consent-service`` in the key store, generated on first use like the hub's); the feed
is in the Confluent wire format when a schema registry is configured
(``HUB_SCHEMA_REGISTRY_URL``), else bare Avro, which the router reads too.
``start`` runs the relay (it first reconciles, then publishes anything a crash left
behind, and verifies the feed periodically) and the ingester in the background; ``stop``
stops them and closes the store. ``verify_feed`` checks the feed against the register at
once (for a caller that suspects the broker lost data) and returns the changes requeued.
The HTTP server is the caller's (``rmt-hub consent serve`` runs it with
:class:`hub.http.HttpServer`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from fastapi import FastAPI

from consent.api import create_app
from consent.console import session_secret
from consent.crypto import BsnVault
from consent.disclosures import (
    DisclosureDecoder,
    DisclosureIngester,
    disclosure_decoder_for,
    hub_directory,
)
from consent.erasures import OverdueGauge
from consent.model import utc_now
from consent.outbox import ChangeEncoder, OutboxRelay, avro_encoder, wire_encoder
from consent.policy import PolicyMatrix, load_policy
from consent.service import ConsentService
from consent.store import ConsentStore, store_for
from consent.subject_keys import SubjectKeyService, subject_key_store
from hub.config import HubSettings
from hub.errors import TopicError
from hub.metrics import HubMetrics, process_metrics
from hub.observability import broker_check
from hub.registry import client_for
from hub.security.config import partner_key_store, security_enabled
from hub.security.consent_feed import CONSENT_SERVICE_ID, ConsentFeedSigner
from hub.security.hub_identity import ensure_identity
from hub.serde.canonical import CanonicalCodec
from topics import apply_to_cluster, build_catalogue
from topics.partners import PartnerDirectory, load_partners

__all__ = ["DISCLOSURE_TOPIC_SUFFIX", "ConsentRuntime", "ensure_consent_topic", "feed_signer"]

DISCLOSURE_TOPIC_SUFFIX = "audit.disclosures"
"""The router's audit topic (``<prefix>.audit.disclosures``), read into the store."""


def ensure_consent_topic(settings: HubSettings, partners: PartnerDirectory) -> str:
    """Create the consent changes topic if it is missing; return its name."""
    return _ensure_topics(settings, partners)[0]


def _ensure_topics(settings: HubSettings, partners: PartnerDirectory) -> tuple[str, str | None]:
    """Create the consent changes (and, when catalogued, the disclosure audit) topic."""
    catalogue = build_catalogue(settings, partners)
    specs = [catalogue.consent_changes]
    with contextlib.suppress(TopicError):  # no audit topic catalogued: nothing to ingest
        specs.append(catalogue.get(f"{settings.topic_prefix}.{DISCLOSURE_TOPIC_SUFFIX}"))
    apply_to_cluster(settings, catalogue.model_copy(update={"topics": tuple(specs)}))
    return specs[0].name, (specs[1].name if len(specs) > 1 else None)


def feed_signer(settings: HubSettings) -> ConsentFeedSigner | None:
    """The consent service's signer of the feed (None with record security off)."""
    if not security_enabled(settings):
        return None
    return ConsentFeedSigner(ensure_identity(partner_key_store(settings), CONSENT_SERVICE_ID))


def _subject_key_service(
    settings: HubSettings, service: ConsentService, store: ConsentStore
) -> SubjectKeyService | None:
    """The grants of subject keys to entitled partners, over the store's subject keys
    (None with record security off: nothing is sealed)."""
    if not security_enabled(settings):
        return None
    keys = partner_key_store(settings)
    return SubjectKeyService(
        service, subject_key_store(settings, store=store, cache_ttl_s=0.0), keys.directory
    )


def _wire(settings: HubSettings) -> CanonicalCodec | None:
    """A codec on the configured registry (None: no registry configured)."""
    if settings.schema_registry_url is None:
        return None
    return CanonicalCodec(client_for(settings))


def _feed_encoder(codec: CanonicalCodec | None, topic: str) -> ChangeEncoder:
    return avro_encoder if codec is None else wire_encoder(codec, topic)


class ConsentRuntime:
    """Everything the consent service runs on, built from settings."""

    def __init__(
        self,
        settings: HubSettings,
        *,
        encoder: ChangeEncoder | None = None,
        policy: PolicyMatrix | None = None,
        partners: PartnerDirectory | None = None,
        clock: Callable[[], datetime] = utc_now,
        publish_timeout_s: float = 10.0,
        relay_interval_s: float = 0.5,
        store: ConsentStore | None = None,
        disclosure_decoder: DisclosureDecoder | None = None,
        metrics: HubMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics if metrics is not None else process_metrics()
        self.partners = partners if partners is not None else load_partners(settings.partners_file)
        self.store = store if store is not None else store_for(settings)
        self._codec = _wire(settings) if encoder is None else None
        try:
            self.topic, audit_topic = _ensure_topics(settings, self.partners)
            vault = BsnVault.from_settings(settings)
            self.relay = OutboxRelay(
                self.store,
                settings,
                self.topic,
                encoder=encoder or _feed_encoder(self._codec, self.topic),
                clock=clock,
                interval_s=relay_interval_s,
                metrics=self.metrics,
                signer=feed_signer(settings),
            )
            self.service = ConsentService(
                self.store,
                self.relay,
                policy=policy or load_policy(),
                partners=self.partners,
                vault=vault,
                clock=clock,
                publish_timeout_s=publish_timeout_s,
                metrics=self.metrics,
            )
            self._console_secret = session_secret(settings)
            self.subject_keys = _subject_key_service(settings, self.service, self.store)
        except BaseException:
            self._close_codec()
            self.store.close()
            raise
        overdue = OverdueGauge(self.service)

        def housekeeping() -> None:
            self.service.housekeeping()
            overdue()

        self.relay.set_periodic(housekeeping)
        self.ingester = (
            DisclosureIngester(
                self.store,
                settings,
                audit_topic,
                # the router's wire format (and bare Avro); `consent serve` relies on this
                decoder=disclosure_decoder or disclosure_decoder_for(settings, audit_topic),
                metrics=self.metrics,
                # record security on: only the hub's signed, chained entries are disclosures
                directory=hub_directory(partner_key_store(settings))
                if security_enabled(settings)
                else None,
            )
            if audit_topic
            else None
        )
        self._app: FastAPI | None = None

    @property
    def app(self) -> FastAPI:
        if self._app is None:
            self._app = create_app(
                self.service,
                metrics=self.metrics,
                readiness={
                    "store": self.store.schema_version,
                    "broker": broker_check(self.settings),
                },
                console_secret=self._console_secret,
                subject_keys=self.subject_keys,
            )
        return self._app

    def start(self) -> ConsentRuntime:
        self.relay.start()
        if self.ingester is not None:
            self.ingester.start()
        return self

    def verify_feed(self) -> int:
        """Check the change feed against the register now; return the changes requeued.

        See :meth:`consent.outbox.OutboxRelay.verify_feed` (the relay also does this by
        itself every few seconds); the background loop republishes what was requeued.
        """
        requeued = self.relay.verify_feed()
        if requeued:
            self.relay.notify()
        return requeued

    def stop(self) -> None:
        if self.ingester is not None:
            self.ingester.stop()
        self.relay.stop()
        self._close_codec()
        self.store.close()

    def _close_codec(self) -> None:
        if self._codec is not None:
            self._codec.registry.close()

    def __enter__(self) -> ConsentRuntime:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
