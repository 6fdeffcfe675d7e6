"""The outbox half of a SQLite session, and the statement helpers both halves use."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from typing import Any

from notifier.storage import OutboxEntry, OutboxStats, StorageError, leading_due


def _to_entry(row: sqlite3.Row) -> OutboxEntry:
    return OutboxEntry(
        event_id=row["event_id"],
        listener=row["listener"],
        message=row["message"],
        seq=row["seq"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        created_at=row["created_at"],
        last_error=row["last_error"],
        dead=bool(row["dead"]),
    )


class SQLiteOutbox:
    """Statement helpers and the outbox methods of a SQLite session."""

    db: sqlite3.Connection

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self.db.execute(sql, params)
        except sqlite3.OperationalError as error:
            raise StorageError(f"sqlite: {error}") from error

    def outbox_add(self, entries: Sequence[OutboxEntry]) -> None:
        rows = [
            (e.event_id, e.listener, e.message, e.next_attempt_at, e.created_at) for e in entries
        ]
        self._execute_many(
            "INSERT INTO outbox (event_id, listener, message, next_attempt_at, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )

    def _execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self.db.executemany(sql, rows)
        except sqlite3.OperationalError as error:
            raise StorageError(f"sqlite: {error}") from error

    def outbox_claim(
        self, now: int, lease_ms: int, limit: int, listeners: Collection[str] | None = None
    ) -> list[OutboxEntry]:
        if listeners is None:
            sql = "SELECT DISTINCT listener FROM outbox WHERE dead = 0"
            listeners = [row[0] for row in self._execute(sql)]
        claimed: list[OutboxEntry] = []
        for listener in sorted(set(listeners)):
            rows = self._execute(
                "SELECT * FROM outbox WHERE listener = ? AND dead = 0 ORDER BY seq LIMIT ?",
                (listener, limit),
            ).fetchall()
            claimed.extend(leading_due([_to_entry(row) for row in rows], now))
        self._execute_many(
            "UPDATE outbox SET next_attempt_at = ? WHERE seq = ?",
            [(now + lease_ms, entry.seq) for entry in claimed],
        )
        return sorted(claimed, key=lambda entry: entry.seq)

    def outbox_done(self, keys: Sequence[tuple[str, str]]) -> None:
        self._execute_many("DELETE FROM outbox WHERE event_id = ? AND listener = ?", keys)

    def outbox_retry(self, key: tuple[str, str], error: str, next_attempt_at: int | None) -> None:
        self._execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
            " dead = ? WHERE event_id = ? AND listener = ?",
            (error, next_attempt_at or 0, int(next_attempt_at is None), *key),
        )

    def outbox_release(
        self, keys: Sequence[tuple[str, str]], error: str, next_attempt_at: int
    ) -> None:
        self._execute_many(
            "UPDATE outbox SET last_error = ?, next_attempt_at = ?"
            " WHERE event_id = ? AND listener = ?",
            [(error, next_attempt_at, *key) for key in keys],
        )

    def outbox_expire(
        self, created_before: int, error: str, listeners: Collection[str] | None = None
    ) -> int:
        sql = "UPDATE outbox SET dead = 1, last_error = ? WHERE dead = 0 AND created_at < ?"
        params: list[Any] = [error, created_before]
        if listeners is not None:
            sql += f" AND listener IN ({', '.join('?' * len(listeners))})"
            params.extend(listeners)
        return int(self._execute(sql, params).rowcount)

    def outbox_oldest(self) -> dict[str, int]:
        rows = self._execute(
            "SELECT listener, min(created_at) FROM outbox WHERE dead = 0 GROUP BY listener"
        )
        return {row[0]: int(row[1]) for row in rows}

    def outbox_stats(self) -> OutboxStats:
        row = self._execute(
            "SELECT sum(dead = 0), min(CASE WHEN dead = 0 THEN created_at END), sum(dead)"
            " FROM outbox"
        ).fetchone()
        return OutboxStats(backlog=row[0] or 0, oldest_created_at=row[1], dead=row[2] or 0)

    def outbox_stats_by_listener(self) -> dict[str, OutboxStats]:
        rows = self._execute(
            "SELECT listener, sum(dead = 0), min(CASE WHEN dead = 0 THEN created_at END),"
            " sum(dead) FROM outbox GROUP BY listener"
        )
        return {row[0]: OutboxStats(row[1] or 0, row[2], row[3] or 0) for row in rows}

    def outbox_pending(self, listener: str) -> int:
        row = self._execute(
            "SELECT count(*) FROM outbox WHERE listener = ? AND dead = 0", (listener,)
        ).fetchone()
        return int(row[0])

    def outbox_dead(self, limit: int) -> list[OutboxEntry]:
        rows = self._execute("SELECT * FROM outbox WHERE dead = 1 ORDER BY seq LIMIT ?", (limit,))
        return [_to_entry(row) for row in rows]

    def outbox_replay(self, listener: str | None, now: int) -> int:
        cursor = self._execute(
            "UPDATE outbox SET dead = 0, attempts = 0, next_attempt_at = ?"
            " WHERE dead = 1 AND (? IS NULL OR listener = ?)",
            (now, listener, listener),
        )
        return int(cursor.rowcount)

    def outbox_purge(self, listener: str | None) -> int:
        cursor = self._execute(
            "DELETE FROM outbox WHERE dead = 1 AND (? IS NULL OR listener = ?)",
            (listener, listener),
        )
        return int(cursor.rowcount)
