"""`registry-spec template`: a third party's Jinja template rendered against the descriptor, as distribution's
``registry-api-descriptor-template`` renders Go templates; generated/ goes through the same path."""

from __future__ import annotations

from pathlib import Path

import pytest
from registry_spec import errors as E
from registry_spec.render import environment, render_all, render_template
from registry_spec.routes import ROUTES
from registry_toolkit.spec_cli import main

TABLE = """\
| Route | Method | Path | Errors |
|---|---|---|---|
{% for route in routes %}{% for method in route.methods %}
| {{ route.name }} | {{ method.method }} | `{{ route.path }}` | {% for r in merged_responses(method, False) %}{{ r.status }} {% endfor %}|
{% endfor %}{% endfor %}

| Code | Status |
|---|---|
{% for code in error_codes %}
| `{{ code.value }}` | {{ code.status }} |
{% endfor %}
{{ media_types|length }} media types; {{ schemas|map(attribute="name")|join(", ") }}
"""


def test_renders_a_users_markdown_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "routes.md.j2"
    template.write_text(TABLE, encoding="utf-8")
    assert main(["template", str(template)]) == 0
    out = capsys.readouterr().out
    assert "| manifest | PUT | `/v2/{name}/manifests/{reference}` | 201 " in out
    assert "| referrers | GET | `/v2/{name}/referrers/{digest}` | 200 " in out
    assert f"| `{E.MANIFEST_BLOB_UNKNOWN.value}` | {E.MANIFEST_BLOB_UNKNOWN.status} |" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "`/" in line]
    assert len(rows) == sum(len(r.methods) for r in ROUTES)
    assert "OCIImageManifest" in out


def test_writes_each_template_into_the_output_folder(tmp_path: Path) -> None:
    (tmp_path / "a.md.j2").write_text("{{ routes|length }} routes\n", encoding="utf-8")
    (tmp_path / "codes.txt").write_text(
        "{% for c in error_codes %}{{ c.value }}\n{% endfor %}", encoding="utf-8"
    )
    out = tmp_path / "out"
    assert main(["template", str(tmp_path / "a.md.j2"), str(tmp_path / "codes.txt"), "-o", str(out)]) == 0
    assert (out / "a.md").read_text() == f"{len(ROUTES)} routes\n"
    assert "MANIFEST_UNKNOWN\n" in (out / "codes.txt").read_text()


def test_a_user_template_may_include_ours(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "wrap.j2").write_text("BEGIN\n{% include 'formats.md.j2' %}", encoding="utf-8")
    assert main(["template", str(tmp_path / "wrap.j2")]) == 0
    assert capsys.readouterr().out == "BEGIN\n" + render_all()["formats.md"]


def test_an_undefined_name_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.j2").write_text("{{ no_such_thing }}", encoding="utf-8")
    assert main(["template", str(tmp_path / "bad.j2")]) == 1
    assert "no_such_thing" in capsys.readouterr().err
    assert main(["template", str(tmp_path / "missing.j2")]) == 2


def test_generated_documents_go_through_the_same_path() -> None:
    env = environment()
    assert render_template(env, "api.md.j2") == render_all()["api.md"]
