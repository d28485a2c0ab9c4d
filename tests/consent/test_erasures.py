"""The consent service derives the router's erasure notices by the router's rule: the
same ids, so an acknowledgement names the notice the partner actually received."""

from __future__ import annotations

import uuid

from consent.erasures import ROUTER_NAMESPACE, erasure_notice_id
from hub.router.ids import ROUTER_NAMESPACE as ROUTERS_OWN
from hub.router.ids import erasure_id


def test_the_notice_ids_are_the_routers() -> None:
    assert ROUTER_NAMESPACE == ROUTERS_OWN
    for _ in range(20):
        event_id = str(uuid.uuid4())
        for recipient in ("uwv", "gemeente-amsterdam", "mbo-amsterdam"):
            assert erasure_notice_id(event_id, recipient) == erasure_id(event_id, recipient)
    assert erasure_notice_id("e", "uwv") != erasure_notice_id("e", "sbb")
