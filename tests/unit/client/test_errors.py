"""Client exceptions: one class per registered code, built from registry_spec.errors; envelopes to exceptions."""

from __future__ import annotations

import httpx
import pytest
from registry_client import errors
from registry_client.errors import RegistryError, class_name, error_class
from registry_spec.errors import REGISTRY


def response(status: int, body: object = None, content: bytes = b"") -> httpx.Response:
    request = httpx.Request("GET", "http://r.test/v2/a/manifests/v1")
    if body is not None:
        return httpx.Response(status, json=body, request=request)
    return httpx.Response(status, content=content, request=request)


def test_every_registered_code_has_exactly_one_class() -> None:
    for value in REGISTRY:
        cls = getattr(errors, class_name(value))
        assert issubclass(cls, RegistryError) and cls.code == value and error_class(value) is cls
        assert value in (cls.__doc__ or "")
    assert errors.BlobUploadUnknown.__name__ == "BlobUploadUnknown"
    assert {n for n in errors.__all__ if n[0].isupper()} >= {class_name(v) for v in REGISTRY}


def test_envelope_picks_the_class_of_the_first_error() -> None:
    body = {
        "errors": [
            {"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": {"tag": "v1"}},
            {"code": "NAME_UNKNOWN", "message": "repository name not known to registry"},
        ]
    }
    exc = RegistryError.from_response(response(404, body))
    assert isinstance(exc, errors.ManifestUnknown)
    assert (exc.code, exc.status, exc.message, exc.detail) == (
        "MANIFEST_UNKNOWN",
        404,
        "manifest unknown",
        {"tag": "v1"},
    )
    assert len(exc.errors) == 2
    assert str(exc).startswith('MANIFEST_UNKNOWN: manifest unknown ({"tag": "v1"}); NAME_UNKNOWN')
    assert "GET http://r.test/v2/a/manifests/v1 -> 404" in str(exc)


def test_no_envelope_takes_the_status_or_the_callers_default() -> None:
    assert (
        type(
            RegistryError.from_response(
                response(404, content=b"404 page not found"), not_found="BLOB_UNKNOWN"
            )
        )
        is errors.BlobUnknown
    )
    assert type(RegistryError.from_response(response(401))) is errors.Unauthorized
    assert type(RegistryError.from_response(response(429))) is errors.Toomanyrequests
    exc = RegistryError.from_response(response(418, content=b"teapot"))
    assert type(exc) is RegistryError and exc.code is None and "HTTP 418" in str(exc)


def test_an_undeclared_code_keeps_its_value() -> None:
    exc = RegistryError.from_response(
        response(400, {"errors": [{"code": "QUOTA_EXCEEDED", "message": "full"}]})
    )
    assert type(exc) is RegistryError and exc.code == "QUOTA_EXCEEDED"


def test_missing_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError):
        errors.NoSuchCode  # noqa: B018
