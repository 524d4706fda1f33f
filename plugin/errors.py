"""Every error answers JSON `{"errors": {field: [messages]}}` on the API."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("creator_roi.errors")


class ApiError(Exception):
    status = 400

    def __init__(
        self, errors: dict[str, list[str]] | str, status: int | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(str(errors))
        self.errors = {"_schema": [errors]} if isinstance(errors, str) else errors
        if status is not None:
            self.status = status
        self.headers = headers or {}


class NotFound(ApiError):
    status = 404

    def __init__(self, what: str = "resource") -> None:
        super().__init__({"id": [f"{what} not found"]})


class Conflict(ApiError):
    status = 409


def error_response(errors: dict, status: int, headers: dict[str, str] | None = None) -> Response:
    resp = jsonify({"errors": errors})
    resp.status_code = status
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks", "/healthz"))


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.errors, exc.status, exc.headers)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> Response:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return error_response(messages, 422)

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError) -> Response:
        log.info("event=integrity_error path=%s", request.path)
        return error_response({"_schema": ["conflicts with an existing record"]}, 409)

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def _out_of_range(exc: Exception) -> Response:
        # A number the database cannot hold (e.g. an id beyond 64 bits in a query string).
        log.info("event=value_out_of_range path=%s error=%s", request.path, type(exc).__name__)
        return error_response({"_schema": ["a value is out of range"]}, 422)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response | HTTPException:
        if not _wants_json():
            return exc
        messages = {
            400: "malformed request",
            404: "not found",
            405: "method not allowed",
            413: "request body too large",
            415: "unsupported media type",
        }
        message = messages.get(exc.code or 500, exc.description or "error")
        field = "body" if exc.code in (400, 413, 415) else "_schema"
        return error_response({field: [message]}, exc.code or 500)
