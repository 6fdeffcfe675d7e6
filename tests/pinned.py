"""HTTP connections to a multi-process server, each known to be served by a given child.

Children of ``notifier serve --processes N`` share one listening socket and
the kernel picks who accepts; a test that checks "written through one
process, seen by the other" must know which child holds a connection.  On
Linux, /proc/net/tcp maps the server side of a connection (its two ports) to
a socket inode, and /proc/PID/fd shows which process holds that inode.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from email.message import Message
from pathlib import Path
from typing import Any

from tests.conftest import ALICE


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is ``pid``."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"PPid:\t{pid}\n" in text and "State:\tZ" not in text:
            found.append(int(status.parent.name))
    return sorted(found)


def app_processes(pid: int) -> list[int]:
    """The children of ``pid`` that serve the app (``serve --listen-fd``), not its workers."""
    found = []
    for child in children_of(pid):
        try:
            if b"--listen-fd" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in text


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[len("socket:[") : -1])
    return inodes


def _server_inode(server_port: int, client_port: int) -> str | None:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == server_port and (
            int(remote.split(":")[1], 16) == client_port
        ):
            return inode
    return None


class Pinned:
    """A keep-alive connection, and the pid of the child that serves it."""

    def __init__(self, port: int, children: list[int]) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.request("GET", "/v1/")  # accepted by now: a child holds the other end
        client_port = self.connection.sock.getsockname()[1]
        inode = _server_inode(port, client_port)
        owners = [pid for pid in children if inode is not None and inode in _socket_inodes(pid)]
        self.pid = owners[0] if len(owners) == 1 else 0

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Message, Any]:
        """(status, headers (any case), JSON body) of one request as alice."""
        sent = {**ALICE, "Content-Type": "application/json", **(headers or {})}
        payload = None if body is None else json.dumps(body)
        self.connection.request(method, path, payload, sent)
        response = self.connection.getresponse()
        raw = response.read()
        return response.status, response.headers, json.loads(raw) if raw else None

    def close(self) -> None:
        self.connection.close()


def pinned(port: int, children: list[int], per_child: int, timeout: float = 60) -> list[Pinned]:
    """``per_child`` connections to each child, in the order of ``children``."""
    found: dict[int, list[Pinned]] = {pid: [] for pid in children}
    deadline = time.monotonic() + timeout
    while any(len(held) < per_child for held in found.values()):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {per_child} connection(s) to each of {children}: {found}")
        connection = Pinned(port, children)
        if connection.pid and len(found[connection.pid]) < per_child:
            found[connection.pid].append(connection)
        else:
            connection.close()
    return [connection for pid in children for connection in found[pid]]
