"""Webhooks in the sandbox: setWebhook checks, POSTed updates with the secret, retries, 409."""
from __future__ import annotations

import asyncio

import pytest
import telegram
from aiohttp import web
from telegram import Bot

from sandbox import Sandbox
from tests.sandbox.calls import call, control

SECRET = "s3cret_TOKEN-1"


class Receiver:
    """A bot's webhook endpoint on loopback that answers with `statuses` in turn (then 200)."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.headers: list[dict] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.headers.append(dict(request.headers))
        body = await request.json()
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.received.append(body)
        return web.Response(status=status)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"
        return self

    async def __aexit__(self, *exc) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.fixture
async def fast():
    async with Sandbox.running(port=0, webhook_retry=(0.05, 0.2), webhook_timeout=1.0) as sandbox:
        yield sandbox


@pytest.fixture
async def receiver():
    async with Receiver() as r:
        yield r


async def wait_until(predicate, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_updates_are_posted_in_order_with_the_secret_header(fast, http, receiver):
    sb = fast
    ann = sb.add_user("Ann")
    chat = sb.private_chat(ann)
    sb.send_text(chat, ann, "/start")  # waiting before the webhook is set
    status, body = await call(http, sb, "setWebhook", url=receiver.url, secret_token=SECRET)
    assert (status, body) == (200, {"ok": True, "result": True, "description": "Webhook was set"})
    sb.send_text(chat, ann, "/help")
    await wait_until(lambda: len(receiver.received) == 2)
    assert [u["message"]["text"] for u in receiver.received] == ["/start", "/help"]
    assert [u["update_id"] for u in receiver.received] == [1, 2]
    assert all(h["X-Telegram-Bot-Api-Secret-Token"] == SECRET for h in receiver.headers)
    assert all(h["Content-Type"].startswith("application/json") for h in receiver.headers)
    info = await sb.wait_webhook_idle()
    assert info == {"url": receiver.url, "has_custom_certificate": False, "pending_update_count": 0,
                    "max_connections": 40}
    _, body = await call(http, sb, "getWebhookInfo")
    assert body["result"] == info
    assert [d["error"] for d in sb.webhook_deliveries] == [None, None]


async def test_get_updates_is_refused_while_a_webhook_is_set(fast, http, receiver):
    sb = fast
    await call(http, sb, "setWebhook", url=receiver.url)
    status, body = await call(http, sb, "getUpdates")
    assert (status, body["description"]) == (
        409, "Conflict: can't use getUpdates method while webhook is active; "
             "use deleteWebhook to delete the webhook first")
    status, body = await call(http, sb, "deleteWebhook")
    assert body == {"ok": True, "result": True, "description": "Webhook was deleted"}
    _, body = await call(http, sb, "deleteWebhook")
    assert body["description"] == "Webhook is already deleted"
    status, body = await call(http, sb, "getUpdates")
    assert (status, body["result"]) == (200, [])
    _, body = await call(http, sb, "getWebhookInfo")
    assert body["result"] == {"url": "", "has_custom_certificate": False, "pending_update_count": 0}


async def test_a_long_poll_in_progress_ends_with_409_when_a_webhook_is_set(fast, http, receiver):
    sb = fast
    poll = asyncio.create_task(call(http, sb, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    await call(http, sb, "setWebhook", url=receiver.url)
    status, body = await asyncio.wait_for(poll, 2)
    assert status == 409 and "webhook is active" in body["description"]


async def test_failures_are_retried_with_backoff_and_reported(fast, http, receiver):
    sb = fast
    ann = sb.add_user("Ann")
    receiver.statuses = [500, 502, 401]
    await call(http, sb, "setWebhook", url=receiver.url, secret_token=SECRET)
    sb.send_text(sb.private_chat(ann), ann, "/start")
    await wait_until(lambda: len(sb.webhook_deliveries) == 2)
    _, body = await call(http, sb, "getWebhookInfo")
    info = body["result"]
    assert info["pending_update_count"] == 1
    assert info["last_error_message"] == "Wrong response from the webhook: 502 Bad Gateway"
    assert isinstance(info["last_error_date"], int)
    await wait_until(lambda: len(receiver.received) == 1)
    deliveries = sb.webhook_deliveries
    assert [(d["attempt"], d["error"]) for d in deliveries] == [
        (1, "Wrong response from the webhook: 500 Internal Server Error"),
        (2, "Wrong response from the webhook: 502 Bad Gateway"),
        (3, "Wrong response from the webhook: 401 Unauthorized"),
        (4, None)]
    gaps = [b["at"] - a["at"] for a, b in zip(deliveries, deliveries[1:], strict=False)]
    assert gaps[1] > gaps[0] * 1.5  # the pause grows
    assert receiver.received[0]["message"]["text"] == "/start"


async def test_an_unreachable_bot_is_retried_until_it_listens(fast, http):
    sb = fast
    async with Receiver() as gone:
        url = gone.url
    await call(http, sb, "setWebhook", url=url)
    ann = sb.add_user("Ann")
    sb.send_text(sb.private_chat(ann), ann, "/start")
    await wait_until(lambda: len(sb.webhook_deliveries) >= 2)
    assert sb.webhook_info()["last_error_message"] == "Connection refused"
    async with Receiver() as back:
        await call(http, sb, "setWebhook", url=back.url)  # the bot restarts elsewhere
        await wait_until(lambda: len(back.received) == 1)
    assert sb.webhook_info()["pending_update_count"] == 0


async def test_a_slow_bot_times_out(http, receiver):
    async with Sandbox.running(port=0, webhook_retry=(0.05, 0.1), webhook_timeout=0.2) as sb:
        receiver.delay = 0.5
        await call(http, sb, "setWebhook", url=receiver.url)
        ann = sb.add_user("Ann")
        sb.send_text(sb.private_chat(ann), ann, "/start")
        await wait_until(lambda: sb.webhook_deliveries)
        assert sb.webhook_deliveries[0]["error"] == "Read timeout expired"
        receiver.delay = 0
        await sb.wait_webhook_idle()


async def test_drop_pending_updates_and_allowed_updates(fast, http, receiver):
    sb = fast
    ann = sb.add_user("Ann")
    chat = sb.private_chat(ann)
    sb.send_text(chat, ann, "/old")
    await call(http, sb, "setWebhook", url=receiver.url, drop_pending_updates=True,
               allowed_updates=["callback_query"])
    sb.send_text(chat, ann, "/ignored")
    _, body = await call(http, sb, "getWebhookInfo")
    assert body["result"]["allowed_updates"] == ["callback_query"]
    assert body["result"]["pending_update_count"] == 0
    _, body = await call(http, sb, "sendMessage", chat_id=chat.id, text="hi",
                         reply_markup={"inline_keyboard": [[{"text": "b", "callback_data": "d"}]]})
    sb.press(chat, ann, body["result"]["message_id"], "d")
    await wait_until(lambda: receiver.received)
    assert list(receiver.received[0]) == ["update_id", "callback_query"]


@pytest.mark.parametrize("params, description", [
    ({"url": "http://example.com/hook"}, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"),
    ({"url": "ftp://127.0.0.1/hook"}, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"),
    ({"url": "https://example.com/hook"}, "Bad Request: bad webhook: the sandbox connects to loopback"),
    ({"url": "https://10.0.0.1/hook"}, "Bad Request: bad webhook: the sandbox connects to loopback"),
    ({"url": "https://169.254.169.254/latest"}, "Bad Request: bad webhook: the sandbox connects to loopback"),
    ({"url": "http://127.0.0.1.nip.io/hook"}, "Bad Request: bad webhook: An HTTPS URL"),
    ({"url": "http://user:pw@127.0.0.1/hook"}, "Bad Request: bad webhook: Bad webhook URL"),
    ({"url": "http://127.0.0.1/hook", "ip_address": "93.184.216.34"},
     "Bad Request: bad webhook: the sandbox connects to loopback"),
    ({"url": "http://127.0.0.1/hook", "secret_token": "has space"},
     "Bad Request: secret token contains unallowed characters"),
    ({"url": "http://127.0.0.1/hook", "secret_token": "a:b"},
     "Bad Request: secret token contains unallowed characters"),
    ({"url": "http://127.0.0.1/hook", "secret_token": "x" * 257}, "Bad Request: secret token is too long"),
])
async def test_set_webhook_refusals(sb, http, params, description):
    status, body = await call(http, sb, "setWebhook", **params)
    assert status == 400 and body["description"].startswith(description)
    assert sb.webhook_info()["url"] == ""


async def test_accepted_loopback_spellings_and_an_empty_url_removes_it(sb, http):
    for url in ("http://127.0.0.1:8443/hook", "http://localhost:8443/x", "https://[::1]:8443/y",
                "http://127.5.6.7/z"):
        status, body = await call(http, sb, "setWebhook", url=url, secret_token="a" * 256,
                                  max_connections=500)
        assert status == 200, body
        assert sb.webhook_info()["url"] == url and sb.webhook_info()["max_connections"] == 100
    _, body = await call(http, sb, "setWebhook", url="http://127.5.6.7/z", secret_token="a" * 256,
                         max_connections=500)
    assert body["description"] == "Webhook is already set"
    _, body = await call(http, sb, "setWebhook", url="")
    assert body == {"ok": True, "result": True, "description": "Webhook was deleted"}
    assert sb.webhook_info()["url"] == ""


async def test_localhost_is_reached_on_loopback(fast, http, receiver):
    sb = fast
    url = receiver.url.replace("127.0.0.1", "localhost")
    await call(http, sb, "setWebhook", url=url)
    ann = sb.add_user("Ann")
    sb.send_text(sb.private_chat(ann), ann, "/start")
    await wait_until(lambda: receiver.received)
    assert receiver.headers[0]["Host"] == url.split("/")[2]


async def test_python_telegram_bot_sets_and_deletes_a_webhook(fast, receiver):
    sb = fast
    async with Bot(sb.token, base_url=sb.api_url) as bot:
        assert await bot.set_webhook(receiver.url, secret_token=SECRET,
                                     allowed_updates=["message", "inline_query", "my_chat_member"])
        info = await bot.get_webhook_info()
        assert info.url == receiver.url and info.pending_update_count == 0
        with pytest.raises(telegram.error.Conflict, match="webhook is active"):
            await bot.get_updates()
        sb.channel("News")  # my_chat_member
        ann = sb.add_user("Ann")
        sb.inline_query(ann, "news")
        await wait_until(lambda: len(receiver.received) == 2)
        parsed = [telegram.Update.de_json(u, bot) for u in receiver.received]
        assert parsed[0].my_chat_member.new_chat_member.status == "administrator"
        assert parsed[1].inline_query.query == "news"
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert await bot.get_updates() == ()


async def test_webhooks_over_the_control_api(fast, http, receiver):
    sb = fast
    await call(http, sb, "setWebhook", url=receiver.url)
    _, body = await control(http, sb, "add_user", first_name="Ann")
    ann = body["result"]["id"]
    await control(http, sb, "private_chat", user=ann)
    await control(http, sb, "send_text", chat=ann, user=ann, text="/start")
    status, body = await control(http, sb, "wait_webhook_idle", timeout=5)
    assert status == 200 and body["result"]["url"] == receiver.url
    async with http.get(f"{sb.base_url}/sandbox/webhook_deliveries") as resp:
        assert [d["error"] for d in (await resp.json())["result"]] == [None]
    status, body = await control(http, sb, "webhook_info")
    assert body["result"]["pending_update_count"] == 0
