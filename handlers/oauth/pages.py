"""The small HTML pages a browser sees while connecting an account by OAuth (Claritalk, a
calendar): text, and one form. Shared, so every connection looks and is hardened alike."""

from __future__ import annotations

import html
from collections.abc import Mapping

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
color:#1d1c1d}}h1{{font-size:1.4rem}}p.hint{{color:#616061}}button{{font:inherit;
padding:.5rem 1rem;border:0;border-radius:4px;background:#007a5a;color:#fff;cursor:pointer}}
</style></head>
<body><h1>{icon} {title}</h1>{message}{form}<p class="hint">{hint}</p></body></html>
"""

_FORM = """<form method="post" action="{action}">{fields}<button type="submit">{button}</button>
</form>"""


#: A form's page: with ``no-referrer`` browsers post ``Origin: null``, which the form's handler
#: must refuse; ``strict-origin`` names the origin, and still never the path or query (the link).
FORM_HEADERS = {**SAFE_HEADERS, "Referrer-Policy": "strict-origin"}


def _respond(body: str, status: int, headers: Mapping[str, str] = SAFE_HEADERS) -> web.Response:
    return web.Response(
        status=status, text=body, content_type="text/html", charset="utf-8", headers=headers
    )


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
        message=f"<p>{html.escape(message)}</p>",
        form="",
        hint=html.escape(hint),
    )
    return _respond(body, status)


def form_page(
    title: str,
    paragraphs: list[str],
    *,
    action: str,
    fields: Mapping[str, str],
    button: str,
    hint: str,
) -> web.Response:
    """A page that asks before acting: a button posting ``fields`` to ``action``; all escaped."""
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in fields.items()
    )
    body = _TEMPLATE.format(
        icon="🔗",
        title=html.escape(title),
        message="".join(f"<p>{html.escape(text)}</p>" for text in paragraphs),
        form=_FORM.format(action=html.escape(action), fields=hidden, button=html.escape(button)),
        hint=html.escape(hint),
    )
    return _respond(body, 200, FORM_HEADERS)


def start_again(title: str, reason: str, status: int = 400, *, restart: str) -> web.Response:
    """A refusal that tells the person how to get a new link (``restart``: the command)."""
    return page(
        title,
        f"{reason[:1].upper()}{reason[1:]}.",
        status=status,
        hint=f"Nothing was connected. In Slack, run {restart} for a new link.",
    )
