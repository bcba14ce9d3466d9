"""Request bodies of the write API, read strictly at the edge.

`read(raw)` decodes JSON the way a browser's JSON.parse would accept it and no further: NaN and
Infinity are refused (they are not JSON), nesting is bounded before the parser sees the text (the
parser recurses; 100,000 `[` was a RecursionError), numbers too long to be real are
marked and then refused by `check`, naming the field. `check(body, schema)` holds a body to the JSON types its
OpenAPI schema declares (the document in `openapi` is the typed request model), so
`{"name": true}` is a 400 naming `name` rather than the station named "True". Values of the
right type are left to the core, whose messages say what is wrong with them.
"""

import functools
import json
import math
import re
from typing import Any

from stations.web.params import ApiError

MAX_BYTES = 256 * 1024  # a station or an audit is a few KB
MAX_DEPTH = 16  # the deepest real body (an audit: items → answer) is 3
MAX_DIGITS = 30  # characters of a number: more is no coordinate, count or id
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def _bad_body(message: str) -> ApiError:
    return ApiError(message, None, "invalid_body", 400)


def _no_constant(name: str):
    raise _bad_body(f"{name} is not JSON: NaN and Infinity are not numbers a body may hold")


class _TooLong:
    """A number written with more than MAX_DIGITS characters: `check` refuses it by name."""


def _integer(text: str) -> int | _TooLong:
    return int(text) if len(text) <= MAX_DIGITS else _TooLong()


def _decimal(text: str) -> float | _TooLong:
    return float(text) if len(text) <= MAX_DIGITS else _TooLong()


def depth(text: str) -> int:
    """How deeply arrays and objects nest in this JSON text (brackets in strings not counted);
    stops counting past MAX_DEPTH."""
    deepest = level = 0
    for found in _BRACKET.finditer(_STRING.sub('""', text)):
        level += 1 if found.group() in "[{" else -1
        if level > deepest:
            deepest = level
            if deepest > MAX_DEPTH:
                break
    return deepest


def read(raw: bytes) -> Any:
    """The JSON value of a request body, or an ApiError saying why it is not one."""
    if len(raw) > MAX_BYTES:
        raise ApiError(f"the body is larger than {MAX_BYTES // 1024} KB", None, "too_large", 413)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad_body("the body must be JSON in UTF-8") from None
    if depth(text) > MAX_DEPTH:
        raise _bad_body(f"the body is nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(
            text, parse_constant=_no_constant, parse_int=_integer, parse_float=_decimal
        )
    except ValueError as exc:
        raise _bad_body(f"the body is not valid JSON: {str(exc)[:80]}") from None


# -- JSON types by the OpenAPI schema -------------------------------------------------------


@functools.cache
def _schemas() -> dict[str, Any]:
    from stations.web.api import openapi

    return openapi.schemas()


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = _schemas()[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, _TooLong):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object"


_A = {
    "null": "null",
    "boolean": "a boolean",
    "integer": "a whole number",
    "number": "a number",
    "string": "a string",
    "array": "an array",
    "object": "an object",
}


def _fits(value: Any, schema: dict) -> bool:
    schema = _resolve(schema)
    if "anyOf" in schema:
        return any(_fits(value, s) for s in schema["anyOf"])
    allowed = schema.get("type")
    if allowed is None:
        return True
    types = [allowed] if isinstance(allowed, str) else list(allowed)
    kind = _kind(value)
    if kind == "string" and "number" in types:
        return True  # a decimal as text, as forms and spreadsheets send it: the core reads it
    return kind in types or (kind == "integer" and "number" in types)


def _types(schema: dict) -> list[str]:
    schema = _resolve(schema)
    if "anyOf" in schema:
        return [t for s in schema["anyOf"] for t in _types(s)]
    allowed = schema.get("type", [])
    return [allowed] if isinstance(allowed, str) else list(allowed)


def _check(value: Any, schema: dict, field: str, path: str) -> None:
    """ApiError naming field (the top-level property) if value at path has the wrong type."""
    schema = _resolve(schema)
    if isinstance(value, _TooLong):
        raise ApiError(
            f"{path} must be a number of at most {MAX_DIGITS} characters",
            field,
            "invalid_field",
            400,
        )
    if not _fits(value, schema):
        wanted = " or ".join(_A[t] for t in _types(schema))
        raise ApiError(
            f"{path} must be {wanted}, not {_A[_kind(value)]}", field, "invalid_field", 400
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ApiError(f"{path} must be a finite number", field, "invalid_field", 400)
    if "anyOf" in schema:
        schema = next(_resolve(s) for s in schema["anyOf"] if _fits(value, s))
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _check(item, schema["items"], field, f"{path}[{index}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                _check(item, properties[key], field, f"{path}.{key}")
            elif isinstance(extra, dict):
                _check(item, extra, field, f"{path}.{key}")


def check(body: Any, schema_name: str) -> dict:
    """The body, if it is an object whose known properties have the JSON types the named
    schema declares; unknown properties are left to the core, which names them."""
    if not isinstance(body, dict):
        raise _bad_body("the body must be a JSON object")
    properties = _resolve({"$ref": schema_name}).get("properties", {})
    for name, value in body.items():
        if name in properties:
            _check(value, properties[name], name, name)
    return body
