"""Security headers on every response; HSTS only over HTTPS."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient


def test_headers_on_pages_and_api(client: TestClient) -> None:
    for path in ("/login", "/health", "/api/me", "/static/css/app.css"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in headers


def test_hsts_behind_tls(app: FastAPI) -> None:
    with TestClient(app, base_url="https://customs.example") as tls:
        assert tls.get("/health").headers["strict-transport-security"].startswith("max-age=")
