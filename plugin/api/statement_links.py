"""A creator's private statement link: made (a new one revokes the old), looked at, revoked.

The token is returned once, in the answer that makes it; only its hash is kept, so the admin can
say whether a link is live and when it was opened, never show it again.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import jsonify

from models import Influencer
from plugin.api import bp
from plugin.api.openapi import documented
from plugin.database import current_shop, get_owned, session
from plugin.schemas.payouts import StatementLinkSchema, StatementLinkStatusSchema
from plugin.statement_tokens import issue_link, live_link, revoke_links, statement_url

log = logging.getLogger("creator_roi.statements")


@bp.post("/influencers/<int:influencer_id>/statement-link")
@documented(response=StatementLinkSchema, status=201)
def create_statement_link(influencer_id: int) -> Any:
    """A new private statement link for the creator (the earlier one stops working)."""
    creator = get_owned(Influencer, influencer_id)
    db, shop = session(), current_shop()
    token, link = issue_link(db, shop.id, creator.id)
    db.commit()
    log.info("event=statement_link_issued shop=%s influencer_id=%s link_id=%s", shop.domain, creator.id, link.id)
    return jsonify(StatementLinkSchema().dump({"url": statement_url(token), "expires_at": link.expires_at})), 201


@bp.get("/influencers/<int:influencer_id>/statement-link")
@documented(response=StatementLinkStatusSchema)
def get_statement_link(influencer_id: int) -> Any:
    """Whether the creator has a live statement link, when it expires and was last opened."""
    creator = get_owned(Influencer, influencer_id)
    link = live_link(session(), current_shop().id, creator.id)
    status = {
        "active": link is not None,
        "created_at": link.created_at if link else None,
        "expires_at": link.expires_at if link else None,
        "last_viewed_at": link.last_viewed_at if link else None,
    }
    return jsonify(StatementLinkStatusSchema().dump(status))


@bp.delete("/influencers/<int:influencer_id>/statement-link")
@documented(status=204)
def revoke_statement_link(influencer_id: int) -> Any:
    """Revoke the creator's statement link; it answers 404 from now on."""
    creator = get_owned(Influencer, influencer_id)
    db, shop = session(), current_shop()
    revoked = revoke_links(db, shop.id, creator.id)
    db.commit()
    log.info("event=statement_link_revoked shop=%s influencer_id=%s links=%s", shop.domain, creator.id, revoked)
    return "", 204
