"""Real processes for fault tests: a private PostgreSQL cluster and Redis server (so restarting
them disturbs nobody else), gunicorn serving the app, `creator-roi worker` processes, a sender
that behaves like Shopify (retries until it gets a 2xx), and Redis servers that hang or refuse.
What these processes are sent is built in factories."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from factories import API_KEY, API_SECRET, SHOP
from factories.shopify import Delivery, webhook_headers

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Any, timeout: float, interval: float = 0.2, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def can_run_private_services() -> str | None:
    """None when this machine can run the fault tests, else the reason it cannot."""
    if postgres_bin() is None:
        return "PostgreSQL server binaries not installed"
    if shutil.which("redis-server") is None:
        return "redis-server not installed"
    if os.geteuid() != 0 and shutil.which("runuser") is None:
        return "cannot start a private PostgreSQL cluster"
    return None


class PrivatePostgres:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="creator-roi-pg-")
        self.port = free_port()
        self.bin = postgres_bin()
        assert self.bin is not None
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(
            [
                str(self.bin / "initdb"),
                "-D",
                f"{self.dir}/data",
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, cmd: list[str]) -> None:
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._as_postgres(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                f"{self.dir}/data",
                "-o",
                options,
                "-l",
                f"{self.dir}/log",
                "-w",
                "-t",
                "60",
                *args,
            ]
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(
            lambda: socket.create_connection(("127.0.0.1", self.port), 0.2).close() or True, 10, what="redis to listen"
        )

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@dataclass
class AppProcesses:
    """gunicorn and RQ workers for one database and Redis."""

    env: dict[str, str]
    web_port: int = field(default_factory=free_port)
    web: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "creator-roi"), *args], env=self.env, check=check, capture_output=True, text=True, timeout=300
        )

    def start_web(self) -> None:
        self.web = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--timeout",
                "60",
                "plugin:create_app()",
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(
            lambda: httpx.get(f"{self.base_url}/healthz", timeout=1).status_code in (200, 503),
            60,
            what="gunicorn to answer",
        )

    def start_worker(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [str(BIN / "creator-roi"), "worker", "--sweep-interval", "5"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.workers.append(proc)
        return proc

    def kill_worker(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker and its work horse, mid-job."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)
        self.workers.remove(proc)

    def stop(self) -> None:
        for proc in list(self.workers):
            self.kill_worker(proc)
        if self.web is not None:
            self.web.terminate()
            self.web.wait(20)
            self.web = None


def process_env(database_url: str, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST"))}
    env.update(
        APP_ENV="test",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SHOPIFY_API_KEY=API_KEY,
        SHOPIFY_API_SECRET=API_SECRET,
        SHOPIFY_ADMIN_BASE_URL="http://127.0.0.1:9",
        SECRET_KEY="fault-tests",
    )
    return env


# ---- Shopify's side, and Redis failing ------------------------------------------------------


def send_like_shopify(
    base_url: str,
    deliveries: Iterable[Delivery],
    *,
    threads: int = 8,
    give_up_after: float = 120.0,
    on_progress: Any = None,
) -> dict[str, int]:
    """POST each delivery until it gets a 2xx (Shopify retries any other answer)."""
    stats = {"acknowledged": 0, "retries": 0}
    lock = threading.Lock()
    client = httpx.Client(timeout=10)

    def send(delivery: Delivery) -> None:
        deadline = time.monotonic() + give_up_after
        headers = webhook_headers(delivery.topic, delivery.body, SHOP, webhook_id=delivery.webhook_id)
        while True:
            try:
                response = client.post(f"{base_url}/webhooks", content=delivery.body, headers=headers)
                if 200 <= response.status_code < 300:
                    break
            except httpx.HTTPError:
                pass
            with lock:
                stats["retries"] += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"delivery {delivery.webhook_id} never acknowledged")
            time.sleep(0.3)
        with lock:
            stats["acknowledged"] += 1
            done = stats["acknowledged"]
        if on_progress is not None:
            on_progress(done)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, deliveries))
    client.close()
    return stats


@contextmanager
def hanging_redis() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: a Redis that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        server.close()


def closed_port_url() -> str:
    """A Redis URL on a port nothing listens on: connections are refused."""
    return f"redis://127.0.0.1:{free_port()}/0"
