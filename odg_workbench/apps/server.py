"""``odg apps``: every marimo app of the workbench in one local web server.

marimo's ASGI composition (:func:`marimo.create_asgi_app`) mounts each app under its own
path, and a small Starlette index at ``/`` links them. The apps read the workspace from
``$ODG_HOME``, which :func:`serve` sets, and open it per action (no file stays open).
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["APPS", "AppInfo", "TokenGate", "available_apps", "build_asgi", "is_loopback", "serve"]

HERE = Path(__file__).resolve().parent / "notebooks"
GRAPHQL_PATH = "/api/v1/graphql"


@dataclass(frozen=True)
class AppInfo:
    path: str
    file: str
    title: str
    description: str
    needs: str | None = None  # a capability (views.capabilities()) the app needs

    @property
    def source(self) -> Path:
        return HERE / self.file


APPS: tuple[AppInfo, ...] = (
    AppInfo("cockpit", "cockpit.py", "Governance cockpit", "Decisions inbox, approve / reject / veto, audit chain."),
    AppInfo("quality", "quality_explorer.py", "Data quality explorer", "Contract checks, DAMA scores over time."),
    AppInfo("lakehouse", "lakehouse_browser.py", "Lakehouse browser", "Layers, snapshots, tags, time travel."),
    AppInfo("lineage", "lineage_explorer.py", "Lineage explorer", "Upstream, downstream, impact.", "lineage"),
    AppInfo("privacy", "privacy_scanner.py", "Privacy scanner", "PII per column, classification.", "privacy"),
)


def available_apps() -> list[AppInfo]:
    """The apps whose capability is installed and whose file ships with the package."""
    from odg_workbench.apps.views import capabilities

    caps = capabilities()
    return [a for a in APPS if a.source.is_file() and (a.needs is None or caps.get(a.needs, False))]


def _index(apps: list[AppInfo], workspace: str) -> str:
    items = "\n".join(
        f'<li><a href="/{a.path}/">{html.escape(a.title)}</a> <span>{html.escape(a.description)}</span></li>'
        for a in apps
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpenDataGov Workbench</title><link rel="icon" href="data:,">
<style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;color:#1f2933}}
li{{margin:.6rem 0}} a{{font-weight:600;margin-right:.6rem}} span{{color:#52606d}}
code{{background:#f0f4f8;padding:.1rem .3rem}}</style></head>
<body><h1>OpenDataGov Workbench</h1><p>Workspace <code>{html.escape(workspace)}</code></p>
<ul id="apps">{items}</ul>
<p>GraphQL API: <code>POST {GRAPHQL_PATH}</code> (the queries of <code>odg graphql schema</code>)</p></body></html>"""


def build_asgi(workspace: str | os.PathLike[str], *, token: str | None = None) -> Any:
    """The ASGI application: ``/`` lists the apps, ``/<app>/`` serves each one, and
    ``/api/v1/graphql`` answers GraphQL queries (:mod:`odg_workbench.lineage.graphql`).

    With ``token``, every request (pages, websockets, GraphQL) must carry it: as
    ``?token=...`` once (a cookie then keeps it for the browser's later requests and the
    apps' websockets), or as ``Authorization: Bearer ...``; anything else gets 401.
    """
    import marimo
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, RedirectResponse
    from starlette.routing import Mount, Route

    root = str(Path(workspace).expanduser().resolve())
    os.environ["ODG_HOME"] = root  # the apps' kernels run in this process and read it
    apps = available_apps()
    builder = marimo.create_asgi_app(quiet=True, include_code=False)
    for a in apps:
        builder = builder.with_app(path=f"/{a.path}", root=str(a.source))
    marimo_app = builder.build()
    page = _index(apps, root)

    async def index(request: Any) -> HTMLResponse:
        return HTMLResponse(page)

    async def healthz(request: Any) -> HTMLResponse:
        return HTMLResponse("ok")

    def redirect(path: str) -> Any:
        async def go(request: Any) -> RedirectResponse:
            return RedirectResponse(f"/{path}/")

        return go

    from odg_workbench.lineage.graphql import asgi_app

    routes: list[Any] = [Route("/", index), Route("/healthz", healthz)]
    routes += [Route(f"/{a.path}", redirect(a.path)) for a in apps]
    # the GraphQL API of the origin design (POST queries; its IDE needs a CDN, so none here)
    graphql = asgi_app(root, graphql_ide=None)
    routes += [Route(GRAPHQL_PATH, graphql, methods=["GET", "POST"]), Mount(GRAPHQL_PATH, app=graphql)]
    routes.append(Mount("/", app=marimo_app))
    app = Starlette(routes=routes)
    return TokenGate(app, token) if token else app


class TokenGate:
    """ASGI middleware: requests without the access token get 401 (websockets: closed).

    Written by hand because it must guard marimo's websockets too, which Starlette's HTTP
    middleware does not see; it compares tokens in constant time.
    """

    COOKIE = "odg_token"

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.token = token

    def _given(self, scope: dict[str, Any]) -> tuple[str | None, bool]:
        """The token the request carries, and whether it came in the query string."""
        from http.cookies import SimpleCookie
        from urllib.parse import parse_qs

        query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        if query:
            return query[0], True
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip(), False
        cookie = SimpleCookie()
        cookie.load(headers.get("cookie", ""))
        morsel = cookie.get(self.COOKIE)
        return (morsel.value if morsel else None), False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        import hmac

        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given, from_query = self._given(scope)
        if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 4401})
                return
            body = b"401: this server needs its access token: open the URL odg apps printed (?token=...)"
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if not from_query or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = f"{self.COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode()

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def serve(
    workspace: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int = 2718, token: str | None = None
) -> None:
    """Serve every app until interrupted (Ctrl-C); see :func:`build_asgi` for ``token``."""
    import uvicorn

    uvicorn.run(build_asgi(workspace, token=token), host=host, port=port, log_level="warning")


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
