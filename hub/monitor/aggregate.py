"""The monitor's aggregation state per region x two-month period (plain Python, no broker).

:class:`Aggregator` applies :class:`MonitorEvent` s one at a time. It is the single
implementation of the figures: the faust worker (:mod:`hub.monitor.stream`) and the
report command both feed it, so they cannot disagree.

Per region x period a :class:`Cell` holds

* ``persons``: distinct people per measure (each person counted once per region, period
  and measure, whatever the number of events);
* ``events``: steps per measure (arrangements started, instrument uses, outcomes, ...);
* ``money``: cents per budget movement and instrument cluster: ``committed.<cluster>``
  (new or increased commitments), ``released.<cluster>`` (decreased or released ones)
  and ``paid.<cluster>``;
* ``days_to_work``: a histogram of days from a person's first intake to work (placement
  or self-employment), for the median;
* ``top``: per ``committed[.<cluster>]`` and ``paid[.<cluster>]``, the largest amounts of
  single people in it, largest first (:data:`TOP_CONTRIBUTORS` of them), for the
  dominance rule of the report (:mod:`hub.monitor.suppression`).

Measures (the ``<name>`` keys): ``reached`` (any step), ``reached.age.<band>`` (band at
the person's first step in the cell; ``UNKNOWN`` without one), ``reached.banenafspraak``,
``reached.shrinking_sector``, ``intake``, ``selected``, ``arrangement_started``,
``arrangement_changed``, ``arrangement_finished``, ``referral``, ``transfer``,
``outcome`` and ``outcome.<label>`` (:data:`OUTCOME_LABELS`; ``outcome.WORK`` are the
placements), ``instrument`` and
``instrument.<cluster>`` (events: uses), ``committed[.<cluster>]`` and
``paid[.<cluster>]`` (persons contributing), ``ledger_new`` (people whose first budget
movement in the region falls in this period: summed, the contributors of the ledger).

Per person and period (keyed by the monitor pseudonym, one per person and period,
brought to the newest key version) the aggregator keeps, in memory and nowhere else: the
event ids seen (duplicates are dropped: delivery is at least once), what was counted
already, and their amounts per money measure and cell (for ``top``). Across periods it
links only what the two figures that need it carry a ``linkage_pseudonym`` for
(docs/decisions/0016-monitor-access-by-need.md): the day of the first intake and the
days of placements, so the time to work is right even when a placement is read before
the intake it follows, and the regions whose budget ledger the person is in. An event
without one (written before periods had pseudonyms) links by its monitor pseudonym.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hub.monitor.derive import WORK_OUTCOMES
from hub.monitor.errors import MonitorKeyError
from hub.monitor.periods import Period
from hub.monitor.pseudonym import MonitorPseudonymiser
from hub.monitor.suppression import TOP_CONTRIBUTORS
from schemas.models import MonitorEvent
from schemas.models.enums import MonitorEventType, OutcomeType
from schemas.regions import Region

__all__ = [
    "OUTCOME_LABELS",
    "UNKNOWN",
    "WORK",
    "Aggregator",
    "Cell",
    "CellKey",
    "median_of",
    "outcome_label",
]

UNKNOWN = "UNKNOWN"
"""Category label of an attribute the monitor did not get (e.g. no date of birth)."""

CellKey = tuple[Region, Period]
_Once = Callable[[str], bool]
WORK = "WORK"
"""Outcome label of work: placed in work or self-employed (PLACEMENT events)."""
OUTCOME_LABELS = (WORK, "SCHOOLING_FINISHED", "NO_PLACEMENT", "DROPPED_OUT", "OTHER")
"""The outcome columns, in report order (an unknown outcome counts as OTHER)."""


def outcome_label(outcome: OutcomeType | None) -> str:
    """The outcome column of ``outcome``."""
    if outcome in WORK_OUTCOMES:
        return WORK
    return outcome.value if outcome is not None else OutcomeType.OTHER.value


_STEP_MEASURE: dict[MonitorEventType, str] = {
    MonitorEventType.INTAKE: "intake",
    MonitorEventType.SELECTION: "selected",
    MonitorEventType.ARRANGEMENT_STARTED: "arrangement_started",
    MonitorEventType.ARRANGEMENT_CHANGED: "arrangement_changed",
    MonitorEventType.ARRANGEMENT_FINISHED: "arrangement_finished",
    MonitorEventType.REFERRAL: "referral",
    MonitorEventType.RESPONSIBILITY_TRANSFER: "transfer",
}


@dataclass
class Cell:
    """The figures of one region x period (see the module doc for the keys)."""

    persons: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    money: Counter[str] = field(default_factory=Counter)
    days_to_work: Counter[int] = field(default_factory=Counter)
    top: dict[str, list[int]] = field(default_factory=dict)

    def merge(self, other: Cell) -> None:
        """Add ``other`` into this cell (e.g. the cells of several workers).

        ``top`` becomes the largest of both: exact when the two hold different people."""
        self.persons.update(other.persons)
        self.events.update(other.events)
        self.money.update(other.money)
        self.days_to_work.update(other.days_to_work)
        for measure, amounts in other.top.items():
            both = sorted([*self.top.get(measure, []), *amounts], reverse=True)
            self.top[measure] = both[:TOP_CONTRIBUTORS]

    def largest(self, measure: str) -> tuple[int, ...]:
        """The largest amounts of single people in ``measure``, largest first."""
        return tuple(self.top.get(measure, ()))

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """A JSON-safe dict (the faust table value)."""
        return {
            "persons": _clean(self.persons),
            "events": _clean(self.events),
            "money": _clean(self.money),
            "days_to_work": {str(k): v for k, v in sorted(self.days_to_work.items()) if v},
            "top": {k: list(v) for k, v in sorted(self.top.items()) if v},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]]) -> Cell:
        return cls(
            persons=Counter(dict(data.get("persons", {}))),
            events=Counter(dict(data.get("events", {}))),
            money=Counter(dict(data.get("money", {}))),
            days_to_work=Counter({int(k): v for k, v in data.get("days_to_work", {}).items()}),
            top={k: [int(a) for a in v] for k, v in data.get("top", {}).items()},
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cell) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def _clean(counter: Counter[str]) -> dict[str, int]:
    return {k: v for k, v in sorted(counter.items()) if v}


def median_of(histogram: Mapping[int, int]) -> float | None:
    """The median of a histogram value -> count (None when empty)."""
    n = sum(histogram.values())
    if n == 0:
        return None
    lower_rank, upper_rank = (n - 1) // 2, n // 2
    seen = 0
    lower: int | None = None
    for value in sorted(histogram):
        seen += histogram[value]
        if lower is None and seen > lower_rank:
            lower = value
        if seen > upper_rank:
            assert lower is not None
            return (lower + value) / 2
    raise AssertionError("unreachable: ranks are below the total")  # pragma: no cover


@dataclass
class _Person:
    """One person in one period."""

    seen: set[str] = field(default_factory=set)
    counted: set[str] = field(default_factory=set)
    amounts: Counter[str] = field(default_factory=Counter)
    """Cents per ``<region>|<period>|<money measure>`` (for the cells' ``top``)."""


@dataclass
class _Linked:
    """One person across periods: only what the figures that need linkage use."""

    first_intake: date | None = None
    placements: list[tuple[Region, Period, date]] = field(default_factory=list)
    ledgers: dict[Region, Period] = field(default_factory=dict)
    """Per region, the period of the person's earliest budget movement there."""


def _add_amount(person: _Person, cell: Cell, prefix: str, measure: str, cents: int) -> None:
    """Add ``cents`` to the person's amount in ``measure`` and keep the cell's ``top``.

    Amounts only grow (commitments count increases, payments are positive), so the
    person's old amount, when among the largest, is replaced by the new one; an amount
    that would shrink leaves ``top`` as it was (too large: it suppresses more, not less).
    """
    flag = prefix + measure
    old = person.amounts[flag]
    person.amounts[flag] = new = old + cents
    if cents <= 0:
        return
    top = cell.top.setdefault(measure, [])
    if old in top:
        top.remove(old)
    top.append(new)
    top.sort(reverse=True)
    del top[TOP_CONTRIBUTORS:]


class Aggregator:
    """Applies monitor events to per-region x period cells; testable without a broker.

    ``pseudonymiser`` re-keys events written under an older monitor key version to the
    newest one (it needs only the keys above version 1, see :mod:`hub.monitor.pseudonym`).
    Without it, every event must carry the same key version.
    """

    def __init__(self, pseudonymiser: MonitorPseudonymiser | None = None) -> None:
        self._keys = pseudonymiser
        self._cells: dict[CellKey, Cell] = {}
        self._persons: dict[str, _Person] = {}
        self._linked: dict[str, _Linked] = {}
        self._versions: set[int] = set()
        self.applied = 0
        self.duplicates = 0

    # --- reading ------------------------------------------------------------------------------

    def cell(self, region: Region, period: Period) -> Cell:
        """The cell of ``region`` x ``period`` (empty when nothing happened)."""
        return self._cells.get((region, period)) or Cell()

    def cells(self) -> dict[CellKey, Cell]:
        """Every non-empty cell."""
        return dict(self._cells)

    def periods(self) -> list[Period]:
        return sorted({period for _, period in self._cells})

    def regions(self) -> list[Region]:
        return sorted({region for region, _ in self._cells})

    def __len__(self) -> int:
        """People x periods the aggregator keeps state for."""
        return len(self._persons)

    # --- applying -------------------------------------------------------------------------------

    def apply_all(self, events: Iterable[MonitorEvent]) -> int:
        """Apply ``events`` in order; returns how many were new."""
        return sum(1 for event in events if self.apply(event))

    def apply(self, event: MonitorEvent) -> set[CellKey]:
        """Apply one event; returns the cells it changed (empty for a duplicate)."""
        pseudonym, event_id, linkage = self._normalise(event)
        person = self._persons.setdefault(pseudonym, _Person())
        if event_id in person.seen:
            self.duplicates += 1
            return set()
        person.seen.add(event_id)
        self.applied += 1
        key: CellKey = (event.region, event.period)
        cell = self._cells.setdefault(key, Cell())
        touched = {key}
        day = event.occurred_at.date()
        prefix = f"{event.region.value}|{event.period}|"

        def once(measure: str) -> bool:
            flag = prefix + measure
            if flag in person.counted:
                return False
            person.counted.add(flag)
            cell.persons[measure] += 1
            return True

        if prefix + "reached" not in person.counted:
            once("reached")
            once(f"reached.age.{event.age_band.value if event.age_band else UNKNOWN}")
            if event.banenafspraak:
                once("reached.banenafspraak")
            if event.shrinking_sector:
                once("reached.shrinking_sector")
        step = _STEP_MEASURE.get(event.event_type)
        if step is not None:
            cell.events[step] += 1
            once(step)

        def linked() -> _Linked:  # made when a figure across periods needs it
            return self._linked.setdefault(linkage, _Linked())

        if event.event_type is MonitorEventType.INTAKE:
            first = linked().first_intake
            if first is None or day < first:
                touched |= self._set_intake(linked(), day)
        elif event.event_type in (MonitorEventType.PLACEMENT, MonitorEventType.OUTCOME):
            touched |= self._outcome(linked, event, cell, once, day)
        elif event.event_type is MonitorEventType.INSTRUMENT_USED:
            touched |= self._instrument(person, linked, event, cell, once)
        return touched

    def _normalise(self, event: MonitorEvent) -> tuple[str, str, str]:
        """(monitor pseudonym, event id, linkage pseudonym) at the newest key version."""
        version = event.key_version
        linkage = event.linkage_pseudonym or event.monitor_pseudonym
        if self._keys is None:
            self._versions.add(version)
            if len(self._versions) > 1:
                raise MonitorKeyError(
                    f"events of monitor key versions {sorted(self._versions)}: re-keying "
                    "them needs the monitor keys (HUB_MONITOR_KEY)"
                )
            return event.monitor_pseudonym, event.event_id, linkage
        if version == self._keys.key_version:
            return event.monitor_pseudonym, event.event_id, linkage
        return (
            self._keys.rekey(event.monitor_pseudonym, version),
            self._keys.rekey_event_id(event.event_id, version),
            self._keys.rekey(linkage, version),
        )

    def _outcome(
        self,
        linked: Callable[[], _Linked],
        event: MonitorEvent,
        cell: Cell,
        once: _Once,
        day: date,
    ) -> set[CellKey]:
        label = outcome_label(event.outcome)
        cell.events["outcome"] += 1
        cell.events[f"outcome.{label}"] += 1
        once("outcome")
        first = once(f"outcome.{label}")
        if event.event_type is not MonitorEventType.PLACEMENT or not first:
            return set()
        person = linked()
        person.placements.append((event.region, event.period, day))
        self._add_duration(person, event.region, event.period, day, +1)
        return set()

    def _set_intake(self, person: _Linked, day: date) -> set[CellKey]:
        for region, period, placed in person.placements:
            self._add_duration(person, region, period, placed, -1)
        person.first_intake = day
        for region, period, placed in person.placements:
            self._add_duration(person, region, period, placed, +1)
        return {(region, period) for region, period, _ in person.placements}

    def _add_duration(
        self, person: _Linked, region: Region, period: Period, placed: date, sign: int
    ) -> None:
        if person.first_intake is None or placed < person.first_intake:
            return
        cell = self._cells.setdefault((region, period), Cell())
        days = (placed - person.first_intake).days
        cell.days_to_work[days] += sign
        if cell.days_to_work[days] == 0:
            del cell.days_to_work[days]

    def _instrument(
        self,
        person: _Person,
        linked: Callable[[], _Linked],
        event: MonitorEvent,
        cell: Cell,
        once: _Once,
    ) -> set[CellKey]:
        cluster = event.instrument.cluster.value if event.instrument else UNKNOWN
        if event.uses:
            cell.events["instrument"] += event.uses
            cell.events[f"instrument.{cluster}"] += event.uses
            once("instrument")
            once(f"instrument.{cluster}")
        committed = event.committed.amount_cents if event.committed else 0
        paid = event.paid.amount_cents if event.paid else 0
        prefix = f"{event.region.value}|{event.period}|"
        if committed > 0:
            cell.money[f"committed.{cluster}"] += committed
            once("committed")
            once(f"committed.{cluster}")
            for measure in ("committed", f"committed.{cluster}"):
                _add_amount(person, cell, prefix, measure, committed)
        elif committed < 0:
            cell.money[f"released.{cluster}"] += -committed
        if paid:
            cell.money[f"paid.{cluster}"] += paid
            once("paid")
            once(f"paid.{cluster}")
            for measure in ("paid", f"paid.{cluster}"):
                _add_amount(person, cell, prefix, measure, paid)
        if not (committed or paid):
            return set()
        # counted in the period of the earliest movement, whatever the order events arrive
        # in (one person's periods are on different partitions of the monitor topic)
        ledgers = linked().ledgers
        earlier = ledgers.get(event.region)
        if earlier is not None and earlier <= event.period:
            return set()
        ledgers[event.region] = event.period
        cell.persons["ledger_new"] += 1
        if earlier is None:
            return set()
        moved_from = self._cells.setdefault((event.region, earlier), Cell())
        moved_from.persons["ledger_new"] -= 1
        if not moved_from.persons["ledger_new"]:
            del moved_from.persons["ledger_new"]
        return {(event.region, earlier)}

    # --- for tests and diagnostics ---------------------------------------------------------------

    def iter_cells(self, period: Period | None = None) -> Iterator[tuple[CellKey, Cell]]:
        """The cells in (region, period) order, optionally of one period."""
        for key in sorted(self._cells):
            if period is None or key[1] == period:
                yield key, self._cells[key]
