"""The desk's dashboard (``/dashboard``): counts, response times, overdue cases, exports.

Open to every desk role, viewers included. Charts are SVG drawn here, on the server, with
presentation attributes only (the desk's CSP allows no inline style and no script). The exports:
``/dashboard/export.csv`` and ``/dashboard/export.json`` (the dashboard, for the team) and
``/dashboard/public.json`` / ``/dashboard/public.csv`` (small cells suppressed, for publishing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from crypto import Role
from i18n import d_
from intake import clock, stats
from intake.desk import labels
from intake.desk.http import current, page
from intake.desk.labels import t_worker
from intake.domain import Category

router = APIRouter()
CHART_WIDTH = 640
LABEL_WIDTH = 220
BAR_SPACE = 360
ROW_HEIGHT = 22


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: int


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    height: int
    width: int = CHART_WIDTH
    label_width: int = LABEL_WIDTH


def chart(title: str, counts: dict[str, int], label: Any = str) -> Chart:
    """Horizontal bars, longest for the largest count, at most 30 rows."""
    items = list(counts.items())[:30]
    top = max((v for _, v in items), default=0) or 1
    bars = [
        Bar(label(k), v, i * ROW_HEIGHT, max(1, round(v * BAR_SPACE / top)) if v else 0)
        for i, (k, v) in enumerate(items)
    ]
    return Chart(title, bars, max(ROW_HEIGHT, len(bars) * ROW_HEIGHT))


def category_label(code: str) -> str:
    try:
        return t_worker(Category(code))
    except ValueError:
        return d_("no category") if code == stats.UNCATEGORISED else code


def factory_label(name: str) -> str:
    return name or d_("not given")


async def _rows(request: Request) -> tuple[Any, list[stats.CaseRow], dict[str, int]]:
    session = current(request, Role.VIEWER)  # every role may see the statistics
    rows = await run_in_threadpool(stats.load_rows, session.store)
    return session, rows, request.app.state.settings.deadlines()


@router.get("/dashboard")
async def dashboard_page(request: Request) -> HTMLResponse:
    session, rows, deadlines = await _rows(request)
    d = stats.dashboard(rows, deadlines)
    charts = [
        chart(d_("Cases by month"), d.by_month),
        chart(d_("Cases by category"), d.by_category, category_label),
        chart(d_("Cases by factory"), d.by_factory, factory_label),
        chart(d_("Cases by channel"), d.by_channel, labels.channel_label),
        chart(d_("Cases by status"), d.by_status, labels.status_label),
    ]
    return page("dashboard.html", session=session, d=d, charts=charts, deadlines=deadlines)


def _download(body: str, media_type: str, name: str) -> Response:
    stem, _, ext = name.rpartition(".")
    stamp = clock.now().strftime("%Y-%m")
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{stem}-{stamp}.{ext}"'}
    )


@router.get("/dashboard/export.csv")
async def export_csv(request: Request) -> Response:
    _session, rows, deadlines = await _rows(request)
    return _download(stats.dashboard_csv(stats.dashboard(rows, deadlines)), "text/csv", "dashboard.csv")


@router.get("/dashboard/export.json")
async def export_json(request: Request) -> Response:
    _session, rows, deadlines = await _rows(request)
    body = json.dumps(stats.dashboard(rows, deadlines).as_json(), ensure_ascii=False, indent=1)
    return _download(body, "application/json", "dashboard.json")


@router.get("/dashboard/public.json")
async def public_json(request: Request) -> Response:
    _session, rows, _ = await _rows(request)
    body = json.dumps(stats.public_export(rows, [c.value for c in Category]), ensure_ascii=False, indent=1)
    return _download(body, "application/json", "public-statistics.json")


@router.get("/dashboard/public.csv")
async def public_csv(request: Request) -> Response:
    _session, rows, _ = await _rows(request)
    body = stats.public_csv(stats.public_export(rows, [c.value for c in Category]))
    return _download(body, "text/csv", "public-statistics.csv")
