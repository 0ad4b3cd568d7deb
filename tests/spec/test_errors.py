"""The server's domain exceptions take their codes and statuses from the descriptor and restate neither."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from registry_spec import errors as E
from registry_spec import params as P
from registry_spec.model import ErrorCode, Response
from registry_spec.routes import GLOBAL_FAILURES, ROUTES

import registry_impl
from registry_impl import errors as D
from registry_impl.api.errors import error_response
from registry_impl.manifests import ManifestTooLarge


def _server_exceptions() -> list[type[D.RegistryError]]:
    """Every RegistryError subclass the server defines (its modules imported first; the client is not the server)."""
    for info in pkgutil.walk_packages(registry_impl.__path__, "registry_impl."):
        if ".client" not in info.name:
            importlib.import_module(info.name)
    out, todo = [], [D.RegistryError]
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(cls.__subclasses__())
    return [c for c in out if c.__module__.startswith("registry_impl.")]


def _responses() -> list[Response]:
    found = list(GLOBAL_FAILURES)
    for route in ROUTES:
        for method in route.methods:
            for request in method.requests:
                found.extend(request.failures)
    return found


def test_every_server_exception_carries_a_registered_code() -> None:
    for cls in _server_exceptions():
        assert E.REGISTRY[cls.code.value] is cls.code, cls


def test_classes_that_declare_a_code_are_named_after_it() -> None:
    for cls in _server_exceptions():
        if "code" in vars(cls) and cls is not D.RegistryError:
            assert cls.__name__.lower() == cls.code.value.replace("_", "").lower(), cls  # CamelCase of the code
            assert cls.__module__ == D.__name__, f"{cls.__name__}: codes are given classes in registry_impl.errors"


def test_an_answer_is_a_descriptor_response_listing_the_code() -> None:
    responses = _responses()
    for cls in _server_exceptions():
        if cls.answer is not None:
            assert any(r is cls.answer for r in responses), f"{cls.__name__}: answer not in the descriptor"
            assert cls.code in cls.answer.error_codes


def test_an_unregistered_code_or_a_foreign_answer_is_refused() -> None:
    with pytest.raises(TypeError, match="not registered"):

        class Bogus(D.RegistryError, code=ErrorCode("BOGUS", "bogus", "not registered", 400)):
            pass

    with pytest.raises(TypeError, match="does not list"):

        class Wrong(D.BlobUnknown):
            answer = P.MANIFEST_TOO_LARGE


def test_status_comes_from_the_code_or_the_descriptor_answer() -> None:
    assert error_response(D.BlobUnknown("x")).status_code == E.BLOB_UNKNOWN.status
    assert error_response(D.RegistryError("x")).status_code == E.UNKNOWN.status
    too_large = error_response(ManifestTooLarge("manifest too large"))
    assert too_large.status_code == P.MANIFEST_TOO_LARGE.status == 413
    assert b'"MANIFEST_INVALID"' in too_large.body


def test_declared_headers_reach_the_wire() -> None:
    from registry_impl.api.headers import RangeNotSatisfiable
    from registry_impl.services.claims import ClaimBusy

    busy = error_response(ClaimBusy("tags", "repo", "latest"))
    assert (busy.status_code, busy.headers["retry-after"]) == (429, "1")
    assert P.H_RETRY_AFTER in P.TOO_MANY_REQUESTS.headers
    unsatisfiable = error_response(RangeNotSatisfiable(10, "bytes=20-"))
    assert (unsatisfiable.status_code, unsatisfiable.headers["content-range"]) == (416, "bytes */10")
    assert D.BlobUnknown("x").headers == {}
