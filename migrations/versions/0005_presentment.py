"""presentment: the money an order was shown to the buyer in, kept beside shop money

An order stores its presentment currency and its net merchandise in that currency
(`subtotal_price_set.presentment_money`), so each commission line can show the creator's
amount in the buyer's currency beside the shop-currency amount it is paid in. Both are null
for orders stored before, or whose payload carried no usable presentment money; they are
filled by the order's next delivery.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("presentment_currency", sa.String(length=3), nullable=True))
    op.add_column("orders", sa.Column("presentment_subtotal", sa.Numeric(precision=14, scale=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("presentment_subtotal")
        batch.drop_column("presentment_currency")
