"""The push service's aiohttp application: routes, connect checks, and the streams.

``GET .../events`` answers Server-Sent Events, or WebSocket when the request
asks to upgrade.  Connect-time errors are the API's JSON errors (400, 401,
403); once streaming, an error is a final ``error`` event, then the end.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from notifier.permissions import principals_of
from notifier.push.auth import BasicPolicies, http_error, real_bucket_id, refuse, userid_of
from notifier.push.config import PushConfig
from notifier.push.events import (
    ACTIONS,
    RESOURCES,
    Position,
    Target,
    checked_words,
    parse_position,
)
from notifier.push.hub import Hub, OutsideWindow
from notifier.push.subscriber import Subscriber

log = logging.getLogger(__name__)

CONSOLE = Path(__file__).parent / "console"
#: How long one write may wait on a client before it counts as too slow.
WRITE_TIMEOUT = 5.0
STUCK = (
    f"slow consumer: the client read nothing for {WRITE_TIMEOUT:g} s; reconnect with Last-Event-ID"
)
HUB: web.AppKey[Hub] = web.AppKey("hub", Hub)
CONFIG: web.AppKey[PushConfig] = web.AppKey("config", PushConfig)
POLICIES: web.AppKey[BasicPolicies] = web.AppKey("policies", BasicPolicies)
EVENTS = (
    "/v1/buckets/{bid}/events",
    "/v1/buckets/{bid}/collections/{cid}/events",
    "/v1/buckets/{bid}/collections/{cid}/records/{rid}/events",
)


def target_of(request: web.Request, bucket_id: str) -> Target:
    """The object and filters a request subscribes to; 400 naming a bad filter."""
    try:
        actions = checked_words("action", request.query.get("action", ""), ACTIONS)
        resources = checked_words(
            "resource_name", request.query.get("resource_name", ""), RESOURCES
        )
    except ValueError as error:
        raise http_error(400, str(error)) from None
    return Target(
        bucket_id=bucket_id,
        collection_id=request.match_info.get("cid"),
        record_id=request.match_info.get("rid"),
        actions=actions,
        resources=resources,
    )


def since_of(request: web.Request) -> Position | None:
    """The replay position: ``Last-Event-ID`` (SSE reconnects) or ``?since=``."""
    raw = request.headers.get("Last-Event-ID") or request.query.get("since")
    if raw is None or raw == "":
        return None
    try:
        return parse_position(raw)
    except ValueError:
        raise http_error(
            400, f"since must be a stream position such as 1733123456789-0, got {raw!r}"
        ) from None


async def events(request: web.Request) -> web.StreamResponse:
    """Subscribe to an object: check who and what at connect, then stream."""
    config, hub = request.app[CONFIG], request.app[HUB]
    userid = await userid_of(request, config.secret, request.app[POLICIES])
    target = target_of(request, real_bucket_id(request.match_info["bid"], userid, config.secret))
    principals = tuple(principals_of(userid))
    since = since_of(request)
    # The default bucket is the caller's own, readable even before the API creates it.
    owns_bucket = request.match_info["bid"] == "default"
    if not owns_bucket:
        allowed = await asyncio.to_thread(hub.checker, [(principals, target.uri)])
        if not allowed.get((principals, target.uri)):
            raise refuse(userid, target.uri)
    subscriber = Subscriber(target, principals, config.queue_size, owns_bucket, request.remote)
    ws = web.WebSocketResponse(heartbeat=config.keepalive_seconds)
    transport = "websocket" if ws.can_prepare(request).ok else "sse"
    hub.subscribe(subscriber)
    hub.metrics.connected(transport)
    try:
        if since is None:  # from now: not from wherever the hub's reader is
            subscriber.sent_up_to = await hub.now()
        if transport == "websocket":
            return await serve_websocket(request, ws, subscriber, since)
        return await serve_sse(request, subscriber, since)
    finally:
        hub.unsubscribe(subscriber)
        ended = subscriber.ended["error"] if subscriber.ended else "disconnected"
        hub.metrics.disconnected(transport, ended)


async def replay_into(hub: Hub, subscriber: Subscriber, since: Position | None, send: Any) -> None:
    """Send the retained events after ``since``; the live ones it covers are then skipped."""
    if since is None:
        return
    subscriber.sent_up_to = since
    try:
        async for event in hub.replay(since):
            if subscriber.target.wants(event):
                await send([event])
            subscriber.sent_up_to = event.position
    except OutsideWindow as error:
        subscriber.end("outside_window", f"{error}: resync with _since, then subscribe from now")


async def serve_sse(
    request: web.Request, subscriber: Subscriber, since: Position | None
) -> web.StreamResponse:
    hub = request.app[HUB]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    response.force_close()  # a stream that ended closes its connection: no keep-alive
    await response.prepare(request)
    writer = Writer(request)

    async def send(batch: list[Any]) -> None:
        await writer.write(response.write, batch[0].sse if len(batch) == 1 else sse_of(batch))

    try:
        await writer.write(response.write, b": subscribed\n\n")
        await replay_into(hub, subscriber, since, send)
        while subscriber.ended is None:
            batch = await subscriber.next_batch()
            if batch:
                await send(batch)
            elif subscriber.ended is None:
                await writer.write(response.write, b": keep-alive\n\n")
    except ConnectionError:
        return response  # the client left
    except TimeoutError:
        writer.stuck(subscriber)
    assert subscriber.ended is not None
    frame = f"event: error\ndata: {json.dumps(subscriber.ended)}\n\n".encode()

    async def final() -> None:
        await response.write(frame)
        await response.write_eof()

    await writer.last(final)
    return response


def sse_of(batch: list[Any]) -> bytes:
    return b"".join([event.sse for event in batch])


class Writer:
    """Writes to one connection, and drops it when the client stops reading.

    aiohttp's writes wait only when the transport's buffer is over its
    high-water mark.  A write that cannot reach it (the buffer empty, the
    data no larger than the mark) cannot wait, so it needs no deadline: only
    the others get one (WRITE_TIMEOUT), which is what keeps a timer per
    delivery off the common path.
    """

    def __init__(self, request: web.Request) -> None:
        self.request = request
        self.transport = request.transport
        high = self.transport.get_write_buffer_limits()[1] if self.transport is not None else 0
        self.high_water = high

    async def write(self, write: Any, data: Any) -> None:
        transport = self.transport
        if (
            transport is not None
            and len(data) <= self.high_water
            and not transport.get_write_buffer_size()
        ):
            await write(data)
            return
        async with asyncio.timeout(WRITE_TIMEOUT):
            await write(data)

    def stuck(self, subscriber: Subscriber) -> None:
        """The client took nothing for WRITE_TIMEOUT: end the subscription as too slow."""
        subscriber.end("slow_consumer", STUCK)

    async def last(self, final: Any) -> None:
        """Send the final message and close, or abort if the client takes none of it.

        A client that stopped reading gets the final message behind what its
        socket already holds (one more small frame: the buffer stays
        bounded), and WRITE_TIMEOUT more to read it; then the connection is
        aborted, which a client sees as a reset.
        """
        try:
            async with asyncio.timeout(WRITE_TIMEOUT):
                await final()
            return
        except TimeoutError:
            log.warning(
                "push: the client %s did not read its final message within %g s: aborted",
                self.request.remote,
                WRITE_TIMEOUT,
            )
        except ConnectionError:
            pass
        if self.transport is not None:
            self.transport.abort()


async def serve_websocket(
    request: web.Request, ws: web.WebSocketResponse, subscriber: Subscriber, since: Position | None
) -> web.WebSocketResponse:
    hub = request.app[HUB]
    await ws.prepare(request)
    writer = Writer(request)

    async def send(batch: list[Any]) -> None:
        for event in batch:
            await writer.write(ws.send_str, event.ws)

    reader = asyncio.create_task(read_until_closed(ws, subscriber))
    try:
        await replay_into(hub, subscriber, since, send)
        while subscriber.ended is None:
            await send(await subscriber.next_batch())
    except ConnectionError:
        return ws
    except TimeoutError:
        writer.stuck(subscriber)
    finally:
        reader.cancel()
    assert subscriber.ended is not None
    if subscriber.ended["error"] == "closed":
        return ws
    final_message = json.dumps({"id": None, "event": "error", "data": subscriber.ended})

    async def final() -> None:
        await ws.send_str(final_message)
        await ws.close(code=1008)

    await writer.last(final)
    return ws


async def read_until_closed(ws: web.WebSocketResponse, subscriber: Subscriber) -> None:
    """Consume what the client sends (pings, close): a subscription ignores messages."""
    async for message in ws:
        if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            break
    subscriber.end("closed", "the client closed the connection")


async def heartbeat(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    ok = hub.redis_ok
    body = {"redis": ok, "subscribers": hub.subscribers, "stream": hub.stream}
    return web.json_response(body, status=200 if ok else 503)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus's text format: connections, how they ended, events and fan-out."""
    body, content_type = request.app[HUB].metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


async def console(request: web.Request) -> web.FileResponse:
    return web.FileResponse(CONSOLE / "index.html")


async def console_config(request: web.Request) -> web.Response:
    """What the console's script needs: where the API is."""
    return web.json_response({"api_url": request.app[CONFIG].api_url})


def make_app(config: PushConfig, hub: Hub, policies: BasicPolicies) -> web.Application:
    app = web.Application()
    app[CONFIG] = config
    app[HUB] = hub
    app[POLICIES] = policies
    for path in EVENTS:
        app.router.add_get(path, events)
    app.router.add_get("/__heartbeat__", heartbeat)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/console", console)
    app.router.add_get("/console/config.json", console_config)
    app.router.add_static("/console/static", CONSOLE)

    async def lifecycle(app: web.Application) -> Any:
        await hub.start()
        yield
        await hub.stop()

    async def end_streams(app: web.Application) -> None:
        # Before the server waits for its handlers: a stream would never end by itself.
        hub.end_all()

    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(end_streams)
    return app
