"""The yardstick of the ingest benchmark: an aiohttp endpoint that reads the body and answers
200, nothing else. ``PORT=8080 python -m bench.bare``.
"""

from __future__ import annotations

import os

from aiohttp import web

from bot.cli import event_loop


async def receive(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"status": "accepted"})


def main(port: int) -> None:
    """Serve on loopback at ``port`` until killed."""
    app = web.Application()
    app.router.add_post("/webhooks/attendee", receive)
    app.router.add_get("/healthz", receive)
    # The same event loop as `debrief serve`, so the ratio compares the work, not the loops.
    web.run_app(
        app,
        loop=event_loop(),
        host="127.0.0.1",
        port=port,
        access_log=None,
        print=lambda *_: None,
    )


if __name__ == "__main__":
    main(int(os.environ["PORT"]))
