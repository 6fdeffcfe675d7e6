"""``notifier queue``: look into a Redis queue and manage its dead letters.

    notifier queue [depth] [INI] [--watch]
    notifier queue inflight [INI]
    notifier queue workers [INI]
    notifier queue dead list [INI] [--start N] [--count N]
    notifier queue dead replay [INI] [--count N]
    notifier queue dead purge [INI] [--count N] [--yes]

The queue is the INI's Redis listener (``--listener``, ``redis`` by default)
or ``--url``/``--listname``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import click
import redis

from notifier.cli.common import (
    DefaultGroup,
    confirm,
    ini_argument,
    progress,
    traceback_option,
    yes_option,
)
from notifier.cli.source import Source, resolve_source, source_options, unreachable
from notifier.cli.watch import Sample, watch, watch_options
from notifier.queue import protocol as queue

#: Dead letters moved per Redis call, so a long replay or purge shows its progress.
CHUNK = 500


def depth_figures(client: redis.Redis, listname: str) -> dict[str, Any]:
    """Queued, delayed, dead, in flight, live workers, and the age of the oldest queued event."""
    keys = queue.QueueKeys(listname)
    oldest = client.lindex(keys.queue, 0)
    age = None
    if oldest is not None:
        timestamp = json.loads(oldest).get("timestamp")
        age = max(0.0, time.time() - timestamp / 1000) if isinstance(timestamp, int) else None
    return {
        "queued": queue.depth(client, listname),
        "delayed": queue.delayed_count(client, listname),
        "dead": queue.dead_count(client, listname),
        "inflight": sum(queue.inflight(client, listname).values()),
        "workers": len(queue.live_workers(client, listname)),
        "oldest_age_s": None if age is None else round(age, 1),
    }


def replay(client: redis.Redis, listname: str, count: int | None) -> int:
    """Move dead letters (oldest first, all when ``count`` is None) back on the queue."""
    return _in_chunks("replaying", client, listname, count, queue.replay_dead)


def purge(client: redis.Redis, listname: str, count: int | None) -> int:
    """Delete dead letters (oldest first, all when ``count`` is None)."""
    return _in_chunks("purging", client, listname, count, queue.purge_dead)


def _in_chunks(
    label: str,
    client: redis.Redis,
    listname: str,
    count: int | None,
    step: Callable[[redis.Redis, str, int | None], int],
) -> int:
    available = int(client.llen(queue.QueueKeys(listname).dead))
    total = available if count is None else min(count, available)
    done = 0
    with progress(f"{label} dead letters", total) as advance:
        while done < total:
            moved = step(client, listname, min(CHUNK, total - done))
            if moved == 0:
                break  # another process emptied the list meanwhile
            done += moved
            advance(moved)
    return done


def run(source: Source, action: Callable[[redis.Redis], Any]) -> Any:
    """``action(client)``; a Redis that does not answer is one line naming its URL."""
    client = source.client()
    try:
        return action(client)
    except redis.RedisError as error:
        raise unreachable(source, error) from None
    finally:
        client.close()


def queue_command(name: str, help: str) -> Callable[[Callable[..., Any]], click.Command]:
    """A subcommand taking [INI] and the source options, called with a ``Source``."""

    def decorate(function: Callable[..., Any]) -> click.Command:
        def callback(
            ini: str, listener: str, url: str | None, listname: str | None, **options: Any
        ) -> Any:
            return function(resolve_source(ini, listener, url, listname), **options)

        callback.__doc__ = help
        return click.command(name, help=help)(
            ini_argument(source_options(traceback_option(callback)))
        )

    return decorate


@click.group("queue", cls=DefaultGroup, default="depth")
def group() -> None:
    """A Redis queue: depth, in-flight messages, workers, dead letters."""


@watch_options
@queue_command("depth", "Queued, delayed, dead and in-flight messages, workers, oldest age.")
def depth(source: Source, watch_seconds: float | None) -> None:
    if watch_seconds is None:
        for name, value in run(source, lambda c: depth_figures(c, source.listname)).items():
            click.echo(f"{name} {value}")
        return
    watch(
        source.describe(),
        lambda: Sample(run(source, lambda c: depth_figures(c, source.listname))),
        watch_seconds,
        rates=("queued", "dead"),
    )


@queue_command("inflight", "Claimed, unacknowledged messages per worker.")
def inflight(source: Source) -> None:
    for worker, count in run(source, lambda c: queue.inflight(c, source.listname)).items():
        click.echo(f"{worker} {count}")


@queue_command("workers", "Workers with a live heartbeat.")
def workers(source: Source) -> None:
    for worker, info in run(source, lambda c: queue.live_workers(c, source.listname)).items():
        click.echo(f"{worker} {json.dumps(info, sort_keys=True)}")


@group.group("dead")
def dead() -> None:
    """The dead-letter list."""


@click.option("--start", type=click.IntRange(0), default=0, show_default=True)
@click.option("--count", type=click.IntRange(1), default=100, show_default=True)
@queue_command("list", "Print dead letters as JSON lines, oldest first.")
def dead_list(source: Source, start: int, count: int) -> None:
    for letter in run(source, lambda c: queue.dead_letters(c, source.listname, start, count)):
        click.echo(letter.to_json())


@click.option("--count", type=click.IntRange(1), help="The oldest N only (default all).")
@queue_command("replay", "Push dead letters' messages back on the queue.")
def dead_replay(source: Source, count: int | None) -> None:
    click.echo(f"replayed {run(source, lambda c: replay(c, source.listname, count))}")


@yes_option
@click.option("--count", type=click.IntRange(1), help="The oldest N only (default all).")
@queue_command("purge", "Delete dead letters.")
def dead_purge(source: Source, count: int | None, yes: bool) -> None:
    how_many = "all dead letters" if count is None else f"the oldest {count} dead letters"
    confirm(f"delete {how_many} of {source.describe()}?", yes)
    click.echo(f"purged {run(source, lambda c: purge(c, source.listname, count))}")


for _command in (depth, inflight, workers):
    group.add_command(_command)
for _command in (dead_list, dead_replay, dead_purge):
    dead.add_command(_command)
