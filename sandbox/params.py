"""Reading a Bot API call's parameters the way Telegram does, whatever the encoding.

Query string, JSON body, urlencoded form and multipart form (with uploads) all end up as
one dict; values are then checked against the method's spec and given Python types.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TypeGuard

from aiohttp import BodyPartReader, web

from sandbox.errors import bad_request
from sandbox.spec import MethodSpec

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # the Bot API's limit for files sent by bots

# What Telegram says when a required parameter is missing, where its wording is known.
_MISSING = {
    "chat_id": "chat_id is empty",
    "text": "message text is empty",
    "photo": "there is no photo in the request",
    "document": "there is no document in the request",
    "message_id": "message identifier is not specified",
    "user_id": "invalid user_id specified",
    "callback_query_id": "query is too old and response timeout expired or query ID is invalid",
    "action": "wrong parameter action in request",
    "inline_query_id": "QUERY_ID_INVALID",
}
_INTEGER = re.compile(r"\s*[-+]?\d+\s*")
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart body."""
    field: str
    filename: str | None
    content_type: str | None
    data: bytes


async def read_params(request: web.Request) -> dict[str, object]:
    """Every parameter of the call: strings (forms, query), JSON values, or Upload objects.

    Empty values count as absent, as for Telegram.
    """
    params: dict[str, object] = dict(request.query)
    ctype = request.content_type
    if request.method == "POST" and request.can_read_body:
        if ctype == "application/json":
            try:
                body = await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise bad_request("can't parse JSON encoded request: " + str(exc)) from exc
            if not isinstance(body, dict):
                raise bad_request("JSON request body must be an Object")
            params.update(body)
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            # reader.next() rather than `async for`: aiohttp types __anext__ as possibly None
            while (part := await reader.next()) is not None:
                # form-data parts are flat (RFC 7578 dropped nested multipart/mixed); a nested
                # part fails here, as it did on its missing .name before
                assert isinstance(part, BodyPartReader), "nested multipart in a form-data body"
                if part.name is None:
                    continue
                data = await part.read(decode=False)
                if part.filename is not None:
                    params[part.name] = Upload(part.name, part.filename,
                                               part.headers.get("Content-Type"), bytes(data))
                else:
                    params[part.name] = bytes(data).decode("utf-8", "replace")
        elif ctype == "application/x-www-form-urlencoded":
            params.update(await request.post())
    return {k: v for k, v in params.items() if v is not None and v != ""}


def coerce(spec: MethodSpec, raw: dict[str, object], *, strict: bool = True) -> dict[str, object]:
    """Check `raw` against `spec` and type the values; raises ApiError like Telegram's.

    Integers and booleans become int/bool; objects and arrays are decoded from JSON;
    InputFile parameters may be Upload objects or strings (file_id, URL, attach://name).
    With `strict`, parameters the method does not take are refused (Telegram ignores
    them silently, which hides typos).
    """
    uploads = {k: v for k, v in raw.items() if isinstance(v, Upload)}
    attached = {str(v)[len("attach://"):] for v in raw.values()
                if isinstance(v, str) and v.startswith("attach://")}
    out: dict[str, object] = {}
    for name, value in raw.items():
        param = spec.params.get(name)
        if param is None:
            if name in attached and isinstance(value, Upload):
                continue
            if strict:
                raise bad_request(f'method {spec.name} has no parameter "{name}"')
            continue
        out[name] = _typed(param.name, param.types, value, uploads)
    for param in spec.params.values():
        if param.required and param.name not in out:
            raise bad_request(_MISSING.get(param.name, f"{param.name} is empty"))
    return out


def _typed(name: str, types: tuple[str, ...], value: object, uploads: dict) -> object:
    if "InputFile" in types:
        if isinstance(value, str) and value.startswith("attach://"):
            target = uploads.get(value[len("attach://"):])
            if target is None:
                raise bad_request(f"can't find attached file {value[len('attach://'):]!r}")
            return target
        if isinstance(value, (Upload, str)):
            return value
        raise bad_request(f'parameter "{name}" must be a file or a String')
    if isinstance(value, Upload):
        raise bad_request(f'parameter "{name}" can\'t be a file')
    if "Integer" in types and "String" in types:  # chat_id: a number or "@username"
        return _to_int(value) if _is_int(value) else str(value)
    kind = types[0]
    if kind == "Integer":
        if not _is_int(value):
            raise bad_request(f'parameter "{name}" must be an Integer')
        return _to_int(value)
    if kind == "Float":
        if isinstance(value, (int, float, str)):  # not an object or array
            try:
                return float(value)
            except ValueError as exc:
                raise bad_request(f'parameter "{name}" must be a Float') from exc
        raise bad_request(f'parameter "{name}" must be a Float')
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise bad_request(f'parameter "{name}" must be a Boolean')
    if kind == "String":
        if isinstance(value, (dict, list)):
            raise bad_request(f'parameter "{name}" must be a String')
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    # Arrays and objects: JSON-serialised in forms, native in JSON bodies.
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise bad_request(f"can't parse {name} JSON object") from exc
    if kind.startswith("Array of"):
        if not isinstance(value, list):
            raise bad_request(f'field "{name}" must be of type Array')
    elif not isinstance(value, dict):
        raise bad_request(f"can't parse {name} JSON object")
    return value


def _is_int(value: object) -> TypeGuard[int | str]:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and bool(_INTEGER.fullmatch(value))


def _to_int(value: int | str) -> int:
    return int(value)

