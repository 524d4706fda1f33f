"""A shop's admin as App Bridge speaks for it: session tokens, the header that carries one, and a
test client that sends a fresh token with every call."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from factories import API_KEY, API_SECRET, SHOP


def session_token(
    shop: str = SHOP, *, secret: str = API_SECRET, aud: str = API_KEY, exp_in: int = 60, **claims: Any
) -> str:
    """A session token as App Bridge mints it (HS256, signed with the app secret)."""
    now = int(time.time())
    payload = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": aud,
        "sub": "42",
        "exp": now + exp_in,
        "nbf": now - 1,
        "iat": now - 1,
        "jti": str(uuid.uuid4()),
        "sid": uuid.uuid4().hex,
    }
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm="HS256")


def auth_headers(shop: str = SHOP, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token(shop, **kwargs)}"}


class Api:
    """A test client speaking for one shop's admin, with a fresh session token per call."""

    def __init__(self, client: Any, shop: str) -> None:
        self.client, self.shop = client, shop

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**auth_headers(self.shop), **kwargs.pop("headers", {})}
        return getattr(self.client, method)(path, headers=headers, **kwargs)

    def get(self, path: str, **kw: Any) -> Any:
        return self._call("get", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self._call("post", path, **kw)

    def patch(self, path: str, **kw: Any) -> Any:
        return self._call("patch", path, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self._call("delete", path, **kw)
