"""The secret that keys the userids must be one nobody else knows.

Userids (``basicauth:`` + HMAC of the credentials) appear in permissions and
events; with a known secret, anyone who sees one can guess passwords offline
and squat another user's default bucket.  So a start refuses the secret
notifier once shipped and any secret shorter than ``MIN_LENGTH``, unless the
run says it is for development (``notifier.dev_mode = true``, which ``./dev
serve`` sets, with a secret of the checkout's own: ``notifier.dev.secret``).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from notifier.settings import Section, SettingsError

KEY = "notifier.userid_hmac_secret"
MIN_LENGTH = 32
#: Secrets published in notifier's own files: known to everyone.
PUBLISHED = ("change-me-in-production-0b1f6c",)
ADVICE = (
    "set a random string of at least 32 characters, e.g. the output of"
    " python -c 'import secrets; print(secrets.token_hex(32))',"
    " or notifier.dev_mode = true for a development run"
)


def check_userid_secret(settings: MutableMapping[str, Any]) -> None:
    """Type ``notifier.dev_mode``; outside it, refuse a published or short secret.

    The SettingsError never quotes the secret itself (an empty one is
    auth's "is required").
    """
    core = Section(settings, "notifier.")
    settings["notifier.dev_mode"] = dev = core.bool("dev_mode", "false")
    secret = str(settings.get(KEY) or "")
    if dev or not secret:
        return
    if secret in PUBLISHED:
        raise SettingsError(KEY, f"is the example secret published with notifier; {ADVICE}")
    if len(secret) < MIN_LENGTH:
        raise SettingsError(KEY, f"is {len(secret)} characters long, under {MIN_LENGTH}; {ADVICE}")
