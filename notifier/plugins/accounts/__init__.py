"""Kinto's accounts plugin: ``/v1/accounts``, bcrypt passwords, ``account:<id>`` principals.

``notifier.includes = notifier.plugins.accounts`` adds the endpoints and the
``account`` authentication policy; ``notifier.auth_policies`` chooses it
(``account``, or ``account basicauth`` to fall back on Basic-auth userids).
Settings (as Kinto's ``account_*_principals``):

- ``notifier.account_create_principals``: who may create an account
  (``system.Everyone`` for open sign-up; default: nobody but administrators);
- ``notifier.account_write_principals``: administrators, who may create, read,
  change and delete every account;
- ``notifier.account_read_principals``: who may read every account;
- ``notifier.account_bcrypt_rounds``: bcrypt's cost (default 12, as Kinto's).
"""

from __future__ import annotations

from pyramid.config import Configurator

from notifier.plugins.accounts.authentication import AccountIdentifier
from notifier.plugins.accounts.views import account, accounts

PREFIX = "notifier.account_"
DEFAULTS = {
    "create_principals": "",
    "write_principals": "",
    "read_principals": "",
    "bcrypt_rounds": "12",
}


def includeme(config: Configurator) -> None:
    section = config.add_settings_defaults(PREFIX, DEFAULTS)
    settings = config.get_settings()
    for name in ("create_principals", "write_principals", "read_principals"):
        settings[PREFIX + name] = frozenset(section.list(name, ""))
    settings[PREFIX + "bcrypt_rounds"] = section.int("bcrypt_rounds", minimum=4, maximum=31)
    config.add_auth_policy("account", AccountIdentifier())
    config.add_capability(
        "accounts",
        "Manage user accounts.",
        url="https://kinto.readthedocs.io/en/latest/api/1.x/accounts.html",
    )
    config.add_cornice_service(accounts)
    config.add_cornice_service(account)
