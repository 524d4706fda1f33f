"""cohort repeat revenue: repeat revenue booked on the customer's acquisition day

A range's CLV to date divides what the customers acquired in the range spent (first orders
and their repeats, whenever placed) by their number; rollups so far booked repeat revenue
only on the day of the repeat. The new column is filled from the stored attributions, on
the shop-local day of each repeat's acquisition, as `worker.engine` books it from now on.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 23:00:00
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op

import models.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("rollups", "rollup_months")

shops = sa.table("shops", sa.column("id", sa.Integer()), sa.column("timezone", sa.String()))
attributions = sa.table(
    "attributions",
    sa.column("shop_id", sa.Integer()),
    sa.column("influencer_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("net", sa.Numeric(14, 2)),
    sa.column("placed_at", models.db.UTCDateTime()),
    sa.column("acquired_at", models.db.UTCDateTime()),
)


def _figures(name: str, when: str) -> sa.TableClause:
    return sa.table(
        name,
        sa.column("shop_id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("influencer_id", sa.Integer()),
        sa.column(when, sa.Date()),
        sa.column("cohort_repeat_revenue", sa.Numeric(14, 2)),
    )


rollups, rollup_months = _figures("rollups", "day"), _figures("rollup_months", "month")


def _set_cohort(table: sa.TableClause, when: sa.ColumnClause[date]) -> sa.Update:
    """The creator-day (or creator-month) row's cohort repeat revenue, one row per parameter set."""
    return (
        sa.update(table)
        .where(
            table.c.shop_id == sa.bindparam("b_shop"),
            table.c.kind == "day",
            table.c.influencer_id == sa.bindparam("b_creator"),
            when == sa.bindparam("b_when"),
        )
        .values(cohort_repeat_revenue=sa.bindparam("b_amount"))
    )


def _zone(name: str | None) -> ZoneInfo:
    # As models.Shop.zone: UTC when the name is missing or unknown.
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _cohort_sums(conn: sa.Connection, shop_id: int, zone: ZoneInfo) -> dict[tuple[int, date], Decimal]:
    """Repeat revenue per (creator, shop-local day the customer was acquired)."""
    sums: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
    rows = conn.execute(
        sa.select(
            attributions.c.influencer_id, attributions.c.net, attributions.c.placed_at, attributions.c.acquired_at
        )
        .where(
            attributions.c.shop_id == shop_id,
            attributions.c.kind == "repeat",
            attributions.c.influencer_id.is_not(None),
        )
        .execution_options(yield_per=5000)
    )
    for influencer_id, net, placed_at, acquired_at in rows:
        moment: datetime = acquired_at or placed_at
        sums[(influencer_id, moment.astimezone(zone).date())] += net or Decimal("0.00")
    return sums


def backfill(conn: sa.Connection) -> None:
    """Every creator-day and creator-month row's cohort repeat revenue, from the attributions."""
    for shop_id, timezone in conn.execute(sa.select(shops.c.id, shops.c.timezone)).all():
        sums = _cohort_sums(conn, shop_id, _zone(timezone))
        if not sums:
            continue
        # Every acquisition day with a repeat already has its creator-day row (its repeat customers).
        conn.execute(
            _set_cohort(rollups, rollups.c.day),
            [
                {"b_shop": shop_id, "b_creator": i, "b_when": day, "b_amount": amount}
                for (i, day), amount in sums.items()
            ],
        )
        months: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
        for (influencer_id, day), amount in sums.items():
            months[(influencer_id, day.replace(day=1))] += amount
        conn.execute(
            _set_cohort(rollup_months, rollup_months.c.month),
            [{"b_shop": shop_id, "b_creator": i, "b_when": m, "b_amount": amount} for (i, m), amount in months.items()],
        )


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column("cohort_repeat_revenue", sa.Numeric(precision=14, scale=2), nullable=False, server_default="0"),
        )
    backfill(op.get_bind())


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "cohort_repeat_revenue")
