"""Jobs the creator registry schedules (discount codes created, moved or deleted)."""
from __future__ import annotations

import logging

from worker import engine
from worker.runtime import current

log = logging.getLogger("creator_roi.jobs")


def reattribute_job(shop_id: int) -> None:
    """Rebuild the shop's attributions from stored orders; idempotent, takes only the id."""
    from rq import get_current_job

    job = get_current_job()
    with current().db.session() as session:
        engine.reattribute_shop(session, shop_id)
    log.info("event=shop_reattributed shop_id=%s job_id=%s", shop_id, job.id if job else "inline")
