"""Typed reading of INI settings.

Every reader takes the full INI key, so an error can name it together with
the value it got and what would have been accepted.  Validation happens at
start-up, in ``includeme``, never on the first request.

Never imports: ``notifier.*``, ``pyramid`` (everything in notifier stands on it).
"""

from __future__ import annotations

import builtins
import difflib
import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any

log = logging.getLogger(__name__)

PREFIX = "notifier."

#: The one table of defaults.  Keys are relative to ``notifier.``.
DEFAULTS: dict[str, str] = {
    "project_name": "notifier",
    "http_api_version": "1.22",
    "storage_backend": "notifier.storage.sqlite",
    "storage_url": "notifier.sqlite",
    "storage_pool_size": "10",
    "userid_hmac_secret": "",
    "dev_mode": "false",
    "bucket_create_principals": "system.Authenticated",
    "batch_max_requests": "25",
    "paginate_by": "10000",
    "max_request_body_bytes": "1048576",
    "includes": "",
    "max_json_depth": "32",
    "auth_policies": "basicauth",
    "experimental_permissions_endpoint": "false",
    "event_listeners": "",
    "outbox.max_attempts": "10",
    "outbox.backoff_base": "1.0",
    "outbox.backoff_max": "300",
    "outbox.lease": "30",
    "outbox.retention": "86400",
    "heartbeat.max_backlog_age": "300",
    "heartbeat.dead_letters_fail": "true",
    "heartbeat.timeout": "1.0",
    "relay.in_process": "true",
    "relay.interval": "1.0",
    "log_format": "text",
}

TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


class SettingsError(ValueError):
    """A setting has a value the application cannot start with."""

    def __init__(self, key: str, problem: str, value: object = None) -> None:
        self.key = key
        self.problem = problem
        self.value = value
        message = f"{key}: {problem}"
        if value is not None:
            message += f" (got {value!r})"
        super().__init__(message)


def suggestion(word: str, candidates: Iterable[str]) -> str:
    """Return " (did you mean 'x'?)" for the closest candidate, or ""."""
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def as_bool(key: str, raw: object) -> bool:
    """Read a strict boolean: only the listed words are accepted."""
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    accepted = ", ".join(TRUE_WORDS + FALSE_WORDS)
    raise SettingsError(key, f"expected a boolean, one of {accepted}", raw)


def as_int(key: str, raw: object, minimum: int | None = None, maximum: int | None = None) -> int:
    """Read an integer, optionally bounded."""
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise SettingsError(key, f"expected {_int_words(minimum, maximum)}", raw) from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise SettingsError(key, f"expected {_int_words(minimum, maximum)}", raw)
    return value


def as_float(key: str, raw: object, minimum: float = 0.0) -> float:
    """Read a number of at least ``minimum`` (seconds, ratios)."""
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise SettingsError(key, f"expected a number >= {minimum:g}", raw) from None
    if value < minimum:
        raise SettingsError(key, f"expected a number >= {minimum:g}", raw)
    return value


def as_list(raw: object) -> list[str]:
    """Split a value on whitespace and commas (INI lists may span lines)."""
    if isinstance(raw, list | tuple):
        return [str(item) for item in raw]
    return [word for word in str(raw or "").replace(",", " ").split() if word]


def as_choices(key: str, raw: object, choices: Iterable[str]) -> list[str]:
    """Read a list whose every word must be one of ``choices``."""
    allowed = list(choices)
    words = as_list(raw)
    for word in words:
        if word not in allowed:
            hint = suggestion(word, allowed)
            raise SettingsError(key, f"{word!r} is not one of {', '.join(allowed)}{hint}", raw)
    return words


def as_word(key: str, raw: object, choices: Iterable[str]) -> str:
    """Read one word that must be one of ``choices`` (case and spaces around it ignored)."""
    allowed = list(choices)
    word = str(raw).strip().lower()
    if word not in allowed:
        hint = suggestion(word, allowed)
        raise SettingsError(key, f"expected one of {', '.join(allowed)}{hint}", raw)
    return word


def check_known_keys(prefix: str, settings: Mapping[str, Any], known: Iterable[str]) -> None:
    """Refuse any key under ``prefix`` that is not in ``known`` (relative names)."""
    known = sorted(set(known))
    for key in sorted(settings):
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        if "." in name or name in known:
            continue
        accepted = ", ".join(known) or "no keys"
        hint = suggestion(name, known)
        raise SettingsError(key, f"unknown setting{hint}; accepted here: {accepted}")


def _int_words(minimum: int | None, maximum: int | None) -> str:
    if minimum == 1 and maximum is None:
        return "a positive integer"
    if minimum is not None and maximum is not None:
        return f"an integer between {minimum} and {maximum}"
    if minimum is not None:
        return f"an integer >= {minimum}"
    return "an integer"


def environ_name(key: str) -> str:
    """The environment variable that overrides ``key``: dots and dashes become _."""
    return key.upper().replace(".", "_").replace("-", "_")


def load_settings(
    settings: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Merge the defaults table, the INI settings and environment overrides.

    The rule: ``notifier.event_listeners.redis.url`` is overridden by
    ``NOTIFIER_EVENT_LISTENERS_REDIS_URL``.  Any key that is in the INI file or
    in the defaults table can be overridden this way.
    Kinto's keys (``kinto.*``, ``multiauth.policies``) are read first as
    their notifier names (``translate_kinto_keys``).
    """
    environ = os.environ if environ is None else environ
    merged: dict[str, Any] = {PREFIX + key: value for key, value in DEFAULTS.items()}
    merged.update(translate_kinto_keys(settings))
    for key in list(merged):
        name = environ_name(key)
        if name in environ:
            merged[key] = environ[name]
    merged.update(_listener_keys_from_environ(merged, environ))
    return merged


def read_ini(config_uri: str, name: str | None = None) -> dict[str, Any]:
    """The ``[app:<name>]`` settings of an INI file (``main`` by default), merged as above.

    Read through plaster, PasteDeploy's loader (``%(here)s``, ``config_uri#name``),
    rather than ``pyramid.paster``: a worker reads the app's INI without loading
    Pyramid.  Raises OSError/LookupError for a missing file or section.
    """
    import plaster

    loader = plaster.get_loader(config_uri, protocols=["wsgi"])
    return load_settings(loader.get_wsgi_app_settings(name))


def _listener_keys_from_environ(
    settings: Mapping[str, Any], environ: Mapping[str, str]
) -> dict[str, str]:
    """Listener keys that only the environment sets, e.g. ``..._REDIS_POOL_SIZE``.

    A listener's own keys are not in the defaults table, so they are found by
    the listener names of ``notifier.event_listeners`` (and of ``.use`` keys).
    """
    root = PREFIX + "event_listeners"
    names = set(as_list(settings.get(root, "")))
    names |= {
        key[len(root) + 1 :].rsplit(".", 1)[0]
        for key in settings
        if key.startswith(root + ".") and key.endswith(".use")
    }
    found: dict[str, str] = {}
    for name in sorted(names, key=len, reverse=True):
        start = environ_name(f"{root}.{name}.")
        for variable, value in environ.items():
            option = variable[len(start) :].lower()
            key = f"{root}.{name}.{option}"
            if variable.startswith(start) and option and key not in settings:
                found.setdefault(key, value)
    return found


_REQUIRED = object()


class Section:
    """Typed access to the settings under one prefix (the app's, or a listener's).

    ``Section(settings, "notifier.event_listeners.redis.").int("pool_size", 10)``
    reads ``notifier.event_listeners.redis.pool_size`` and, on a bad value,
    raises a SettingsError that names that full key.
    """

    def __init__(self, settings: Mapping[builtins.str, Any], prefix: builtins.str) -> None:
        self.settings = settings
        self.prefix = prefix

    def key(self, name: builtins.str) -> builtins.str:
        return self.prefix + name

    def raw(self, name: builtins.str, default: object = _REQUIRED) -> Any:
        key = self.key(name)
        if key in self.settings and self.settings[key] not in (None, ""):
            return self.settings[key]
        if default is _REQUIRED:
            raise SettingsError(key, "is required")
        return default

    def str(self, name: builtins.str, default: object = _REQUIRED) -> builtins.str:
        return str(self.raw(name, default)).strip()

    def int(
        self,
        name: builtins.str,
        default: object = _REQUIRED,
        minimum: builtins.int | None = None,
        maximum: builtins.int | None = None,
    ) -> builtins.int:
        return as_int(self.key(name), self.raw(name, default), minimum, maximum)

    def float(
        self, name: builtins.str, default: object = _REQUIRED, minimum: builtins.float = 0.0
    ) -> builtins.float:
        return as_float(self.key(name), self.raw(name, default), minimum)

    def bool(self, name: builtins.str, default: object = _REQUIRED) -> builtins.bool:
        return as_bool(self.key(name), self.raw(name, default))

    def list(self, name: builtins.str, default: object = _REQUIRED) -> builtins.list[builtins.str]:
        return as_list(self.raw(name, default))

    def choices(
        self, name: builtins.str, choices: Iterable[builtins.str], default: object = _REQUIRED
    ) -> builtins.list[builtins.str]:
        return as_choices(self.key(name), self.raw(name, default), choices)

    def one_of(
        self, name: builtins.str, choices: Iterable[builtins.str], default: object = _REQUIRED
    ) -> builtins.str:
        return as_word(self.key(name), self.raw(name, default), choices)


# ---- an INI written for Kinto ------------------------------------------------------
#
# ``kinto.*`` keys become ``notifier.*`` by one table: same name under
# ``notifier.``, ``multiauth.policies`` as ``notifier.auth_policies``, and the
# values that name Kinto modules (``kinto.plugins.accounts``,
# ``kinto.core.storage.postgresql``) as notifier's.  The keys of Kinto's separate
# permission and cache backends are dropped: notifier keeps permissions in its
# storage and has no cache.  Any other Kinto key, or a Kinto module with no
# notifier twin, stops the start with a SettingsError naming it.
# ``load_settings`` translates first; one INFO line lists what it translated.

#: Names (after ``kinto.``) that notifier reads under the same name.
KINTO_SAME_NAMES = set(DEFAULTS) | {
    "includes",
    "account_create_principals",
    "account_write_principals",
    "account_read_principals",
    "experimental_permissions_endpoint",
}

#: Kinto modules named in values, and their notifier twins.
KINTO_MODULES = {
    "kinto.plugins.accounts": "notifier.plugins.accounts",
    "kinto.plugins.flush": "notifier.plugins.flush",
    "kinto.plugins.prometheus": "notifier.plugins.prometheus",
    "kinto.core.storage.postgresql": "notifier.storage.postgresql",
}

#: Kinto keys whose job notifier's storage does (permissions) or that it has no use for.
KINTO_DROPPED = {
    "permission_backend",
    "permission_url",
    "permission_pool_size",
    "cache_backend",
    "cache_url",
    "cache_prefix",
    "cache_pool_size",
    "cache_max_size_bytes",
}

KINTO_AUTH_POLICIES = ("account", "basicauth")


def _kinto_module(key: str, word: str) -> str:
    """``word`` itself, or its notifier twin when it names a Kinto module."""
    if word in KINTO_MODULES:
        return KINTO_MODULES[word]
    if word.startswith("kinto.") or word == "kinto":
        known = ", ".join(sorted(KINTO_MODULES))
        raise SettingsError(key, f"{word!r} has no notifier equivalent; known: {known}", word)
    return word


def _kinto_value(key: str, name: str, raw: Any) -> Any:
    if name == "includes":
        return " ".join(_kinto_module(key, word) for word in as_list(raw))
    if name == "storage_backend" or (name.startswith("event_listeners.") and name.endswith(".use")):
        return _kinto_module(key, str(raw).strip())
    return raw


def _kinto_policies(key: str, raw: Any) -> str:
    words = as_list(raw)
    for word in words:
        if word not in KINTO_AUTH_POLICIES:
            accepted = ", ".join(KINTO_AUTH_POLICIES)
            raise SettingsError(
                key, f"policy {word!r} has no notifier equivalent; known: {accepted}"
            )
    return " ".join(words)


def _kinto_key(key: str, raw: Any) -> tuple[str | None, Any]:
    """The notifier key and value of one Kinto key (None: dropped)."""
    if key == "multiauth.policies":
        return "notifier.auth_policies", _kinto_policies(key, raw)
    if key.startswith("multiauth.policy."):
        policy = key.split(".")[2]
        if policy in KINTO_AUTH_POLICIES:
            return None, raw  # implied by notifier.auth_policies
        raise SettingsError(key, f"policy {policy!r} has no notifier equivalent", raw)
    name = key[len("kinto.") :]
    if name in KINTO_DROPPED:
        return None, raw
    if name in KINTO_SAME_NAMES or name.startswith("event_listeners."):
        return "notifier." + name, _kinto_value(key, name, raw)
    raise SettingsError(key, "this Kinto setting has no notifier equivalent")


def is_kinto_key(key: str) -> bool:
    return key.startswith("kinto.") or key.startswith("multiauth.")


def translate_kinto_keys(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` with each Kinto key replaced by its notifier twin."""
    translated: dict[str, Any] = {k: v for k, v in settings.items() if not is_kinto_key(k)}
    done: list[str] = []
    for key in sorted(k for k in settings if is_kinto_key(k)):
        target, value = _kinto_key(key, settings[key])
        if target is None:
            done.append(f"{key} (dropped)")
            continue
        if target in settings:
            raise SettingsError(key, f"is set twice, also as {target}", settings[key])
        translated[target] = value
        done.append(f"{key} -> {target}")
    if done:
        log.info("read Kinto settings as notifier's: %s", ", ".join(done))
    return translated
