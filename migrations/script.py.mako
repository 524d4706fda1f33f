"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
import models.db
% if not down_revision:
from models import figures
% endif
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}
% if not down_revision:
    # Each shop's figure version is moved by the database itself (models/figures.py).
    figures.create_triggers(op.get_bind())
% endif


def downgrade() -> None:
% if not down_revision:
    figures.drop_triggers(op.get_bind())
% endif
    ${downgrades if downgrades else "pass"}
