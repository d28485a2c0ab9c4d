"""The hub router: what partners publish, to each other partner as its consents allow.

Layers (importing this package starts nothing and does not import faust):

* domain, plain Python: :mod:`~hub.router.validation` (inbound rules),
  :mod:`~hub.router.projection` (fields per allowed category),
  :mod:`~hub.router.entitlement` (who may receive what, for which purpose - through
  :func:`consent.decision.decide`), :mod:`~hub.router.state` (consents, subjects, ids
  already written), :mod:`~hub.router.processing` (one record in, the writes out),
  :mod:`~hub.router.monitoring` (the national monitor's events of accepted records),
  :mod:`~hub.router.audit` (disclosure events), :mod:`~hub.router.ids`;
* I/O: :mod:`~hub.router.codec` (wire format), :mod:`~hub.router.loader` (state from the
  topics, the consent feed), :mod:`~hub.router.writer`, :mod:`~hub.router.engine`;
* the stream layer, the only faust code: :mod:`~hub.router.app`;
* running workers: :mod:`~hub.router.runtime`, ``python -m hub.router``.
"""

from __future__ import annotations

from hub.router.options import RouterOptions
from hub.router.runtime import RouterProcess, run_router, run_worker

__all__ = ["RouterOptions", "RouterProcess", "run_router", "run_worker"]
