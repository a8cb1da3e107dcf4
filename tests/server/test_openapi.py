"""/openapi.json describes the function truly: schemathesis generates requests for every operation
from the document and checks each response against it, on the live server with the emulator behind."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from handlers.system.openapi.document import openapi_document

pytestmark = pytest.mark.server

# The document the app serves, loaded at collection; test_the_server_serves_this_document checks
# that the live server hands out exactly this one.
schema = schemathesis.openapi.from_dict(openapi_document())


@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_response_is_one_the_document_declares(case, server):
    # "[[emulate" would ask the emulator for a failure on purpose; generated text must not.
    if isinstance(case.body, str):
        case.body = case.body.replace("[[emulate", "")
    elif isinstance(case.body, bytes):
        case.body = case.body.replace(b"[[emulate", b"")
    # Every check but one: the document names each field and its type and range, but some rules are
    # about combinations (one mode per body, a parameter given once, content on a tool message);
    # breaking one is a 400 that the document declares, so a schema-valid request may get a 400.
    case.call_and_validate(base_url=server, excluded_checks=[schemathesis.checks.positive_data_acceptance])


def test_the_server_serves_this_document(server):
    served = requests.get(f"{server}/openapi.json", timeout=10).json()
    assert served == openapi_document()
    assert served["openapi"] == "3.1.0"
    for path in ("/invoke", "/invoke/messages", "/invoke/prompt", "/v1/chat/completions", "/v1/models", "/health", "/initialize", "/pre-stop", "/"):
        assert path in served["paths"]
