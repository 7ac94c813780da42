"""Deny by default at the HTTP edge: what needs the key, how Prometheus scrapes, the Host check, the security
headers every answer carries, and the secrets and files an installation keeps private."""

from __future__ import annotations

import base64
import hashlib
import stat
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import sqlalchemy
from pydantic import ValidationError
from starlette.types import Message, Receive, Scope, Send

from api.app import create_app
from api.auth import resolve_api_key
from api.middleware import SecurityMiddleware
from core.db.migrate import upgrade_to_head
from core.db.session import Database
from core.services.order_tokens import load_secret
from core.settings import Settings
from tests.conftest import API_KEY, serving

METRICS_TOKEN = "metrics-token-0123456789-abcdefghijkl"
GUARDED = ["/metrics", "/docs", "/redoc", "/openapi.json", "/api/v1/diag/ready"]


@pytest.mark.parametrize("path", GUARDED)
async def test_operational_pages_need_the_key(client: httpx.AsyncClient, path: str) -> None:
    anonymous = await client.get(path, headers={"X-API-Key": ""})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"
    assert "paths" not in anonymous.text and "tradeassist_" not in anonymous.text
    assert (await client.get(path)).status_code in (200, 503)  # ready: 503 says why, to a key holder


async def test_docs_pages_carry_the_document_inline(client: httpx.AsyncClient) -> None:
    """A browser cannot add the key to a viewer's own fetch of /openapi.json, so the page holds the document."""
    for path in ("/docs", "/redoc"):
        page = await client.get(path)
        assert page.headers["content-type"].startswith("text/html")
        assert "/api/v1/journal/{entry_id}" in page.text
        script = page.text.split("<script>", 1)[1].rsplit("</script>", 1)[0]
        assert "</script" not in script
        [policy] = page.headers.get_list("content-security-policy")  # its own policy replaces the dashboard's
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"script-src https://cdn.jsdelivr.net 'sha256-{digest}';" in policy  # that script and no other
        assert "frame-ancestors 'none'" in policy


async def test_health_is_open_and_says_nothing_else(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/diag/health", headers={"X-API-Key": ""})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_prometheus_scrapes_with_the_metrics_token(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(metrics_token=METRICS_TOKEN), roles=frozenset({"api"}))
    async with serving(app) as http:
        http.headers.pop("X-API-Key")
        scraped = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert scraped.status_code == 200
        assert "tradeassist_http_request_seconds" in scraped.text
        assert (await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}x"})).status_code == 401
        assert (await http.get("/metrics", headers={"Authorization": f"Bearer {API_KEY}"})).status_code == 401
        # the token opens /metrics only
        assert (await http.get("/api/v1/journal", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
                ).status_code == 401


async def test_without_a_metrics_token_an_empty_bearer_opens_nothing(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics", headers={"X-API-Key": "", "Authorization": "Bearer "})).status_code == 401


@pytest.mark.parametrize("path", ["/", "/api/v1/journal", "/api/v1/diag/health", "/static/app.js",
                                  "/api/v1/journal/missing"])
async def test_every_answer_carries_the_security_headers(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", ""])
async def test_a_host_the_server_does_not_serve_is_refused(client: httpx.AsyncClient, host: str) -> None:
    """A DNS-rebinding page reaches the API under its own name: refused before any route runs."""
    response = await client.get("/api/v1/diag/health", headers={"Host": host})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_host"
    assert "ALLOWED_HOSTS" in response.json()["error"]["message"]


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "LOCALHOST:80", "testserver"])
async def test_loopback_names_and_the_configured_ones_are_served(client: httpx.AsyncClient, host: str) -> None:
    assert (await client.get("/api/v1/diag/health", headers={"Host": host})).status_code == 200


async def test_allowed_hosts_adds_a_deployment_name(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(allowed_hosts="trading.example.com, Desk.Example.Com"), roles=frozenset({"api"}))
    async with serving(app) as http:
        for host in ("trading.example.com", "desk.example.com:443"):
            assert (await http.get("/api/v1/diag/health", headers={"Host": host})).status_code == 200
        assert (await http.get("/api/v1/diag/health", headers={"Host": "other.example.com"})).status_code == 400
        assert (await http.get("/api/v1/diag/health")).status_code == 400  # testserver is only in the tests' list


def test_a_short_api_key_is_refused_at_start_with_the_reason(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValidationError) as refused:
        make_settings(api_key="k" * 31)
    message = str(refused.value)
    assert "API_KEY has 31 characters, at least 32 are required" in message
    assert "k" * 31 not in message
    assert make_settings(api_key="k" * 32).api_key is not None
    with pytest.raises(ValidationError, match="METRICS_TOKEN has 5 characters"):
        make_settings(metrics_token="short")


def test_a_short_key_in_var_is_refused_and_a_generated_one_is_long(make_settings: Callable[..., Settings],
                                                                     tmp_path: Path) -> None:
    settings = make_settings(api_key=None)
    key, generated = resolve_api_key(settings)
    assert generated and len(key) >= 32
    (tmp_path / "var" / "api_key").write_text("short-key\n")
    with pytest.raises(ValueError, match="holds a key of 9 characters, at least 32"):
        resolve_api_key(settings)


def test_the_confirm_secret_is_its_own_private_file_not_derived_from_the_key(
        make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    settings = make_settings()
    secret = load_secret(settings)
    derived = hashlib.sha256(b"tradeassist-order-confirm\x00" + API_KEY.encode()).digest()
    assert secret != derived
    path = tmp_path / "var" / "order_confirm_secret"
    assert bytes.fromhex(path.read_text().strip()) == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret(settings) == secret  # every process of the installation reads the same one
    other = make_settings(var_dir=str(tmp_path / "other-var"))
    assert load_secret(other) != secret  # same API_KEY, another installation: another secret


async def test_sqlite_files_are_private_to_the_owner(tmp_path: Path) -> None:
    path = tmp_path / "data" / "ta.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade_to_head(database)
        async with database.uow() as session:
            await session.execute(sqlalchemy.text("CREATE TABLE probe (x INTEGER)"))
        files = [path, path.with_name("ta.db-wal"), path.with_name("ta.db-shm")]
        assert all(file.exists() for file in files)
        assert {file.name: oct(stat.S_IMODE(file.stat().st_mode)) for file in files} == {
            file.name: "0o600" for file in files}
    finally:
        await database.close()


async def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "ta.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    database = Database(f"sqlite+aiosqlite:///{path}")
    await database.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_a_websocket_from_a_host_not_served_is_closed_before_the_app_sees_it() -> None:
    reached: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["type"])

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    guard = SecurityMiddleware(app, ["127.0.0.1", "localhost"])
    await guard({"type": "websocket", "path": "/ws", "headers": [(b"host", b"evil.example:8000")]}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}] and reached == []
    await guard({"type": "websocket", "path": "/ws", "headers": [(b"host", b"localhost:8000")]}, receive, send)
    assert reached == ["websocket"]
