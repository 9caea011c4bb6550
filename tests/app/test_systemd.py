"""deploy/newsbot.service passes `systemd-analyze verify` without a warning and keeps its promises:
its own user, a read-only system but the data folder, no new privileges, restarts, the .env file."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.paths import ROOT

UNIT = ROOT / "deploy" / "newsbot.service"


def directives() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_the_unit_sandboxes_the_bot_to_its_data_folder():
    d = directives()
    assert d["User"] == ["newsbot"] and d["Group"] == ["newsbot"]
    assert d["ProtectSystem"] == ["strict"] and d["NoNewPrivileges"] == ["yes"]
    assert d["ReadWritePaths"] == ["/var/lib/newsbot"]
    assert d["EnvironmentFile"] == ["/opt/newsbot/.env"]
    assert d["Restart"] == ["on-failure"] and "RestartSec" in d
    assert d["Environment"] == ["NEWSBOT_DB=/var/lib/newsbot/newsbot.sqlite3"]  # the database is in the data folder
    assert d["ExecStart"][0].startswith("/opt/newsbot/.venv/bin/newsbot run")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing (.ci/run installs it)")
def test_systemd_analyze_verify_finds_nothing(tmp_path):
    # The unit names /opt/newsbot; verify checks that ExecStart exists, so point it at this checkout.
    unit = tmp_path / "newsbot.service"
    unit.write_text(UNIT.read_text().replace("/opt/newsbot", str(ROOT)))
    if not (ROOT / ".venv" / "bin" / "newsbot").exists():
        pytest.skip("no .venv/bin/newsbot in this checkout")
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", r.stderr  # unknown keys and bad values are only warnings: none allowed


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing (.ci/run installs it)")
def test_the_verify_check_catches_a_broken_unit(tmp_path):
    unit = tmp_path / "broken.service"
    unit.write_text(UNIT.read_text().replace("/opt/newsbot", str(ROOT)).replace("ProtectSystem=strict",
                                                                                 "ProtectSystem=sometimes"))
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert "protect system" in r.stderr.lower()
