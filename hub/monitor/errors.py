"""The errors of the national monitor (all :class:`hub.errors.HubError` subclasses).

::

    HubError
    └── MonitorError
        ├── MonitorKeyError        the monitor keyring is missing, malformed or incomplete
        ├── MonitorInputError      a canonical record cannot be turned into monitor events
        ├── MonitorReadError       the monitor topic cannot be read or holds a bad record
        ├── PeriodError            a reporting period that is not 'YYYY-MM/MM'
        └── BudgetFileError        the budget allocations file is missing or malformed

Messages never quote a BSN, a name or any other personal value.
"""

from __future__ import annotations

from hub.errors import HubError

__all__ = [
    "BudgetFileError",
    "MonitorError",
    "MonitorInputError",
    "MonitorKeyError",
    "MonitorReadError",
    "PeriodError",
]


class MonitorError(HubError):
    """Something went wrong in the national monitor."""


class MonitorKeyError(MonitorError):
    """The monitor keyring is missing, malformed, or lacks a version that is needed."""


class MonitorInputError(MonitorError):
    """A canonical record (or the subject it is about) cannot be turned into monitor events."""


class MonitorReadError(MonitorError):
    """The monitor topic cannot be read, or holds a record that is not a MonitorEvent."""


class PeriodError(MonitorError, ValueError):
    """A reporting period that is not a two-month period 'YYYY-MM/MM' (e.g. '2021-03/04')."""


class BudgetFileError(MonitorError):
    """The budget allocations file is missing or malformed."""
