"""The renderer: valid OpenAPI, deterministic output, generated/ current, and stale files caught."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import registry_generated
import yaml
from openapi_spec_validator import validate
from registry_spec import render, routes
from registry_spec.errors import REGISTRY
from registry_toolkit import spec_cli

GENERATED = Path(registry_generated.__file__).parent


def test_generated_is_current() -> None:
    assert render.stale_files(GENERATED) == []


def test_json_form_is_the_yaml_document() -> None:
    """generated/openapi.json, which the server loads, is generated/openapi.yaml's document exactly."""
    as_yaml = yaml.safe_load((GENERATED / "openapi.yaml").read_text())
    assert json.loads((GENERATED / "openapi.json").read_text()) == as_yaml
    stale = dict(as_yaml, info={**as_yaml["info"], "title": "changed"})
    assert json.loads(render.openapi_json(yaml.safe_dump(stale))) != as_yaml


def test_render_is_deterministic() -> None:
    assert render.render_all() == render.render_all()


def test_openapi_is_valid_3_1() -> None:
    document = yaml.safe_load((GENERATED / "openapi.yaml").read_text())
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate key"):
        render.parse_openapi("openapi: 3.1.0\ninfo: {}\ninfo: {}\n")


def test_name_parameter_matches_slashes(tmp_path: Path) -> None:
    document = yaml.safe_load((GENERATED / "openapi.yaml").read_text())
    name = next(
        p for p in document["paths"]["/v2/{name}/tags/list"]["get"]["parameters"] if p["name"] == "name"
    )
    assert name["schema"]["format"] == "path"


def test_changed_description_makes_check_fail_until_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "generated"
    assert spec_cli.main(["render", "--target", str(target)]) == 0
    assert spec_cli.main(["check", "--target", str(target)]) == 0
    changed = dataclasses.replace(routes.BASE, description="A changed description.")
    monkeypatch.setattr(routes, "ROUTES", (changed, *routes.ROUTES[1:]))
    monkeypatch.setattr("registry_spec.views.ROUTES", routes.ROUTES)
    monkeypatch.setattr("registry_spec.render.ROUTES", routes.ROUTES)
    assert spec_cli.main(["check", "--target", str(target)]) == 1
    assert spec_cli.main(["render", "--target", str(target)]) == 0
    assert spec_cli.main(["check", "--target", str(target)]) == 0
    assert "A changed description." in (target / "api.md").read_text()


def test_extra_schema_file_is_stale(tmp_path: Path) -> None:
    target = tmp_path / "generated"
    spec_cli.main(["render", "--target", str(target)])
    (target / "schemas" / "Old.json").write_text("{}")
    assert render.stale_files(target) == ["schemas/Old.json"]


def test_api_md_documents_every_route_method_variant_and_code() -> None:
    text = (GENERATED / "api.md").read_text()
    for route in routes.ROUTES:
        assert f"`{route.path}`" in text
        for method in route.methods:
            assert f"#### {method.method} {method.summary}" in text
            for request in method.requests:
                assert f"##### {request.name}" in text
    for code in REGISTRY:
        assert f"| `{code}` |" in text


def test_standalone_schemas_validate_examples() -> None:
    import jsonschema

    schema = json.loads((GENERATED / "schemas" / "OCIImageManifest.json").read_text())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": "sha256:" + "4" * 64,
            "size": 2,
        },
        "layers": [],
        "subject": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + "a" * 64,
            "size": 10,
        },
    }
    jsonschema.validate(manifest, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**manifest, "schemaVersion": 1}, schema)
