"""Posts: /api/v1/posts, one at a time or a CSV import that keeps the good rows and names
each bad one by line and field."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import jsonify, request
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from models import Influencer, Post
from plugin.activity import activity_changed
from plugin.api import bp, json_body
from plugin.api.codes import owned_influencer
from plugin.api.openapi import documented
from plugin.database import current_shop, get_owned, session, shop_select
from plugin.errors import ApiError, Conflict
from plugin.schemas.registry import (
    POST_COUNTS,
    PostImportResultSchema,
    PostInputSchema,
    PostListSchema,
    PostQuerySchema,
    PostSchema,
    post_import_schema,
)

IMPORT_MAX_BYTES = 5 * 1024 * 1024
CSV_TYPES = ("text/csv", "application/csv")
IMPORT_COLUMNS = set(PostInputSchema().fields) | {"handle"}
_INTEGER = re.compile(r"^-?\d+$")


def post_dict(post: Post) -> dict[str, Any]:
    data = {
        key: getattr(post, key)
        for key in ("id", "influencer_id", "platform", "content_type", "posted_at", "url", *POST_COUNTS, "created_at")
    }
    data["engagements"] = post.likes + post.comments + post.shares + post.saves
    return data


def _cell(post: Post) -> tuple[int | None, date]:
    return post.influencer_id, current_shop().local_day(post.posted_at)


def _already_recorded(influencer_id: int, url: str | None, except_id: int | None = None) -> bool:
    if not url:
        return False
    query = shop_select(Post).where(Post.influencer_id == influencer_id, Post.url == url)
    if except_id is not None:
        query = query.where(Post.id != except_id)
    return session().scalar(query.limit(1)) is not None


def _new_post(data: dict[str, Any], influencer: Influencer) -> Post:
    post = Post(
        shop_id=current_shop().id,
        influencer_id=influencer.id,
        platform=data["platform"],
        content_type=data["content_type"],
        posted_at=data["posted_at"],
        url=data.get("url"),
    )
    for key in POST_COUNTS:
        setattr(post, key, data.get(key, 0))
    if "followers" not in data:
        post.followers = influencer.followers
    return post


@bp.post("/posts")
@documented(body=PostInputSchema, response=PostSchema, status=201, errors=(409,))
def create_post() -> Any:
    """Record a creator's post, story, reel, video or live and its reach and engagement."""
    data = PostInputSchema().load(json_body())
    influencer = owned_influencer(data["influencer_id"])
    if _already_recorded(influencer.id, data.get("url")):
        raise Conflict({"url": ["this creator's post with this URL is already recorded"]})
    post = _new_post(data, influencer)
    db = session()
    db.add(post)
    db.flush()
    activity_changed(db, current_shop().id, {_cell(post)})
    db.commit()
    return jsonify(PostSchema().dump(post_dict(post))), 201


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=current_shop().zone)


@bp.get("/posts")
@documented(query=PostQuerySchema, response=PostListSchema)
def list_posts() -> Any:
    """The shop's posts, newest first; filter by influencer_id, platform, content_type, from, to
    (shop-local dates)."""
    args = PostQuerySchema().load(request.args)
    query = shop_select(Post).order_by(Post.posted_at.desc(), Post.id.desc())
    for key, column in (
        ("influencer_id", Post.influencer_id),
        ("platform", Post.platform),
        ("content_type", Post.content_type),
    ):
        if key in args:
            query = query.where(column == args[key])
    if "from_" in args:
        query = query.where(Post.posted_at >= _day_start(args["from_"]))
    if "to" in args:
        query = query.where(Post.posted_at < _day_start(args["to"] + timedelta(days=1)))
    return jsonify(PostListSchema().dump({"posts": [post_dict(p) for p in session().scalars(query)]}))


@bp.get("/posts/<int:post_id>")
@documented(response=PostSchema)
def get_post(post_id: int) -> Any:
    """One post."""
    return jsonify(PostSchema().dump(post_dict(get_owned(Post, post_id))))


@bp.patch("/posts/<int:post_id>")
@documented(body=PostInputSchema(partial=True), response=PostSchema, errors=(409,))
def update_post(post_id: int) -> Any:
    """Change a post (e.g. its figures a week later)."""
    post = get_owned(Post, post_id)
    data = PostInputSchema().load(json_body(), partial=True)
    before = _cell(post)
    if "influencer_id" in data:
        post.influencer_id = owned_influencer(data["influencer_id"]).id
    for key in ("platform", "content_type", "posted_at", "url", *POST_COUNTS):
        if key in data:
            setattr(post, key, data[key])
    if _already_recorded(post.influencer_id, post.url, except_id=post.id):
        raise Conflict({"url": ["this creator's post with this URL is already recorded"]})
    db = session()
    db.flush()
    activity_changed(db, current_shop().id, {before, _cell(post)})
    db.commit()
    return jsonify(PostSchema().dump(post_dict(post)))


@bp.delete("/posts/<int:post_id>")
@documented(status=204)
def delete_post(post_id: int) -> Any:
    """Delete a post."""
    post = get_owned(Post, post_id)
    cell = _cell(post)
    db = session()
    db.delete(post)
    db.flush()
    activity_changed(db, current_shop().id, {cell})
    db.commit()
    return "", 204


# --- CSV import ----------------------------------------------------------------------


def _csv_text() -> str:
    if request.mimetype not in CSV_TYPES:
        raise ApiError({"body": ["send the file as text/csv"]}, 415)
    if (request.content_length or 0) > IMPORT_MAX_BYTES:
        raise RequestEntityTooLarge()
    raw = request.get_data(cache=False)
    if len(raw) > IMPORT_MAX_BYTES:
        raise RequestEntityTooLarge()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError({"body": ["the file must be UTF-8 text"]}, 400) from exc


def _check_header(columns: list[str]) -> None:
    problems = []
    unknown = sorted(set(columns) - IMPORT_COLUMNS)
    if unknown:
        problems.append(f"unknown columns: {', '.join(unknown)}")
    missing = sorted({"platform", "content_type", "posted_at"} - set(columns))
    if not {"influencer_id", "handle"} & set(columns):
        missing.insert(0, "influencer_id or handle")
    if missing:
        problems.append(f"missing columns: {', '.join(missing)}")
    if len(set(columns)) != len(columns):
        problems.append("a column appears twice")
    if problems:
        raise ApiError({"columns": problems}, 422)


class _Creators:
    """The shop's creators by id and by handle (with or without '@', in any case), loaded once
    per import."""

    def __init__(self) -> None:
        rows = session().scalars(shop_select(Influencer)).all()
        self.by_id = {i.id: i for i in rows}
        self.by_handle: dict[str, list[Influencer]] = {}
        for creator in rows:
            self.by_handle.setdefault(_handle_key(creator.handle), []).append(creator)

    def resolve(self, row: dict[str, Any]) -> Influencer:
        handle = row.pop("handle", None)
        if handle is not None:
            found = self.by_handle.get(_handle_key(handle), [])
            shown = "@" + handle.strip().lstrip("@")
            if not found:
                raise ValidationError({"handle": [f"No creator has the handle {shown}."]})
            if len(found) > 1:
                names = " and ".join(sorted(c.name for c in found))
                raise ValidationError(
                    {"handle": [f"{shown} could be {names}: give the creator's influencer_id instead."]}
                )
            if "influencer_id" in row and row["influencer_id"] != found[0].id:
                raise ValidationError(
                    {"handle": [f"{shown} is not the creator with influencer_id {row['influencer_id']}."]}
                )
            return found[0]
        found_id = self.by_id.get(row.get("influencer_id"))  # type: ignore[arg-type]
        if found_id is None:
            raise ValidationError({"influencer_id": ["influencer not found"]})
        return found_id


def _handle_key(handle: str) -> str:
    """A handle as the import matches it: '@Maya.K ' and 'maya.k' are the same creator."""
    return handle.strip().lstrip("@").casefold()


def _row_values(row: dict[str, str | None]) -> dict[str, Any]:
    """Blank cells are absent; whole numbers become integers so the schema judges their range."""
    values: dict[str, Any] = {}
    for key, value in row.items():
        value = (value or "").strip()
        if not value:
            continue
        if key in (*POST_COUNTS, "influencer_id") and _INTEGER.match(value):
            values[key] = int(value)
        else:
            values[key] = value
    return values


@bp.post("/posts/import")
@documented(body_type="text/csv", response=PostImportResultSchema, errors=(413,))
def import_posts() -> Any:
    """Import posts from CSV (the columns of POST /posts; `handle`, with or without '@', may
    stand for influencer_id). A `posted_at` without an offset is the shop's local time. Good
    rows are created; each bad row is reported by line number and field."""
    reader = csv.DictReader(io.StringIO(_csv_text(), newline=""))
    try:
        columns = [(c or "").strip().lower() for c in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise ApiError({"body": [f"not a CSV file: {exc}"]}, 400) from exc
    _check_header(columns)
    reader.fieldnames = columns
    creators, schema = _Creators(), post_import_schema(current_shop().zone)
    posts: list[Post] = []
    errors: list[dict[str, Any]] = []
    # Posts already recorded, and those earlier in this file, by (creator, url).
    seen: set[tuple[int, str | None]] = {
        (influencer_id, url)
        for influencer_id, url in session().execute(
            select(Post.influencer_id, Post.url).where(Post.shop_id == current_shop().id, Post.url.is_not(None))
        )
    }
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                errors.append({"line": line, "errors": {"_row": ["more cells than columns"]}})
                continue
            values = _row_values(row)
            if not values:
                continue
            try:
                influencer = creators.resolve(values)
                values["influencer_id"] = influencer.id
                data = schema.load(values)
                key = (influencer.id, data.get("url") or "")
                if data.get("url") and key in seen:
                    raise ValidationError({"url": ["this creator's post with this URL is already recorded"]})
            except ValidationError as exc:
                messages = exc.messages if isinstance(exc.messages, dict) else {"_row": exc.messages}
                errors.append({"line": line, "errors": messages})
                continue
            seen.add(key)
            posts.append(_new_post(data, influencer))
    except csv.Error as exc:
        raise ApiError({"body": [f"line {reader.line_num}: not valid CSV ({exc})"]}, 400) from exc
    db = session()
    db.add_all(posts)
    db.flush()
    activity_changed(db, current_shop().id, {_cell(p) for p in posts})
    db.commit()
    return jsonify(PostImportResultSchema().dump({"created": len(posts), "errors": errors}))
