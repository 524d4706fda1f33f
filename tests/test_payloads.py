"""Webhook bodies the worker cannot read fail as bad payloads (not retried as bugs)."""

from __future__ import annotations

import pytest

from worker.payloads import PayloadError, parse_body


def test_an_integer_too_long_to_convert_is_a_bad_payload_not_a_crash():
    with pytest.raises(PayloadError, match="not JSON this app reads"):
        parse_body('{"id": ' + "9" * 5000 + "}")


def test_a_body_that_is_not_an_object_is_a_bad_payload():
    with pytest.raises(PayloadError, match="not a JSON object"):
        parse_body("[1, 2]")
