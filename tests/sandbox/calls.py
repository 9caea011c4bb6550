"""Raw Bot API and control API calls over HTTP, as a client that isn't python-telegram-bot."""
from __future__ import annotations

import json


async def call(http, sb, method, *, token=None, form=False, **params):
    """POST a Bot API call as JSON (or urlencoded like PTB); returns (status, body)."""
    url = f"{sb.api_url}{token or sb.token}/{method}"
    if form:
        data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
        async with http.post(url, data=data) as resp:
            return resp.status, await resp.json()
    async with http.post(url, json=params) as resp:
        return resp.status, await resp.json()


async def control(http, sb, action, **args):
    """POST /sandbox/<action> with JSON keyword arguments; returns (status, body)."""
    async with http.post(f"{sb.base_url}/sandbox/{action}", json=args) as resp:
        return resp.status, await resp.json()


def updates_of(sb, kind):
    """The payloads of pending updates of one type."""
    return [u[kind] for u in sb.pending_updates() if kind in u]
