"""Redis URLs: the accepted schemes, redaction for logs, and client factories.

Shared by the Redis listener, the worker runtime and the queue CLI, so that
all three accept the same URLs and never print a password.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from notifier.settings import SettingsError

SCHEMES = ("redis", "rediss", "unix")


def check_url(key: str, url: str) -> str:
    """Return ``url`` if its scheme is one Redis accepts, else raise SettingsError."""
    scheme = urlsplit(url).scheme
    if scheme not in SCHEMES:
        accepted = ", ".join(f"{name}://" for name in SCHEMES)
        raise SettingsError(key, f"expected a Redis URL starting with {accepted}", redact(url))
    return url


def redact(url: str) -> str:
    """The URL with any password (userinfo or ``?password=``) replaced by ***."""
    url = re.sub(r"([?&]password=)[^&#]*", r"\1***", url)
    parts = urlsplit(url)
    if parts.password is None and not parts.username:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username or ''}:" if parts.password is not None else ""
    netloc = f"{user}***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def connect(
    url: str,
    *,
    socket_timeout: float,
    pool_size: int = 10,
    pool_timeout: float = 5.0,
    retries: int = 1,
) -> redis.Redis:
    """A client on a blocking pool: waits ``pool_timeout`` for a free connection.

    ``retries`` immediate retries (no backoff) cover a pooled connection that
    went stale when Redis restarted; callers own any longer retry policy, so
    the redis-py default (several retries with second-long backoffs) is off.
    A retried command may have run once already (its reply was lost): workers
    use ``retries=0`` so that they see the error and recover their claims.
    """
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=pool_size,
        timeout=pool_timeout,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout,
        retry=Retry(NoBackoff(), retries),
    )
    return redis.Redis(connection_pool=pool)
