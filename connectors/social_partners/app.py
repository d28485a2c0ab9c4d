"""The social partners' webhook: JSON notices over HTTP, published as canonical records.

::

    POST /v1/threatened-employees   {"melddatum": ..., "werknemers": [...]}
    POST /v1/staff-surplus          {"melddatum": ..., "werkgever": {...}, "sector": ...,
                                     "gemeentecode": ..., "boventallig": 40,
                                     "werknemers": [...]}
    POST /v1/vacancies              {"melddatum": ..., "vacatures": [...]}
    GET  /healthz

Answers:

* ``202`` every item was published (or was already): ``{"items", "published",
  "duplicates", "rejected": 0, "errors": []}``;
* ``422`` some items (or the notice itself) are invalid: the same body, with one error
  per problem ``{"item": 3, "field": "werknemers[3].bsn", "reason": "..."}``. The valid
  items *were* published; sending the corrected notice again is safe (event ids are
  deterministic, so what is already there is not published twice);
* ``400`` the body is not JSON (line and column in the reason), not UTF-8, nested more
  than :data:`MAX_DEPTH` levels deep, or not an object;
* ``413`` the body is larger than the limit (refused as soon as that is known: from the
  ``Content-Length`` header, or once that many bytes have arrived);
* ``415`` the content type is not JSON (``application/json`` or ``application/*+json``).

A staff-surplus notice also publishes the company's surplus (a StaffSurplus, no personal
data); the answer says how in ``"surplus": {"published", "duplicates", "errors"}``, its
errors naming the notice's fields (``item`` null), and counts in the status code.

Bad items also go to the hub's dead-letter topic, like bad rows of a file. A response
comes only after the broker acknowledged the published records.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from connectors.common import (
    FieldProblem,
    Fields,
    ImportReport,
    Mapper,
    SourceRow,
    import_rows,
)
from connectors.common.reading import json_too_deep
from connectors.common.vocab import SECTORS
from connectors.social_partners.mapping import (
    Notice,
    employee_mapper,
    surplus_mapper,
    vacancy_mapper,
)
from hub.sdk import PartnerClient

__all__ = ["MAX_BODY_BYTES", "MAX_DEPTH", "create_app"]

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 32
"""How deeply a notice may nest objects and lists (a notice needs 4 levels)."""


def _error(item: int | None, field: str | None, reason: str) -> dict[str, Any]:
    return {"item": item, "field": field, "reason": reason}


def _row(index: int, item: Any) -> SourceRow:
    """Item ``index`` as a row numbered from 1; an item that is no object is a bad row."""
    raw = json.dumps(item, ensure_ascii=False)
    if isinstance(item, dict):
        return SourceRow(index + 1, item, raw)
    problem = FieldProblem(None, f"an item must be a JSON object, not {type(item).__name__}")
    return SourceRow(index + 1, {}, raw, problem)


def _bad_request(status: int, reason: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(
        {
            "items": 0,
            "published": 0,
            "duplicates": 0,
            "rejected": 0,
            "errors": [_error(None, field, reason)],
        },
        status_code=status,
    )


def _company_part(report: ImportReport) -> dict[str, Any]:
    return {
        "published": report.published,
        "duplicates": report.duplicates,
        "errors": [_error(None, e.field, e.reason) for e in report.errors],
    }


def _answer(
    report: ImportReport, list_field: str, company: ImportReport | None = None
) -> JSONResponse:
    errors = [
        _error(
            e.line - 1,
            f"{list_field}[{e.line - 1}]" + (f".{e.field}" if e.field else ""),
            e.reason,
        )
        for e in report.errors
    ]
    body = {
        "items": report.rows,
        "published": report.published,
        "duplicates": report.duplicates,
        "rejected": report.rejected_rows,
        "errors": errors,
    }
    failed = bool(errors)
    if company is not None:
        body["surplus"] = _company_part(company)
        failed = failed or bool(company.errors)
    return JSONResponse(body, status_code=422 if failed else 202)


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def _read_body(request: Request) -> bytes | JSONResponse:
    too_large = _bad_request(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > MAX_BODY_BYTES:
        return too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def _json_body(request: Request) -> dict[str, Any] | JSONResponse:
    content_type = request.headers.get("content-type")
    if not _is_json(content_type):
        return _bad_request(
            415,
            f"the content type must be application/json, not {content_type or 'missing'}",
        )
    body = await _read_body(request)
    if isinstance(body, JSONResponse):
        return body
    data = _parse(body)
    if isinstance(data, JSONResponse):
        return data
    if json_too_deep(data, MAX_DEPTH):
        return _bad_request(400, f"the JSON is nested more than {MAX_DEPTH} levels deep")
    if not isinstance(data, dict):
        return _bad_request(400, f"the body must be a JSON object, not {type(data).__name__}")
    return data


def _parse(body: bytes) -> Any:
    """The JSON value of ``body``, or the 400 that says why it has none."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _bad_request(400, f"the body is not UTF-8 (byte {exc.start})")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        return _bad_request(
            400, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        )
    except RecursionError:
        return _bad_request(400, f"the JSON is nested more than {MAX_DEPTH} levels deep")
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        return _bad_request(400, f"invalid JSON: {exc}")


def create_app(client: PartnerClient) -> FastAPI:
    """The webhook app, publishing as ``client``'s partner (a social partner)."""
    app = FastAPI(
        title=f"rmt-hub webhook for {client.partner_id}",
        description="Notices of threatened employees, staff surpluses and vacancies.",
        version="1",
    )

    def publish(
        path: str, items: list[Any], list_field: str, mapper: Mapper, record_type: str
    ) -> ImportReport:
        return import_rows(
            client,
            (_row(index, item) for index, item in enumerate(items)),
            mapper,
            source=f"http:{path}",
            label=f"POST {path}",
            record_type=record_type,
        )

    async def handle(
        request: Request,
        list_field: str,
        make_mapper: Callable[[Notice], Mapper],
        record_type: str,
        *,
        company: bool = False,
        company_mapper: Callable[[Notice], Mapper] | None = None,
    ) -> JSONResponse:
        body = await _json_body(request)
        if isinstance(body, JSONResponse):
            return body
        f = Fields(body)
        reported_on = f.date("melddatum", required=True)
        sector = f.choice("sector", SECTORS) if company else None
        items = f.items(list_field)
        if f.raw(list_field) is None:
            f.fail(list_field, "is required (a list)")
        elif not items and not f.problems:
            f.fail(list_field, "is empty")
        if f.problems:
            return JSONResponse(
                {
                    "items": 0,
                    "published": 0,
                    "duplicates": 0,
                    "rejected": 0,
                    "errors": [_error(None, p.field, p.reason) for p in f.problems],
                },
                status_code=422,
            )
        assert reported_on is not None
        notice = Notice(reported_on, sector=sector)
        report = await run_in_threadpool(
            publish, request.url.path, items, list_field, make_mapper(notice), record_type
        )
        company_report = None
        if company_mapper is not None:
            company_report = await run_in_threadpool(
                import_rows,
                client,
                [SourceRow(1, body, json.dumps(body, ensure_ascii=False))],
                company_mapper(notice),
                source=f"http:{request.url.path}#werkgever",
                label=f"POST {request.url.path}",
                record_type="nl.rmt.hub.StaffSurplus",
            )
        return _answer(report, list_field, company_report)

    @app.post("/v1/threatened-employees", status_code=202)
    async def threatened_employees(request: Request) -> JSONResponse:
        """Employees threatened with unemployment -> ClientProfile each."""
        return await handle(request, "werknemers", employee_mapper, "nl.rmt.hub.ClientProfile")

    @app.post("/v1/staff-surplus", status_code=202)
    async def staff_surplus(request: Request) -> JSONResponse:
        """A company with a staff surplus and the employees concerned -> ClientProfile each,
        and the company's surplus -> StaffSurplus."""
        return await handle(
            request,
            "werknemers",
            employee_mapper,
            "nl.rmt.hub.ClientProfile",
            company=True,
            company_mapper=surplus_mapper,
        )

    @app.post("/v1/vacancies", status_code=202)
    async def vacancies(request: Request) -> JSONResponse:
        """Vacancies of member companies (demand in view) -> Vacancy each."""
        return await handle(request, "vacatures", vacancy_mapper, "nl.rmt.hub.Vacancy")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "partner": client.partner_id}

    return app
