"""The outbox half of a PostgreSQL session: pending deliveries shared by several relays.

A claim leases rows (``next_attempt_at = now + lease``) in the transaction
that locks them with ``FOR UPDATE SKIP LOCKED``, so two relays claiming at
once never take the same row, and neither waits for the other.  A row another
relay holds counts as not due: a listener's claim stops there, as
``leading_due`` stops at its first entry that is not due, so no listener
gets an event ahead of an earlier pending one of its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from itertools import groupby
from typing import Any

from notifier.storage import OutboxEntry, OutboxStats, leading_due
from notifier.storage.postgresql.transaction import Transaction

#: The channel a relay LISTENs on in the ``public`` schema; see ``channel``.
CHANNEL = "notifier_outbox"


def channel(schema: str) -> str:
    """The channel the relays of one schema LISTEN on.

    Notifications are per database, not per schema: deployments that share a
    database in schemas of their own would otherwise wake each other's relays
    on every replay.  ``public`` keeps the plain name; another schema gets a
    suffix from its name's digest, since a channel is an identifier of at most
    63 bytes and a schema's name may not fit or need quoting.
    """
    if schema == "public":
        return CHANNEL
    return f"{CHANNEL}_{hashlib.sha1(schema.encode()).hexdigest()[:12]}"


_COLUMNS = "event_id, listener, message, seq, attempts, next_attempt_at, created_at,"
_COLUMNS += " last_error, dead"

#: Each listener's first ``limit`` pending rows.  The recursive part walks the
#: distinct listeners through the (listener, dead, seq) index, one probe each,
#: instead of scanning the whole backlog for ``SELECT DISTINCT``.
_CANDIDATES = """
WITH RECURSIVE listeners (name) AS (
    (SELECT listener FROM outbox WHERE NOT dead ORDER BY listener LIMIT 1)
    UNION ALL
    SELECT (SELECT listener FROM outbox WHERE NOT dead AND listener > name
            ORDER BY listener LIMIT 1)
    FROM listeners WHERE name IS NOT NULL
)
SELECT pending.listener, pending.seq, pending.next_attempt_at
FROM listeners CROSS JOIN LATERAL (
    SELECT listener, seq, next_attempt_at FROM outbox
    WHERE listener = listeners.name AND NOT dead ORDER BY seq LIMIT %s
) AS pending
ORDER BY pending.listener, pending.seq
"""

#: The same, for the listeners named in an array (those a relay loaded).
_CANDIDATES_OF = """
SELECT pending.listener, pending.seq, pending.next_attempt_at
FROM (SELECT DISTINCT unnest(%s::text[]) AS name) AS listeners CROSS JOIN LATERAL (
    SELECT listener, seq, next_attempt_at FROM outbox
    WHERE listener = listeners.name AND NOT dead ORDER BY seq LIMIT %s
) AS pending
ORDER BY pending.listener, pending.seq
"""


def _to_entry(row: Sequence[Any]) -> OutboxEntry:
    return OutboxEntry(*row)


class PostgreSQLOutbox(Transaction):
    """The OutboxSession methods, on the session's transaction."""

    def outbox_add(self, entries: Sequence[OutboxEntry]) -> None:
        """Insert in order; NOTIFY the relays (at commit) when an entry is due already.

        The dispatcher's entries are leased to the request that delivers them,
        so they wake no relay: a NOTIFY per write would serialise every commit
        on PostgreSQL's notification queue lock, for a relay that finds nothing.
        """
        if not entries:
            return
        self._send(
            "INSERT INTO outbox (event_id, listener, message, next_attempt_at, created_at)"
            " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[], %s::bigint[])",
            [
                [e.event_id for e in entries],
                [e.listener for e in entries],
                [e.message for e in entries],
                [e.next_attempt_at for e in entries],
                [e.created_at for e in entries],
            ],
        )
        if any(e.next_attempt_at <= e.created_at for e in entries):
            self._send(f"NOTIFY {self.storage.channel}")

    def outbox_claim(
        self, now: int, lease_ms: int, limit: int, listeners: Collection[str] | None = None
    ) -> list[OutboxEntry]:
        due = self._leading_due_seqs(now, limit, listeners)
        if not due:
            return []
        rows = self._execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE seq = ANY(%s) AND NOT dead"
            " AND next_attempt_at <= %s ORDER BY seq FOR UPDATE SKIP LOCKED",
            ([seq for seqs in due for seq in seqs], now),
        ).fetchall()
        locked = {entry.seq: entry for entry in map(_to_entry, rows)}
        claimed = []
        for seqs in due:
            for seq in seqs:
                if seq not in locked:  # another relay holds it, or it just changed
                    break
                claimed.append(locked[seq])
        if claimed:
            self._send(
                "UPDATE outbox SET next_attempt_at = %s WHERE seq = ANY(%s)",
                (now + lease_ms, [entry.seq for entry in claimed]),
            )
        return sorted(claimed, key=lambda entry: entry.seq)

    def _leading_due_seqs(
        self, now: int, limit: int, listeners: Collection[str] | None
    ) -> list[list[int]]:
        """Per listener, the seqs of its leading due entries, read without locks."""
        if listeners is None:
            candidates = self._execute(_CANDIDATES, (limit,)).fetchall()
        else:
            candidates = self._execute(_CANDIDATES_OF, (list(listeners), limit)).fetchall()
        due = []
        for _, rows in groupby(candidates, key=lambda row: row[0]):
            pending = [OutboxEntry("", name, "", seq, next_attempt_at=at) for name, seq, at in rows]
            seqs = [entry.seq for entry in leading_due(pending, now)]
            if seqs:
                due.append(seqs)
        return due

    def outbox_done(self, keys: Sequence[tuple[str, str]]) -> None:
        if keys:
            self._send(
                "DELETE FROM outbox WHERE (event_id, listener) IN"
                " (SELECT * FROM unnest(%s::text[], %s::text[]))",
                ([key[0] for key in keys], [key[1] for key in keys]),
            )

    def outbox_retry(self, key: tuple[str, str], error: str, next_attempt_at: int | None) -> None:
        self._send(
            "UPDATE outbox SET attempts = attempts + 1, last_error = %s, next_attempt_at = %s,"
            " dead = %s WHERE event_id = %s AND listener = %s",
            (error, next_attempt_at or 0, next_attempt_at is None, *key),
        )

    def outbox_release(
        self, keys: Sequence[tuple[str, str]], error: str, next_attempt_at: int
    ) -> None:
        if keys:
            self._send(
                "UPDATE outbox SET last_error = %s, next_attempt_at = %s WHERE (event_id, listener)"
                " IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
                (error, next_attempt_at, [key[0] for key in keys], [key[1] for key in keys]),
            )

    def outbox_expire(
        self, created_before: int, error: str, listeners: Collection[str] | None = None
    ) -> int:
        cursor = self._execute(
            "UPDATE outbox SET dead = true, last_error = %s WHERE NOT dead AND created_at < %s"
            " AND (%s::text[] IS NULL OR listener = ANY(%s::text[]))",
            (error, created_before, *[None if listeners is None else list(listeners)] * 2),
        )
        return cursor.rowcount

    def outbox_oldest(self) -> dict[str, int]:
        rows = self._execute(
            "SELECT listener, min(created_at) FROM outbox WHERE NOT dead GROUP BY listener"
        ).fetchall()
        return {row[0]: int(row[1]) for row in rows}

    def outbox_stats(self) -> OutboxStats:
        row = self._execute(
            "SELECT count(*) FILTER (WHERE NOT dead), min(created_at) FILTER (WHERE NOT dead),"
            " count(*) FILTER (WHERE dead) FROM outbox"
        ).fetchone()
        if row is None:  # an aggregate returns one row; this cannot happen
            return OutboxStats(backlog=0, oldest_created_at=None, dead=0)
        return OutboxStats(backlog=row[0], oldest_created_at=row[1], dead=row[2])

    def outbox_stats_by_listener(self) -> dict[str, OutboxStats]:
        rows = self._execute(
            "SELECT listener, count(*) FILTER (WHERE NOT dead),"
            " min(created_at) FILTER (WHERE NOT dead), count(*) FILTER (WHERE dead)"
            " FROM outbox GROUP BY listener"
        ).fetchall()
        return {row[0]: OutboxStats(row[1], row[2], row[3]) for row in rows}

    def outbox_pending(self, listener: str) -> int:
        row = self._execute(
            "SELECT count(*) FROM outbox WHERE listener = %s AND NOT dead", (listener,)
        ).fetchone()
        return int(row[0]) if row else 0

    def outbox_dead(self, limit: int) -> list[OutboxEntry]:
        rows = self._execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE dead ORDER BY seq LIMIT %s", (limit,)
        ).fetchall()
        return [_to_entry(row) for row in rows]

    def outbox_replay(self, listener: str | None, now: int) -> int:
        """Make dead entries pending and due now; NOTIFY the relays (at commit)."""
        cursor = self._execute(
            "UPDATE outbox SET dead = false, attempts = 0, next_attempt_at = %s"
            " WHERE dead AND (%s::text IS NULL OR listener = %s)",
            (now, listener, listener),
        )
        replayed = cursor.rowcount
        if replayed:
            self._send(f"NOTIFY {self.storage.channel}")
        return replayed

    def outbox_purge(self, listener: str | None) -> int:
        cursor = self._execute(
            "DELETE FROM outbox WHERE dead AND (%s::text IS NULL OR listener = %s)",
            (listener, listener),
        )
        return cursor.rowcount
