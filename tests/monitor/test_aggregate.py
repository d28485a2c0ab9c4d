"""The aggregation state per region x period, without a broker."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hub.monitor.aggregate import Aggregator, Cell, median_of
from hub.monitor.errors import MonitorKeyError
from hub.monitor.pseudonym import MonitorKeyring, MonitorPseudonymiser
from schemas.menu_card import Instrument
from schemas.models import Money, MonitorEvent, two_month_period
from schemas.models.enums import AgeBand, MonitorEventType, OutcomeType
from schemas.regions import Region
from schemas.vocabulary import PartnerKind

V1 = MonitorPseudonymiser(MonitorKeyring({1: b"\x01" * 32}))
V2 = MonitorPseudonymiser(MonitorKeyring({1: b"\x01" * 32, 2: b"\x02" * 32}))
REGION = Region.TWENTE


def _event(
    keys: MonitorPseudonymiser,
    bsn: str,
    kind: MonitorEventType,
    day: date,
    step: str = "1",
    **fields: object,
) -> MonitorEvent:
    return MonitorEvent(
        event_id=keys.event_id(bsn, kind.value, step),
        occurred_at=datetime(day.year, day.month, day.day, tzinfo=UTC),
        source_partner="uwv",
        monitor_pseudonym=keys.pseudonym(bsn),
        event_type=kind,
        region=fields.pop("region", REGION),  # type: ignore[arg-type]
        period=two_month_period(day),
        partner_kind=PartnerKind.UWV,
        age_band=AgeBand.FROM_27_TO_54,
        key_version=keys.key_version,
        **fields,  # type: ignore[arg-type]
    )


A, B = "111222333", "123456782"
MARCH, APRIL, JUNE = date(2021, 3, 1), date(2021, 4, 20), date(2021, 6, 9)


def test_people_are_counted_once_per_cell_and_steps_each_time() -> None:
    agg = Aggregator(V1)
    agg.apply(_event(V1, A, MonitorEventType.INTAKE, MARCH))
    agg.apply(_event(V1, A, MonitorEventType.ARRANGEMENT_STARTED, MARCH))
    agg.apply(_event(V1, A, MonitorEventType.ARRANGEMENT_CHANGED, APRIL, step="2"))
    agg.apply(_event(V1, A, MonitorEventType.ARRANGEMENT_CHANGED, APRIL, step="3"))
    agg.apply(_event(V1, B, MonitorEventType.INTAKE, APRIL))
    cell = agg.cell(REGION, "2021-03/04")
    assert cell.persons["reached"] == 2
    assert cell.persons["reached.age.FROM_27_TO_54"] == 2
    assert cell.persons["intake"] == 2
    assert cell.events["arrangement_changed"] == 2
    assert cell.persons["arrangement_changed"] == 1


def test_duplicates_are_dropped_by_event_id() -> None:
    agg = Aggregator(V1)
    event = _event(V1, A, MonitorEventType.INTAKE, MARCH)
    assert agg.apply(event) == {(REGION, "2021-03/04")}
    assert agg.apply(event) == set()
    assert agg.applied == 1
    assert agg.duplicates == 1
    assert agg.cell(REGION, "2021-03/04").events["intake"] == 1


def test_days_to_work_also_when_the_placement_is_read_first() -> None:
    placed = _event(V1, A, MonitorEventType.PLACEMENT, JUNE, outcome=OutcomeType.PLACED_IN_WORK)
    intake = _event(V1, A, MonitorEventType.INTAKE, MARCH)
    later_intake = _event(V1, A, MonitorEventType.INTAKE, APRIL, step="2")
    in_order, reversed_ = Aggregator(V1), Aggregator(V1)
    in_order.apply_all([later_intake, intake, placed])
    reversed_.apply_all([placed, later_intake, intake])
    for agg in (in_order, reversed_):
        cell = agg.cell(REGION, "2021-05/06")
        assert dict(cell.days_to_work) == {(JUNE - MARCH).days: 1}
        assert cell.persons["outcome.WORK"] == 1
    self_employed = _event(
        V1, B, MonitorEventType.PLACEMENT, JUNE, outcome=OutcomeType.SELF_EMPLOYED
    )
    assert reversed_.apply(self_employed)
    assert reversed_.cell(REGION, "2021-05/06").events["outcome.WORK"] == 2  # no intake: no days
    assert sum(reversed_.cell(REGION, "2021-05/06").days_to_work.values()) == 1


def test_instruments_and_money_by_cluster() -> None:
    agg = Aggregator(V1)
    school = {"instrument": Instrument.SCHOOLING}
    agg.apply(
        _event(
            V1,
            A,
            MonitorEventType.INSTRUMENT_USED,
            MARCH,
            "u",
            committed=Money(amount_cents=900),
            **school,
        )
    )
    agg.apply(
        _event(
            V1,
            A,
            MonitorEventType.INSTRUMENT_USED,
            APRIL,
            "i",
            uses=0,
            committed=Money(amount_cents=100),
            **school,
        )
    )
    agg.apply(
        _event(
            V1,
            A,
            MonitorEventType.INSTRUMENT_USED,
            JUNE,
            "p",
            uses=0,
            paid=Money(amount_cents=1000),
            **school,
        )
    )
    agg.apply(
        _event(
            V1,
            B,
            MonitorEventType.INSTRUMENT_USED,
            MARCH,
            "u",
            committed=Money(amount_cents=500),
            **school,
        )
    )
    agg.apply(
        _event(
            V1,
            B,
            MonitorEventType.INSTRUMENT_USED,
            APRIL,
            "r",
            uses=0,
            committed=Money(amount_cents=-500),
            **school,
        )
    )
    spring = agg.cell(REGION, "2021-03/04")
    assert spring.events["instrument.LABOUR_MARKET_POSITION"] == 2
    assert spring.persons["instrument.LABOUR_MARKET_POSITION"] == 2
    assert spring.money["committed.LABOUR_MARKET_POSITION"] == 1500
    assert spring.money["released.LABOUR_MARKET_POSITION"] == 500
    assert spring.persons["ledger_new"] == 2
    summer = agg.cell(REGION, "2021-05/06")
    assert summer.money["paid.LABOUR_MARKET_POSITION"] == 1000
    assert summer.persons["paid"] == 1
    assert summer.persons["ledger_new"] == 0  # already a contributor


def test_events_of_an_older_key_version_join_the_same_person() -> None:
    agg = Aggregator(MonitorPseudonymiser(V2.keyring.without(1)))  # the monitor: versions 2..
    agg.apply(_event(V1, A, MonitorEventType.INTAKE, MARCH))
    agg.apply(_event(V2, A, MonitorEventType.INTAKE, MARCH))  # the same step, re-derived
    agg.apply(_event(V2, A, MonitorEventType.PLACEMENT, JUNE, outcome=OutcomeType.PLACED_IN_WORK))
    assert len(agg) == 1
    assert agg.duplicates == 1
    assert sum(agg.cell(REGION, "2021-05/06").days_to_work.values()) == 1


def test_mixed_key_versions_need_the_keys() -> None:
    agg = Aggregator()
    agg.apply(_event(V1, A, MonitorEventType.INTAKE, MARCH))
    with pytest.raises(MonitorKeyError):
        agg.apply(_event(V2, B, MonitorEventType.INTAKE, MARCH))


def test_cells_round_trip_and_merge() -> None:
    agg = Aggregator(V1)
    agg.apply(_event(V1, A, MonitorEventType.PLACEMENT, JUNE, outcome=OutcomeType.PLACED_IN_WORK))
    agg.apply(_event(V1, A, MonitorEventType.INTAKE, MARCH))
    cell = agg.cell(REGION, "2021-05/06")
    assert Cell.from_dict(cell.to_dict()) == cell
    double = Cell.from_dict(cell.to_dict())
    double.merge(cell)
    assert double.persons["reached"] == 2 * cell.persons["reached"]
    assert agg.periods() == ["2021-03/04", "2021-05/06"]
    assert agg.regions() == [REGION]


@pytest.mark.parametrize(
    ("histogram", "median"),
    [({}, None), ({5: 1}, 5), ({1: 1, 3: 1}, 2), ({1: 2, 10: 1}, 1), ({1: 1, 2: 1, 9: 2}, 5.5)],
)
def test_median_of_a_histogram(histogram: dict[int, int], median: float | None) -> None:
    assert median_of(histogram) == median


def _per_period(keys: MonitorPseudonymiser, event: MonitorEvent, linked: bool) -> MonitorEvent:
    """``event`` as the router writes it since issue 20: a pseudonym per period, the
    person's only as the linkage pseudonym of steps that need it."""
    return event.model_copy(
        update={
            "monitor_pseudonym": keys.period_pseudonym(event.monitor_pseudonym, event.period),
            "linkage_pseudonym": event.monitor_pseudonym if linked else None,
        }
    )


def test_figures_across_periods_link_by_the_linkage_pseudonym_only() -> None:
    money = {"instrument": Instrument.JOB_COACH, "uses": 1}
    used = MonitorEventType.INSTRUMENT_USED
    steps = [
        (_event(V1, A, MonitorEventType.INTAKE, MARCH), True),
        (_event(V1, A, MonitorEventType.REFERRAL, MARCH), False),
        (
            _event(V1, A, used, APRIL, committed=Money(amount_cents=9), **money),
            True,
        ),
        (_event(V1, A, MonitorEventType.REFERRAL, JUNE, step="2"), False),
        (
            _event(V1, A, used, JUNE, "2", paid=Money(amount_cents=9), **money),
            True,
        ),
        (
            _event(V1, A, MonitorEventType.PLACEMENT, JUNE, outcome=OutcomeType.PLACED_IN_WORK),
            True,
        ),
    ]
    agg = Aggregator(V1)
    agg.apply_all(_per_period(V1, event, linked) for event, linked in steps)
    # one person's periods land on different partitions: any order gives the same cells
    backwards = Aggregator(V1)
    backwards.apply_all(_per_period(V1, event, linked) for event, linked in reversed(steps))
    assert backwards.cells() == agg.cells()
    spring, summer = agg.cell(REGION, "2021-03/04"), agg.cell(REGION, "2021-05/06")
    assert spring.persons["reached"] == summer.persons["reached"] == 1
    assert dict(summer.days_to_work) == {(JUNE - MARCH).days: 1}  # intake in another period
    assert (spring.persons["ledger_new"], summer.persons["ledger_new"]) == (1, 0)
    assert len(agg) == 2  # one person, two periods: nothing of theirs links the two
