"""The FastAPI application of the web page: the page, its bundled static files and a JSON API.

Every route answers from :mod:`calcinosis.interfaces.web.service`. Bad input (an unknown id or state, a
malformed or oversized case file, impossible evidence) is answered with status 400 and
``{"error": "<the plain message>"}``, which the page shows as it is; an unexpected failure
gets a short message and status 500, never a traceback. No route reads or writes a file
named by the request: bundled cases are chosen by stem from ``evidence_examples/``, uploads
arrive as text in the request body, and the report is written to a temporary folder that is
deleted once its HTML has been read.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from ...errors import CalcinosisError
from . import service

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY_BYTES = 2 * service.MAX_UPLOAD_BYTES  # a JSON-quoted case file stays under twice its size
SECURITY_HEADERS = {
    # the page uses only its own scripts and styles; nothing may be loaded from elsewhere
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; object-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
log = logging.getLogger("calcinosis.interfaces.web")


def _clean(value):
    """JSON-safe: NaN and infinities become null (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def _ok(payload) -> Response:
    return Response(json.dumps(_clean(payload), allow_nan=False), media_type="application/json")


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request) -> dict:
    def refuse(constant):
        raise CalcinosisError(f"the request body is not valid JSON: {constant} is not a JSON number.")
    try:
        data = json.loads((await request.body()).decode("utf-8"), parse_constant=refuse)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CalcinosisError("the request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise CalcinosisError("the request body must be a JSON object.")
    return data


def create_app(report_draws: int | None = None) -> FastAPI:
    """The application. ``report_draws`` sets the parameter draws of the downloaded report
    (default: the consultation default)."""
    app = FastAPI(title="calcinosis", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if request.method == "POST":
            length = request.headers.get("content-length")
            if length is None or not length.isdigit():
                return _error("the request must state its length (Content-Length).", 411)
            if int(length) > MAX_BODY_BYTES:
                return _error(f"the request is larger than {MAX_BODY_BYTES:,} bytes; a case file must be under "
                              f"{service.MAX_UPLOAD_BYTES:,} bytes.", 413)
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(CalcinosisError)
    async def plain_error(request: Request, exc: CalcinosisError):
        return _error(str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        # the page gets a sentence, the server log the details
        log.error("unexpected failure on %s", request.url.path, exc_info=exc)
        return _error("the computation failed unexpectedly; the server log has the details.", 500)

    async def run(function, *args):
        return _ok(await run_in_threadpool(function, *args))

    @app.get("/")
    async def page():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/api/meta")
    async def meta():
        return await run(service.page_metadata)

    @app.get("/api/case/{stem}")
    async def case(stem: str):
        return await run(lambda: service.case_to_dict(service.bundled_case(stem)))

    @app.post("/api/upload")
    async def upload(request: Request):
        data = await _body(request)
        text = data.get("text")
        if not isinstance(text, str):
            raise CalcinosisError("the uploaded file is not text.")
        return await run(lambda: service.case_to_dict(service.case_from_upload(str(data.get("name", "")), text)))

    @app.post("/api/differential")
    async def differential(request: Request):
        data = await _body(request)
        return await run(service.quick_differential, data.get("scenario"), data.get("evidence"))

    @app.post("/api/consult")
    async def consult(request: Request):
        data = await _body(request)
        return await run(service.full_consultation, data.get("scenario"), data.get("evidence"))

    @app.post("/api/report")
    async def report(request: Request):
        data = await _body(request)
        case = data.get("case") if isinstance(data.get("case"), dict) else None
        text, name = await run_in_threadpool(service.consultation_report, data.get("scenario"),
                                             data.get("evidence"), case, report_draws)
        return Response(text, media_type="text/html",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.post("/api/walkthrough")
    async def walkthrough(request: Request):
        data = await _body(request)
        order = data.get("order")
        if order is not None and not (isinstance(order, list) and all(isinstance(o, str) for o in order)):
            raise CalcinosisError("order: must be a list of finding ids.")
        return await run(service.walkthrough_steps, data.get("scenario"), data.get("evidence"), order)

    @app.get("/api/lesson/{name}")
    async def lesson(name: str):
        return await run(service.lesson_data, name)

    @app.get("/api/network")
    async def network():
        return await run(service.network_diagram)

    @app.post("/api/casemix")
    async def casemix(request: Request):
        data = await _body(request)
        names = data.get("scenarios")
        if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
            raise CalcinosisError("scenarios: choose at least one scenario.")
        return await run(service.case_mix, names)

    @app.post("/api/sweep-range")
    async def sweep_range(request: Request):
        data = await _body(request)
        return await run(service.default_sweep_range, data.get("scenario"), str(data.get("condition")))

    @app.post("/api/sweep")
    async def sweep(request: Request):
        data = await _body(request)

        def number(key, kind=float):
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or (kind is int and value != int(value)):
                raise CalcinosisError(f"{key}: expected a {'whole ' if kind is int else ''}number; got {value!r}.")
            return kind(value)
        return await run(service.sweep, data.get("scenario"), str(data.get("condition")), number("low"),
                         number("high"), number("points", int), str(data.get("target")),
                         str(data.get("measure")), data.get("evidence"))

    return app
