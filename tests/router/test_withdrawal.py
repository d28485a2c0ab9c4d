"""Withdrawal takes effect in order: once the consent service reports it done, nothing
routed afterwards reaches the recipient, and the recipient gets an erasure notice."""

from __future__ import annotations

import pytest

from schemas.models import ClientProfile, ErasureNotice, Referral
from schemas.models.enums import ConsentChangeType, DeadLetterReason
from schemas.vocabulary import DataCategory, Purpose
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, delivered_ids

pytestmark = pytest.mark.integration

CATEGORIES = (
    DataCategory.IDENTITY,
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.EDUCATION,
    DataCategory.ARRANGEMENT,
)


def test_withdraw_then_publish_delivers_nothing_and_announces_erasure(hub: Hub) -> None:
    hub.consent_encoding = "bare"  # as the consent service's default avro_encoder writes
    worker = hub.worker()
    who = records.subject()
    given = hub.grant(
        who,
        to=["gemeente-amsterdam"],
        purposes=[Purpose.ARRANGEMENT, Purpose.WARM_HANDOVER],
        categories=CATEGORIES,
    )
    worker.wait_ready(60)
    before = records.profile(who)
    hub.publish(before)
    hub.wait_for(
        lambda: hub.inbox("gemeente-amsterdam"),
        lambda rs: before.event_id in delivered_ids(rs),
        what="the profile before the withdrawal",
    )

    withdrawn = hub.withdraw(given)  # returns once acknowledged: the withdrawal is done
    after = [records.profile(who), records.referral(who), records.profile(who)]
    for record in after:
        hub.publish(record)
    # A record the router must refuse, published last to the same partition: once its
    # dead letter is there, everything published before it has been routed.
    marker = records.profile(who, bsn="123456789")
    hub.publish(marker)
    hub.wait_dead_letter(marker.event_id)

    inbox = hub.wait_for(
        lambda: hub.inbox("gemeente-amsterdam"),
        lambda rs: (
            any(isinstance(r.record, ErasureNotice) for r in rs)
            and any(r.record is None for r in rs)
        ),
        what="the erasure notice and tombstone",
    )
    assert delivered_ids(inbox) == [before.event_id]
    assert not [r for r in inbox if isinstance(r.record, Referral)]
    (notice_record,) = [r for r in inbox if isinstance(r.record, ErasureNotice)]
    notice = notice_record.record
    assert isinstance(notice, ErasureNotice)
    assert notice.client_pseudonym == who
    assert notice.consent_id == given.consent_id
    assert notice.change is ConsentChangeType.WITHDRAWN
    assert notice.consent_event_id == withdrawn.event_id
    assert notice.still_covered is False
    (tombstone,) = [r for r in inbox if r.value is None]
    assert tombstone.key == who.encode()
    assert (
        tombstone.offset
        > notice_record.offset
        > next(r.offset for r in inbox if isinstance(r.record, ClientProfile))
    )
    assert [r.record.event_id for r in hub.audit()] == [  # type: ignore[union-attr]
        next(r.ce_id for r in inbox if isinstance(r.record, ClientProfile))
    ]
    dead = hub.wait_dead_letter(marker.event_id)
    assert dead.record.reason is DeadLetterReason.BSN_INVALID  # type: ignore[union-attr]
