"""Freshness without faust: the engine routes a record only with every consent change that
was acknowledged before it; a withdrawal reported done is never overtaken. The race is
made as tight as it gets: the record is routed the moment the withdrawal is acknowledged."""

from __future__ import annotations

import asyncio

import pytest

from hub.registry import client_for
from hub.router.engine import RouterEngine
from hub.router.processing import Inbound
from hub.router.validation import partition_of
from hub.serde.canonical import cloud_event_headers
from schemas.models import ClientProfile
from schemas.vocabulary import DataCategory, Purpose
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, delivered_ids
from topics import load_partners

pytestmark = pytest.mark.integration

ROUNDS = 12


def inbound(hub: Hub, record: ClientProfile, offset: int) -> Inbound:
    """The record as the engine reads it from UWV's outbox (sealed by UWV when record
    security is on, as the SDK publishes it)."""
    key = record.client_pseudonym.encode()
    topic = hub.catalogue.outbox("uwv").name
    value: bytes | None = hub.codec.encode(record, topic)
    headers = cloud_event_headers(record)
    if hub.security:
        value, headers = hub.partner("uwv").seal_outbound(
            topic=topic, key=key, value=value, headers=headers
        )
    partition = partition_of(key, hub.settings.topic_partitions)
    return Inbound(topic, partition, offset, key, value, tuple(headers))


def test_a_withdrawal_acknowledged_before_a_record_is_applied_before_it(hub: Hub) -> None:
    async def scenario() -> list[tuple[str, str]]:
        engine = RouterEngine(
            hub.settings,
            catalogue=hub.catalogue,
            directory=load_partners(),
            registry=client_for(hub.settings),
        )
        await engine.assign(set(range(hub.settings.topic_partitions)))
        expected: list[tuple[str, str]] = []
        try:
            for round_ in range(ROUNDS):
                who = records.subject()
                given = await asyncio.to_thread(
                    hub.grant,
                    who,
                    to=["gemeente-amsterdam"],
                    purposes=[Purpose.ARRANGEMENT],
                    categories=[DataCategory.IDENTITY],
                )
                before = records.profile(who)
                await engine.process([inbound(hub, before, round_ * 2)])
                await asyncio.to_thread(hub.withdraw, given)  # done = acknowledged
                after = records.profile(who)
                await engine.process([inbound(hub, after, round_ * 2 + 1)])
                expected.append((before.event_id, after.event_id))
        finally:
            await engine.stop()
        return expected

    pairs = asyncio.run(scenario())
    delivered = delivered_ids(hub.inbox("gemeente-amsterdam"))
    for before, after in pairs:
        assert before in delivered
        assert after not in delivered
    assert len(delivered) == ROUNDS
