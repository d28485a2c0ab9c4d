"""Reading the console's forms (``application/x-www-form-urlencoded``) into API requests.

No multipart library: the forms only send short text fields, read with
:func:`urllib.parse.parse_qs` from a body of at most :data:`MAX_FORM_BYTES`. Errors name
the field by its label and never quote what was sent (it may be a BSN).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs

from pydantic import ValidationError

from consent.api.dto import GrantRequest
from consent.console.pages import GrantFormValues
from consent.errors import ConsentInvalid
from hub.i18n import N_, _

__all__ = [
    "MAX_FORM_BYTES",
    "Form",
    "FormError",
    "grant_request",
    "grant_values",
    "messages_of",
    "parse_form",
]

MAX_FORM_BYTES = 64 * 1024

_LABELS: dict[str, str] = {
    "subject": N_("Subject"),
    "controller": N_("Controller"),
    "job_seeker_category": N_("Job seeker category"),
    "recipients": N_("Recipients"),
    "purposes": N_("Purposes"),
    "data_categories": N_("Data categories"),
    "legal_basis": N_("Legal basis"),
    "valid_from": N_("Valid from"),
    "valid_until": N_("Valid until"),
    "notice": N_("Privacy notice"),
    "collection_method": N_("Collected"),
    "bsn": N_("Citizen service number"),
    "query": N_("Search"),
    "reason": N_("Reason"),
}


class FormError(Exception):
    """A form that cannot be read at all (too large, wrong content type)."""


class Form:
    """The fields of a submitted form: ``get`` one value, ``all`` of a repeated one."""

    def __init__(self, fields: Mapping[str, Sequence[str]]) -> None:
        self._fields = {k: list(v) for k, v in fields.items()}

    def get(self, name: str) -> str:
        values = self._fields.get(name)
        return values[0].strip() if values else ""

    def all(self, name: str) -> list[str]:
        return [v.strip() for v in self._fields.get(name, []) if v.strip()]


def parse_form(content_type: str | None, body: bytes) -> Form:
    """The form in ``body``; FormError when it is not a urlencoded form or too large."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise FormError("expected a form (application/x-www-form-urlencoded)")
    if len(body) > MAX_FORM_BYTES:
        raise FormError("the form is too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise FormError("the form is not UTF-8") from None
    return Form(parse_qs(text, keep_blank_values=True, max_num_fields=200))


def grant_values(form: Form) -> GrantFormValues:
    """What to show again in the grant form after an error (never the BSN)."""
    return GrantFormValues(
        controller=form.get("controller"),
        job_seeker_category=form.get("job_seeker_category"),
        recipients=set(form.all("recipient")),
        recipient_region=form.get("recipient_region"),
        purposes=set(form.all("purpose")),
        categories=set(form.all("category")),
        legal_basis=form.get("legal_basis"),
        valid_from=form.get("valid_from"),
        valid_until=form.get("valid_until"),
        notice_version=form.get("notice_version"),
        notice_url=form.get("notice_url"),
        collection_method=form.get("collection_method"),
    )


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConsentInvalid(field, "is not a date (YYYY-MM-DD)") from None


def grant_request(subject: str, form: Form) -> GrantRequest:
    """The POST /v1/consents body the grant form describes.

    Raises :class:`pydantic.ValidationError` or :class:`ConsentInvalid` (see
    :func:`messages_of`).
    """
    region = form.get("recipient_region") or None
    recipients: list[dict[str, str]] = []
    for choice in form.all("recipient"):
        kind, _, value = choice.partition(":")
        if kind == "partner" and value:
            recipients.append({"partner_id": value})
        elif kind == "kind" and value:
            recipients.append({"partner_kind": value, **({"region": region} if region else {})})
        else:
            raise ConsentInvalid("recipients", "unknown recipient choice")
    body: dict[str, Any] = {
        "subject": subject,
        "controller": form.get("controller"),
        "recipients": recipients,
        "purposes": form.all("purpose"),
        "data_categories": form.all("category"),
        "legal_basis": form.get("legal_basis"),
        "notice": {"version": form.get("notice_version")},
        "collection_method": form.get("collection_method"),
    }
    if form.get("notice_url"):
        body["notice"]["url"] = form.get("notice_url")
    if form.get("job_seeker_category"):
        body["job_seeker_category"] = form.get("job_seeker_category")
    if form.get("valid_from"):
        start = _day(form.get("valid_from"), "valid_from")
        body["valid_from"] = datetime.combine(start, time(), UTC)
    if form.get("valid_until"):
        last = _day(form.get("valid_until"), "valid_until")
        if last == date.max:
            raise ConsentInvalid("valid_until", "leave it empty for no end date")
        body["valid_until"] = datetime.combine(last + timedelta(days=1), time(), UTC)
    if form.get("bsn"):
        body["bsn"] = form.get("bsn")
    return GrantRequest.model_validate(body)


def _label(field: str) -> str:
    return _(_LABELS[field]) if field in _LABELS else field


def messages_of(exc: ValidationError | ConsentInvalid) -> list[str]:
    """Readable messages naming the field by its label; never the value sent."""
    if isinstance(exc, ConsentInvalid):
        field = exc.field.split(".")[0]
        return [f"{_label(field)}: {exc.message}"]
    messages = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        label = _label(loc[0]) if loc else _("Form")
        if loc and loc[0] == "notice" and len(loc) > 1:
            label = _("Privacy notice {part}").format(part=loc[1])
        text = str(error["msg"]).removeprefix("Value error, ")
        sent = error.get("input")
        if error["type"] == "too_short" or (isinstance(sent, list | tuple) and not sent):
            text = _("choose at least one")
        elif error["type"] == "missing" or sent == "":
            text = _("is required")
        messages.append(f"{label}: {text}")
    return messages
