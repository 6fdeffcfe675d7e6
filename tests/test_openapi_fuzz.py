"""Property-based: the live server answers every request schemathesis makes from
``/v1/__api__`` without a 5xx, and only as the document allows (issue 14 item 9).

Bounded: ``CASES`` examples per operation and ``BUDGET`` seconds per backend.  The
figures (cases tried, 5xx seen, other nonconformities) are printed and, on
failure, listed with the first examples.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import webtest
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.apps import running
from tests.conftest import ALICE, SECRET, serving

#: Examples per operation, and seconds per backend: kept small for the suite; a
#: longer run sets NOTIFIER_FUZZ_CASES and NOTIFIER_FUZZ_SECONDS.
CASES = int(os.environ.get("NOTIFIER_FUZZ_CASES", "25"))
BUDGET = float(os.environ.get("NOTIFIER_FUZZ_SECONDS", "60"))
#: What "the document allows": statuses, content types, headers and bodies as documented.
#: (Not positive_data_acceptance: a 400 for a schema-valid body, say one holding NUL,
#: is a documented answer.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzzed_server(backend_settings: dict[str, str]) -> Iterator[str]:
    app_settings = {
        **backend_settings,
        "notifier.userid_hmac_secret": SECRET,
        "notifier.storage_pool_size": "6",
    }
    with running(app_settings) as app:
        yield from seeded_and_served(app)


def seeded_and_served(app: Any) -> Iterator[str]:
    seed = webtest.TestApp(app)
    # Hypothesis tries small ids first ("0", "00", "A"): objects there take the
    # cases past the 403/404 of an empty server, into reads, patches and deletes.
    for bucket in ("0", "A"):
        seed.put_json(
            f"/v1/buckets/{bucket}", {"permissions": {"read": ["system.Everyone"]}}, headers=ALICE
        )
        seed.put_json(f"/v1/buckets/{bucket}/collections/0", {}, headers=ALICE)
        for record in ("0", "00", "A"):
            data = {"data": {"n": 1, "title": "t", "tags": ["x"], "nested": {"a": 1}}}
            seed.put_json(
                f"/v1/buckets/{bucket}/collections/0/records/{record}", data, headers=ALICE
            )
    with serving(app, threads=4) as url:
        yield url


class Findings:
    """What the run saw: counts, and the first few problems of each kind."""

    def __init__(self) -> None:
        self.tried = 0
        self.server_errors: list[str] = []
        self.nonconforming: list[str] = []

    def record(self, case: Any, response: Any) -> None:
        self.tried += 1
        where = f"{case.method} {case.formatted_path} -> {response.status_code}"
        if response.status_code >= 500:
            self.server_errors.append(f"{where}: {response.text[:300]}")
            return
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as failure:  # a FailureGroup: every check that failed
            self.nonconforming.append(f"{where}: {str(failure)[:500]}")

    def summary(self) -> str:
        lines = [
            f"cases tried: {self.tried}; 5xx seen: {len(self.server_errors)};"
            f" nonconforming: {len(self.nonconforming)}",
            *self.server_errors[:10],
            *self.nonconforming[:10],
        ]
        return "\n".join(lines)


def _fuzz_operation(operation: Any, base: str, findings: Findings, deadline: float) -> None:
    @settings(
        max_examples=CASES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        if time.monotonic() > deadline:
            return
        response = case.call(base_url=base + "/v1", headers=ALICE, timeout=10)
        findings.record(case, response)

    run()


@pytest.mark.slow
def test_the_server_keeps_to_its_openapi_document(fuzzed_server: str) -> None:
    base = fuzzed_server
    schema = schemathesis.openapi.from_url(base + "/v1/__api__")
    findings = Findings()
    deadline = time.monotonic() + BUDGET
    for result in schema.get_all_operations():
        _fuzz_operation(result.ok(), base, findings, deadline)
    print(findings.summary())
    assert findings.tried > 0
    assert not findings.server_errors and not findings.nonconforming, findings.summary()
