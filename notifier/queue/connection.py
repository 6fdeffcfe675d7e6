"""Redis URLs: the accepted schemes, redaction for logs, and client factories.

Shared by the Redis listener, the worker runtime and the queue CLI, so that
all three accept the same URLs and never print a password.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from notifier.settings import Section, SettingsError, suggestion

SCHEMES = ("redis", "rediss", "unix")


#: The query options redis-py reads from a URL, each with how to check its value.
QUERY_OPTIONS: dict[str, str] = {
    "db": "int",
    "socket_timeout": "float",
    "socket_connect_timeout": "float",
    "socket_keepalive": "bool",
    "retry_on_timeout": "bool",
    "max_connections": "int",
    "health_check_interval": "int",
    "ssl_check_hostname": "bool",
    "ssl_cert_reqs": "str",
    "ssl_ca_certs": "str",
    "ssl_certfile": "str",
    "ssl_keyfile": "str",
    "timeout": "float",
    "password": "str",
    "username": "str",
    "client_name": "str",
    "protocol": "int",
}


#: The words redis-py reads as booleans in a URL the way we do ("off" would be true there).
URL_BOOLEANS = ("true", "yes", "1", "false", "no", "0")


def check_url(key: str, url: str) -> str:
    """Return ``url`` if Redis can use it, else raise SettingsError naming ``key``.

    Checked: the scheme, the host, the port range, the database number and
    the query options, so a typo stops the start rather than the first push.
    """
    shown = redact(url)
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        accepted = ", ".join(f"{name}://" for name in SCHEMES)
        raise SettingsError(key, f"expected a Redis URL starting with {accepted}", shown)
    try:
        port = parts.port
    except ValueError:
        raise SettingsError(key, "the port must be a number between 1 and 65535", shown) from None
    if parts.scheme == "unix":
        if not parts.path:
            raise SettingsError(key, "a unix:// URL needs the socket's path", shown)
    else:
        if not parts.hostname:
            raise SettingsError(key, "the URL has no host", shown)
        if port is not None and not 1 <= port <= 65535:
            raise SettingsError(key, "the port must be a number between 1 and 65535", shown)
        _check_database(key, parts.path.lstrip("/"), shown)
    _check_query(key, parse_qs(parts.query, keep_blank_values=True), shown)
    return url


def _check_database(key: str, database: str, shown: str) -> None:
    if database and not (database.isdigit() and database.isascii()):
        problem = "the database number after the host must be an integer >= 0, e.g. /0"
        raise SettingsError(key, problem, shown)


def _check_query(key: str, query: dict[str, list[str]], shown: str) -> None:
    for name, values in query.items():
        kind = QUERY_OPTIONS.get(name)
        if kind is None:
            hint = suggestion(name, QUERY_OPTIONS)
            raise SettingsError(key, f"unknown query option {name!r}{hint}", shown)
        value = values[-1]
        if kind == "int" and not (value.isdigit() and value.isascii()):
            raise SettingsError(key, f"query option {name} must be an integer >= 0", shown)
        if kind == "float" and not _positive_float(value):
            raise SettingsError(key, f"query option {name} must be a number of seconds > 0", shown)
        if kind == "bool" and value.lower() not in URL_BOOLEANS:
            words = ", ".join(URL_BOOLEANS)
            raise SettingsError(key, f"query option {name} must be one of {words}", shown)


def _positive_float(text: str) -> bool:
    try:
        return 0 < float(text) < float("inf")
    except ValueError:
        return False


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
    went stale when Redis restarted (a connection error, never a timeout);
    callers own any longer retry policy, so the redis-py default (several
    retries with second-long backoffs) is off.
    A retried command may have run once already (its reply was lost): workers
    use ``retries=0`` so that they see the error and recover their claims.
    """
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=pool_size,
        timeout=pool_timeout,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout,
        # Only a lost connection is retried: a timeout retried would double the
        # wait against a silent server beyond the documented socket_timeout.
        retry=Retry(NoBackoff(), retries, supported_errors=(redis.ConnectionError,)),
    )
    return redis.Redis(connection_pool=pool)


def client_from_section(section: Section) -> tuple[redis.Redis, dict[str, float]]:
    """A listener's client from its ``url``, ``pool_size``, ``pool_timeout`` and
    ``socket_timeout`` keys, and those timeouts by full key (for the lease check).

    Raises SettingsError naming the key of a bad URL, size or timeout.
    """
    url = check_url(section.key("url"), section.str("url"))
    pool_timeout = section.float("pool_timeout", 5.0)
    socket_timeout = section.float("socket_timeout", 2.0, minimum=0.001)
    client = connect(
        url,
        pool_size=section.int("pool_size", 10, minimum=1),
        pool_timeout=pool_timeout,
        socket_timeout=socket_timeout,
    )
    timeouts = {
        section.key("pool_timeout"): pool_timeout,
        section.key("socket_timeout"): socket_timeout,
    }
    return client, timeouts
