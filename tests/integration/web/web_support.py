"""Helpers shared by the web tests."""

from __future__ import annotations

import re

ADMIN_TOKEN = "test-admin-token-0123456789"
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)
