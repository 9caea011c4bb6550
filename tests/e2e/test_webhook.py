"""Webhook mode through the sandbox: setWebhook with the secret and the update types the bot handles, a
request without the right secret refused, back to polling deletes the webhook, and a restart in either
mode loses no update."""
from __future__ import annotations

import asyncio
import hmac
import json

import aiohttp
import pytest

from bot.app.config import load_settings
from bot.app.runtime import BotRuntime
from handlers.registry import UPDATE_TYPES
from sandbox import Sandbox
from storage.db import open_db
from tests.support.harness import BotHarness, unpaced, webhook_env

SECRET = "harness-webhook-secret-0123"


def calls(sb, method: str) -> list[dict]:
    return [r for r in sb.requests if r["method"] == method]


async def test_webhook_mode_sets_the_webhook_with_secret_and_update_types(tmp_path):
    async with BotHarness.running(tmp_path, webhook=True) as h:
        (set_call,) = calls(h.sb, "setWebhook")
        params = set_call["params"]
        assert params["url"] == h.runtime.settings.webhook_url and params["secret_token"] == SECRET
        allowed = params["allowed_updates"]
        assert set(json.loads(allowed) if isinstance(allowed, str) else allowed) == set(UPDATE_TYPES)
        assert not calls(h.sb, "getUpdates")
        ann = h.sb.add_user("Ann", language_code="en")
        (msg,) = await h.say(h.sb.private_chat(ann), ann, "/help")
        assert "/subscribe" in msg["text"]


@pytest.mark.parametrize("secret", [None, "wrong-secret-wrong-secret", SECRET[:-1], SECRET + "x"])
async def test_a_request_without_the_right_secret_is_refused(tmp_path, secret, monkeypatch):
    compared: list[bytes] = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append(b)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    async with BotHarness.running(tmp_path, webhook=True) as h:
        ann = h.sb.add_user("Ann", language_code="en")
        chat = h.sb.private_chat(ann)
        update = {"update_id": 999_999, "message": {
            "message_id": 1, "date": 1_700_000_000, "chat": {"id": chat.id, "type": "private", "first_name": "Ann"},
            "from": {"id": ann.id, "is_bot": False, "first_name": "Ann"}, "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        async with aiohttp.ClientSession() as http, \
                http.post(h.runtime.settings.webhook_url, json=update, headers=headers) as resp:
            assert resp.status == 403
        assert await h.quiet(chat, 0.5) == []  # nothing was handled
        if secret:  # PTB's `header != secret` went through hmac.compare_digest (bot.app.runtime.ConstantTimeSecret)
            assert secret.encode() in compared


async def test_back_to_polling_deletes_the_webhook_and_no_update_is_lost(tmp_path):
    async with Sandbox.running(port=0) as sb:
        ann = sb.add_user("Ann", language_code="en")
        chat = sb.private_chat(ann)
        base = {"TELEGRAM_BOT_TOKEN": sb.token, "TELEGRAM_API_URL": sb.base_url,
                "NEWSBOT_DB": str(tmp_path / "bot.sqlite3")}
        sent = 0
        async with open_db(tmp_path / "bot.sqlite3") as db:
            for mode in ("webhook", "polling", "webhook", "polling"):
                settings = load_settings({**base, **(webhook_env(SECRET) if mode == "webhook" else {})}, dotenv=None)
                runtime = BotRuntime(settings, db=db, jobs=False, limiter=unpaced())
                await runtime.start(polling_timeout=1)
                for _ in range(5):  # some arrive while the bot stops: they wait for the next start
                    sb.send_text(chat, ann, "/help")
                    sent += 1
                    await asyncio.sleep(0.02)
                await runtime.stop()
            settings = load_settings(base, dotenv=None)
            runtime = BotRuntime(settings, db=db, jobs=False, limiter=unpaced())
            await runtime.start(polling_timeout=1)
            try:
                await sb.wait_for(chat, sent, timeout=30)
            finally:
                await runtime.stop()
        assert len(sb.messages(chat)) == sent  # each update answered once
        assert len(calls(sb, "deleteWebhook")) >= 3  # every polling start
        assert len(calls(sb, "setWebhook")) == 2


@pytest.mark.parametrize("env, message", [
    ({"NEWSBOT_WEBHOOK_URL": "https://bot.example.org/hook"}, "NEWSBOT_WEBHOOK_SECRET: required"),
    ({"NEWSBOT_WEBHOOK_URL": "https://bot.example.org/hook", "NEWSBOT_WEBHOOK_SECRET": "short"}, "16 to 256"),
    ({"NEWSBOT_WEBHOOK_URL": "http://bot.example.org/hook", "NEWSBOT_WEBHOOK_SECRET": SECRET}, "https://"),
    ({"NEWSBOT_WEBHOOK_URL": "https://u:p@bot.example.org/hook", "NEWSBOT_WEBHOOK_SECRET": SECRET}, "without user"),
    ({"NEWSBOT_WEBHOOK_LISTEN": "somewhere:80"}, "NEWSBOT_WEBHOOK_LISTEN"),
])
def test_webhook_settings_are_checked_at_start(env, message):
    from bot.core.settings import SettingsError, settings_from

    with pytest.raises(SettingsError, match=message):
        settings_from(env)


def test_webhook_settings_defaults():
    from bot.core.settings import settings_from

    s = settings_from({"NEWSBOT_WEBHOOK_URL": "https://bot.example.org/newsbot/hook", "NEWSBOT_WEBHOOK_SECRET": SECRET})
    assert s.webhook and s.webhook_listen == ("127.0.0.1", 8443) and s.webhook_path == "newsbot/hook"
    assert SECRET not in repr(s)
    assert not settings_from({}).webhook
