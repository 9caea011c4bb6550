"""Webhook mode: setWebhook/deleteWebhook/getWebhookInfo, and the deliverer that POSTs updates.

While a webhook is set, each update is POSTed as JSON (header X-Telegram-Bot-Api-Secret-Token
when a secret is set), in order, one at a time; anything but a 2xx answer is retried with
growing pauses, as Telegram does, and shows in getWebhookInfo's last_error_*. The sandbox only
ever connects to loopback addresses: other URLs are refused by setWebhook and checked again
before every connection.
"""
from __future__ import annotations

import asyncio
import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from sandbox.errors import ApiError, bad_request
from sandbox.state import World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET = re.compile(r"[A-Za-z0-9_-]+")
MAX_SECRET = 256
DEFAULT_MAX_CONNECTIONS = 40
WEBHOOK_ACTIVE = ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                               "use deleteWebhook to delete the webhook first")


def is_loopback(host: str) -> bool:
    """A host the sandbox may connect to: "localhost" or a loopback IP literal."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """A webhook URL Telegram would accept and the sandbox may reach, or Telegram's refusal."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise bad_request("bad webhook: Bad webhook URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if parts.username is not None or parts.password is not None:
        raise bad_request("bad webhook: Bad webhook URL")
    loopback = is_loopback(parts.hostname)
    if parts.scheme == "http" and not loopback:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if not loopback:
        # Telegram would connect anywhere public; a test double must never leave the machine
        raise bad_request("bad webhook: the sandbox connects to loopback addresses only "
                          "(127.0.0.0/8, ::1, localhost)")
    if port == 0:
        raise bad_request("bad webhook: Bad webhook URL")
    return url


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    ip_address: str | None = None
    allowed_updates: list[str] | None = None
    has_custom_certificate: bool = False


@dataclass
class Webhook:
    """The webhook a bot set, and the task that delivers updates to it."""
    world: World
    retry: tuple[float, float] = (0.5, 8.0)  # first pause after a failure, longest pause
    timeout: float = 10.0  # seconds the bot has to answer one update
    config: WebhookConfig | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    deliveries: list[dict] = field(default_factory=list)
    _task: asyncio.Task | None = None
    _session: aiohttp.ClientSession | None = None
    _changed: asyncio.Event | None = None

    @property
    def active(self) -> bool:
        return self.config is not None

    # --- Bot API --------------------------------------------------------------------------
    def plan_set(self, p: dict) -> tuple[WebhookConfig | None, str]:
        """Check setWebhook; returns the new config (None: remove) and Telegram's description."""
        url = str(p.get("url") or "")
        if not url:
            return None, "Webhook was deleted" if self.active else "Webhook is already deleted"
        check_url(url)
        secret = p.get("secret_token")
        if secret is not None:
            secret = str(secret)
            if len(secret) > MAX_SECRET:
                raise bad_request("secret token is too long")
            if not _SECRET.fullmatch(secret):
                raise bad_request("secret token contains unallowed characters")
        ip = p.get("ip_address")
        if ip is not None and not is_loopback(str(ip)):
            raise bad_request("bad webhook: the sandbox connects to loopback addresses only")
        config = WebhookConfig(url, secret, min(max(int(p.get("max_connections", 40)), 1), 100),
                               str(ip) if ip is not None else None, p.get("allowed_updates"),
                               "certificate" in p)
        return config, "Webhook is already set" if config == self.config else "Webhook was set"

    def apply_set(self, config: WebhookConfig | None, drop_pending: bool) -> bool:
        if drop_pending:
            self.world.updates.drop_all()
        if config is not None and config.allowed_updates is not None:
            self.world.updates.set_allowed(config.allowed_updates)
        if config != self.config:
            self.last_error_date = self.last_error_message = None
        self.config = config
        self.world.updates.notify()  # a long poll in progress ends with 409
        self._wake()
        return True

    def info(self) -> dict:
        """WebhookInfo as getWebhookInfo answers it."""
        pending = len(self.world.updates.pending(10**9))
        if self.config is None:
            return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}
        out: dict = {"url": self.config.url,
                     "has_custom_certificate": self.config.has_custom_certificate,
                     "pending_update_count": pending, "max_connections": self.config.max_connections}
        if self.config.ip_address:
            out["ip_address"] = self.config.ip_address
        if self.last_error_date is not None:
            out["last_error_date"] = self.last_error_date
            out["last_error_message"] = self.last_error_message
        if self.config.allowed_updates:
            out["allowed_updates"] = sorted(self.world.updates.allowed)
        return out

    # --- delivery -------------------------------------------------------------------------
    async def start(self) -> None:
        self._changed = asyncio.Event()
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=False),  # loopback only; test certificates
            timeout=aiohttp.ClientTimeout(total=self.timeout))
        self._task = asyncio.create_task(self._deliver_forever(), name="sandbox-webhook")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()

    async def _deliver_forever(self) -> None:
        failures = 0
        assert self._changed is not None
        while True:
            queue_changed = self.world.updates.wakeup()
            self._changed.clear()
            config = self.config
            pending = self.world.updates.pending(1)
            if config is None or not pending:
                await self._wait_for_work(queue_changed)
                continue
            update = pending[0]
            error = await self._post(config, update)
            self.deliveries.append({"update_id": update["update_id"], "url": config.url,
                                    "attempt": failures + 1, "error": error,
                                    "at": self.world.now()})
            if error is None:
                failures = 0
                self.world.updates.confirm(update["update_id"] + 1)
                continue
            failures += 1
            self.last_error_date = self.world.date()
            self.last_error_message = error
            pause = min(self.retry[0] * 2 ** (failures - 1), self.retry[1])
            await self._sleep_unless_changed(pause)

    async def _wait_for_work(self, queue_changed: asyncio.Future) -> None:
        assert self._changed is not None
        pushed = asyncio.ensure_future(asyncio.shield(queue_changed))
        config_changed = asyncio.create_task(self._changed.wait())
        try:
            await asyncio.wait({pushed, config_changed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            pushed.cancel()
            config_changed.cancel()

    async def _sleep_unless_changed(self, seconds: float) -> None:
        """Back off; a new setWebhook (the bot came back) retries at once."""
        assert self._changed is not None
        try:
            await asyncio.wait_for(self._changed.wait(), seconds)
        except TimeoutError:
            pass

    async def _post(self, config: WebhookConfig, update: dict) -> str | None:
        """POST one update; None when the bot took it, else getWebhookInfo's error text."""
        assert self._session is not None
        target = URL(config.url)
        host = target.host or ""
        connect_to = config.ip_address or ("127.0.0.1" if host.lower().startswith("localhost") else host)
        if not is_loopback(connect_to):  # never reached: setWebhook refused it
            return "the sandbox connects to loopback addresses only"
        headers = {"Content-Type": "application/json", "Host": target.raw_authority}
        if config.secret_token is not None:
            headers[SECRET_HEADER] = config.secret_token
        try:
            async with self._session.post(target.with_host(connect_to.strip("[]")), json=update,
                                          headers=headers, allow_redirects=False) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return None
                return f"Wrong response from the webhook: {resp.status} {resp.reason or ''}".rstrip()
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return "Connection refused"
        except aiohttp.ClientError as exc:
            return f"Connection error: {type(exc).__name__}"
