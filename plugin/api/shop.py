"""GET /api/v1/shop and PATCH /api/v1/shop/settings.

Settings that change attribution (windows, evidence order) re-attribute the shop
in a job, which refits its predicted CLV too; a new CLV horizon alone refits it.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

from models import ShopSettings
from plugin.activity import schedule_clv_refit, schedule_reattribution
from plugin.api import bp, json_body
from plugin.database import current_shop, runtime, session
from plugin.schemas.shop import SettingsSchema, ShopSchema

EMV_FIELDS = ("cpm", "like", "comment", "share", "save", "click")
# The API's names (DESIGN.md) for settings whose column says less.
SETTINGS_COLUMNS = {"commission_holding_days": "holding_days"}


def settings_dict(s: ShopSettings) -> dict[str, Any]:
    return {
        "attribution_window_days": s.attribution_window_days,
        "repeat_window_days": s.repeat_window_days,
        "evidence_order": list(s.evidence_order),
        "hourly_rate": s.hourly_rate,
        "clv_horizon_months": s.clv_horizon_months,
        "emv_rates": {name: getattr(s, f"emv_{name}") for name in EMV_FIELDS},
        "commission_holding_days": s.holding_days,
        "payout_minimum": s.payout_minimum,
    }


@bp.get("/shop")
def get_shop() -> Any:
    shop = current_shop()
    return jsonify(
        ShopSchema().dump(
            {
                "shop": shop.domain,
                "name": shop.name,
                "currency": shop.currency,
                "timezone": shop.timezone,
                "settings": settings_dict(shop.settings),
            }
        )
    )


@bp.patch("/shop/settings")
def patch_settings() -> Any:
    data = SettingsSchema().load(json_body(), partial=True)
    shop = current_shop()
    s = shop.settings
    before = (s.attribution_window_days, s.repeat_window_days, list(s.evidence_order))
    horizon = s.clv_horizon_months
    for key, value in data.items():
        if key == "emv_rates":
            for name, rate in value.items():
                setattr(s, f"emv_{name}", rate)
        else:
            setattr(s, SETTINGS_COLUMNS.get(key, key), value)
    session().commit()
    if before != (s.attribution_window_days, s.repeat_window_days, list(s.evidence_order)):
        schedule_reattribution(runtime(), shop.id)
    elif horizon != s.clv_horizon_months:
        schedule_clv_refit(runtime(), shop.id)
    return jsonify(SettingsSchema().dump(settings_dict(s)))
