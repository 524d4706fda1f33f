"""The request's database session and the shop-scoping helpers every route uses."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import current_app, g
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from worker.runtime import Runtime

T = TypeVar("T")


def runtime() -> Runtime:
    return current_app.extensions["creator_roi"]


def session() -> Session:
    """One session per request, closed at teardown (rolled back unless committed)."""
    if "db_session" not in g:
        g.db_session = runtime().db.sessionmaker()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


def current_shop() -> Any:
    """The shop of the verified session token (set by plugin.auth)."""
    return g.shop


def shop_select(model: type[T]) -> Select[T]:
    """`select(model)` already filtered to the current shop: the only way routes query shop data."""
    return select(model).where(model.shop_id == current_shop().id)  # type: ignore[attr-defined]


def get_owned(model: type[T], object_id: int) -> T:
    """The current shop's object, or 404 (another shop's id is never revealed as existing)."""
    from plugin.errors import NotFound

    obj = session().scalar(shop_select(model).where(model.id == object_id))  # type: ignore[attr-defined,arg-type]
    if obj is None:
        raise NotFound(model.__name__.lower())
    return obj
