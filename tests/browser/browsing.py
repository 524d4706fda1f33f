"""What the browser tests share: Debian's Chromium and how it is started, a live server for the
app, and the steps every test takes (open the demo store, open a page with a session token, take a
screenshot). The fixtures built from these are in conftest.py."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from factories import SHOP
from factories.admin import session_token
from factories.webhooks import run_queued_jobs

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary"


class QuietHandler(WSGIRequestHandler):
    """No access log: page URLs carry session tokens."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class LiveServer:
    def __init__(self, app: Any) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


def drain_jobs(app: Any) -> None:
    """Run whatever the seeding queued on RQ (nothing when jobs run inline)."""
    run_queued_jobs(app.extensions["creator_roi"])


def answer(dialog: Any, failures: list[str]) -> None:
    """The app only ever asks to confirm; an alert can only come from injected script."""
    if dialog.type == "confirm":
        dialog.accept()
    else:
        failures.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


def screenshot(tab: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / name), full_page=True)


def open_demo(tab: Any, live: LiveServer) -> None:
    tab.goto(live.url + "/")
    tab.wait_for_load_state("networkidle")
    assert tab.url.startswith(live.url + "/app?")


def open_page(tab: Any, live: LiveServer, path: str) -> None:
    token = session_token(SHOP, exp_in=3600)
    tab.goto(f"{live.url}{path}?shop={SHOP}&host=aG9zdA&id_token={token}")
    tab.wait_for_load_state("networkidle")
