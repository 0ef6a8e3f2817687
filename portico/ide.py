"""GraphiQL from the package: the page, its vendored assets, and a policy naming only them.

The assets are GraphiQL's pinned npm build (portico/static/graphiql/VENDOR.txt), so the
IDE works without internet. Their URLs carry a digest of their bytes, so browsers may
keep them forever; the page's Content-Security-Policy allows exactly these files, from
this server, and nothing else but calls back to it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

STATIC = Path(__file__).parent / "static" / "graphiql"
PREFIX = "/static/graphiql/"
# In load order: React first, GraphiQL and its explorer plugin use its globals.
SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "plugin-explorer.umd.js",
    "portico-graphiql.js",  # ours: mounts GraphiQL on the page
)
STYLES = ("graphiql.min.css", "plugin-explorer.css", "portico-graphiql.css")
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    name: str
    body: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:16]

    @property
    def integrity(self) -> str:
        return "sha384-" + base64.b64encode(hashlib.sha384(self.body).digest()).decode()

    @property
    def url(self) -> str:
        return f"{PREFIX}{self.name}?v={self.digest}"


@cache
def assets() -> dict[str, Asset]:
    """Read once per process, on the first page view (about 4 MB)."""
    return {
        name: Asset(name, (STATIC / name).read_bytes(), MEDIA_TYPES[Path(name).suffix])
        for name in (*SCRIPTS, *STYLES)
    }


async def asset(request: Request) -> Response:
    """One vendored file; anything else under the prefix is 404."""
    found = assets().get(request.path_params["name"])
    if found is None:
        return Response("Not Found", status_code=404, media_type="text/plain")
    etag = f'"{found.digest}"'
    headers = {"cache-control": IMMUTABLE, "etag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)


def policy(request: Request) -> str:
    """The page's CSP: each script and stylesheet by its full URL (a source with a path
    matches that file only), fonts and icons inlined in GraphiQL's CSS, and requests back
    to this server (the GraphQL POSTs, and the WebSocket for subscriptions)."""
    origin = f"{request.url.scheme}://{request.url.netloc}"
    scripts = " ".join(f"{origin}{PREFIX}{name}" for name in SCRIPTS)
    styles = " ".join(f"{origin}{PREFIX}{name}" for name in STYLES)
    return (
        f"default-src 'none'; script-src {scripts}; style-src {styles}; "
        "font-src data:; img-src data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def page(request: Request) -> HTMLResponse:
    found = assets()
    links = "".join(
        f'<link rel="stylesheet" href="{escape(found[n].url)}" integrity="{found[n].integrity}">'
        for n in STYLES
    )
    scripts = "".join(
        f'<script src="{escape(found[n].url)}" integrity="{found[n].integrity}"></script>'
        for n in SCRIPTS
    )
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<title>Portico GraphiQL</title><link rel="icon" href="data:,">'
        f"{links}</head><body>"
        '<div id="graphiql" class="graphiql-container">Loading...</div>'
        f"{scripts}</body></html>"
    )
    return HTMLResponse(
        html, headers={"content-security-policy": policy(request), "cache-control": "no-store"}
    )
