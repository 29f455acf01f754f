"""A typed client for Whereby's Embedded REST API (``https://api.whereby.dev/v1``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from providers.errors import NotFound, ProviderResponseError, ProviderUnavailable
from providers.http import ProviderTransport, RateLimiter, RetryPolicy, Sleep
from providers.whereby.budget import GROW_POINTS_PER_MINUTE, PointBudget, request_cost, retry_after
from providers.whereby.models import (
    AccessLink,
    CreateMeeting,
    Meeting,
    MeetingField,
    Page,
    ParticipantInsight,
    Recording,
    RoomInsight,
    RoomSessionInsight,
    Summary,
    SummaryTemplate,
    Transcription,
)

PROVIDER = "whereby"
DEFAULT_BASE_URL = "https://api.whereby.dev/v1"
MAX_ACCESS_LINK_SECONDS = 43200
#: The largest transcript file read (a long meeting is ~100 KB of Markdown).
TRANSCRIPT_BYTES = 4_000_000

ItemT = TypeVar("ItemT", bound=BaseModel)


def _segment(value: str) -> str:
    return quote(str(value), safe="")


class WherebyClient:
    """Whereby's REST API: meetings, recordings, transcriptions, summaries and insights.

    One organisation's point budget is shared by all its keys and by every process: give each
    client of the same organisation the same ``limiter`` (or a :class:`PointBudget` on a shared
    ledger) rather than letting each build its own.

    Args:
        http_client: the shared ``httpx.AsyncClient``; not closed here.
        api_key: the organisation's API key, sent as ``Authorization: Bearer``.
        base_url: the API root; the sandbox points this at its stand-in.
        points_per_minute: the plan's budget (Grow 1000, Build 100), used when ``limiter`` is
            omitted.
        limiter: the point budget to pace requests with.
        retry: the retry policy of :class:`providers.http.ProviderTransport`.
        sleep: injectable for tests.
    """

    def __init__(
        self,
        http_client: httpx.AsyncClient,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        points_per_minute: float = GROW_POINTS_PER_MINUTE,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limiter: RateLimiter = limiter or PointBudget(points_per_minute, sleep=sleep)
        self._http = http_client
        self._transport = ProviderTransport(
            PROVIDER,
            http_client,
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            limiter=self.limiter,
            cost=request_cost,
            retry=retry,
            retry_after=retry_after,
            sleep=sleep,
        )

    # --- meetings ---------------------------------------------------------------------------

    async def create_meeting(self, request: CreateMeeting) -> Meeting:
        """Create a transient room that lives until one hour after ``request.end_date``.

        A create is not retried after it may have reached Whereby (it is not idempotent);
        it is retried on 429 and when the connection never opened.

        Args:
            request: the meeting to create.

        Raises:
            BadRequest: Whereby refused the body (``end_date`` in the past, for one).
            PermissionDenied: the plan does not allow a requested feature (recording…).
            AuthenticationFailed: the API key is wrong or revoked.
            RateLimited: still throttled after the retries.
            ProviderUnavailable: Whereby could not be reached or failed.
            ProviderResponseError: the answer was not a meeting.
        """
        data = await self._transport.json("POST", "/meetings", json=request.to_json())
        return self._transport.parse(Meeting, data)

    async def get_meeting(
        self, meeting_id: str, *, fields: Sequence[MeetingField] | None = None
    ) -> Meeting:
        """Fetch a meeting; ``fields`` asks for ``hostRoomUrl`` / ``viewerRoomUrl`` too.

        Args:
            meeting_id: the ``meetingId`` from :meth:`create_meeting`.
            fields: optional extra URLs to include.

        Raises:
            NotFound: no such meeting (or it has expired).
            AuthenticationFailed, RateLimited, ProviderUnavailable, ProviderResponseError:
                as for :meth:`create_meeting`.
        """
        params = {"fields": ",".join(fields)} if fields else None
        data = await self._transport.json("GET", f"/meetings/{_segment(meeting_id)}", params=params)
        return self._transport.parse(Meeting, data)

    async def delete_meeting(self, meeting_id: str) -> None:
        """Delete a meeting's room. Idempotent: deleting one already gone (Whereby answers 204
        for those; a 404 is taken to mean the same) succeeds quietly.

        Args:
            meeting_id: the ``meetingId`` to delete.

        Raises:
            AuthenticationFailed, RateLimited, ProviderUnavailable: as for
                :meth:`create_meeting`.
        """
        try:
            await self._transport.request("DELETE", f"/meetings/{_segment(meeting_id)}")
        except NotFound:
            return None

    async def list_meetings(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[Meeting]:
        """One page of the organisation's meetings.

        Raises:
            AuthenticationFailed, RateLimited, ProviderUnavailable, ProviderResponseError.
        """
        return await self._page(Page[Meeting], "/meetings", {"limit": limit}, cursor)

    def iter_meetings(self, *, page_size: int | None = None) -> AsyncIterator[Meeting]:
        """Every meeting, page by page.

        Raises:
            AuthenticationFailed, RateLimited, ProviderUnavailable, ProviderResponseError.
        """
        return self._iterate(Page[Meeting], "/meetings", {"limit": page_size})

    # --- recordings -------------------------------------------------------------------------

    async def list_recordings(
        self,
        *,
        room_name: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        sort_by: str | None = None,
    ) -> Page[Recording]:
        """One page of recordings, optionally of one room.

        Args:
            room_name: only this room's recordings.
            cursor: the ``cursor`` of the previous page.
            limit: page size, 1 to 100 (Whereby's default is 50).
            sort_by: such as ``"startDate:desc"``.

        Raises:
            AuthenticationFailed, RateLimited, ProviderUnavailable, ProviderResponseError.
        """
        params = {"roomName": room_name, "limit": limit, "sortBy": sort_by}
        return await self._page(Page[Recording], "/recordings", params, cursor)

    def iter_recordings(
        self,
        *,
        room_name: str | None = None,
        page_size: int | None = None,
        sort_by: str | None = None,
    ) -> AsyncIterator[Recording]:
        """Every recording (of ``room_name``, if given), following the cursor.

        Raises:
            AuthenticationFailed, RateLimited, ProviderUnavailable, ProviderResponseError.
        """
        params = {"roomName": room_name, "limit": page_size, "sortBy": sort_by}
        return self._iterate(Page[Recording], "/recordings", params)

    async def get_recording(self, recording_id: str) -> Recording:
        """A recording's metadata.

        Raises:
            NotFound: no such recording.
            AuthenticationFailed, RateLimited, ProviderUnavailable, ProviderResponseError.
        """
        data = await self._transport.json("GET", f"/recordings/{_segment(recording_id)}")
        return self._transport.parse(Recording, data)

    async def recording_access_link(
        self, recording_id: str, *, valid_for_seconds: int | None = None
    ) -> AccessLink:
        """A temporary download link for a recording.

        Args:
            recording_id: the recording.
            valid_for_seconds: 1 to 43200; Whereby's default is 3600.

        Raises:
            ValueError: ``valid_for_seconds`` out of range.
            NotFound: no such recording.
            AuthenticationFailed, RateLimited, ProviderUnavailable, ProviderResponseError.
        """
        return await self._access_link(f"/recordings/{_segment(recording_id)}", valid_for_seconds)

    # --- transcriptions ---------------------------------------------------------------------

    async def create_transcription(self, recording_id: str) -> str:
        """Start transcribing a recording; returns the new ``transcriptionId``. Whereby sends
        ``transcription.finished`` or ``transcription.failed`` when it is done.

        Args:
            recording_id: a recording stored with Whereby.

        Raises:
            NotFound: no such recording.
            BadRequest, PermissionDenied: Whereby refused (plan, storage, state).
            AuthenticationFailed, RateLimited, ProviderUnavailable, ProviderResponseError.
        """
        data = await self._transport.json(
            "POST", "/transcriptions", json={"recordingId": str(recording_id)}
        )
        return self._created_id(data, "transcriptionId")

    async def get_transcription(self, transcription_id: str) -> Transcription:
        """A transcription's metadata and ``state``.

        Raises:
            NotFound: no such transcription.
            AuthenticationFailed, RateLimited, ProviderUnavailable, ProviderResponseError.
        """
        data = await self._transport.json("GET", f"/transcriptions/{_segment(transcription_id)}")
        return self._transport.parse(Transcription, data)

    async def transcription_access_link(
        self, transcription_id: str, *, valid_for_seconds: int | None = None
    ) -> AccessLink:
        """A temporary download link for a transcript.

        Raises:
            ValueError: ``valid_for_seconds`` out of range.
            NotFound: no such transcription.
            AuthenticationFailed, RateLimited, ProviderUnavailable, ProviderResponseError.
        """
        return await self._access_link(
            f"/transcriptions/{_segment(transcription_id)}", valid_for_seconds
        )

    async def download_transcript(
        self, transcription_id: str, *, limit: int = TRANSCRIPT_BYTES
    ) -> str:
        """A ready transcription's text (Markdown), through a fresh access link.

        The file is fetched without Whereby's API key (the link is its own credential), and
        refused past ``limit`` bytes rather than read into memory.

        Raises:
            NotFound: no such transcription, or its file is gone.
            ProviderResponseError: the file is larger than ``limit``.
            ProviderUnavailable: the file could not be fetched.
            AuthenticationFailed, RateLimited, ProviderResponseError (the access link).
        """
        link = await self.transcription_access_link(transcription_id)
        chunks: list[bytes] = []
        size = 0
        try:
            async with self._http.stream(
                "GET", link.access_link, headers={"Accept": "text/markdown, text/plain"}
            ) as response:
                if response.status_code == 404:
                    raise NotFound(PROVIDER, "the transcript file is gone", status_code=404)
                if response.status_code >= 400:
                    raise ProviderUnavailable(
                        PROVIDER, f"the transcript file answered {response.status_code}"
                    )
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise ProviderResponseError(
                            PROVIDER, f"the transcript is larger than {limit} bytes"
                        )
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(PROVIDER, f"the transcript file: {exc!r}") from exc
        return b"".join(chunks).decode("utf-8", errors="replace")

    # --- summaries --------------------------------------------------------------------------

    async def create_summary(
        self, transcription_id: str, *, template: SummaryTemplate | str = "General Narrative"
    ) -> str:
        """Ask for a summary of a finished transcription; returns the ``summaryId``. There is
        no webhook for summaries: poll :meth:`get_summary` until it is ready or failed.

        Args:
            transcription_id: a transcription in the ``ready`` state.
            template: one of Whereby's summary templates.

        Raises:
            NotFound: no such transcription.
            BadRequest: Whereby refused (transcription not ready, unknown template).
            AuthenticationFailed, RateLimited, ProviderUnavailable, ProviderResponseError.
        """
        data = await self._transport.json(
            "POST",
            "/summaries",
            json={"transcriptionId": str(transcription_id), "template": template},
        )
        return self._created_id(data, "summaryId")

    async def get_summary(self, summary_id: str) -> Summary:
        """A summary and its ``state``.

        Raises:
            NotFound: no such summary.
            AuthenticationFailed, RateLimited, ProviderUnavailable, ProviderResponseError.
        """
        data = await self._transport.json("GET", f"/summaries/{_segment(summary_id)}")
        return self._transport.parse(Summary, data)

    # --- insights ---------------------------------------------------------------------------

    def insights_rooms(
        self,
        *,
        room_name: str | None = None,
        room_name_prefix: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        sort_by: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[RoomInsight]:
        """Usage totals per room, following the cursor.

        Args:
            room_name: exactly this room (``roomName[exact]``).
            room_name_prefix: rooms whose name starts with this (``roomName[startsWith]``).
            created_from: rooms created at or after this time.
            created_to: rooms created before this time.
            sort_by: such as ``"totalSessions:desc"``.
            page_size: 1 to 100 (Whereby's default is 10).

        Raises:
            AuthenticationFailed, RateLimited, ProviderUnavailable, ProviderResponseError.
        """
        params = {
            "roomName[exact]": room_name,
            "roomName[startsWith]": room_name_prefix,
            "createdAt[from]": created_from.isoformat() if created_from else None,
            "createdAt[to]": created_to.isoformat() if created_to else None,
            "sortBy": sort_by,
            "limit": page_size,
        }
        return self._iterate(Page[RoomInsight], "/insights/rooms", params)

    def insights_room_sessions(
        self,
        room_name: str,
        *,
        room_session_id: str | None = None,
        sort_by: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[RoomSessionInsight]:
        """Usage totals per session of one room, following the cursor.

        Raises:
            AuthenticationFailed, RateLimited, ProviderUnavailable, ProviderResponseError.
        """
        params = {
            "roomName": room_name,
            "roomSessionId": room_session_id,
            "sortBy": sort_by,
            "limit": page_size,
        }
        return self._iterate(Page[RoomSessionInsight], "/insights/room-sessions", params)

    def insights_participants(
        self,
        *,
        room_session_id: str | None = None,
        external_id: str | None = None,
        sort_by: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[ParticipantInsight]:
        """Participants of a session (or everyone who joined with ``external_id``).

        Raises:
            ValueError: neither ``room_session_id`` nor ``external_id`` was given.
            AuthenticationFailed, RateLimited, ProviderUnavailable, ProviderResponseError.
        """
        if not room_session_id and not external_id:
            raise ValueError("give room_session_id or external_id")
        params = {
            "roomSessionId": room_session_id,
            "externalId": external_id,
            "sortBy": sort_by,
            "limit": page_size,
        }
        return self._iterate(Page[ParticipantInsight], "/insights/participants", params)

    # --- plumbing ---------------------------------------------------------------------------

    async def _access_link(self, path: str, valid_for_seconds: int | None) -> AccessLink:
        params = None
        if valid_for_seconds is not None:
            if not 1 <= valid_for_seconds <= MAX_ACCESS_LINK_SECONDS:
                raise ValueError(f"valid_for_seconds must be 1..{MAX_ACCESS_LINK_SECONDS}")
            params = {"validForSeconds": str(valid_for_seconds)}
        data = await self._transport.json("GET", f"{path}/access-link", params=params)
        return self._transport.parse(AccessLink, data)

    def _created_id(self, data: Any, key: str) -> str:
        if isinstance(data, Mapping):
            value = data.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return str(value)
        raise ProviderResponseError(PROVIDER, f"the answer carries no {key}")

    async def _page(
        self,
        model: type[Page[ItemT]],
        path: str,
        params: Mapping[str, object],
        cursor: str | None,
    ) -> Page[ItemT]:
        query = {key: str(value) for key, value in params.items() if value is not None}
        if cursor:
            query["cursor"] = cursor
        data = await self._transport.json("GET", path, params=query)
        return self._transport.parse(model, data)

    async def _iterate(
        self, model: type[Page[ItemT]], path: str, params: Mapping[str, object]
    ) -> AsyncIterator[ItemT]:
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = await self._page(model, path, params, cursor)
            for item in page.results:
                yield item
            if not page.cursor:
                return
            if page.cursor in seen:
                raise ProviderResponseError(PROVIDER, f"{path} repeated a paging cursor")
            seen.add(page.cursor)
            cursor = page.cursor
