"""``rmt-hub consent``: record, withdraw, read and decide consents; serve the API.

Commands work on the configured store (``HUB_DATABASE_URL``, SQLite in the data dir by
default). ``grant`` and ``withdraw`` also publish to the change feed and return once the
change is published, so they need the cluster (``HUB_BOOTSTRAP_SERVERS``); ``serve``
starts the embedded broker when none is configured.
"""

from __future__ import annotations

import getpass
import json
from datetime import datetime, timedelta
from typing import Annotated

import typer
from pydantic import SecretStr, ValidationError
from rich.table import Table

from consent.api.auth import issue_key
from consent.crypto import BsnVault
from consent.decision import Decision
from consent.errors import ConsentInvalid
from consent.model import (
    CollectionMethod,
    ConsentRecord,
    ConsentTerms,
    LegalBasis,
    Role,
    utc_now,
)
from consent.policy import load_policy
from consent.report import build_access_report, render_html
from consent.service import ConsentService
from consent.store import ConsentStore, store_for
from hub.cli._common import (
    BootstrapOption,
    console,
    handle_errors,
    require_cluster,
    require_safe_start,
    settings_for,
)
from hub.config import HubSettings
from hub.ids import ClientPseudonym, ConsentId, PartnerId
from schemas.regions import Region
from schemas.vocabulary import DataCategory, JobSeekerCategory, PartnerKind, Purpose
from topics.partners import load_partners

__all__ = ["app", "keys_app", "parse_recipient"]

app = typer.Typer(
    help="The consent register: grant, withdraw, list, show, decide; serve the API.",
    no_args_is_help=True,
)
keys_app = typer.Typer(help="API keys of the consent service.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


ActorOption = typer.Option("--actor", help="Who records the change (default: cli:<login name>).")


def _offline_service(settings: HubSettings) -> tuple[ConsentService, ConsentStore]:
    """A service over the store only (reads and decisions; no publishing)."""
    store = store_for(settings)
    try:
        service = ConsentService(
            store,
            None,
            policy=load_policy(),
            partners=load_partners(settings.partners_file),
            vault=BsnVault.from_settings(settings),
        )
    except BaseException:
        store.close()
        raise
    return service, store


def _invalid(exc: ValidationError) -> ConsentInvalid:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(request)"
    return ConsentInvalid(field, str(first["msg"]).removeprefix("Value error, "))


def parse_recipient(text: str) -> dict[str, str]:
    """``uwv``, ``uwv@RIJNMOND``, ``kind:GEMEENTE`` or ``kind:GEMEENTE@GROOT_AMSTERDAM``."""
    who, _, region = text.partition("@")
    recipient: dict[str, str] = {}
    if who.startswith("kind:"):
        kind = who.removeprefix("kind:").upper()
        if kind not in PartnerKind.__members__:
            raise ConsentInvalid("--to", f"unknown partner kind '{kind}'")
        recipient["partner_kind"] = kind
    else:
        recipient["partner_id"] = who
    if region:
        if region.upper() not in Region.__members__:
            raise ConsentInvalid("--to", f"unknown region '{region}'")
        recipient["region"] = region.upper()
    return recipient


def _records_table(records: list[ConsentRecord], now: datetime) -> Table:
    table = Table(title=f"{len(records)} consent(s)")
    table.add_column("id", no_wrap=True, style="bold")
    for column in ("status", "controller", "recipients", "purposes", "categories", "until"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(
            r.id,
            r.status_at(now).value,
            r.controller,
            ", ".join(x.label() for x in r.recipients),
            ", ".join(r.purposes),
            ", ".join(r.data_categories),
            r.valid_until.isoformat() if r.valid_until else "-",
        )
    return table


def _decision_table(decision: Decision) -> Table:
    verdict = "[green]ALLOW[/]" if decision.allowed else "[bold red]DENY[/]"
    table = Table(title=f"decision: {verdict} (policy {decision.policy_version})")
    for column in ("category", "verdict", "reason", "consents"):
        table.add_column(column, overflow="fold")
    for o in decision.outcomes:
        table.add_row(
            o.category, "allow" if o.allowed else "deny", o.reason, ", ".join(o.consent_ids)
        )
    return table


@app.command("grant")
@handle_errors
def grant(
    *,
    subject: Annotated[str, typer.Option("--subject", "-s", help="Client pseudonym.")],
    controller: Annotated[
        str, typer.Option("--controller", "-c", help="First-responsible partner id.")
    ],
    to: Annotated[
        list[str],
        typer.Option("--to", "-t", help="Recipient: partner id or kind:KIND, optionally @REGION."),
    ],
    purpose: Annotated[list[Purpose], typer.Option("--purpose", "-p")],
    category: Annotated[list[DataCategory], typer.Option("--category", "-C")],
    notice_version: Annotated[
        str, typer.Option("--notice-version", help="Version of the privacy notice shown.")
    ],
    method: Annotated[CollectionMethod, typer.Option("--method", help="How it was collected.")],
    legal_basis: Annotated[LegalBasis, typer.Option("--legal-basis")] = LegalBasis.CONSENT,
    days: Annotated[
        int | None, typer.Option("--days", min=1, help="Valid for this many days.")
    ] = None,
    valid_until: Annotated[
        datetime | None,
        typer.Option("--valid-until", help="End of validity (UTC when no zone is given)."),
    ] = None,
    job_seeker_category: Annotated[
        JobSeekerCategory | None, typer.Option("--job-seeker-category")
    ] = None,
    with_bsn: Annotated[
        bool, typer.Option("--with-bsn", help="Prompt for the BSN (hidden); stored encrypted.")
    ] = False,
    actor: Annotated[str | None, ActorOption] = None,
    bootstrap_servers: str | None = BootstrapOption,
) -> None:
    """Record a consent; returns once it is stored and published."""
    from consent.runtime import ConsentRuntime  # noqa: PLC0415 - needs the cluster

    until = valid_until
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=utc_now().tzinfo)
    if days is not None:
        until = utc_now() + timedelta(days=days)
    try:
        terms = ConsentTerms.model_validate(
            {
                "subject": subject,
                "controller": controller,
                "job_seeker_category": job_seeker_category,
                "recipients": [parse_recipient(t) for t in to],
                "purposes": purpose,
                "data_categories": category,
                "legal_basis": legal_basis,
                "valid_until": until,
                "notice": {"version": notice_version},
                "collection_method": method,
            }
        )
    except ValidationError as exc:
        raise _invalid(exc) from None
    bsn = SecretStr(typer.prompt("BSN", hide_input=True)) if with_bsn else None
    settings = require_cluster(settings_for(bootstrap_servers))
    with ConsentRuntime(settings) as runtime:
        record = runtime.service.grant(terms, actor=actor or _default_actor(), bsn=bsn)
    console.print(f"consent [bold]{record.id}[/] given and published")


@app.command("withdraw")
@handle_errors
def withdraw(
    consent_id: str = typer.Argument(..., help="The consent's id."),
    reason: str | None = typer.Option(None, "--reason", "-r"),
    actor: Annotated[str | None, ActorOption] = None,
    bootstrap_servers: str | None = BootstrapOption,
) -> None:
    """Withdraw a consent (idempotent); returns once it is stored and published."""
    from consent.runtime import ConsentRuntime  # noqa: PLC0415 - needs the cluster

    settings = require_cluster(settings_for(bootstrap_servers))
    with ConsentRuntime(settings) as runtime:
        record = runtime.service.withdraw(
            ConsentId(consent_id), actor=actor or _default_actor(), reason=reason
        )
    console.print(f"consent [bold]{record.id}[/] is {record.status_at(utc_now()).value}")


@app.command("list")
@handle_errors
def list_consents(
    subject: str = typer.Argument(..., help="Client pseudonym."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A subject's consents, oldest first."""
    service, store = _offline_service(settings_for())
    try:
        records = service.for_subject(ClientPseudonym(subject))
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in records], indent=2))
    else:
        console.print(_records_table(records, utc_now()))


@app.command("show")
@handle_errors
def show(
    consent_id: str = typer.Argument(..., help="The consent's id."),
    history: bool = typer.Option(False, "--history", help="Also print its events."),
) -> None:
    """One consent as JSON (and its hash-chained history)."""
    service, store = _offline_service(settings_for())
    try:
        record = service.get(ConsentId(consent_id))
        events = service.history(ConsentId(consent_id)) if history else []
    finally:
        store.close()
    body = record.model_dump(mode="json") | {"status_now": record.status_at(utc_now()).value}
    if history:
        body["history"] = [e.model_dump(mode="json", exclude={"record"}) for e in events]
    typer.echo(json.dumps(body, indent=2))


@app.command("decide")
@handle_errors
def decide(
    subject: Annotated[str, typer.Argument(help="Client pseudonym.")],
    partner: Annotated[str, typer.Argument(help="Partner id of the recipient.")],
    purpose: Annotated[Purpose, typer.Argument()],
    categories: Annotated[list[DataCategory], typer.Argument(help="Data categories asked.")],
    at: Annotated[datetime | None, typer.Option("--at", help="Decide at this time (UTC).")] = None,
) -> None:
    """May PARTNER receive CATEGORIES of SUBJECT for PURPOSE now? Exit 0 allow, 2 deny."""
    when = at.replace(tzinfo=utc_now().tzinfo) if at and at.tzinfo is None else at
    service, store = _offline_service(settings_for())
    try:
        decision = service.decide(
            ClientPseudonym(subject), PartnerId(partner), purpose, categories, when
        )
    finally:
        store.close()
    console.print(_decision_table(decision))
    for reason in decision.reasons:
        console.print(f"  {reason}", highlight=False)
    if not decision.allowed:
        raise typer.Exit(2)


@app.command("report")
@handle_errors
def report(
    subject: str = typer.Argument(..., help="Client pseudonym."),
    html: bool = typer.Option(False, "--html", help="Print the HTML page instead of JSON."),
    lang: str = typer.Option("nl", "--lang", help="Language of the HTML page: nl or en."),
) -> None:
    """The subject access report: who received what, when, on which basis."""
    service, store = _offline_service(settings_for())
    try:
        access = build_access_report(service, ClientPseudonym(subject))
    finally:
        store.close()
    typer.echo(render_html(access, lang) if html else access.model_dump_json(indent=2))


@app.command("serve")
@handle_errors
def serve(
    host: str | None = typer.Option(None, "--host", help="Bind address (HUB_CONSENT_HOST)."),
    port: int | None = typer.Option(None, "--port", help="Port (HUB_CONSENT_PORT; 0: free)."),
    bootstrap_servers: str | None = BootstrapOption,
) -> None:
    """Run the consent service (HTTP API + change-feed relay) until Ctrl-C."""
    from consent.runtime import ConsentRuntime  # noqa: PLC0415
    from hub.broker import broker_for  # noqa: PLC0415
    from hub.cli.up import wait_for_shutdown  # noqa: PLC0415
    from hub.config import load_settings  # noqa: PLC0415
    from hub.http import HttpServer  # noqa: PLC0415
    from hub.logging import configure_logging  # noqa: PLC0415

    overrides: dict[str, object] = {}
    if bootstrap_servers:
        overrides["bootstrap_servers"] = bootstrap_servers
    if host is not None:
        overrides["consent_host"] = host
    if port is not None:
        overrides["consent_port"] = port
    settings = load_settings(**overrides)
    configure_logging(settings)
    require_safe_start(settings, "rmt-hub consent serve", subject_keys=True)
    with broker_for(settings) as running, ConsentRuntime(running) as runtime:
        server = HttpServer(
            runtime.app,
            host=running.consent_host,
            port=running.consent_port,
            name="consent",
            trusted_proxies=running.trusted_proxy_list,
        )
        url = server.start()
        try:
            typer.echo(f"consent service listening on {url} (OpenAPI: {url}/docs)")
            typer.echo(f"store: {runtime.store!r}; change feed: {runtime.topic}")
            signal_name = wait_for_shutdown()
            typer.echo(f"{signal_name}: stopping")
        finally:
            server.stop()


@keys_app.command("add")
@handle_errors
def keys_add(
    role: Annotated[Role, typer.Option("--role", help="privacy_officer, partner or monitor.")],
    name: Annotated[str, typer.Option("--name", help="Who uses it; becomes the actor of changes.")],
    partner: Annotated[
        str | None, typer.Option("--partner", help="Partner id (partner keys).")
    ] = None,
) -> None:
    """Issue an API key; it is printed once and stored only as a hash."""
    settings = settings_for()
    if partner is not None:
        try:
            load_partners(settings.partners_file).get(partner)
        except KeyError:
            raise ConsentInvalid("--partner", f"unknown partner '{partner}'") from None
    store = store_for(settings)
    try:
        record, key = issue_key(store, role, name, partner)
    finally:
        store.close()
    console.print(f"key id {record.key_id} ({record.role.value}, {record.name}); the key:")
    typer.echo(key)


@keys_app.command("list")
@handle_errors
def keys_list() -> None:
    """The issued keys (never the keys themselves)."""
    store = store_for(settings_for())
    try:
        records = store.list_api_keys()
    finally:
        store.close()
    table = Table(title=f"{len(records)} API key(s)")
    for column in ("key id", "name", "role", "partner", "created", "revoked"):
        table.add_column(column)
    for r in records:
        table.add_row(
            r.key_id,
            r.name,
            r.role.value,
            r.partner_id or "-",
            r.created_at.isoformat(timespec="seconds"),
            r.revoked_at.isoformat(timespec="seconds") if r.revoked_at else "-",
        )
    console.print(table)


@keys_app.command("revoke")
@handle_errors
def keys_revoke(key_id: str = typer.Argument(..., help="The key id (from keys list).")) -> None:
    """Revoke a key at once."""
    store = store_for(settings_for())
    try:
        done = store.revoke_api_key(key_id, utc_now())
    finally:
        store.close()
    console.print(f"key {key_id} revoked" if done else f"key {key_id}: unknown or already revoked")
