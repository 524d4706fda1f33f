"""GET /api/v1/openapi.json: the OpenAPI document of every /api/v1 route, built from the
app's URL map and the marshmallow schemas each view declares with `@documented`.

A route that declares nothing is still listed (path, method, parameters, its
docstring); declare its schemas to document its body and answers:

    @bp.post("/things")
    @documented(body=ThingInputSchema, response=ThingSchema, status=201, errors=(409,))
    def create_thing(): ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask, current_app, jsonify
from marshmallow import Schema, fields

from plugin.api import PUBLIC_ENDPOINTS, bp

API_PREFIX = "/api/v1"
_RULE_ARG = re.compile(r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\([^)]*\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")
_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No content",
    302: "Redirect",
    400: "Malformed request (not JSON, or not an object)",
    401: "Missing or invalid session token",
    404: "Not found (also for another shop's ids)",
    409: "Conflicts with an existing record",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid values, per field",
    502: "Shopify did not answer or refused the call",
}


class ErrorsSchema(Schema):
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "messages per field; `_schema` for the whole input"},
    )


SchemaRef = type[Schema] | Schema | None


@dataclass(frozen=True)
class ApiDoc:
    summary: str | None = None
    body: SchemaRef = None
    query: SchemaRef = None
    response: SchemaRef = None
    status: int = 200
    errors: tuple[int, ...] = ()
    body_type: str = "application/json"
    response_type: str = "application/json"


def documented(
    *,
    summary: str | None = None,
    body: SchemaRef = None,
    query: SchemaRef = None,
    response: SchemaRef = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    body_type: str = "application/json",
    response_type: str = "application/json",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare what a view accepts and returns; the view itself is returned unchanged."""
    doc = ApiDoc(summary, body, query, response, status, tuple(errors), body_type, response_type)

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        view._api_doc = doc  # type: ignore[attr-defined]
        return view

    return mark


def _view_doc(view: Callable[..., Any]) -> ApiDoc | None:
    while view is not None:
        doc = getattr(view, "_api_doc", None)
        if doc is not None:
            return doc
        view = getattr(view, "__wrapped__", None)  # type: ignore[assignment]
    return None


def _path_and_params(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for match in _RULE_ARG.finditer(rule):
        kind = {"int": "integer", "float": "number"}.get(match.group("converter") or "", "string")
        params.append({"in": "path", "name": match.group("name"), "required": True, "schema": {"type": kind}})
    return _RULE_ARG.sub(lambda m: "{" + m.group("name") + "}", rule), params


def _content(media_type: str, schema: SchemaRef) -> dict[str, Any]:
    if media_type == "application/json" and schema is not None:
        return {media_type: {"schema": schema}}
    if media_type.startswith("image/png"):
        return {media_type: {"schema": {"type": "string", "format": "binary"}}}
    return {media_type: {"schema": {"type": "string"}}}


def _operation(endpoint: str, method: str, view: Callable[..., Any], params: list[dict[str, Any]]) -> dict:
    doc = _view_doc(view) or ApiDoc()
    summary = doc.summary or ((view.__doc__ or "").strip().splitlines() or [endpoint])[0]
    op: dict[str, Any] = {
        "operationId": f"{endpoint}.{method}",
        "summary": summary,
        "tags": [view.__module__.rsplit(".", 1)[-1]],
    }
    parameters = list(params)
    if doc.query is not None:
        parameters.append({"in": "query", "schema": doc.query})
    if parameters:
        op["parameters"] = parameters
    answers: dict[str, Any] = {}
    if doc.status == 204:
        answers["204"] = {"description": _STATUS_TEXT[204]}
    else:
        answers[str(doc.status)] = {
            "description": _STATUS_TEXT.get(doc.status, "OK"),
            "content": _content(doc.response_type, doc.response),
        }
    has_body = doc.body is not None or doc.body_type != "application/json"
    if has_body:
        op["requestBody"] = {"required": True, "content": _content(doc.body_type, doc.body)}
    codes = set(doc.errors)
    if endpoint not in PUBLIC_ENDPOINTS:
        codes.add(401)
    if params:
        codes.add(404)
    if has_body:
        codes.update((400, 422) if doc.body_type == "application/json" else (400, 415, 422))
    if doc.query is not None:
        codes.add(422)
    for code in sorted(codes):
        answers[str(code)] = {
            "description": _STATUS_TEXT.get(code, "Error"),
            "content": _content("application/json", ErrorsSchema),
        }
    op["responses"] = answers
    if endpoint in PUBLIC_ENDPOINTS:
        op["security"] = []
    return op


def _schema_name(schema: Any) -> str | None:
    """A schema's component name; a variant (only/exclude/partial) of one is inlined instead."""
    if isinstance(schema, Schema) and (
        schema.only or schema.exclude or schema.partial or schema.load_only or schema.dump_only
    ):
        return None
    cls = resolve_schema_cls(schema)
    name = cls.__name__  # type: ignore[union-attr]
    return name[:-6] if name.endswith("Schema") and len(name) > 6 else name


def _decimal_string(self: Any, field: fields.Field, ret: dict[str, Any], **_: Any) -> dict[str, Any]:
    """Money and rates travel as decimal strings ("156000.00"): say so, not `number`."""
    if isinstance(field, fields.Decimal) and field.as_string:
        low, high = ret.pop("minimum", None), ret.pop("maximum", None)
        ret.pop("exclusiveMinimum", None)
        ret.pop("exclusiveMaximum", None)
        ret["type"] = "string"
        ret["format"] = "decimal"
        signed = low is None or str(low).startswith("-")
        ret["pattern"] = r"^-?[0-9]+(\.[0-9]+)?$" if signed else r"^[0-9]+(\.[0-9]+)?$"
        if low is not None or high is not None:
            bounds = f"from {low if low is not None else '-inf'} to {high if high is not None else 'inf'}"
            ret["description"] = f"{ret.get('description', 'decimal string')} ({bounds})"
    return {}


def build_spec(app: Flask) -> dict[str, Any]:
    # apispec documents None (inline the schema) but types the resolver as returning str.
    plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)  # type: ignore[arg-type]
    spec = APISpec(
        title="Creator ROI API",
        version="1",
        openapi_version="3.0.3",
        info={
            "description": "The JSON API the embedded dashboard and outside scripts use. Money is a "
            "decimal string in shop currency; ratios are numbers; ids are integers."
        },
        plugins=[plugin],
        security=[{"sessionToken": []}],
    )
    plugin.converter.add_attribute_function(_decimal_string)  # type: ignore[union-attr]
    spec.components.security_scheme(
        "sessionToken",
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Shopify session token (App Bridge)",
        },
    )
    spec.components.schema("Errors", schema=ErrorsSchema)
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(API_PREFIX):
            continue
        path, params = _path_and_params(rule.rule)
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.endpoint, method.lower(), view, params)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return _decimals_as_strings(spec.to_dict())


DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


def _decimals_as_strings(node: Any) -> Any:
    """apispec calls a Decimal field a number with Decimal bounds; the API speaks decimal strings.
    (`_decimal_string` already rewrote the as_string fields; this catches any other Decimal bound.)"""
    if isinstance(node, list):
        return [_decimals_as_strings(item) for item in node]
    if not isinstance(node, dict):
        return node
    if any(isinstance(node.get(k), Decimal) for k in ("minimum", "maximum")):
        bounds = [f"{k} {node.pop(k)}" for k in ("minimum", "maximum") if k in node]
        node.update(type="string", format="decimal", pattern=DECIMAL_PATTERN)
        node["description"] = ((node.get("description") or "") + f" (decimal string; {', '.join(bounds)})").strip()
    return {key: _decimals_as_strings(value) for key, value in node.items()}


@bp.get("/openapi.json")
@documented(summary="This OpenAPI document", response_type="application/json")
def openapi() -> Any:
    """The OpenAPI 3 document of /api/v1 (public: it holds no shop data)."""
    cached = current_app.extensions.get("creator_roi_openapi")
    if cached is None:
        cached = current_app.extensions["creator_roi_openapi"] = build_spec(current_app)
    return jsonify(cached)
