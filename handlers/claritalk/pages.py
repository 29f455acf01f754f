"""The small HTML pages a browser sees during the Claritalk connection: nothing but text."""

from __future__ import annotations

import html

from aiohttp import web

#: No scripts, no outside resources, never cached, and no Referer (the callback URL holds a code).
SAFE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Debrief</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;
color:#1d1c1d}}h1{{font-size:1.4rem}}p.hint{{color:#616061}}</style></head>
<body><h1>{icon} {title}</h1><p>{message}</p><p class="hint">{hint}</p></body></html>
"""


def page(
    title: str,
    message: str,
    *,
    status: int = 200,
    ok: bool = False,
    hint: str = "You can close this tab and go back to Slack.",
) -> web.Response:
    """A page saying what happened and what to do next; every text is escaped."""
    body = _TEMPLATE.format(
        icon="✅" if ok else "⚠️",
        title=html.escape(title),
        message=html.escape(message),
        hint=html.escape(hint),
    )
    return web.Response(
        status=status, text=body, content_type="text/html", charset="utf-8", headers=SAFE_HEADERS
    )


def start_again(title: str, reason: str, status: int = 400) -> web.Response:
    """A refusal that tells the person how to get a new link."""
    return page(
        title,
        f"{reason[:1].upper()}{reason[1:]}.",
        status=status,
        hint="Nothing was connected. In Slack, run /debrief claritalk connect for a new link.",
    )
