"""The Open311 GeoReport v2 channel at ``/open311/v2/``: HTTP in, JSON or XML out.

    GET  services.json|xml            the categories as services
    GET  services/{code}.json|xml     a service's definition (no extra questions)
    GET  requests.json|xml            requests, filtered (see :meth:`bot.open311.GeoReport.requests`)
    POST requests.json|xml            file a request (form-encoded, ``api_key`` required)
    GET  requests/{id}.json|xml       one request by its tracking code

The format is the path's extension. Errors answer in the specification's
form, ``[{"code": 400, "description": "..."}]`` (``<errors><error>`` in XML),
with the same HTTP status. Names and texts are in the language of the
``locale`` parameter, else of ``Accept-Language``, else English.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qsl
from xml.etree import ElementTree

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.open311 import GeoReport, Open311Error
from flows.i18n import supported
from handlers.request_body import read_body

PREFIX = "/open311/v2"
MAX_BODY = 64_000
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The XML element of each list item, by the list's root element.
ITEM = {"services": "service", "service_requests": "request", "errors": "error"}


class Open311Api:
    def __init__(self, report: GeoReport):
        self.report = report

    def routes(self) -> list[Route]:
        return [
            Route(f"{PREFIX}/services.{{fmt}}", self.services, methods=["GET"]),
            Route(f"{PREFIX}/services/{{code}}.{{fmt}}", self.definition, methods=["GET"]),
            Route(f"{PREFIX}/requests.{{fmt}}", self.requests, methods=["GET", "POST"]),
            Route(f"{PREFIX}/requests/{{code}}.{{fmt}}", self.one_request, methods=["GET"]),
        ]

    async def services(self, request: Request) -> Response:
        return await self._answer(request, "services", lambda: self.report.services(_language(request)))

    async def definition(self, request: Request) -> Response:
        code = request.path_params["code"]
        return await self._answer(request, "service_definition", lambda: self.report.definition(code))

    async def requests(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._file(request)
        query = dict(request.query_params)
        return await self._answer(request, "service_requests", lambda: self.report.requests(query, _language(request)))

    async def one_request(self, request: Request) -> Response:
        code = request.path_params["code"]
        return await self._answer(request, "service_requests", lambda: self.report.request(code, _language(request)))

    async def _file(self, request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in FORMATS:
            return Response(status_code=404)
        body = await read_body(request, MAX_BODY)
        if body is None:
            return _error(fmt, Open311Error(413, f"the request is larger than {MAX_BODY} bytes"))
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return _error(fmt, Open311Error(400, "send the fields form-encoded (application/x-www-form-urlencoded); a photo as media_url"))
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return _error(fmt, Open311Error(400, "the form is not UTF-8"))
        language = supported(form.get("locale")) or _language(request, default=None)
        return await self._answer(request, "service_requests", lambda: self.report.file(form, language))

    async def _answer(self, request: Request, root: str, produce) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in FORMATS:
            return Response(status_code=404)
        try:
            data = await asyncio.to_thread(produce)
        except Open311Error as error:
            return _error(fmt, error)
        return Response(_render(fmt, root, data), media_type=FORMATS[fmt])


def _language(request: Request, default: str | None = "en") -> str | None:
    asked = request.query_params.get("locale") or request.headers.get("accept-language", "").split(",")[0].split(";")[0].strip()
    return supported(asked) or default


def _error(fmt: str, error: Open311Error) -> Response:
    data = [{"code": error.status, "description": error.description}]
    return Response(_render(fmt, "errors", data), status_code=error.status, media_type=FORMATS[fmt])


def _render(fmt: str, root: str, data: list | dict) -> bytes:
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False).encode("utf-8")
    return to_xml(root, data)


def to_xml(root: str, data: list | dict) -> bytes:
    """``[{...}, ...]`` as ``<root><item>...</item></root>``; a dict as
    ``<root>...</root>``; None as an empty element, booleans as
    ``true``/``false``, a list inside an item as a wrapper of ``<item>``s."""
    top = ElementTree.Element(root)
    for item in data if isinstance(data, list) else [data]:
        element = ElementTree.SubElement(top, ITEM[root]) if isinstance(data, list) else top
        _fill(element, item)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(top, encoding="utf-8", xml_declaration=False)


def _fill(element: ElementTree.Element, item: dict) -> None:
    for name, value in item.items():
        child = ElementTree.SubElement(element, name)
        if isinstance(value, list):
            for entry in value:
                _fill(ElementTree.SubElement(child, name.rstrip("s")), entry)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = str(value)
