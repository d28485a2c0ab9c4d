"""The consent service: the register the hub enforces.

Plain domain code (no broker, no database):

* :mod:`consent.model` - the consent record (ISO/IEC TS 27560, W3C DPV, Kantara), its
  events (hash-chained), the change-feed record, disclosures;
* :mod:`consent.policy` - the policy matrix as data (``policy_matrix.json``);
* :mod:`consent.decision` - the pure decision function (default deny);
* :mod:`consent.crypto` - the BSN encrypted at rest and its keyed lookup hash.

Around it: :mod:`consent.store` (SQLite / PostgreSQL, migrations, append-only events,
projection, outbox), :mod:`consent.outbox` (the relay to the change-feed topic),
:mod:`consent.disclosures` (the router's audit topic into the store),
:mod:`consent.service` (use cases), :mod:`consent.report` (subject access report),
:mod:`consent.api` (FastAPI), :mod:`consent.console` (the privacy officer console, HTML
under ``/console``) and :mod:`consent.runtime` (wiring). The command line is
``rmt-hub consent`` (:mod:`hub.cli.consent`). Importing this package starts nothing and
imports none of them.
"""

from __future__ import annotations

__all__: list[str] = []
