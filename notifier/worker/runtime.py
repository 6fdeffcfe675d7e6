"""The threads of a running worker and the supervisor that keeps the queue tidy.

Each thread owns one worker id and its processing list.  The main thread
heartbeats for all of them, reaps dead workers, promotes due retries, reports
progress and turns signals into a warm or a cold stop.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

import redis

from notifier.delivery.events import ResourceChanged
from notifier.delivery.outcomes import Rejected
from notifier.logs.context import request_id_scope
from notifier.queue.connection import connect, redact
from notifier.queue.protocol import QueueKeys, utcnow
from notifier.retry import backoff_delay
from notifier.worker.config import WorkerConfig
from notifier.worker.consumer import Consumer, heartbeat_info
from notifier.worker.housekeeping import heartbeat, promote_due, reap, unregister
from notifier.worker.status import JobObserver, NoObserver, StatusReporter, WorkerStats

log = logging.getLogger(__name__)

#: The longest the supervisor waits before acting on a signal it was sent.
SIGNAL_TICK = 0.1

Handler = Callable[[ResourceChanged], None]


class Runtime:
    """The state one ``run`` shares between its consumer threads and its supervisor."""

    def __init__(
        self,
        handler: Handler,
        config: WorkerConfig,
        status: StatusReporter,
        observer: JobObserver | None = None,
    ) -> None:
        self.handler = handler
        self.config = config
        self.status = status
        self.observer = NoObserver() if observer is None else observer
        self.warm = threading.Event()
        self.cold = threading.Event()
        self.wake = threading.Event()
        self._signals: list[int] = []
        self.stats = WorkerStats()
        self.keys = QueueKeys(config.listname)
        self.name = f"{config.listname}@{redact(config.redis_url)}"
        self.client = connect(
            config.redis_url,
            socket_timeout=config.read_timeout,
            pool_size=config.concurrency + 2,
            pool_timeout=config.read_timeout,
            retries=0,
        )
        base = f"{socket.gethostname()}.{os.getpid()}.{secrets.token_hex(3)}"
        self.consumers = [
            Consumer(self.client, self.keys, f"{base}.{number}", config.retry)
            for number in range(config.concurrency)
        ]
        self.worker_ids = [consumer.worker_id for consumer in self.consumers]
        self.info = heartbeat_info(os.getpid(), socket.gethostname(), utcnow())

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Note the signal; the supervisor acts on it within ``SIGNAL_TICK``.

        A handler runs in the main thread between two bytecodes, possibly inside
        ``Event.wait`` while it holds that event's lock: setting an event from
        here deadlocked a worker whose parent had died, and no later signal
        could stop it.  ``list.append`` takes no lock.
        """
        self._signals.append(signum)

    def _act_on_signals(self) -> None:
        while self._signals:
            self._stop_for(self._signals.pop(0))

    def _stop_for(self, signum: int) -> None:
        if not self.warm.is_set():
            log.warning(
                "worker %s: %s, finishing the current message (again to stop at once)",
                self.name,
                signal.Signals(signum).name,
            )
            self.warm.set()
        else:
            log.warning("worker %s: %s again, stopping now", self.name, signal.Signals(signum).name)
            self.cold.set()

    def _rest(self, event: threading.Event, seconds: float) -> None:
        """The supervisor's wait: until ``event`` or ``seconds``, acting on signals meanwhile."""
        deadline = time.monotonic() + seconds
        self._act_on_signals()
        while not event.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            event.wait(min(SIGNAL_TICK, remaining))
            self._act_on_signals()

    def run(self) -> WorkerStats:
        log.info(
            "worker %s: %d thread(s), batch %d%s",
            self.name,
            self.config.concurrency,
            self.config.batch_size,
            ", burst" if self.config.burst else "",
        )
        if not self._register():
            return self._finish()
        self.observer.running(True)
        due = {"beat": 0.0, "reap": 0.0, "status": time.monotonic() + self.status.interval}
        self._housekeeping(due)  # reap first: a dead predecessor's messages are the oldest
        threads = [
            threading.Thread(
                target=self._serve, args=(consumer,), daemon=True, name=f"notifier-worker-{number}"
            )
            for number, consumer in enumerate(self.consumers)
        ]
        for thread in threads:
            thread.start()
        self._supervise(threads, due)
        if self.cold.is_set():
            self._give_back_all()
        return self._finish()

    def _register(self) -> bool:
        """Heartbeat before the first claim, so no processing list is ever unowned."""
        outage = 0
        while not self.warm.is_set():
            try:
                heartbeat(
                    self.client, self.keys, self.worker_ids, self.info, self.config.heartbeat_ttl
                )
                return True
            except redis.RedisError as error:
                outage += 1
                self._rest(self.warm, self._redis_pause(error, outage))
        return False

    def _supervise(self, threads: Sequence[threading.Thread], due: dict[str, float]) -> None:
        """Heartbeat, reap, promote due retries and report, until the threads stop."""
        tick = min(0.5, self.config.heartbeat_ttl / 3)
        while any(thread.is_alive() for thread in threads) and not self.cold.is_set():
            self._housekeeping(due)
            self._rest(self.wake, tick)
            self.wake.clear()

    def _housekeeping(self, due: dict[str, float]) -> None:
        now = time.monotonic()
        try:
            if now >= due["beat"]:
                heartbeat(
                    self.client, self.keys, self.worker_ids, self.info, self.config.heartbeat_ttl
                )
                due["beat"] = now + self.config.heartbeat_ttl / 3
            if now >= due["reap"]:
                reap(self.client, self.keys, self.worker_ids, self.config.retry.max_attempts)
                due["reap"] = now + self.config.heartbeat_ttl / 2
            promote_due(self.client, self.keys)
            if now >= due["status"]:
                self.status.report(self.name, self.stats, int(self.client.llen(self.keys.queue)))
                due["status"] = now + self.status.interval
        except redis.RedisError as error:
            log.warning(
                "worker %s: housekeeping failed, redis at %s: %s",
                self.name,
                redact(self.config.redis_url),
                error,
            )

    def _serve(self, consumer: Consumer) -> None:
        """One thread: claim, handle, acknowledge; ride out Redis outages."""
        timeout = None if self.config.burst else self.config.block_timeout
        outage = 0
        try:
            while not self.warm.is_set():
                try:
                    if outage:
                        self._recover(consumer)
                    batch = consumer.claim(self.config.batch_size, timeout)
                    if not batch and self.config.burst and self._drained():
                        return
                except redis.RedisError as error:
                    outage += 1
                    self.warm.wait(self._redis_pause(error, outage))
                    continue
                if outage:
                    log.info("worker %s: redis is back", consumer.worker_id)
                    outage = 0
                if batch:
                    self._handle(consumer, batch)
        finally:
            self.wake.set()

    def _recover(self, consumer: Consumer) -> None:
        """After an outage: a claim whose reply was lost left messages we never saw.

        Between batches this thread holds nothing, so whatever its processing
        list holds goes back to the queue's head.
        """
        moved = consumer.requeue_all()
        if moved:
            self.stats.add(requeued=moved)
            log.warning(
                "worker %s: gave back %d message(s) claimed while redis went away",
                consumer.worker_id,
                moved,
            )

    def _handle(self, consumer: Consumer, batch: Sequence[bytes]) -> None:
        """Handle a claimed batch in order; acknowledge the successes together."""
        done: list[bytes] = []
        for index, message in enumerate(batch):
            if index and self.warm.is_set():
                rest = list(batch[index:])
                self._settle(consumer.requeue, rest)
                self.stats.add(requeued=len(rest))
                break
            event, problem = self._parse(message)
            # Every line about this job, the handler's own included, names its request.
            with request_id_scope(event.request_id if event else None):
                error: str | None = problem
                permanent = True
                if event is not None:
                    started = time.perf_counter()
                    error, permanent = self._call(event)
                    self.observer.handled(time.perf_counter() - started)
                if error is None:
                    done.append(message)
                elif permanent:
                    if self._applied(consumer.bury, message, error, 1):
                        self.observer.settled("dead", 1)
                    self.stats.add(failed=1, dead=1)
                else:
                    self._fail(consumer, message, error)
        if self._applied(consumer.ack, done) and done:
            self.observer.settled("ok", len(done))
        self.stats.add(processed=len(done))

    def _parse(self, message: bytes) -> tuple[ResourceChanged | None, str]:
        """The event of a queue message, or None and why it is not one (to dead-letter)."""
        try:
            return ResourceChanged.from_json(message), ""
        except ValueError as error:
            log.error("worker %s: not an event message, dead-lettered: %s", self.name, error)
            return None, f"not an event message: {error}"

    def _call(self, event: ResourceChanged) -> tuple[str | None, bool]:
        """Run the handler: (None, False) on success, else (error text, permanent?).

        Each outcome's line names the event and the request that made it.
        """
        started = time.perf_counter()
        request = event.request_id or "-"
        try:
            self.handler(event)
        except Rejected as error:
            log.error(
                "worker %s: event %s (request %s) rejected, dead-lettered: %s",
                self.name,
                event.event_id,
                request,
                error,
            )
            return f"rejected: {error}", True
        except Exception as error:
            log.warning(
                "worker %s: handler failed on event %s (request %s)",
                self.name,
                event.payload.get("event_id"),
                request,
                exc_info=True,
            )
            return "".join(traceback.format_exception_only(error)).strip(), False
        log.info(
            "worker %s: event %s (request %s) handled in %.1fms",
            self.name,
            event.event_id,
            request,
            (time.perf_counter() - started) * 1000,
        )
        return None, False

    def _fail(self, consumer: Consumer, message: bytes, error: str) -> None:
        outcome = self._settle(consumer.fail, message, error)
        self.stats.add(failed=1, dead=1 if outcome and outcome.dead else 0)
        if outcome is None:
            return
        self.observer.settled("dead" if outcome.dead else "retry", 1)
        if outcome.dead:
            log.error(
                "worker %s: message dead-lettered after %d attempts: %s",
                self.name,
                outcome.attempts,
                error,
            )
        else:
            log.info(
                "worker %s: attempt %d failed, retrying in %.1fs",
                self.name,
                outcome.attempts,
                outcome.delay,
            )

    def _settle(self, step: Callable[..., Any], *args: Any) -> Any:
        """Run a queue step until Redis takes it; give up only on a cold stop."""
        outage = 0
        while not self.cold.is_set():
            try:
                return step(*args)
            except redis.RedisError as error:
                outage += 1
                self.cold.wait(self._redis_pause(error, outage))
        return None

    def _applied(self, step: Callable[..., None], *args: Any) -> bool:
        """``_settle`` a step that returns nothing: False when a cold stop gave it up."""

        def applied() -> bool:
            step(*args)
            return True

        return bool(self._settle(applied))

    def _drained(self) -> bool:
        """Burst mode: True when nothing is queued and no retry is pending."""
        promote_due(self.client, self.keys)
        with self.client.pipeline(transaction=False) as pipe:
            pipe.llen(self.keys.queue)
            pipe.zcard(self.keys.delayed)
            queued, delayed = pipe.execute()
        if queued == 0 and delayed > 0:
            # Wait for the earliest retry, polling at least every 0.1 s (never spinning).
            self.warm.wait(max(0.001, min(0.1, self.config.retry.backoff_base)))
        return bool(queued == 0 and delayed == 0)

    def _redis_pause(self, error: Exception, outage: int) -> float:
        """Log the outage; return how long to wait before trying Redis again."""
        delay = backoff_delay(outage, 0.2, self.config.redis_retry_max)
        log.warning(
            "worker %s: redis unavailable (%s: %s), retry %d in %.1fs",
            self.name,
            type(error).__name__,
            error,
            outage,
            delay,
        )
        return delay

    def _give_back_all(self) -> None:
        """Cold stop: every claimed message back to the queue's head."""
        self.stats.cold = True
        for consumer in self.consumers:
            try:
                moved = consumer.requeue_all()
            except redis.RedisError as error:
                log.error(
                    "worker %s: could not give back %s's messages (%s); the reaper will",
                    self.name,
                    consumer.worker_id,
                    error,
                )
                continue
            self.stats.add(requeued=moved)
            if moved:
                log.warning("worker %s: gave %d message(s) back to the queue", self.name, moved)

    def _finish(self) -> WorkerStats:
        self.observer.running(False)
        try:
            unregister(self.client, self.keys, self.worker_ids)
        except redis.RedisError as error:
            log.warning(
                "worker %s: could not unregister (%s); heartbeats will expire", self.name, error
            )
        self.stats.stopped = time.monotonic()
        self.status.finish(self.name, self.stats)
        return self.stats

    def close(self) -> None:
        self.client.close()
        self.client.connection_pool.disconnect()
