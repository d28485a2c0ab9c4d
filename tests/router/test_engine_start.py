"""The engine's start: it finds the catalogue's topics on any Kafka-compatible broker; when
the cluster is not ready for it, it fails with the hub's error, and the next call tries
again (the batch loop and the flush timer call it until it works)."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import suppress
from pathlib import Path

import pytest
from kafka.errors import KafkaError

from hub.config import HubSettings
from hub.kafka import admin_client
from hub.registry import client_for
from hub.router.engine import RouterEngine
from hub.router.errors import RouterConfigError
from tests.router.helpers.hubtest import Hub
from topics import apply_to_cluster, build_catalogue, load_partners
from topics.catalogue import TopicCatalogue

pytestmark = pytest.mark.integration


def engine_for(settings: HubSettings, catalogue: TopicCatalogue) -> RouterEngine:
    return RouterEngine(
        settings,
        catalogue=catalogue,
        directory=load_partners(),
        registry=client_for(settings),
        security=False,
    )


def test_regression_the_engine_found_no_topics_on_apache_kafka(hub: Hub) -> None:
    """The engine looked the topics up in its consumer's metadata, which on Apache Kafka
    holds no topics until it asks for them (its bootstrap request asks for none; Tansu
    answered with all): every start failed with "missing" and no record was routed."""
    engine = engine_for(hub.settings, hub.catalogue)

    async def scenario() -> None:
        try:
            await engine.start()
        finally:
            await engine.stop()

    asyncio.run(scenario())


def test_regression_a_failed_start_crashed_the_worker_instead_of_being_retried(
    hub_settings: HubSettings, registry_url: str, tmp_path: Path
) -> None:
    """A start that failed (here: topics not there yet, as when a broker of a cluster has
    not learnt of them) stopped the engine, which reset the start it was waiting for; the
    waiter then raised AttributeError, which the flush timer let through and faust
    crashed the worker on. It must raise RouterConfigError, and start once it can."""
    prefix = f"st{uuid.uuid4().hex[:10]}"
    settings = hub_settings.model_copy(
        update={
            "topic_prefix": prefix,
            "schema_registry_url": registry_url,
            "data_dir": tmp_path,
        }
    )
    catalogue = build_catalogue(settings)
    engine = engine_for(settings, catalogue)

    async def scenario() -> None:
        try:
            with pytest.raises(RouterConfigError, match="missing"):
                await engine.start()
            await engine.flush()  # logs that the router is not started yet; no crash
            await asyncio.to_thread(apply_to_cluster, settings, catalogue)
            await engine.start()
            await engine.flush()
        finally:
            await engine.stop()

    try:
        asyncio.run(scenario())
    finally:
        admin = admin_client(settings)
        try:
            with suppress(KafkaError):  # none, when the test failed before creating them
                admin.delete_topics(catalogue.names())
        finally:
            admin.close()
