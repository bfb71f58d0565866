"""Helpers for browser tests."""

import os
from pathlib import Path

SCREENSHOTS = Path(os.environ.get("E2E_SCREENSHOTS", Path(__file__).resolve().parents[1] / "instance" / "screenshots"))


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, email: str, password: str = "coop-demo-2026") -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard")
