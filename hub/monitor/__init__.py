"""The national monitor: pseudonymised, generalised events, aggregated and reported.

One concern per module:

* :mod:`~hub.monitor.pseudonym` - monitor pseudonyms and event ids (HMAC-SHA-256 with a
  monitor-only key), the keyring and key rotation;
* :mod:`~hub.monitor.derive` - canonical records -> :class:`MonitorEvent` s (pure; the
  router calls :func:`derive` with a :class:`DeriveContext`);
* :mod:`~hub.monitor.aggregate` - the figures per region x two-month period;
* :mod:`~hub.monitor.suppression` - disclosure control: small-cell and dominance
  suppression, secondary suppression and an exact audit against a reader who knows
  the rules;
* :mod:`~hub.monitor.ledger` - the budget ledger per region (UWV as cashier);
* :mod:`~hub.monitor.report` - the bi-monthly report: CSV, JSON, HTML with inline SVG;
* :mod:`~hub.monitor.topic` - monitor events on Kafka (wire format, read to the end);
* :mod:`~hub.monitor.stream` - the faust worker (the only module that imports faust,
  and it is not imported here).

Importing this package starts nothing.
"""

from __future__ import annotations

from hub.monitor.aggregate import Aggregator, Cell
from hub.monitor.derive import DeriveContext, MonitorSubject, derive, subject_from_profile
from hub.monitor.errors import MonitorError, MonitorInputError, MonitorKeyError
from hub.monitor.pseudonym import MonitorKeyring, MonitorPseudonymiser, load_keyring
from hub.monitor.report import build_report, render

__all__ = [
    "Aggregator",
    "Cell",
    "DeriveContext",
    "MonitorError",
    "MonitorInputError",
    "MonitorKeyError",
    "MonitorKeyring",
    "MonitorPseudonymiser",
    "MonitorSubject",
    "build_report",
    "derive",
    "load_keyring",
    "render",
    "subject_from_profile",
]
