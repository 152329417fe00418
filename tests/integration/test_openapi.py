"""The served OpenAPI document (/api/v1/openapi.json) against the running API, property-based with schemathesis:
for inputs generated from the document, every valid one gets an answer whose status, content type, headers
and body the document declares, every invalid one is refused, and no input gets a 500 (CHECKS).

Assumes: the sample month (en 2024-11) is loaded and complete (`sample_loaded`), so generated titles mostly
miss and the few known values (the language, the month) hit; requests go through the front server on
127.0.0.1. Bounded: EXAMPLES per route and mode, derandomized, each request REQUEST_TIMEOUT at most.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, negative_data_rejection, not_a_server_error,
                                 response_headers_conformance, response_schema_conformance, status_code_conformance)
from schemathesis.config import SchemathesisConfig

from tests.integration.helpers import REQUEST_TIMEOUT

pytestmark = pytest.mark.stack

#: Generated cases per route and generation mode: ~15 routes x 2 modes x 25 is well under a minute of requests.
EXAMPLES = 25
#: Valid inputs: every answer as declared. Invalid ones: refused with a 400 (or the web server's 414, for a request
#: line over 4,094 bytes, which gunicorn answers before the API sees it), never a 500, and a JSON error body where
#: one is declared.
CHECKS = {
    GenerationMode.POSITIVE: [not_a_server_error, status_code_conformance, content_type_conformance,
                              response_headers_conformance, response_schema_conformance],
    GenerationMode.NEGATIVE: [not_a_server_error, negative_data_rejection, content_type_conformance,
                              response_schema_conformance],
}
CONFIG = SchemathesisConfig.from_dict({
    "request-timeout": REQUEST_TIMEOUT,
    "checks": {"negative_data_rejection": {"expected-statuses": [400, 414]}},
})

def test_every_answer_is_one_the_document_declares(sample_loaded):
    document = schemathesis.openapi.from_url(f"{sample_loaded['webUrl']}/api/v1/openapi.json", config=CONFIG,
                                             timeout=REQUEST_TIMEOUT)
    operations = [result.ok() for result in document.get_all_operations()]
    assert len(operations) >= 10, [op.label for op in operations]
    # Each route and mode is its own Hypothesis run (schemathesis's pytest plugin does not work with pytest 9.2),
    # and every failing one is reported, not only the first.
    failures = {}
    for operation in operations:
        # A route without parameters (health) has no invalid input to make.
        has_parameters = next(operation.iter_parameters(), None) is not None
        for mode in CHECKS if has_parameters else [GenerationMode.POSITIVE]:
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def answers_as_declared(case):
                case.call_and_validate(checks=CHECKS[mode])

            try:
                answers_as_declared()
            except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - a FailureGroup of every check
                failures[f"{operation.label} ({mode.value})"] = str(failure)[:2000]
    assert not failures, "\n\n".join(f"{where}: {why}" for where, why in failures.items())
