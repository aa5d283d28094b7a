"""Request bodies checked as Graph does: JSON, known properties, types, enums, writability."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sandbox.graph.entities import EntityType, Kind, Property, Writable
from sandbox.graph.filters import parse_datetime
from sandbox.graph.responses import GraphError, bad_request

# Instance annotations a client may send along (the SDKs add `@odata.type`).
ANNOTATION_PREFIX = "@odata."


def json_object(body: bytes, *, code: str = "BadRequest") -> dict[str, Any]:
    """The body as a JSON object; 400 when it is empty, not JSON or not an object."""
    if not body.strip():
        raise bad_request("The request body is empty: a JSON object is required.", code=code)
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"Invalid JSON in the request body: {exc}.", code=code) from exc
    if not isinstance(value, dict):
        raise bad_request("The request body must be a JSON object.", code=code)
    return value


def _edm_name(prop: Property) -> str:
    return "an enum member" if prop.kind == Kind.ENUM else str(prop.kind)


def _type_error(prop: Property, value: Any, code: str) -> GraphError:
    literal = json.dumps(value)
    return bad_request(
        f"Cannot convert the literal {literal} to the expected type {_edm_name(prop)} "
        f"of property '{prop.name}'.",
        target=prop.name,
        code=code,
    )


def _enum_value(prop: Property, value: str, code: str) -> str:
    if value not in prop.enum:
        raise bad_request(
            f"The value '{value}' is not valid for property '{prop.name}'. "
            f"Valid values: {', '.join(prop.enum)}.",
            target=prop.name,
            code=code,
        )
    return value


def _datetime_value(prop: Property, value: str, code: str) -> datetime:
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise bad_request(
            f"The value '{value}' of property '{prop.name}' is not a valid Edm.DateTimeOffset "
            "(expected ISO 8601 with a time zone, e.g. 2026-01-09T10:00:00Z).",
            target=prop.name,
            code=code,
        )
    return parsed


def coerce(prop: Property, value: Any, *, code: str) -> Any:
    """The model value for a JSON value of `prop`, or 400 naming the property."""
    if value is None:
        if prop.empty_is_null or prop.kind == Kind.DATETIME:
            return "" if prop.empty_is_null else None
        raise bad_request(
            f"The property '{prop.name}' cannot be null.", target=prop.name, code=code
        )
    if prop.kind == Kind.BOOLEAN:
        if not isinstance(value, bool):
            raise _type_error(prop, value, code)
        return value
    if not isinstance(value, str):
        raise _type_error(prop, value, code)
    if prop.kind == Kind.ENUM:
        return _enum_value(prop, value, code)
    if prop.kind == Kind.DATETIME:
        return _datetime_value(prop, value, code)
    if len(value) > prop.max_length:
        raise bad_request(
            f"The value of property '{prop.name}' is longer than {prop.max_length} characters.",
            target=prop.name,
            code=code,
        )
    return value


def _check_annotation(entity_type: EntityType, name: str, value: Any, code: str) -> None:
    if name == "@odata.type" and value != entity_type.odata_type:
        raise bad_request(
            f"The type '{value}' given in '@odata.type' is not {entity_type.odata_type}.",
            target="@odata.type",
            code=code,
        )


def _writable_property(
    entity_type: EntityType, name: str, *, creating: bool, code: str
) -> Property:
    prop = entity_type.property(name)
    if prop is None:
        raise bad_request(
            f"The property '{name}' does not exist on type '{entity_type.qualified_name}'. "
            "Make sure to only use property names that are defined by the type.",
            target=name,
            code=code,
        )
    allowed = prop.writable == Writable.ALWAYS or (creating and prop.writable == Writable.ON_CREATE)
    if not allowed:
        raise bad_request(
            f"The property '{name}' is read-only and cannot be set"
            + ("." if prop.writable == Writable.NEVER else " after creation."),
            target=name,
            code=code,
        )
    return prop


def _check_own_id(value: Any, own_id: str, code: str) -> None:
    """An update may repeat the object's own `id` (the SDKs send it), never another one."""
    if value != own_id:
        raise bad_request(
            f"The 'id' in the request body ({json.dumps(value)}) does not match the id in the "
            f"request URL ('{own_id}'); the id is read-only.",
            target="id",
            code=code,
        )


def entity_changes(
    body: bytes,
    entity_type: EntityType,
    *,
    creating: bool,
    code: str = "BadRequest",
    own_id: str | None = None,
) -> dict[str, Any]:
    """The body's properties as {model field: value}; 400 naming the first bad property.

    `own_id` is the id in an update's URL: the body may carry it unchanged.
    """
    payload = json_object(body, code=code)
    changes: dict[str, Any] = {}
    for name, value in payload.items():
        if name.startswith(ANNOTATION_PREFIX):
            _check_annotation(entity_type, name, value, code)
            continue
        if name == "id" and own_id is not None:
            _check_own_id(value, own_id, code)
            continue
        prop = _writable_property(entity_type, name, creating=creating, code=code)
        changes[prop.field] = coerce(prop, value, code=code)
    if creating:
        for prop in entity_type.properties:
            if prop.required_on_create and not changes.get(prop.field):
                raise bad_request(
                    f"The property '{prop.name}' is required.", target=prop.name, code=code
                )
    return changes


def non_empty(changes: dict[str, Any], field: str, name: str, *, code: str) -> None:
    """Names must not be blanked on update either."""
    if field in changes and not str(changes[field]).strip():
        raise bad_request(f"The property '{name}' cannot be empty.", target=name, code=code)
