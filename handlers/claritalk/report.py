"""The PDF report of a processed meeting, shared once in its digest's thread.

The upload takes Slack's three steps (as slack_sdk's ``files_upload_v2``): ask for an upload URL,
send the bytes there, complete the upload into the thread. Slack's file id is stored before the
bytes are sent, so a retry after a crash finishes (or finds already shared) that same file
instead of sharing a second copy. A report that is missing or corrupt is noted in the thread.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.blockkit import file_title, mrkdwn
from bot.leases import current_holder
from bot.posting import PostKey
from bot.services import Services
from bot.slack import slack_error
from bot.store.db import transaction
from bot.store.models import SlackPost
from handlers.claritalk import store
from handlers.claritalk.tables import ClaritalkReport
from handlers.digest.deliver import PARENT_PART
from handlers.digest.tables import Digest
from providers.claritalk import MeetingProcessed, decode_pdf

log = logging.getLogger(__name__)

REPORT_PART = "claritalk.report"
#: Reports of digests held for want of a channel are attached when the digest appears; a report
#: older than this is no longer waited for.
PENDING_WINDOW = timedelta(days=7)
#: Answers of files.completeUploadExternal meaning the announced file never got its bytes.
_NOT_UPLOADED = ("file_not_found", "file_upload_not_found", "invalid_arguments")


def report_filename(data: MeetingProcessed, given: str | None) -> str:
    if given and given.strip():
        return given.strip()
    slug = re.sub(r"[^a-z0-9]+", "-", data.display_title.lower()).strip("-") or "meeting"
    return f"{slug[:80]}-summary-report.pdf"


async def keep_report(services: Services, data: MeetingProcessed) -> None:
    """Decode the meeting's PDF (never raises) and store it, or why it is unusable."""
    pdf = decode_pdf(data.files)
    if not pdf.ok:
        log.warning("claritalk meeting %s: %s", data.meeting_id, pdf.reason)
    async with transaction(services.sessions) as session:
        await store.keep_report(
            session,
            data.meeting_id,
            pdf,
            report_filename(data, pdf.filename),
            services.clock(),
        )


async def attach_report(
    services: Services, meeting_id: str, channel: str, thread_ts: str, title: str
) -> bool:
    """Share the stored report in the digest's thread, or note why there is none.

    Returns False when there is nothing to do (already shared, or another attempt is at it).

    Raises:
        SlackApiError, aiohttp.ClientError: Slack failed; the job retries and resumes.
    """
    holder = current_holder()
    report = await store.lease_report(services.sessions, meeting_id, services.clock(), holder)
    if report is None:
        return False
    try:
        if report.content is None:
            await _note(services, report, channel, thread_ts)
        else:
            await _share(services, report, channel, thread_ts, title)
    except BaseException:
        await store.release_report(services.sessions, meeting_id, holder)
        raise
    # The bytes are not kept once Slack has them.
    await store.release_report(
        services.sessions,
        meeting_id,
        holder,
        done_at=services.clock(),
        content=None,
        channel_id=channel,
    )
    return True


async def _note(services: Services, report: ClaritalkReport, channel: str, thread_ts: str) -> None:
    reason = report.problem or "Claritalk sent no PDF report"
    text = f":page_facing_up: The PDF report is not attached: {mrkdwn(reason, 500)}."
    blocks = [{"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}]
    key = PostKey(store.PROVIDER, report.meeting_id, channel, REPORT_PART)
    await services.posts.upsert(key, text, blocks, thread_ts=thread_ts)


async def _share(
    services: Services, report: ClaritalkReport, channel: str, thread_ts: str, title: str
) -> None:
    client = services.slack.client
    content = report.content or b""
    label = file_title(f"{title}: Claritalk report")
    complete: dict[str, Any] = {
        "channel_id": channel,
        "thread_ts": thread_ts,
        "initial_comment": ":page_facing_up: The PDF report from Claritalk",
    }
    if report.file_id:
        # An earlier attempt announced this file: it may be shared already, or only uploaded.
        if await _shared_in(services, report.file_id, channel):
            return
        try:
            await client.files_completeUploadExternal(
                files=[{"id": report.file_id, "title": label}], **complete
            )
            return
        except SlackApiError as exc:
            if slack_error(exc) not in _NOT_UPLOADED:
                raise
            log.info("claritalk report %s: the earlier upload never arrived; again", report.file_id)
    answer = await client.files_getUploadURLExternal(filename=report.filename, length=len(content))
    file_id, upload_url = str(answer["file_id"]), str(answer["upload_url"])
    await store.update_report(services.sessions, report.meeting_id, file_id=file_id)
    await services.slack.pacer.wait(channel)
    await _send_bytes(services, upload_url, content)
    await client.files_completeUploadExternal(files=[{"id": file_id, "title": label}], **complete)
    log.info("claritalk report of %s shared in %s as %s", report.meeting_id, channel, file_id)


async def _shared_in(services: Services, file_id: str, channel: str) -> bool:
    try:
        answer = await services.slack.client.files_info(file=file_id)
    except SlackApiError as exc:
        if slack_error(exc) == "missing_scope":
            # An installation from before files:read: completing again is the best left.
            log.warning("cannot check Slack file %s (reinstall for files:read)", file_id)
            return False
        if slack_error(exc) == "file_not_found":
            return False
        raise
    file = answer.get("file") or {}
    shares = file.get("shares") or {}
    shared = {c for kind in ("public", "private") for c in (shares.get(kind) or {})}
    shared |= {str(c) for key in ("channels", "groups", "ims") for c in file.get(key) or []}
    return channel in shared


async def _send_bytes(services: Services, url: str, content: bytes) -> None:
    """Step two: the bytes to the upload URL, as slack_sdk sends them (a plain POST body)."""
    session = services.slack.client.session
    owned = session is None
    active = session or aiohttp.ClientSession()
    try:
        async with active.post(
            url, data=content, timeout=aiohttp.ClientTimeout(total=300)
        ) as response:
            if response.status != 200:
                body = (await response.text())[:200]
                raise aiohttp.ClientResponseError(
                    response.request_info,
                    response.history,
                    status=response.status,
                    message=f"the file upload was refused: {body}",
                )
    finally:
        if owned:
            await active.close()


async def digest_thread(services: Services, meeting_id: str) -> list[SlackPost]:
    """The parent messages of a meeting's digests, in every channel it went to."""
    async with services.sessions() as session:
        rows = await session.execute(
            select(SlackPost).where(
                SlackPost.provider == store.PROVIDER,
                SlackPost.meeting_id == meeting_id,
                SlackPost.part == PARENT_PART,
            )
        )
        return list(rows.scalars())


async def attach_pending(services: Services) -> int:
    """Attach the reports whose digest was held and has since been posted; how many."""
    attached = 0
    since = services.clock() - PENDING_WINDOW
    for meeting_id in await store.pending_reports(services.sessions, since):
        posts = await digest_thread(services, meeting_id)
        if not posts:
            continue
        parent = posts[0]
        title = await _title(services, meeting_id, parent.channel_id)
        try:
            attached += await attach_report(
                services, meeting_id, parent.channel_id, parent.ts, title
            )
        except (SlackApiError, aiohttp.ClientError) as exc:
            log.warning("claritalk report of %s not attached yet: %s", meeting_id, exc)
    return attached


async def _title(services: Services, meeting_id: str, channel: str) -> str:
    async with services.sessions() as session:
        row = await session.get(Digest, (store.PROVIDER, meeting_id, channel))
    return row.title if row is not None and row.title else "Meeting"
