"""Shared fixtures for the sandbox's own tests: a running sandbox and an HTTP session."""
from __future__ import annotations

import aiohttp
import pytest

from sandbox import Sandbox


@pytest.fixture
async def sb():
    async with Sandbox.running(port=0) as sandbox:
        yield sandbox


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session
