"""The real push process authenticates Basic headers with the API's policies, accounts included."""

from __future__ import annotations

import pytest

from notifier.push.config import push_config
from notifier.settings import SettingsError
from tests.conftest import ALICE, SECRET, basic_auth
from tests.helpers import stop
from tests.ini import write_ini
from tests.push_helpers import SSE, api_call, push_stack, stack_settings, start_push

ACCOUNTS = {
    "notifier.includes": "notifier.plugins.accounts",
    "notifier.auth_policies": "account basicauth",
    "notifier.account_create_principals": "system.Everyone",
    "notifier.account_bcrypt_rounds": "4",  # the tests' hashes need not be slow
}
CAROL = basic_auth("carol", "s3cret")


def test_an_account_subscribes_with_its_basic_header_as_in_the_api(tmp_path, redis_url, listname):
    with push_stack(tmp_path, redis_url, listname, **ACCOUNTS) as own:
        api_call(own.api, "PUT", "/accounts/carol", {}, {"data": {"password": "s3cret"}})
        api_call(own.api, "PUT", "/buckets/carols", CAROL, {})
        sse = SSE(own.push, "/v1/buckets/carols/events", CAROL)
        assert sse.status == 200
        api_call(own.api, "PUT", "/buckets/carols/collections/c", CAROL, {})
        event = sse.next()
        sse.close()
        assert (event["data"]["collection_id"], event["data"]["user_id"]) == ("c", "account:carol")
        # A wrong password is not carol: basicauth, next in the policies, names someone else.
        wrong = SSE(own.push, "/v1/buckets/carols/events", basic_auth("carol", "guess"))
        assert (wrong.status, wrong.body()["message"]) == (
            403,
            "This user may not read /buckets/carols",
        )
        # Not an account: basicauth, as in the API.
        api_call(own.api, "PUT", "/buckets/alices", ALICE, {})
        assert SSE(own.push, "/v1/buckets/alices/events", ALICE).status == 200


def test_a_policy_only_the_api_runs_makes_basic_headers_a_401_saying_to_use_a_token(
    tmp_path, redis_url, listname
):
    settings = {"notifier.auth_policies": "ldap basicauth"}
    ini = write_ini(
        tmp_path / "app.ini", {**stack_settings(tmp_path, redis_url, listname), **settings}
    )
    process, push = start_push(ini)
    try:
        refused = SSE(push, "/v1/buckets/b/events", ALICE)
        assert (refused.status, refused.body()["message"]) == (
            401,
            "The push service cannot check Basic credentials with the authentication policies"
            " ldap (notifier.auth_policies): subscribe with ?token= from POST /v1/push/tokens",
        )
        assert "notifier.auth_policies names ldap, which only the API runs" in process.output
    finally:
        stop(process)


def test_the_account_policy_without_the_plugin_stops_the_start():
    settings = {
        "notifier.push.url": "redis://127.0.0.1:6379/0",
        "notifier.userid_hmac_secret": SECRET,
        "notifier.auth_policies": "account",
    }
    with pytest.raises(SettingsError) as error:
        push_config(settings)
    assert str(error.value) == (
        "notifier.auth_policies: 'account' needs notifier.plugins.accounts in"
        " notifier.includes (got 'account')"
    )
