"""The factories register in the desk: list and search, Open Supply Hub CSV import, a factory's
page (edit, merge a duplicate into it, its cases), and linking a case to a factory.

Every POST checks the session's CSRF token; every change is audited by :mod:`intake.store.factories`.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from i18n import d_, dn_
from intake.desk.http import current, form_of, page
from intake.desk.sessions import Session
from intake.errors import CsvRejected, Forbidden, InvalidInput, RowError
from intake.store.factories import MAX_CSV_BYTES, MAX_ROWS, Factories

router = APIRouter()
FIELDS = ("name", "address", "country", "parent_company", "osh_id", "brands", "buyers")


def row_messages(errors: list[RowError], limit: int = 50) -> list[str]:
    """What is wrong with an import, one line per problem (the CLI prints the same)."""
    texts = {
        "too_large": d_("The file is larger than {n} MB.").format(n=MAX_CSV_BYTES // (1024 * 1024)),
        "not_text": d_("The file is not UTF-8 text (save it as CSV, UTF-8)."),
        "not_csv": d_("The file cannot be read as CSV ({reason})."),
        "no_header": d_("The file is empty: it needs a header row."),
        "no_name_column": d_("The header has no name column (name, facility_name or factory_name)."),
        "no_rows": d_("The file has no factory rows."),
        "too_many_rows": d_("The file has more than {n} rows.").format(n=MAX_ROWS),
        "name_empty": d_("row {row}: name is empty"),
        "too_long": d_("row {row}: {value} is too long"),
        "extra_fields": d_("row {row}: more fields than the header has columns"),
        "bad_osh_id": d_("row {row}: os_id {value} is not an Open Supply Hub id"),
        "repeats": d_("row {row}: os_id {value} repeats row {other}"),
    }
    out = [texts[e.problem].format(row=e.row, other=e.other, value=e.value, reason=e.value) for e in errors[:limit]]
    if len(errors) > limit:
        more = len(errors) - limit
        out.append(dn_("... and {n} more error.", "... and {n} more errors.", more).format(n=more))
    return out


def _int(value: Any) -> int | None:
    try:
        return int(str(value or "").strip())
    except ValueError:
        return None


async def _list(request: Request, session: Session, status: int = 200, **extra: Any) -> HTMLResponse:
    q = request.query_params.get("q", "")[:200]
    found = await run_in_threadpool(Factories(session.store, session.keys).find, q)
    return page("factories.html", status=status, session=session, factories=found, q=q, **extra)


async def _page(session: Session, factory_id: int, status: int = 200, **extra: Any) -> HTMLResponse:
    register = Factories(session.store, session.keys)
    factory = await run_in_threadpool(register.get, factory_id)
    cases = await run_in_threadpool(register.cases_of, factory_id)
    merged_into = None
    if factory.merged_into is not None:
        merged_into = await run_in_threadpool(register.get, factory.merged_into)
    return page(
        "factory.html", status=status, session=session, factory=factory, cases=cases, merged_into=merged_into, **extra
    )


@router.get("/factories")
async def factories(request: Request) -> HTMLResponse:
    session = current(request)
    return await _list(request, session)


@router.post("/factories")
async def add_factory(request: Request) -> Response:
    session = current(request)
    form = await form_of(request, session)
    try:
        factory_id = await run_in_threadpool(
            lambda: Factories(session.store, session.keys).add(
                str(form.get("name") or ""), **{k: str(form.get(k) or "") for k in FIELDS if k != "name"}
            )
        )
    except InvalidInput:
        return await _list(request, session, status=400, error=d_("A factory needs a name (and a valid, new OS ID)."))
    return RedirectResponse(f"/factories/{factory_id}", status_code=303)


@router.post("/factories/import")
async def import_csv(request: Request) -> HTMLResponse:
    session = current(request)
    form = await request.form(max_files=1, max_fields=8)
    if not hmac.compare_digest(str(form.get("csrf") or "").encode(), session.csrf.encode()):
        raise Forbidden("csrf")
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return await _list(request, session, status=400, error=d_("Choose a CSV file to import."))
    data = await upload.read(MAX_CSV_BYTES + 1)
    try:
        result = await run_in_threadpool(Factories(session.store, session.keys).import_csv, data)
    except CsvRejected as exc:
        return await _list(
            request,
            session,
            status=400,
            error=d_("Nothing was imported. Fix these rows and import the whole file again:"),
            row_errors=row_messages(exc.errors),
        )
    notice = dn_(
        "Imported: {added} new factory, {updated} updated.", "Imported: {added} new factories, {updated} updated.",
        result.added,
    ).format(added=result.added, updated=result.updated)  # fmt: skip
    return await _list(request, session, notice=notice)


@router.get("/factories/{factory_id}")
async def factory_page(request: Request, factory_id: int) -> HTMLResponse:
    session = current(request)
    return await _page(session, factory_id)


@router.post("/factories/{factory_id}/update")
async def update_factory(request: Request, factory_id: int) -> HTMLResponse:
    session = current(request)
    form = await form_of(request, session)
    values = {k: str(form.get(k) or "") for k in FIELDS}
    try:
        await run_in_threadpool(lambda: Factories(session.store, session.keys).update(factory_id, **values))
    except InvalidInput:
        return await _page(
            session, factory_id, status=400, error=d_("A factory needs a name (and a valid, new OS ID).")
        )
    return await _page(session, factory_id, notice=d_("Saved."))


@router.post("/factories/{factory_id}/merge")
async def merge_factory(request: Request, factory_id: int) -> HTMLResponse:
    """Merge the factory named in the form (a duplicate) into this one."""
    session = current(request)
    form = await form_of(request, session)
    other = _int(form.get("other"))
    if other is None:
        return await _page(session, factory_id, status=400, error=d_("Give the number of the duplicate factory."))
    try:
        moved = await run_in_threadpool(Factories(session.store, session.keys).merge, factory_id, other)
    except InvalidInput:
        return await _page(
            session,
            factory_id,
            status=400,
            error=d_("These two factories cannot be merged (the same, or merged already)."),
        )
    notice = dn_(
        "Factory {other} merged into this one; {n} case moved.", "Factory {other} merged into this one; {n} cases moved.",
        moved,
    ).format(other=other, n=moved)  # fmt: skip
    return await _page(session, factory_id, notice=notice)


@router.post("/factories/{factory_id}/link")
async def link_from_factory(request: Request, factory_id: int) -> HTMLResponse:
    """Link a case (number in the form) to this factory."""
    session = current(request)
    form = await form_of(request, session)
    case_id = _int(form.get("case_id"))
    if case_id is None:
        return await _page(session, factory_id, status=400, error=d_("Give a case number."))
    await run_in_threadpool(Factories(session.store, session.keys).link, case_id, factory_id)
    return await _page(session, factory_id, notice=d_("Case {n} linked.").format(n=case_id))


@router.post("/cases/{case_id}/factory")
async def link_case(request: Request, case_id: int) -> Response:
    """Link a case to the factory in the form (an empty value unlinks it)."""
    session = current(request)
    form = await form_of(request, session)
    raw = str(form.get("factory_id") or "").strip()
    factory_id = _int(raw)
    if raw and factory_id is None:
        raise InvalidInput("bad factory id", fields={"factory_id": "invalid"})
    await run_in_threadpool(Factories(session.store, session.keys).link, case_id, factory_id)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


__all__ = ["router", "row_messages"]
