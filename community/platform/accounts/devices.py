"""A short, human label for a session's device from its User-Agent: "Firefox on macOS", "Safari on iPhone".

A few ordered rules rather than a parser dependency: the account page needs a member to recognise their own
browsers, not a device database. The header itself is never stored, only the label (at most 60 characters).
"""

from __future__ import annotations

import re

# Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari", and Android says "Linux".
BROWSERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Edge", re.compile(r"\bEdg(e|A|iOS)?/")),
    ("Opera", re.compile(r"\b(OPR|Opera)/")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\b(Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(Chrome|CriOS|Chromium)/")),
    ("Safari", re.compile(r"\bVersion/[\d.]+.*\bSafari/|\bAppleWebKit/.*\b(iPhone|iPad)")),
)
SYSTEMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)


def device_label(user_agent: str | None) -> str:
    """"Firefox on macOS", "Chrome on Android", "Unknown browser on Windows", or "Unknown device"."""
    agent = (user_agent or "")[:512]
    browser = next((name for name, pattern in BROWSERS if pattern.search(agent)), None)
    system = next((name for name, pattern in SYSTEMS if pattern.search(agent)), None)
    if browser is None and system is None:
        return "Unknown device"
    return f"{browser or 'Unknown browser'} on {system or 'an unknown system'}"
