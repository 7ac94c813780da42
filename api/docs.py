"""The OpenAPI document and its two viewers (Swagger UI, ReDoc), all behind the API key.

A browser cannot add `X-API-Key` to the request a viewer makes for `/openapi.json`, so each viewer page carries
the document inline: whoever holds the key gets a working page, nobody else gets the route list. The viewers'
bundles come from the jsDelivr CDN (as FastAPI's own pages do); their pages carry a policy that allows that CDN
and their one inline script (by its hash), and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson
from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse, JSONResponse

from api.auth import require_api_key
from api.struct_schema import add_struct_components

_CDN = "https://cdn.jsdelivr.net/npm"
DOCS_POLICY = (
    "default-src 'none'; script-src https://cdn.jsdelivr.net '{script}'; "
    "style-src https://cdn.jsdelivr.net 'unsafe-inline'; img-src 'self' data:; font-src data:; "
    "worker-src blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def _inline(spec: dict[str, Any]) -> str:
    """The document as a JavaScript literal that cannot close the <script> element it sits in."""
    return orjson.dumps(spec).decode().replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _page(title: str, head: str, body: str, script: str) -> HTMLResponse:
    """`script` runs inline, allowed by its sha256 alone."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    html = (f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
            f"<body>{body}<script>{script}</script></body></html>")
    return HTMLResponse(html, headers={"content-security-policy": DOCS_POLICY.format(script=f"sha256-{digest}")})


def install_docs(app: FastAPI) -> None:
    """`/openapi.json`, `/docs` and `/redoc`; build the app with `openapi_url=None` so FastAPI adds no open ones."""
    guarded = [Depends(require_api_key)]
    generate = app.openapi

    def document() -> dict[str, Any]:
        """FastAPI's document (built once), with the components of the routes' msgspec response types."""
        if app.openapi_schema is None:
            add_struct_components(generate())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]

    @app.get("/openapi.json", include_in_schema=False, dependencies=guarded)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=guarded)
    async def swagger() -> HTMLResponse:
        head = f'<link rel="stylesheet" href="{_CDN}/swagger-ui-dist@5/swagger-ui.css">'
        body = f'<div id="swagger-ui"></div><script src="{_CDN}/swagger-ui-dist@5/swagger-ui-bundle.js"></script>'
        script = f'SwaggerUIBundle({{spec: {_inline(app.openapi())}, dom_id: "#swagger-ui"}})'
        return _page(f"{app.title} - API", head, body, script)

    @app.get("/redoc", include_in_schema=False, dependencies=guarded)
    async def redoc() -> HTMLResponse:
        body = f'<div id="redoc"></div><script src="{_CDN}/redoc@2/bundles/redoc.standalone.js"></script>'
        script = f'Redoc.init({_inline(app.openapi())}, {{}}, document.getElementById("redoc"))'
        return _page(f"{app.title} - API", "", body, script)
