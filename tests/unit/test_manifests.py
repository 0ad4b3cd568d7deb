"""registry_impl.manifests: media type detection, validation, what a manifest references, artifact types."""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from registry_spec import mediatypes as mt

from registry_impl.errors import ManifestInvalid
from registry_impl.manifests import (
    MAX_MANIFEST_SIZE,
    Descriptor,
    ManifestTooLarge,
    artifact_type_of,
    detect_media_type,
    parse_manifest,
)


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def desc(media_type: str, content: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest(content), "size": len(content), **extra}


CONFIG = desc(mt.OCI_CONFIG, b"config")
LAYER = desc(mt.OCI_LAYER, b"layer")
CHILD = desc(mt.OCI_MANIFEST, b"child", platform={"architecture": "amd64", "os": "linux"})
SUBJECT = desc(mt.OCI_MANIFEST, b"subject")


def oci_manifest(**extra: Any) -> dict[str, Any]:
    return {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "config": CONFIG, "layers": [LAYER], **extra}


def oci_index(**extra: Any) -> dict[str, Any]:
    return {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": [CHILD], **extra}


def docker_manifest(layers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST,
        "config": desc(mt.DOCKER_CONFIG, b"config"),
        "layers": layers if layers is not None else [desc(mt.DOCKER_LAYER, b"layer")],
    }


def docker_list() -> dict[str, Any]:
    child = desc(mt.DOCKER_MANIFEST, b"child", platform={"architecture": "arm64", "os": "linux"})
    return {"schemaVersion": 2, "mediaType": mt.DOCKER_MANIFEST_LIST, "manifests": [child]}


def parse(document: dict[str, Any], content_type: str = "") -> Any:
    return parse_manifest(json.dumps(document).encode(), content_type or document.get("mediaType", ""))


# --- detect_media_type ---------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["", "application/json", "text/plain", "application/octet-stream"])
def test_declared_media_type_wins_over_generic_content_types(content_type: str) -> None:
    assert detect_media_type({"mediaType": mt.DOCKER_MANIFEST}, content_type) == mt.DOCKER_MANIFEST


def test_declared_media_type_matching_content_type() -> None:
    assert detect_media_type({"mediaType": mt.OCI_INDEX}, mt.OCI_INDEX) == mt.OCI_INDEX
    assert detect_media_type({"mediaType": mt.OCI_INDEX}, f"{mt.OCI_INDEX}; charset=utf-8") == mt.OCI_INDEX
    assert detect_media_type({"mediaType": mt.OCI_INDEX}, mt.OCI_INDEX.upper()) == mt.OCI_INDEX


def test_declared_media_type_differing_from_content_type_is_invalid() -> None:
    with pytest.raises(ManifestInvalid) as info:
        detect_media_type({"mediaType": mt.OCI_MANIFEST}, mt.DOCKER_MANIFEST)
    assert info.value.detail == {"mediaType": mt.OCI_MANIFEST, "contentType": mt.DOCKER_MANIFEST}


def test_without_declaration_the_content_type_decides() -> None:
    assert detect_media_type({"layers": []}, mt.OCI_INDEX) == mt.OCI_INDEX


@pytest.mark.parametrize("declared", [None, "", 42])
def test_without_either_the_shape_decides(declared: Any) -> None:
    extra = {} if declared is None else {"mediaType": declared}
    assert detect_media_type({"manifests": [], **extra}, "") == mt.OCI_INDEX
    assert detect_media_type({"config": {}, **extra}, "application/json") == mt.OCI_MANIFEST


# --- every kind parses to what the registry needs ------------------------------------------------


def test_oci_manifest() -> None:
    parsed = parse(oci_manifest(annotations={"a": "b"}))
    assert parsed.media_type == mt.OCI_MANIFEST
    assert [d.digest for d in parsed.blobs] == [CONFIG["digest"], LAYER["digest"]]
    assert parsed.manifests == ()
    assert parsed.subject is None
    assert parsed.annotations == {"a": "b"}
    assert parsed.config_media_type == mt.OCI_CONFIG
    assert parsed.declares_media_type


def test_oci_index() -> None:
    parsed = parse(oci_index())
    assert parsed.media_type == mt.OCI_INDEX
    assert parsed.blobs == ()
    assert [d.digest for d in parsed.manifests] == [CHILD["digest"]]
    assert parsed.config_media_type is None


def test_docker_manifest_and_list() -> None:
    parsed = parse(docker_manifest())
    assert parsed.media_type == mt.DOCKER_MANIFEST
    assert len(parsed.blobs) == 2
    listed = parse(docker_list())
    assert listed.media_type == mt.DOCKER_MANIFEST_LIST
    assert len(listed.manifests) == 1


def test_artifact_with_subject_and_empty_config() -> None:
    empty = desc(mt.OCI_EMPTY, b"{}", data="e30=")
    parsed = parse(
        oci_manifest(config=empty, layers=[empty], artifactType="application/vnd.example", subject=SUBJECT)
    )
    assert parsed.subject == Descriptor(mt.OCI_MANIFEST, SUBJECT["digest"], SUBJECT["size"])
    assert parsed.artifact_type == "application/vnd.example"
    assert [d.digest for d in parsed.blobs] == [empty["digest"], empty["digest"]]


def test_unknown_fields_are_allowed_everywhere() -> None:
    document = oci_manifest(future={"x": [1]}, layers=[{**LAYER, "x-extra": True}])
    document["config"] = {**CONFIG, "nested": {"deep": None}}
    assert len(parse(document).blobs) == 2


def test_manifest_without_media_type_takes_the_content_type() -> None:
    document = oci_manifest()
    del document["mediaType"]
    parsed = parse(document, mt.OCI_MANIFEST)
    assert parsed.media_type == mt.OCI_MANIFEST
    assert not parsed.declares_media_type
    document = oci_index()
    del document["mediaType"]
    assert parse(document, mt.OCI_INDEX).media_type == mt.OCI_INDEX


def test_empty_layers_are_allowed() -> None:
    assert [d.digest for d in parse(oci_manifest(layers=[])).blobs] == [CONFIG["digest"]]


# --- size ----------------------------------------------------------------------------------------


def test_size_limit_is_inclusive() -> None:
    document = oci_manifest(annotations={"pad": ""})
    base = len(json.dumps(document).encode())
    document["annotations"]["pad"] = "x" * (MAX_MANIFEST_SIZE - base)
    content = json.dumps(document).encode()
    assert len(content) == MAX_MANIFEST_SIZE
    assert parse_manifest(content, mt.OCI_MANIFEST).media_type == mt.OCI_MANIFEST
    with pytest.raises(ManifestTooLarge) as info:
        parse_manifest(content + b" ", mt.OCI_MANIFEST)
    assert info.value.answer is not None and info.value.answer.status == 413
    assert isinstance(info.value, ManifestInvalid)


# --- invalid documents ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", b"blablabla", b"[]", b"null", b'"x"', b"{", b"\xff\xfe", b"[" * 50_000, b"NaN"],
    ids=["empty", "text", "array", "null", "string", "truncated", "not-utf8", "deep", "nan"],
)
def test_not_a_json_object(content: bytes) -> None:
    with pytest.raises(ManifestInvalid):
        parse_manifest(content, mt.OCI_MANIFEST)


def test_unsupported_media_type() -> None:
    with pytest.raises(ManifestInvalid) as info:
        parse_manifest(b'{"schemaVersion": 2}', "application/vnd.example.unknown+json")
    assert info.value.detail == {"mediaType": "application/vnd.example.unknown+json"}


def test_schema1_payload_lists_its_layers_once() -> None:
    layer = "sha256:" + "a" * 64
    document = {"schemaVersion": 1, "fsLayers": [{"blobSum": layer}] * 2, "history": [{}, {}]}
    parsed = parse_manifest(json.dumps(document).encode(), "application/json")
    assert parsed.media_type == mt.DOCKER_SCHEMA1_SIGNED
    assert [d.digest for d in parsed.blobs] == [layer]
    with pytest.raises(ManifestInvalid):
        parse_manifest(b'{"schemaVersion": 1, "fsLayers": [{"blobSum": "x"}], "history": [{}]}', "")


def _without(document: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != key}


M, IDX, D = mt.OCI_MANIFEST, mt.OCI_INDEX, mt.DOCKER_MANIFEST
SCHEMA_FAILURES = {
    "schemaVersion-1": (oci_manifest(schemaVersion=1), M, "schemaVersion"),
    "schemaVersion-string": (oci_manifest(schemaVersion="2"), M, "schemaVersion"),
    "no-schemaVersion": (_without(oci_manifest(), "schemaVersion"), M, ""),
    "no-config": (_without(oci_manifest(), "config"), M, ""),
    "no-layers": (_without(oci_manifest(), "layers"), M, ""),
    "layers-object": (oci_manifest(layers={}), M, "layers"),
    "config-no-digest": (oci_manifest(config=_without(CONFIG, "digest")), M, "config"),
    "negative-size": (oci_manifest(config={**CONFIG, "size": -1}), M, "config/size"),
    "float-size": (oci_manifest(config={**CONFIG, "size": 1.5}), M, "config/size"),
    "bad-digest": (oci_manifest(layers=[{**LAYER, "digest": "nope"}]), M, "layers/0/digest"),
    "bad-media-type": (oci_manifest(layers=[{**LAYER, "mediaType": "no-slash"}]), M, "layers/0/mediaType"),
    "annotation-number": (oci_manifest(annotations={"a": 1}), M, "annotations/a"),
    "bad-artifact-type": (oci_manifest(artifactType="x"), M, "artifactType"),
    "index-no-manifests": (_without(oci_index(), "manifests"), IDX, ""),
    "index-bad-platform": (
        oci_index(manifests=[{**CHILD, "platform": {"os": "linux"}}]),
        IDX,
        "manifests/0/platform",
    ),
    "docker-no-media-type": (_without(docker_manifest(), "mediaType"), D, ""),
}


@pytest.mark.parametrize(
    ("document", "content_type", "path"), list(SCHEMA_FAILURES.values()), ids=list(SCHEMA_FAILURES)
)
def test_schema_failures_name_the_path(document: dict[str, Any], content_type: str, path: str) -> None:
    with pytest.raises(ManifestInvalid) as info:
        parse(document, content_type)
    assert info.value.detail["path"] == path


def test_digest_matching_the_schema_but_not_the_grammar() -> None:
    with pytest.raises(ManifestInvalid) as info:
        parse(oci_manifest(config={**CONFIG, "digest": "sha256:abc"}))
    assert info.value.detail == {"digest": "sha256:abc"}


def test_subject_with_a_bad_digest() -> None:
    with pytest.raises(ManifestInvalid):
        parse(oci_manifest(subject={**SUBJECT, "digest": "sha256:" + "0" * 63}))


# --- layers fetched from URLs --------------------------------------------------------------------


def test_docker_foreign_layer_is_not_required() -> None:
    foreign = desc(mt.DOCKER_FOREIGN_LAYER, b"foreign", urls=["https://example.com/l"])
    parsed = parse(docker_manifest([foreign, desc(mt.DOCKER_LAYER, b"local")]))
    assert foreign["digest"] not in [d.digest for d in parsed.blobs]
    assert len(parsed.blobs) == 2


def test_oci_layer_with_urls_is_not_required() -> None:
    remote = desc(
        "application/vnd.oci.image.layer.nondistributable.v1.tar", b"r", urls=["http://example.com/r"]
    )
    parsed = parse(oci_manifest(layers=[LAYER, remote]))
    assert [d.digest for d in parsed.blobs] == [CONFIG["digest"], LAYER["digest"]]


def test_same_digest_with_and_without_urls_is_still_required_once() -> None:
    remote = {**LAYER, "urls": ["https://example.com/l"]}
    parsed = parse(oci_manifest(layers=[remote, LAYER]))
    assert [d.digest for d in parsed.blobs] == [CONFIG["digest"], LAYER["digest"]]


@pytest.mark.parametrize(
    "layer",
    [
        desc(mt.DOCKER_FOREIGN_LAYER, b"f"),
        desc(mt.DOCKER_FOREIGN_LAYER, b"f", urls=[]),
        desc(mt.DOCKER_LAYER, b"l", urls=["https://example.com/l"]),
        desc(mt.DOCKER_FOREIGN_LAYER, b"f", urls=["file:///etc/passwd"]),
        desc(mt.DOCKER_FOREIGN_LAYER, b"f", urls=["https://example.com/l#fragment"]),
        desc(mt.DOCKER_FOREIGN_LAYER, b"f", urls=["https://"]),
        desc(mt.DOCKER_FOREIGN_LAYER, b"f", urls=["http://[::1"]),
    ],
    ids=["no-urls", "empty-urls", "urls-on-plain-layer", "file-scheme", "fragment", "no-host", "unparseable"],
)
def test_bad_docker_layer_urls(layer: dict[str, Any]) -> None:
    with pytest.raises(ManifestInvalid):
        parse(docker_manifest([layer]))


def test_bad_oci_layer_url() -> None:
    with pytest.raises(ManifestInvalid):
        parse(oci_manifest(layers=[{**LAYER, "urls": ["ftp://example.com/l"]}]))


# --- artifact_type_of ----------------------------------------------------------------------------


def test_artifact_type_of() -> None:
    assert artifact_type_of(parse(oci_manifest(artifactType="application/vnd.a"))) == "application/vnd.a"
    assert artifact_type_of(parse(oci_manifest())) == mt.OCI_CONFIG
    assert artifact_type_of(parse(oci_index(artifactType="application/vnd.b"))) == "application/vnd.b"
    assert artifact_type_of(parse(oci_index())) is None
    assert artifact_type_of(parse(docker_manifest())) is None


# --- properties ----------------------------------------------------------------------------------

WHITESPACE = st.text(alphabet=" \t\r\n", max_size=3)


@settings(max_examples=60, deadline=None)
@given(
    indent=st.one_of(st.none(), st.integers(0, 4)),
    sort_keys=st.booleans(),
    annotations=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
    pad=WHITESPACE,
)
def test_formatting_does_not_change_the_meaning(
    indent: int | None, sort_keys: bool, annotations: dict[str, str], pad: str
) -> None:
    document = oci_manifest(annotations=annotations, subject=SUBJECT)
    content = (pad + json.dumps(document, indent=indent, sort_keys=sort_keys) + pad).encode()
    assert parse_manifest(content, mt.OCI_MANIFEST) == parse(document)


@settings(max_examples=200, deadline=None)
@given(
    content=st.binary(max_size=200)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    ["schemaVersion", "mediaType", "config", "layers", "manifests", "subject", "x"]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=12,
    ).map(lambda value: json.dumps(value).encode())
)
def test_anything_is_either_a_manifest_or_manifest_invalid(content: bytes) -> None:
    for content_type in (mt.OCI_MANIFEST, mt.OCI_INDEX, mt.DOCKER_MANIFEST, "application/json"):
        with contextlib.suppress(ManifestInvalid):
            parse_manifest(content, content_type)


# --- numbers and constants Go cannot decode -------------------------------------------------------

NOT_FOR_GO = {
    "NaN": b'"annotations2": NaN',
    "Infinity": b'"x": Infinity',
    "-Infinity": b'"x": -Infinity',
}


@pytest.mark.parametrize("member", list(NOT_FOR_GO.values()), ids=list(NOT_FOR_GO))
def test_nan_and_infinity_are_not_json(member: bytes) -> None:
    """Python's json reads them; distribution refuses them and no Go client could read the manifest back."""
    content = json.dumps(oci_manifest()).encode()[:-1] + b", " + member + b"}"
    with pytest.raises(ManifestInvalid, match="not UTF-8 encoded JSON"):
        parse_manifest(content, M)


WHOLE_NUMBERS = {
    "size-11.0": (b'"size": 11', b'"size": 11.0'),
    "size-1.1e1": (b'"size": 11', b'"size": 1.1e1'),
    "size-2**70": (b'"size": 11', b'"size": ' + str(2**70).encode()),
    "schemaVersion-2.0": (b'"schemaVersion": 2', b'"schemaVersion": 2.0'),
}


@pytest.mark.parametrize(("plain", "odd"), list(WHOLE_NUMBERS.values()), ids=list(WHOLE_NUMBERS))
def test_sizes_and_schema_version_are_int64_as_go_decodes_them(plain: bytes, odd: bytes) -> None:
    layer = {**LAYER, "size": 11}
    content = json.dumps(oci_manifest(layers=[layer])).encode()
    assert plain in content
    parse_manifest(content, M)  # the plain form is a manifest
    with pytest.raises(ManifestInvalid, match="whole number"):
        parse_manifest(content.replace(plain, odd, 1), M)
    # one already stored (written by another registry, or before this check) is still read as it is
    assert parse_manifest(content.replace(plain, odd, 1), M, bounded=False).media_type == M


def test_numbers_in_fields_go_does_not_know_are_left_alone() -> None:
    parse_manifest(json.dumps({**oci_manifest(), "x-ratio": 1.5, "x-big": 2**70}).encode(), M)
