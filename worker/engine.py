"""Attribution and rollups, applied by the worker. (Placeholder until the engine lands:
the pipeline calls these names; they must keep their signatures.)"""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session


def orders_changed(session: Session, shop_id: int, order_ids: list[int]) -> None:
    """Re-attribute the given orders (and their customers' histories) and refresh rollups,
    in the caller's transaction."""


def activity_changed(session: Session, shop_id: int, influencer_id: int | None, day: date) -> None:
    """Clicks, costs or posts of (influencer, day) changed: refresh that rollup cell."""


def reattribute_shop(session: Session, shop_id: int) -> None:
    """Rebuild every attribution and rollup of the shop from stored orders."""
