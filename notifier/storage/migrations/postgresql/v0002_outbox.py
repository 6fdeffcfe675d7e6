"""The outbox: pending deliveries, one row per event and listener.

``seq`` (a bigserial) is the outbox order a listener's deliveries keep;
``(listener, dead, seq)`` serves a relay's "this listener's pending entries,
oldest first" without sorting the table.  Timestamps are epoch milliseconds,
as ``last_modified`` is, and ``message`` is the event's JSON text, handed
back unchanged.
"""

SQL = """
CREATE TABLE outbox (
    seq BIGSERIAL PRIMARY KEY,
    event_id TEXT COLLATE "C" NOT NULL,
    listener TEXT COLLATE "C" NOT NULL,
    message TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_error TEXT,
    dead BOOLEAN NOT NULL DEFAULT false,
    UNIQUE (event_id, listener)
);
CREATE INDEX outbox_by_listener ON outbox (listener, dead, seq);
"""
