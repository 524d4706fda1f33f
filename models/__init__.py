"""SQLAlchemy models, one module per aggregate. Importing this registers them all."""

from models.attribution import Attribution
from models.compliance import DataExport
from models.cost import COST_CATEGORIES, Cost
from models.db import Base, Database, utcnow
from models.figures import FigureVersion
from models.influencer import PLATFORMS, Campaign, FollowerSnapshot, Influencer
from models.order import Customer, Order, Refund
from models.pay import CommissionLine, Payout, PayPlan
from models.post import CONTENT_TYPES, Post
from models.rollup import CreatorClv, Rollup, RollupMonth
from models.shop import Shop, ShopSettings
from models.statement import StatementLink
from models.store_credit import StoreCredit
from models.tracking import Click, DiscountCode, ReferralLink
from models.webhook import WebhookEvent

__all__ = [
    "Attribution",
    "Base",
    "CONTENT_TYPES",
    "COST_CATEGORIES",
    "Campaign",
    "Click",
    "CommissionLine",
    "Cost",
    "CreatorClv",
    "Customer",
    "DataExport",
    "Database",
    "DiscountCode",
    "FigureVersion",
    "FollowerSnapshot",
    "Influencer",
    "Order",
    "PayPlan",
    "Payout",
    "PLATFORMS",
    "Post",
    "Refund",
    "ReferralLink",
    "Rollup",
    "RollupMonth",
    "Shop",
    "ShopSettings",
    "StatementLink",
    "StoreCredit",
    "WebhookEvent",
    "utcnow",
]
