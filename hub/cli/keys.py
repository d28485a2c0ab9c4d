"""``rmt-hub keys``: the key store of partner and hub identities (new, rotate, list, revoke,
sign-directory).

The public directory is signed by the hub: ``new``, ``rotate`` and ``revoke`` sign it
where the hub's private key is; ``sign-directory`` signs it as it is (the migration of an
unsigned directory, or accepting a changed partner directory).

Keys live in ``HUB_KEYS_DIR`` (``HUB_DATA_DIR/keys`` when unset): the public directory
``directory.json`` is what the hub and the partners share; private key files stay in
``private/`` with mode 0600 and are never printed. ``--passphrase-file`` encrypts new
private key files (and is needed to use encrypted ones).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr
from rich.table import Table

from hub.cli._common import console, err_console, handle_errors, settings_for
from hub.config import HubSettings
from hub.errors import ConfigError
from hub.security.hub_identity import HUB_ID, key_store, keys_dir
from hub.security.keys import KeyStore, PublicKeyRecord
from topics.partners import Partner, load_partners

__all__ = ["app", "key_table", "store_for"]

app = typer.Typer(
    help="Signing and encryption keys of the partners and the hub.", no_args_is_help=True
)

PartnerOption = Annotated[
    str, typer.Option("--partner", "-p", help="Partner id from the partner directory, or 'hub'.")
]
PassphraseFile = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help="File holding the passphrase that encrypts (and opens) private key files.",
        exists=True,
        dir_okay=False,
    ),
]
ValidDays = Annotated[int, typer.Option("--valid-days", min=1, help="Validity of the new key.")]


def _passphrase(path: Path | None) -> SecretStr | None:
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the passphrase: {exc.strerror}") from exc
    if not text:
        raise ConfigError(f"{path}: the passphrase file is empty")
    return SecretStr(text)


def store_for(settings: HubSettings, passphrase_file: Path | None = None) -> KeyStore:
    return key_store(settings, passphrase=_passphrase(passphrase_file))


def _identity(settings: HubSettings, partner: str) -> Partner | None:
    """The directory entry of ``partner`` (None for the hub)."""
    if partner == HUB_ID:
        return None
    try:
        return load_partners(settings.partners_file).get(partner)
    except KeyError as exc:
        raise ConfigError(f"'{partner}' is not in the partner directory (nor '{HUB_ID}')") from exc


def key_table(records: list[PublicKeyRecord], store: KeyStore, title: str) -> Table:
    table = Table(title=title)
    for column in ("partner", "kind", "region", "key id", "not before", "not after", "status"):
        table.add_column(column, no_wrap=column in {"partner", "key id"})
    table.add_column("private here")
    style = {"active": "green", "retired": "yellow", "revoked": "bold red"}
    for r in records:
        table.add_row(
            r.partner_id,
            r.kind.value if r.kind else "-",
            r.region.value if r.region else "-",
            r.key_id,
            f"{r.not_before:%Y-%m-%d %H:%M}Z",
            f"{r.not_after:%Y-%m-%d %H:%M}Z",
            f"[{style[r.status.value]}]{r.status.value}[/]",
            "yes" if store.has_private(r.key_id) else "no",
        )
    return table


@app.command("new")
@handle_errors
def new(
    partner: PartnerOption,
    valid_days: ValidDays = 365,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Generate the first key pair (Ed25519 signing + X25519 encryption) of a partner."""
    settings = settings_for()
    template = _identity(settings, partner)
    store = store_for(settings, passphrase_file)
    record = store.new(
        partner,
        kind=template.kind if template else None,
        region=template.region if template else None,
        valid_for=timedelta(days=valid_days),
    )
    console.print(key_table([record], store, f"new key of {partner} in {keys_dir(settings)}"))


@app.command("rotate")
@handle_errors
def rotate(
    partner: PartnerOption,
    overlap_days: Annotated[
        float,
        typer.Option(
            "--overlap-days", min=0, help="How long the old key still verifies and decrypts."
        ),
    ] = 7,
    valid_days: ValidDays = 365,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Make a new key pair the active one; the old one retires after the overlap."""
    settings = settings_for()
    store = store_for(settings, passphrase_file)
    old, new_record = store.rotate(
        partner, overlap=timedelta(days=overlap_days), valid_for=timedelta(days=valid_days)
    )
    console.print(key_table([old, new_record], store, f"rotated the key of {partner}"))


@app.command("revoke")
@handle_errors
def revoke(
    key_id: Annotated[str, typer.Argument(help="Key id to revoke (see `keys list`).")],
) -> None:
    """Revoke a key at once: its signatures and envelopes are refused from now on."""
    settings = settings_for()
    store = store_for(settings)
    record = store.revoke(key_id)
    console.print(key_table([record], store, f"revoked a key of {record.partner_id}"))


@app.command("list")
@handle_errors
def list_keys(
    partner: Annotated[
        str | None, typer.Option("--partner", "-p", help="Only this partner's keys.")
    ] = None,
) -> None:
    """The public directory: every key id, validity and status (never private keys)."""
    settings = settings_for()
    store = store_for(settings)
    records = [r for r in store.records() if partner is None or r.partner_id == partner]
    console.print(key_table(records, store, f"keys in {keys_dir(settings)} ({len(records)})"))
    problem = store.directory_problem()
    if problem is None:
        console.print("directory: signature verified", highlight=False)
    else:
        err_console.print(f"[bold red]directory refused:[/] {problem}", highlight=False)


@app.command("sign-directory")
@handle_errors
def sign_directory(passphrase_file: PassphraseFile = None) -> None:
    """Sign the public directory as it is, with the hub's current key (held here), bound
    to the partner directory in effect. Check it first with `keys list`."""
    settings = settings_for()
    store = store_for(settings, passphrase_file)
    before = store.directory_problem()
    signer = store.sign()
    was = "it was signed" if before is None else f"it was refused: {before}"
    console.print(
        f"signed {store.directory_path} with the hub key {signer.key_id} ({was})",
        highlight=False,
    )
