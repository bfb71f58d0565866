"""Numbers read from the environment: a value that cannot be used stops the process with the setting's name and
exit code 2, before anything else starts, instead of a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def import_config(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"TRUSTED_PROXY_COUNT", "MAIL_PORT", "PAGE_CACHE_TTL",
                                                               "PAGE_CACHE_MAX_ENTRIES"}}
    return subprocess.run([sys.executable, "-c", "import config; print(config.Config.TRUSTED_PROXY_COUNT, "
                           "config.Config.PAGE_CACHE_TTL, config.Config.PAGE_CACHE_MAX_ENTRIES)"],
                          cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("name", "value"), [
    ("TRUSTED_PROXY_COUNT", "one"), ("TRUSTED_PROXY_COUNT", "-1"), ("MAIL_PORT", "0"), ("MAIL_PORT", "smtp"),
    ("PAGE_CACHE_TTL", "soon"), ("PAGE_CACHE_TTL", "-5"), ("PAGE_CACHE_MAX_ENTRIES", "1.5"),
])
def test_an_unusable_number_stops_with_its_name_and_exit_code_2(name, value):
    result = import_config(**{name: value})
    assert result.returncode == 2
    assert f"configuration error: {name} must be" in result.stderr and repr(value) in result.stderr
    assert "Traceback" not in result.stderr


def test_usable_numbers_are_read():
    result = import_config(TRUSTED_PROXY_COUNT="2", PAGE_CACHE_TTL="7.5", PAGE_CACHE_MAX_ENTRIES="10")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "7.5", "10"]
