"""registry_impl.manifestschemas: the compiled check never accepts what jsonschema refuses, and its
refusals are jsonschema's to judge and explain."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from registry_spec import mediatypes as mt

from registry_impl.manifestschemas import _compiled, _reference, as_draft7, schema_error

D = "sha256:" + "a" * 64
DESCRIPTOR = {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": D, "size": 3}
PLATFORM = {"architecture": "amd64", "os": "linux", "os.features": ["x"], "variant": "v8"}
RICH = {**DESCRIPTOR, "urls": ["https://x"], "annotations": {"k": "v"}, "data": "YWJj", "artifactType": "a/b"}
BASES: dict[str, dict[str, Any]] = {
    "OCIImageManifest": {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": "application/x.test",
        "config": dict(DESCRIPTOR),
        "layers": [dict(DESCRIPTOR), dict(RICH)],
        "subject": dict(DESCRIPTOR),
        "annotations": {"a": "b"},
    },
    "OCIImageIndex": {
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": [{**DESCRIPTOR, "platform": dict(PLATFORM)}, dict(RICH)],
        "subject": dict(DESCRIPTOR),
        "annotations": {"a": "b"},
    },
    "DockerManifestV2": {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST,
        "config": dict(DESCRIPTOR),
        "layers": [dict(DESCRIPTOR)],
    },
    "DockerManifestList": {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST_LIST,
        "manifests": [{**DESCRIPTOR, "platform": dict(PLATFORM)}],
    },
    "DockerSchema1": {
        "schemaVersion": 1,
        "name": "a/b",
        "tag": "t",
        "architecture": "amd64",
        "fsLayers": [{"blobSum": D}],
        "history": [{"v1Compatibility": "{}"}],
        "signatures": [{"header": {"jwk": {}, "alg": "ES256"}, "signature": "s", "protected": "p"}],
    },
}
ODD_VALUES = [
    True, False, None, 0, 1, 2, 2.0, 1.5, -1, 10**20, "", "x", "a/b", "a$b/c$", D + "\n", "a/b\n",
    "sha256:abc", "SHA256:abc", [], [1], [{}], {}, {"a": 1}, dict(DESCRIPTOR), {**DESCRIPTOR, "size": -1},
]  # fmt: skip


def test_every_manifest_schema_is_covered() -> None:
    assert set(BASES) == set(mt.MANIFEST_SCHEMA_BY_TYPE.values())


@pytest.mark.parametrize("name", sorted(BASES))
def test_both_checks_accept_the_valid_documents(name: str) -> None:
    assert _compiled(name)(BASES[name])
    assert _reference(name).is_valid(BASES[name])
    assert schema_error(name, BASES[name]) is None


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every container in ``value``, as a path of keys and indexes."""
    out = [at] if isinstance(value, (dict, list)) else []
    children = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    )
    for key, child in children:
        out += _paths(child, (*at, key))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Any]:
    name = draw(st.sampled_from(sorted(BASES)))
    document = copy.deepcopy(BASES[name])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        target = document
        for key in path:
            target = target[key]
        value = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
        if isinstance(target, dict):
            keys = [*sorted(target), "mediaType", "digest", "size", "extra", "platform", "os"]
            key = draw(st.sampled_from(keys))
            if draw(st.booleans()) and key in target:
                del target[key]
            else:
                target[key] = value
        elif target and draw(st.booleans()):
            target[draw(st.integers(0, len(target) - 1))] = value
        else:
            target.append(value)
    return name, document


@settings(max_examples=600, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated())
def test_the_compiled_check_is_never_laxer(case: tuple[str, Any]) -> None:
    name, document = case
    reference = jsonschema.exceptions.best_match(_reference(name).iter_errors(document))
    if not _compiled(name)(document):  # refused: the answer is jsonschema's, error and explanation alike
        got = schema_error(name, document)
        assert (got is None) == (reference is None)
        if got is not None and reference is not None:
            assert got.message == reference.message
            assert list(got.absolute_path) == list(reference.absolute_path)
        return
    assert reference is None, (name, json.dumps(document), reference.message)


def test_a_stricter_compiled_check_defers_to_jsonschema() -> None:
    """A digest with a newline before the end: jsonschema's ``$`` matches there, the compiled ``\\Z`` does not;
    the answer stays jsonschema's (the digest parser refuses it later)."""
    document = {**BASES["DockerManifestV2"], "config": {**DESCRIPTOR, "digest": D + "\n"}}
    assert not _compiled("DockerManifestV2")(document)
    assert schema_error("DockerManifestV2", document) is None


def test_dollar_inside_a_character_class_is_kept_literal() -> None:
    document = {**BASES["DockerManifestV2"], "config": {**DESCRIPTOR, "mediaType": "a$b/c"}}
    assert _compiled("DockerManifestV2")(document)
    assert schema_error("DockerManifestV2", document) is None


def test_only_keywords_whose_meaning_carries_over_are_converted() -> None:
    with pytest.raises(ValueError, match="prefixItems"):
        as_draft7({"type": "array", "prefixItems": [{"type": "string"}]})
    with pytest.raises(ValueError, match=r"\$ref with siblings"):
        as_draft7({"$ref": "#/$defs/A", "type": "object"})
    converted = as_draft7({"$defs": {"A": {"type": "string"}}, "properties": {"enum": {"$ref": "#/$defs/A"}}})
    assert converted == {
        "definitions": {"A": {"type": "string"}},
        "properties": {"enum": {"$ref": "#/definitions/A"}},
    }
