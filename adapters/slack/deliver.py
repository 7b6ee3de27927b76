"""Putting rendered messages into Slack: post, update in place, ephemeral, response_url, files.

Why one small class: every way of speaking in Slack has its own method and its own quirks
(`chat.update` cannot touch ephemeral messages, slash-command replies should go through
`response_url`, files need the three-step `files_upload_v2`), and all of them must go through the
same retrying client so a 429 waits out `Retry-After` instead of dropping the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.render import SlackMessage, thinking_message
from bot.messages import Attachment

__all__ = ["Outbox"]


class Outbox:
    """Sends messages with the app's `AsyncWebClient` (and its retry handlers)."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        logger: logging.Logger,
        retry_handlers: Sequence[AsyncRetryHandler] = (),
    ) -> None:
        self.client = client
        self.logger = logger
        self.retry_handlers = list(retry_handlers)

    async def post(
        self,
        channel: str,
        messages: Sequence[SlackMessage],
        *,
        thread_ts: str | None = None,
        placeholder_ts: str | None = None,
        skip: int = 0,
        on_posted: Callable[[str | None], Awaitable[None]] | None = None,
    ) -> str | None:
        """Post the messages in order; with `placeholder_ts`, the first one replaces the placeholder.

        `skip` leaves out the first messages (a resumed answer already posted them); `on_posted`
        is awaited after each message with its ts, so the caller can record it before the next.
        Returns the ts of the first message posted now.
        """
        first_ts: str | None = None
        for i, message in enumerate(messages):
            if i < skip:
                continue
            if i == 0 and placeholder_ts:
                await self.client.chat_update(channel=channel, ts=placeholder_ts, **message.as_kwargs())
                ts: str | None = placeholder_ts
            else:
                response = await self.client.chat_postMessage(
                    channel=channel,
                    thread_ts=thread_ts,
                    unfurl_links=False,
                    unfurl_media=False,
                    **message.as_kwargs(),
                )
                ts = response.get("ts")
            first_ts = first_ts or ts
            if on_posted is not None:
                await on_posted(ts)
        return first_ts

    async def thinking(self, channel: str, *, thread_ts: str | None) -> str | None:
        """Post the "thinking" placeholder; its ts is later updated with the answer."""
        response = await self.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, **thinking_message().as_kwargs()
        )
        return response.get("ts")

    async def delete(self, channel: str, ts: str) -> None:
        try:
            await self.client.chat_delete(channel=channel, ts=ts)
        except SlackApiError as err:
            self.logger.warning("could not delete placeholder %s in %s: %s", ts, channel, err.response.get("error"))

    async def update(self, channel: str, ts: str, messages: Sequence[SlackMessage], *, thread_ts: str | None) -> None:
        """Replace a message in place (a quiz step); overflow goes below it in the same thread."""
        await self.post(channel, messages, thread_ts=thread_ts or ts, placeholder_ts=ts)

    async def ephemeral(
        self, channel: str, user: str, messages: Sequence[SlackMessage], *, thread_ts: str | None = None
    ) -> None:
        for message in messages:
            await self.client.chat_postEphemeral(
                channel=channel, user=user, thread_ts=thread_ts, **message.as_kwargs()
            )

    async def respond(
        self,
        response_url: str,
        messages: Sequence[SlackMessage],
        *,
        ephemeral: bool,
        replace: bool = False,
    ) -> None:
        """Answer through a slash command's or a button's `response_url` (works for ephemeral ones)."""
        webhook = AsyncWebhookClient(url=response_url, retry_handlers=self.retry_handlers, logger=self.logger,
                                     session=self.client.session)
        for i, message in enumerate(messages):
            payload: dict[str, Any] = {
                "response_type": "ephemeral" if ephemeral else "in_channel",
                **message.as_kwargs(),
            }
            payload["replace_original"] = bool(replace and i == 0)
            response = await webhook.send_dict(payload)
            if response.status_code != 200:
                raise RuntimeError(f"response_url answered {response.status_code}: {response.body[:200]}")

    async def delete_original(self, response_url: str) -> None:
        """Remove the message a response_url belongs to (a private "thinking" note); best effort."""
        if not response_url:
            return
        webhook = AsyncWebhookClient(url=response_url, retry_handlers=self.retry_handlers, logger=self.logger,
                                     session=self.client.session)
        try:
            response = await webhook.send_dict({"delete_original": True})
        except Exception as err:
            self.logger.warning("could not delete the thinking note: %s", err)
            return
        if response.status_code != 200:
            self.logger.warning("deleting the thinking note answered %s", response.status_code)

    async def open_dm(self, user: str) -> str | None:
        """The DM channel with `user`, for files that must not land in a shared channel."""
        response = await self.client.conversations_open(users=user)
        return (response.get("channel") or {}).get("id")

    async def upload(self, channel: str, attachments: Sequence[Attachment], *, thread_ts: str | None) -> None:
        """Upload files with files_upload_v2 (getUploadURLExternal, POST, completeUploadExternal)."""
        for attachment in attachments:
            if not attachment.path.is_file():
                self.logger.warning("attachment %s is missing; not uploaded", attachment.filename)
                continue
            await self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                file=str(attachment.path),
                filename=attachment.filename,
                title=attachment.title or attachment.filename,
            )
