"""Bench subscribers in processes of their own, cheap enough not to be the bottleneck.

Each process holds a share of the SSE connections on raw asyncio protocols
(HTTP/1.0, so no chunked framing), and reads only what a latency needs: the
``id:`` line of each frame, whose millisecond part is Redis's clock at XADD.
A frame's latency is the wall-clock time of the read that completed its
``id:`` line minus that: XADD -> receive, on one machine's clock
(CLOCK_REALTIME, shared by every process).  Latencies go into a histogram of
1 ms buckets, so a delivery costs the client one find, one int() and one
increment.  The parent drives the processes over pipes: connect, report
(and reset), stop.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

MARK = b"\nid: "
BUCKETS = 60_000  # 1 ms buckets: one minute; later arrivals count in the last


class SSEProtocol(asyncio.Protocol):
    """One subscription: counts frames and records each one's latency."""

    def __init__(self, request: bytes, stats: Stats) -> None:
        self.request = request
        self.stats = stats
        self.tail = b""
        self.headed = False
        self.frames = 0
        self.last: tuple[int, int] = (0, 0)
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False

    def connection_made(self, transport: Any) -> None:
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now_ms = time.time() * 1000
        data = self.tail + data
        if not self.headed:
            end = data.find(b": subscribed\n")
            if end < 0:
                self.tail = data
                return
            if b" 200 " not in data[:20]:
                self.ready.set_exception(RuntimeError(data[:200].decode(errors="replace")))
                return
            self.headed = True
            self.ready.set_result(None)
            data = data[end + 12 :]  # keep the "\n" that ends the comment line
        start, hist, errors = 0, self.stats.hist, data.find(b"\nevent: error\n")
        while (at := data.find(MARK, start)) >= 0:
            end = data.find(b"\n", at + 5)
            if end < 0:
                break
            ms, _, seq = data[at + 5 : end].partition(b"-")
            position = (int(ms), int(seq))
            if position <= self.last:
                self.stats.out_of_order += 1
            self.last = position
            self.frames += 1
            hist[min(BUCKETS - 1, max(0, int(now_ms - position[0])))] += 1
            start = end
        else:
            at = max(start, len(data) - 4)  # a marker cut by the read
        self.tail = data[at:]
        if errors >= 0:
            self.stats.errors += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before subscribing"))


@dataclass
class Stats:
    hist: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    errors: int = 0
    out_of_order: int = 0


async def serve_commands(pipe: Connection, host: str, port: int, path: str) -> None:
    """Obey the parent: ("connect", n), ("report",), ("stop",)."""
    loop = asyncio.get_running_loop()
    request = f"GET {path} HTTP/1.0\r\nAccept: text/event-stream\r\n\r\n".encode()
    stats, protocols, transports = Stats(), [], []
    gate = asyncio.Semaphore(100)

    async def one() -> None:
        async with gate:
            transport, protocol = await loop.create_connection(
                lambda: SSEProtocol(request, stats), host, port
            )
            transports.append(transport)
            protocols.append(protocol)
            await asyncio.wait_for(protocol.ready, 60)

    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command[0] == "connect":
            await asyncio.wait_for(asyncio.gather(*(one() for _ in range(command[1]))), 600)
            pipe.send(len(protocols))
        elif command[0] == "report":
            usage = resource.getrusage(resource.RUSAGE_SELF)
            pipe.send(
                {
                    "hist": stats.hist,
                    "frames": [p.frames for p in protocols],
                    "errors": stats.errors,
                    "out_of_order": stats.out_of_order,
                    "closed": sum(p.closed for p in protocols),
                    "cpu_seconds": usage.ru_utime + usage.ru_stime,
                }
            )
            stats.hist = [0] * BUCKETS
        else:
            for transport in transports:
                transport.close()
            pipe.send("stopped")
            return


def client_main(pipe: Connection, host: str, port: int, path: str) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve_commands(pipe, host, port, path))
        return
    uvloop.run(serve_commands(pipe, host, port, path))


class Clients:
    """``processes`` client processes holding ``count`` subscriptions between them."""

    def __init__(self, processes: int, host: str, port: int, path: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes = []
        for _ in range(processes):
            parent, child = context.Pipe()
            process = context.Process(target=client_main, args=(child, host, port, path))
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)

    def connect(self, count: int) -> int:
        shares = [
            count // len(self.pipes) + (n < count % len(self.pipes)) for n in range(len(self.pipes))
        ]
        for pipe, share in zip(self.pipes, shares, strict=True):
            pipe.send(("connect", share))
        return sum(pipe.recv() for pipe in self.pipes)

    def report(self) -> dict[str, Any]:
        """Merged since the last report: histogram, frames per subscriber, errors, client CPU."""
        for pipe in self.pipes:
            pipe.send(("report",))
        parts = [pipe.recv() for pipe in self.pipes]
        return {
            "hist": [sum(column) for column in zip(*(p["hist"] for p in parts), strict=True)],
            "frames": [n for p in parts for n in p["frames"]],
            "errors": sum(p["errors"] for p in parts),
            "out_of_order": sum(p["out_of_order"] for p in parts),
            "closed": sum(p["closed"] for p in parts),
            "cpu_seconds": sum(p["cpu_seconds"] for p in parts),
        }

    def close(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send(("stop",))
                pipe.recv()
            except (OSError, EOFError):
                pass
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.kill()


def percentile(hist: list[int], share: float) -> float | None:
    """The ``share`` quantile of a 1 ms histogram, in ms (the bucket's upper edge)."""
    total = sum(hist)
    if not total:
        return None
    rank, seen = share * total, 0
    for ms, count in enumerate(hist):
        seen += count
        if seen >= rank:
            return float(ms + 1)
    return float(len(hist))
