"""A version of each shop's figures, moved by the database itself on every change.

Reports are kept in memory (`plugin.report_cache`) keyed on this version, so a
cached report is only ever served while nothing it was computed from has
changed. The version is not bumped by application code, which could miss a
write path: triggers on every table a report reads (rollups, monthly rollups,
creators, campaigns, stored CLV, shop settings) move it in the transaction of
the change, whatever wrote it (the worker, the API, a CLI command, a rebuild).

PostgreSQL: one deferred constraint trigger per table, so the version row is
written (and locked) at commit only, once per shop per transaction (a
transaction-local setting marks the shop as done), and the new version comes
from a sequence: it never repeats, even for a shop deleted and made again.
SQLite (one writer at a time): a plain row trigger per table and operation,
the version taken from the clock in microseconds and always above the last.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, event
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base


class FigureVersion(Base):
    __tablename__ = "figure_versions"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


# Every table whose rows a report or the money chart reads (each has a shop_id column).
WATCHED = ("rollups", "rollup_months", "influencers", "campaigns", "creator_clv", "shop_settings")
# Added with pay (migration 0002): commission is a cost, and the creator page shows what is owed.
WATCHED_PAY = ("pay_plans", "commission_lines", "payouts")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION figures_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed integer;
    done text;
BEGIN
    IF TG_OP = 'DELETE' THEN changed := OLD.shop_id; ELSE changed := NEW.shop_id; END IF;
    done := 'creator_roi.figures_changed_' || changed;
    IF coalesce(current_setting(done, true), '') <> '1' THEN
        -- A shop being deleted has no version left to move.
        INSERT INTO figure_versions (shop_id, version)
        SELECT changed, nextval('figure_version_seq') WHERE EXISTS (SELECT 1 FROM shops WHERE id = changed)
        ON CONFLICT (shop_id) DO UPDATE SET version = excluded.version;
        PERFORM set_config(done, '1', true);
    END IF;
    RETURN NULL;
END
$$
"""

_SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS figures_changed_{table}_{op} AFTER {OP} ON {table}
BEGIN
    INSERT INTO figure_versions (shop_id, version)
    SELECT {row}.shop_id, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)
    WHERE EXISTS (SELECT 1 FROM shops WHERE id = {row}.shop_id)
    ON CONFLICT (shop_id) DO UPDATE SET version = max(figure_versions.version + 1, excluded.version);
END
"""


_SQLITE_OPS = ("INSERT", "UPDATE", "DELETE")


def _drop_trigger_statements(dialect: str, tables: tuple[str, ...] = WATCHED) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS figures_changed ON {table}" for table in tables]
    return [f"DROP TRIGGER IF EXISTS figures_changed_{table}_{op.lower()}" for table in tables for op in _SQLITE_OPS]


def trigger_statements(dialect: str, tables: tuple[str, ...] = WATCHED) -> list[str]:
    """The DDL that makes the database move the versions of `tables`, for `dialect`."""
    if dialect == "postgresql":
        # Dropped first: a constraint trigger has no CREATE OR REPLACE, and create_all runs again.
        return [
            "CREATE SEQUENCE IF NOT EXISTS figure_version_seq",
            _PG_FUNCTION.strip(),
            *_drop_trigger_statements(dialect, tables),
        ] + [
            f"CREATE CONSTRAINT TRIGGER figures_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION figures_changed()"
            for table in tables
        ]
    if dialect == "sqlite":
        return [
            _SQLITE_TRIGGER.format(table=table, op=op.lower(), OP=op, row="OLD" if op == "DELETE" else "NEW").strip()
            for table in tables
            for op in _SQLITE_OPS
        ]
    raise ValueError(f"no figure-version triggers for {dialect}")


def drop_statements(dialect: str) -> list[str]:
    extra = (
        ["DROP FUNCTION IF EXISTS figures_changed()", "DROP SEQUENCE IF EXISTS figure_version_seq"]
        if dialect == "postgresql"
        else []
    )
    return _drop_trigger_statements(dialect) + extra


def create_triggers(connection: Any, tables: tuple[str, ...] = WATCHED) -> None:
    """Install the triggers (after the watched tables exist): from migrations and `create_all`."""
    for statement in trigger_statements(connection.dialect.name, tables):
        connection.exec_driver_sql(statement)


def drop_triggers(connection: Any) -> None:
    for statement in drop_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)


def drop_table_triggers(connection: Any, tables: tuple[str, ...]) -> None:
    """Drop the triggers of some tables only (a migration's downgrade)."""
    for statement in _drop_trigger_statements(connection.dialect.name, tables):
        connection.exec_driver_sql(statement)


@event.listens_for(Base.metadata, "after_create")
def _after_create_all(target: Any, connection: Any, **_: Any) -> None:
    create_triggers(connection, WATCHED + WATCHED_PAY)
