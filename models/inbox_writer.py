"""Storing a webhook delivery in the inbox, committed before the webhook answers.

A delivery is one autocommitted INSERT ... SELECT: the shop check and the insert in a single
round trip. On PostgreSQL, deliveries that reach one web process at the same moment share
one statement (group insert): while the process's statements are in flight (two at most,
each on a connection of the writer's own), the deliveries that arrive wait for a turn and
then go in together. Under a burst this saves most of each statement's cost
(the executor, the commit and its WAL flush, a pool checkout, the driver's Python); a lone
delivery still goes in alone, at once. Should a shared statement fail for any reason, each
of its deliveries is stored alone, so one delivery never decides another's answer.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, String, Text, and_, bindparam, event, literal_column, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, StatementError

from models.db import UTCDateTime, dialect_insert, make_engine
from models.shop import Shop
from models.webhook import PENDING, WebhookEvent

# What `InboxWriter.store` answers for a body PostgreSQL would not read as JSON.
JSON_REFUSED = "json_refused"
# invalid_text_representation, untranslatable_character, character_not_in_repertoire
_JSON_INPUT_ERRORS = {"22P02", "22P05", "22021"}
_INSTALLED = and_(Shop.access_token_enc.is_not(None), Shop.uninstalled_at.is_(None))


@dataclass
class Delivery:
    """One delivery's inbox row, as the webhook read it from the request."""

    shop_domain: str
    webhook_id: str
    topic: str
    body: str
    api_version: str | None
    triggered_at: datetime | None
    event_id: str | None
    received_at: datetime
    # Kept whatever the shop's state (compliance topics).
    any_shop: bool


_statements: dict[Any, Any] = {}


def insert_statement() -> Any:
    """INSERT ... SELECT (SQLite): the delivery, kept when its shop is installed (or for any
    shop, for compliance topics); built once, its values bound per delivery. PostgreSQL
    runs group_insert_sql."""
    if "sqlalchemy" not in _statements:
        values: dict[str, Any] = {
            "shop_domain": bindparam("shop_domain", type_=String),
            "shop_id": Shop.id,
            "webhook_id": bindparam("webhook_id", type_=String),
            "topic": bindparam("topic", type_=String),
            "api_version": bindparam("api_version", type_=String),
            "triggered_at": bindparam("triggered_at", type_=UTCDateTime()),
            "event_id": bindparam("event_id", type_=String),
            "body": bindparam("body", type_=Text),
            "status": literal_column(f"'{PENDING}'"),
            "attempts": literal_column("0"),
            "received_at": bindparam("received_at", type_=UTCDateTime()),
        }
        source = (
            select(*[value.label(column) for column, value in values.items()])
            .select_from(select(literal_column("1").label("one")).subquery("delivery"))
            .outerjoin(Shop, Shop.domain == bindparam("shop_domain", type_=String))
            .where(or_(bindparam("any_shop", type_=Boolean), _INSTALLED))
        )
        _statements["sqlalchemy"] = (
            dialect_insert("sqlite", WebhookEvent)
            .from_select(list(values), source)
            .on_conflict_do_nothing(index_elements=["shop_domain", "webhook_id"])
            .returning(WebhookEvent.id)
        )
    return _statements["sqlalchemy"]


# PostgreSQL's insert, for one delivery or several at once: a row of VALUES each (scalar
# parameters, sent as they are: arrays of bodies would be escaped and parsed again element
# by element), kept when its shop is installed (or for any shop, for compliance topics) and,
# with `check_json`, when its body is a JSON object. Built once per size; bind row_params.
_COLUMNS = {
    "shop_domain": "varchar",
    "webhook_id": "varchar",
    "topic": "varchar",
    "api_version": "varchar",
    "triggered_at": "timestamptz",
    "event_id": "varchar",
    "body": "text",
    "received_at": "timestamptz",
    "any_shop": "boolean",
}
GROUP_MAX = 16


def group_insert_sql(size: int, *, check_json: bool = True) -> str:
    key = ("group", size, check_json)
    if key not in _statements:
        rows = ",\n       ".join(
            "(" + ", ".join(f"%({column}_{n})s::{kind}" for column, kind in _COLUMNS.items()) + ")" for n in range(size)
        )
        json_object = "\n  AND json_typeof(CAST(d.body AS json)) = 'object'" if check_json else ""
        _statements[key] = f"""
INSERT INTO webhook_events (shop_domain, shop_id, webhook_id, topic, api_version, triggered_at, event_id,
                            body, status, attempts, received_at)
SELECT d.shop_domain, shops.id, d.webhook_id, d.topic, d.api_version, d.triggered_at, d.event_id,
       d.body, '{PENDING}', 0, d.received_at
FROM (VALUES {rows}) AS d({", ".join(_COLUMNS)})
LEFT OUTER JOIN shops ON shops.domain = d.shop_domain
WHERE (d.any_shop OR shops.access_token_enc IS NOT NULL AND shops.uninstalled_at IS NULL){json_object}
ON CONFLICT (shop_domain, webhook_id) DO NOTHING
RETURNING id, shop_domain, webhook_id
"""
    return str(_statements[key])


def row_params(deliveries: list[Delivery]) -> dict[str, Any]:
    """The parameters of group_insert_sql(len(deliveries)), one row per delivery in order."""
    return {f"{column}_{n}": value for n, delivery in enumerate(deliveries) for column, value in vars(delivery).items()}


def _statement_error(sql: str, exc: Exception, dialect: Any, invalidated: bool) -> StatementError:
    """A driver error as SQLAlchemy raises it, without the parameters (webhook bodies)."""
    return DBAPIError.instance(
        sql,
        None,
        exc,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=invalidated,
        dialect=dialect,
    )


_ALONE = object()  # the delivery is to be stored on its own


@dataclass(eq=False)
class _Waiting:
    delivery: Delivery
    outcome: Any = _ALONE
    done: threading.Event = field(default_factory=threading.Event)


# Statements in flight per process: a second lets a group go in while another waits for its
# commit, so the threads that would wait for a turn serve requests instead.
LANES = 2


class InboxWriter:
    """Stores deliveries for one database, grouping those that arrive together (PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._grouped = engine.dialect.name == "postgresql"
        self._mutex = threading.Lock()  # guards _waiting
        # At most LANES statements of the writer's in flight per process (shared or a delivery's
        # alone), each on a connection of the writer's own engine: a pool of LANES, so a turn never
        # waits for one, in autocommit from the start (no switch, no reset per statement), pinged
        # after an idle second and compressing with lz4 as the app's are (make_engine).
        self._turn = threading.BoundedSemaphore(LANES)
        self._waiting: list[_Waiting] = []
        if self._grouped:
            self._lane_engine = make_engine(
                engine.url.render_as_string(hide_password=False),
                pool_size=LANES,
                max_overflow=0,
                isolation_level="AUTOCOMMIT",
                pool_reset_on_return=None,
            )
            self._pid = os.getpid()
            event.listen(engine, "engine_disposed", self._dispose_lanes)

    def store(self, delivery: Delivery, *, check_json: bool) -> tuple[int | None, str]:
        """Insert the delivery: (row id or None, shop state), committed when this returns.

        None means a duplicate, or a shop that is unknown or uninstalled (only compliance
        topics are kept for those), or with `check_json` a body that is not a JSON object
        (JSON_REFUSED when PostgreSQL could not read it as JSON at all).
        """
        try:
            outcome: Any = self._with_others(delivery) if self._grouped and check_json else _ALONE
            if outcome is _ALONE:
                outcome = self._insert_alone(delivery, check_json=check_json)
        except DBAPIError as exc:
            if check_json and getattr(exc.orig, "sqlstate", None) in _JSON_INPUT_ERRORS:
                return None, JSON_REFUSED
            raise
        if outcome is not None:
            return outcome, "installed"
        return None, self.shop_state(delivery)

    def _insert_alone(self, delivery: Delivery, *, check_json: bool) -> int | None:
        """Insert one delivery in autocommit: the new row's id (committed), or None."""
        if not self._grouped:  # SQLite
            with self.engine.connect() as conn:
                return (
                    conn.execution_options(isolation_level="AUTOCOMMIT")
                    .execute(insert_statement(), vars(delivery))
                    .scalar()
                )
        with self._turn:
            rows = self._on_own_connection(group_insert_sql(1, check_json=check_json), row_params([delivery]))
        return rows[0][0] if rows else None

    def shop_state(self, delivery: Delivery) -> str:
        """Why a delivery kept no row, as far as its shop goes ("installed": a duplicate)."""
        with self.engine.connect() as conn:
            shop = conn.execute(
                select(Shop.id, _INSTALLED.label("installed")).where(Shop.domain == delivery.shop_domain)
            ).first()
        if delivery.any_shop or (shop is not None and shop.installed):
            return "installed"
        return "unknown_shop" if shop is None else "uninstalled"

    def _with_others(self, delivery: Delivery) -> Any:
        """The row id (or None) from the statement that stores the delivery with those waiting
        when its turn comes (alone if none are), or _ALONE: the shared statement failed."""
        mine = _Waiting(delivery)
        with self._mutex:
            self._waiting.append(mine)
        while not mine.done.is_set():
            with self._turn:
                if mine.done.is_set():
                    break
                with self._mutex:
                    group, self._waiting = self._waiting[:GROUP_MAX], self._waiting[GROUP_MAX:]
                if group:
                    self._store_group(group, mine)
            if not group:  # taken by a statement in flight in another lane
                mine.done.wait()
        return mine.outcome

    def _store_group(self, group: list[_Waiting], mine: _Waiting) -> None:
        try:
            outcomes = self._insert_group([waiting.delivery for waiting in group])
            for waiting, outcome in zip(group, outcomes):
                waiting.outcome = outcome
        except Exception:
            if group == [mine]:  # no one else's: its errors are its own
                raise
            for waiting in group:  # each goes in alone, and meets the error (if any) itself
                waiting.outcome = _ALONE
        finally:
            for waiting in group:
                waiting.done.set()

    def _insert_group(self, deliveries: list[Delivery]) -> list[int | None]:
        """One statement for all: each delivery's row id, or None (a second copy of a delivery
        in the group is a duplicate)."""
        keys = [(delivery.shop_domain, delivery.webhook_id) for delivery in deliveries]
        unique: dict[tuple[str, str], Delivery] = {}
        for key, delivery in zip(keys, deliveries):
            unique.setdefault(key, delivery)
        # Rows in key order: two statements in flight that hold the same deliveries (Shopify
        # retrying) then wait on each other in one order, and never deadlock.
        rows = self._on_own_connection(
            group_insert_sql(len(unique)), row_params([unique[key] for key in sorted(unique)])
        )
        stored = {(shop_domain, webhook_id): row_id for row_id, shop_domain, webhook_id in rows}
        seen: set[tuple[str, str]] = set()
        outcomes: list[int | None] = []
        for key in keys:
            outcomes.append(None if key in seen else stored.get(key))
            seen.add(key)
        return outcomes

    def _on_own_connection(self, sql: str, params: dict[str, Any]) -> list[Any]:
        """Run a statement on one of the writer's own connections (under _turn): its rows,
        committed."""
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        pool = self._lane_engine.pool
        pooled = pool.connect()
        conn: Any = pooled.driver_connection  # psycopg's own connection
        broken = False
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
        except dbapi_error as exc:
            broken = conn.closed or conn.broken
            raise _statement_error(sql, exc, self.engine.dialect, broken) from exc
        finally:
            # A broken connection is closed and replaced; so is one taken before the engine was
            # disposed, which would otherwise stay open in the old pool until it is collected.
            if broken or pool is not self._lane_engine.pool:
                pooled.invalidate()
            else:
                pooled.close()

    def _dispose_lanes(self, _engine: Engine) -> None:
        """Disposed with the app's engine. A forked child forgets the parent's connections:
        closing them would end the parent's too."""
        forked, self._pid = self._pid != os.getpid(), os.getpid()
        self._lane_engine.dispose(close=not forked)
