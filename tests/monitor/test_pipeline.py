"""Synthetic people through the monitor, over the session's real broker.

What runs: synthetic partner input files (one JSON-lines file per partner, with BSNs,
names, dates of birth, addresses, client pseudonyms) -> canonical records -> monitor
events on the monitor topic (Confluent wire format through the schema registry, keyed by
monitor pseudonym) -> ``rmt-hub monitor report`` (reads the topic to its high watermark,
aggregates, suppresses, renders) -> compared with figures computed straight from the
input files (:func:`tests.monitor.synthetic.reference`), in two variants:

* ``router`` - the whole hub: each partner publishes its records with the partner SDK
  (:class:`~hub.sdk.PartnerClient`: its outbox, record security as configured) and a
  real router worker validates them and writes the monitor events
  (:mod:`hub.router.monitoring`); no consent is given (none is needed for the monitor),
  so no partner receives anything. The topic must hold exactly the events of the
  stand-in below, and no record may be refused.
* ``stand-in`` - many more people, without the router: :class:`RouterStandIn` (subject
  per person, previous arrangement version, :func:`hub.monitor.derive.derive`) publishes
  the events itself; it checks the monitor's figures at a larger scale in little time.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka import TopicPartition
from pydantic import SecretStr
from typer.testing import CliRunner

from hub.cli.monitor import app as monitor_cli
from hub.config import HubSettings
from hub.kafka import consumer
from hub.monitor.aggregate import OUTCOME_LABELS, Aggregator
from hub.monitor.errors import MonitorReadError
from hub.monitor.pseudonym import MonitorKeyring, MonitorPseudonymiser
from hub.monitor.report import build_report, render_csv, render_json
from hub.monitor.suppression import TOTAL
from hub.monitor.topic import MonitorCodec, publish_events, read_events
from hub.sdk import PartnerClient
from hub.security.headers import SECURITY_PREFIX, SIG_HEADERS
from schemas.identifiers import is_valid_bsn
from schemas.menu_card import InstrumentCluster
from schemas.models import MonitorEvent, PersonRecord
from schemas.regions import Region
from tests.helpers.monitor import drop_topics, make_monitor_env
from tests.monitor.synthetic import (
    PARTNER_KINDS,
    Expected,
    Person,
    RouterStandIn,
    World,
    generate,
    read_inputs,
    reference,
    write_inputs,
)
from tests.router.helpers.hubtest import Hub
from tests.router.helpers.workers import wait_routed
from topics.partners import PartnerDirectory

pytestmark = pytest.mark.integration

PEOPLE = {"stand-in": 3000, "router": 600}
KEY = b"\x2a" * 32
ROUTED_WITHIN_S = 120.0


@dataclass
class Run:
    variant: str
    settings: HubSettings
    world: World
    expected: Expected
    events: list[MonitorEvent]
    topic: str
    reports: dict[str, str]  # "<period> <format>" -> text written by the CLI


def _cli(settings: HubSettings, *args: str) -> str:
    env = {
        "HUB_BOOTSTRAP_SERVERS": settings.bootstrap_servers or "",
        "HUB_TOPIC_PREFIX": settings.topic_prefix,
        "HUB_SCHEMA_REGISTRY_URL": settings.schema_registry_url or "",
        "HUB_DATA_DIR": str(settings.data_dir),
        "HUB_MONITOR_KEY": "",
    }
    result = CliRunner().invoke(monitor_cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _reports(settings: HubSettings, home: Path) -> dict[str, str]:
    """The reports the tests look at, written by ``rmt-hub monitor report``."""
    reports: dict[str, str] = {}
    out = home / "reports"
    out.mkdir()
    for period, fmt in [
        ("2021-03/04", "json"),
        ("2021-03/04", "csv"),
        ("2021-03/04", "html"),
        ("2021-07/08", "json"),
    ]:
        target = out / f"{period.replace('/', '-')}.{fmt}"
        _cli(settings, "report", "--period", period, "--format", fmt, "--out", str(target))
        reports[f"{period} {fmt}"] = target.read_text(encoding="utf-8")
    reports["2021-05/06 csv"] = _cli(
        settings,
        "report",
        "--period",
        "2021-05/06",
        "--region",
        "Groot Amsterdam",
        "--format",
        "csv",
    )
    return reports


def _partners_file(path: Path) -> Path:
    """A partner directory with the synthetic partners (national, one per kind)."""
    partners = [
        {"id": pid, "kind": kind.value, "name": f"synthetic {pid}", "region": None}
        for pid, kind in PARTNER_KINDS.items()
    ]
    path.write_text(json.dumps({"partners": partners}), encoding="utf-8")
    return path


def _publish(hub: Hub, records: list[PersonRecord]) -> None:
    """Every record to its publisher's outbox, with the partner SDK (order kept per partner)."""
    directory = PartnerDirectory.model_validate_json(
        (hub.settings.partners_file or Path()).read_text(encoding="utf-8")
    )
    clients = {
        pid: PartnerClient(
            hub.settings, pid, partners=directory, registry=hub.codec.registry, dedupe=False
        )
        for pid in PARTNER_KINDS
    }
    try:
        for record in records:
            clients[record.source_partner].publish(record)
        for client in clients.values():
            client.flush()
    finally:
        for client in clients.values():
            client.close()


def _routed(hub: Hub, count: int) -> None:
    """Wait until the hub's router worker has routed ``count`` outbox records."""
    (worker,) = hub.workers
    wait_routed(worker, count, timeout_s=ROUTED_WITHIN_S)


def _through_the_router(
    hub_settings: HubSettings,
    registry_url: str,
    codec: MonitorCodec,
    *,
    home: Path,
    records: list[PersonRecord],
    keys: MonitorPseudonymiser,
) -> tuple[Hub, list[MonitorEvent]]:
    """The records through the partner SDK and a router worker; the hub and its events."""
    prefix = f"mr{uuid.uuid4().hex[:10]}"
    settings = hub_settings.model_copy(
        update={
            "topic_prefix": prefix,
            "schema_registry_url": registry_url,
            "data_dir": home / prefix,
            "partners_file": _partners_file(home / "partners.json"),
            "monitor_key": SecretStr(base64.urlsafe_b64encode(KEY).decode()),
        }
    )
    hub = Hub(settings, home)  # every catalogue topic, and the partners' keys
    try:
        hub.worker("router").wait_ready(60, partitions=settings.topic_partitions)
        _publish(hub, records)
        _routed(hub, len(records))
        assert hub.dead_letters() == []  # valid input: every record accepted
        topic = hub.catalogue.monitor_events.name
        events = list(read_events(settings, topic, codec))
        # the router derives exactly what the stand-in does, each event once
        assert len(events) == len({e.event_id for e in events})
        assert {e.event_id: e for e in events} == {
            e.event_id: e for e in RouterStandIn(keys).run(records)
        }
        for worker in hub.workers:
            worker.stop()
    except BaseException:
        hub.close()
        raise
    return hub, events


@pytest.fixture(scope="module", params=["router", "stand-in"])
def run(
    request: pytest.FixtureRequest,
    hub_settings: HubSettings,
    monitor_registry_url: str,
    monitor_codec: MonitorCodec,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Run]:
    variant: str = request.param
    home = tmp_path_factory.mktemp(f"monitor-pipeline-{variant}")
    world = generate(PEOPLE[variant], seed=2021)
    files = write_inputs(world, home / "inputs")
    records = read_inputs(files)
    keys = MonitorPseudonymiser(MonitorKeyring({1: KEY}))
    hub: Hub | None = None
    if variant == "router":
        hub, events = _through_the_router(
            hub_settings, monitor_registry_url, monitor_codec, home=home, records=records, keys=keys
        )
        settings = hub.settings
    else:
        settings = make_monitor_env(hub_settings, monitor_registry_url, home)
        events = list(RouterStandIn(keys).run(records))
        topic = f"{settings.topic_prefix}.monitor.events"
        assert publish_events(settings, topic, events, monitor_codec) == len(events)
    topic = f"{settings.topic_prefix}.monitor.events"
    reports = _reports(settings, home)
    yield Run(variant, settings, world, reference(records), events, topic, reports)
    if hub is not None:
        hub.close()
    drop_topics(settings)


def _from_topic(run: Run, codec: MonitorCodec) -> Aggregator:
    aggregator = Aggregator()
    aggregator.apply_all(read_events(run.settings, run.topic, codec))
    return aggregator


def test_the_aggregate_of_the_topic_equals_the_figures_of_the_input_files(
    run: Run, monitor_codec: MonitorCodec
) -> None:
    aggregator = _from_topic(run, monitor_codec)
    assert aggregator.applied == len(run.events)
    assert aggregator.duplicates == 0
    expected = run.expected
    cells = aggregator.cells()
    keys = set(cells) | set(expected.reached)
    assert len(keys) > 50
    clusters = [c.value for c in InstrumentCluster]
    for key in sorted(keys):
        cell = cells.get(key)
        assert cell is not None, key
        region, period = key
        assert cell.persons["reached"] == expected.reached[key], key
        for band in ("UNDER_27", "FROM_27_TO_54", "FROM_55"):
            assert cell.persons[f"reached.age.{band}"] == expected.reached_age[region, period, band]
        assert cell.persons["intake"] == expected.intakes[key], key
        assert cell.persons["selected"] == expected.selected[key], key
        assert cell.events["arrangement_started"] == expected.started[key], key
        assert cell.events["arrangement_finished"] == expected.finished[key], key
        assert cell.events["referral"] == expected.referrals[key], key
        assert cell.events["transfer"] == expected.transfers[key], key
        for label in OUTCOME_LABELS:
            assert cell.events[f"outcome.{label}"] == expected.outcomes[region, period, label]
        for cluster in clusters:
            triple = (region, period, cluster)
            assert cell.events[f"instrument.{cluster}"] == expected.uses[triple], triple
            assert cell.money[f"committed.{cluster}"] == expected.committed[triple], triple
            assert cell.money[f"paid.{cluster}"] == expected.paid[triple], triple
        released = sum(v for k, v in cell.money.items() if k.startswith("released."))
        assert released == expected.released[key], key
        assert sorted(cell.days_to_work.elements()) == sorted(expected.days_to_work.get(key, []))


def test_the_published_report_equals_the_input_figures_where_not_suppressed(run: Run) -> None:
    document = json.loads(run.reports["2021-03/04 json"])
    expected = run.expected
    period = "2021-03/04"
    tables = {t["name"]: t for t in document["tables"]}

    def check(table: str, column: str, want: dict[str, int]) -> int:
        shown = 0
        for row in tables[table]["rows"]:
            cell = row["cells"][column]
            if cell.get("suppressed"):
                continue
            shown += 1
            assert cell["value"] == want[row["key"]], (table, row["key"], column)
        return shown

    regions = [r.value for r in Region]

    def per_region(counter: dict[tuple[Region, str], int]) -> dict[str, int]:
        values = {r: counter.get((Region(r), period), 0) for r in regions}
        values[TOTAL] = sum(values.values())
        return values

    # a region's total is shown when it can be: the six busy regions and the national one
    # at least (a total of 10 over two suppressed cells of at least 1 each would pin them
    # to 1..9, so such totals are hidden too)
    assert check("reach", TOTAL, per_region(expected.reached)) >= 7
    assert check("steps", "intake", per_region(expected.intakes)) >= 7  # busy regions + total
    assert check("steps", "selected", per_region(expected.selected)) > 5
    assert check("steps", "arrangement_started", per_region(expected.started)) > 5
    for cluster in (c.value for c in InstrumentCluster):
        uses = {(r, p): v for (r, p, c), v in expected.uses.items() if c == cluster}
        check("instruments", cluster, per_region(uses))
        money = {(r, p): v for (r, p, c), v in expected.committed.items() if c == cluster}
        euro = {k: round(v / 100, 2) for k, v in per_region(money).items()}
        check("commitments", cluster, euro)  # type: ignore[arg-type]
    national = tables["reach"]["rows"][-1]["cells"][TOTAL]
    assert national == {"value": per_region(expected.reached)[TOTAL]}
    assert document["suppression"]["threshold"] == 10
    # every period's report over the CLI is the in-process report of the same topic
    assert run.reports["2021-03/04 json"].count('"suppressed": true') > 0


def test_the_cli_report_is_the_report_of_the_aggregate(
    run: Run, monitor_codec: MonitorCodec
) -> None:
    aggregator = _from_topic(run, monitor_codec)
    assert run.reports["2021-03/04 json"] == render_json(build_report(aggregator, "2021-03/04"))
    lines = list(csv.DictReader(io.StringIO(run.reports["2021-05/06 csv"])))
    assert {line["row"] for line in lines} == {"GROOT_AMSTERDAM", TOTAL}
    assert {line["table"] for line in lines} >= {"reach", "budget", "commitments"}
    region = build_report(aggregator, "2021-05/06", region=Region.GROOT_AMSTERDAM)
    assert lines == list(csv.DictReader(io.StringIO(render_csv(region))))
    assert "<svg" in run.reports["2021-03/04 html"]


# --- privacy ------------------------------------------------------------------------------------

_NINE_DIGITS = re.compile(r"(?<![0-9])[0-9]{9}(?![0-9])")


def _raw_records(
    settings: HubSettings, topic: str
) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    """Key, value and headers of every record on the topic, as stored."""
    reader = consumer(settings, group_id=None, consumer_timeout_ms=3000)
    try:
        parts = sorted(reader.partitions_for_topic(topic) or ())
        tps = [TopicPartition(topic, p) for p in parts]
        reader.assign(tps)
        reader.seek_to_beginning(*tps)
        return [
            (record.key or b"", record.value or b"", list(record.headers or []))
            for record in reader
        ]
    finally:
        reader.close()


def test_no_identifier_on_the_monitor_topic_nor_in_the_reports(
    run: Run, monitor_codec: MonitorCodec
) -> None:
    records = _raw_records(run.settings, run.topic)
    assert len(records) == len(run.events)
    for key, _, _ in records:  # the key is the monitor pseudonym, nothing else
        assert re.fullmatch(rb"m1-[cbdefghijklnrtuv]{32}", key)
    # the hub's signature (record security on) is key material, not scanned as text
    security = {n for _, _, headers in records for n, _ in headers if n.startswith(SECURITY_PREFIX)}
    assert security <= SIG_HEADERS, security
    blobs = [
        blob
        for key, value, headers in records
        for blob in (key, value, *(v for n, v in headers if not n.startswith(SECURITY_PREFIX)))
    ]
    decoded = [e.model_dump_json() for e in read_events(run.settings, run.topic, monitor_codec)]
    assert len(decoded) == len(run.events)
    texts = [b.decode("latin-1") for b in blobs] + decoded + list(run.reports.values())
    assert len(run.world.people) == PEOPLE[run.variant]
    assert leaks(texts, run.world.people) == []


def leaks(texts: list[str], people: list[Person]) -> list[str]:
    """Every identifier of ``people`` (or BSN look-alike) found in ``texts``."""
    haystack = "\n".join(texts)
    lowered = haystack.lower()
    found: list[str] = []
    # any 9-digit number passing the eleven-test, and every BSN of the input anywhere
    found += [f"BSN-like {n}" for n in _NINE_DIGITS.findall(haystack) if is_valid_bsn(n)]
    long_runs = re.findall(r"[0-9]{8,}", haystack)
    bsns = {p.bsn for p in people} | {p.bsn.lstrip("0") for p in people}
    found += [f"BSN {b}" for b in bsns for digits in long_runs if b in digits]
    # names (as words), dates of birth (as written anywhere), partner pseudonyms
    words = set(re.findall(r"[a-z]+", lowered))
    names = {p.given_name.lower() for p in people} | {p.family_name.lower() for p in people}
    found += [f"name {n}" for n in sorted(names & words)]
    dates = set(re.findall(r"\d{4}-\d{2}-\d{2}|\d{2}[-/]\d{2}[-/]\d{4}|\d{8}", haystack))
    dobs = set()
    for person in people:
        born = person.date_of_birth
        dobs |= {
            born.isoformat(),
            born.strftime("%d-%m-%Y"),
            born.strftime("%Y%m%d"),
            born.strftime("%d/%m/%Y"),
        }
    found += [f"date of birth {d}" for d in sorted(dates & dobs)]
    found += ["partner pseudonym prefix"] if "psn-" in lowered else []
    hex_runs = re.findall(r"[0-9a-f]{32,}", lowered)
    partner_pseudonyms = {p.client_pseudonym.removeprefix("psn-") for p in people}
    found += [f"partner pseudonym {q}" for h in hex_runs for q in partner_pseudonyms if q in h]
    fields = ("bsn", "given_name", "family_name", "date_of_birth", "postal_code", "street")
    found += [f"field {f}" for f in fields if f in lowered]
    return found


def test_the_privacy_scan_finds_what_it_looks_for() -> None:
    person = generate(1, seed=3).people[0]
    clean = ["m1-" + "c" * 32, '{"period": "2021-03/04", "amount_cents": 250000}']
    assert leaks(clean, [person]) == []
    planted = [
        f"x{person.bsn}y",
        f"Dear {person.family_name},",
        person.date_of_birth.strftime("%d-%m-%Y"),
        person.client_pseudonym.removeprefix("psn-"),
        "111222333",  # passes the eleven-test: any such number counts
    ]
    for text in planted:
        assert leaks([*clean, text], [person]), text


def test_a_run_of_a_fresh_topic_has_no_events(
    hub_settings: HubSettings,
    monitor_registry_url: str,
    tmp_path: Path,
    monitor_codec: MonitorCodec,
) -> None:
    settings = make_monitor_env(hub_settings, monitor_registry_url, tmp_path)
    try:
        topic = f"{settings.topic_prefix}.monitor.events"
        assert list(read_events(settings, topic, monitor_codec)) == []
        document = json.loads(_cli(settings, "report", "--period", "2021-01/02"))
        assert document["tables"][0]["rows"][-1]["cells"][TOTAL] == {"value": 0}
    finally:
        drop_topics(settings)


def test_a_missing_topic_is_an_error_not_an_empty_report(
    hub_settings: HubSettings, monitor_codec: MonitorCodec
) -> None:
    with pytest.raises(MonitorReadError, match="does not exist"):
        list(
            read_events(
                hub_settings, f"no-such-topic-{uuid.uuid4().hex[:8]}", monitor_codec, timeout_s=1
            )
        )
