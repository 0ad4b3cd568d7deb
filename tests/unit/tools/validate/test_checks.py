"""The check catalogue: unique ids, clauses the descriptor knows, features the options know, workflow selection."""

from __future__ import annotations

import pytest
import registry_toolkit.validate as validate
from registry_toolkit.validate.checks import SUITES, all_checks, selected
from registry_toolkit.validate.clauses import describe, success_statuses
from registry_toolkit.validate.options import FEATURES, WORKFLOWS, Options


def test_ids_are_unique_and_prefixed_by_their_workflow() -> None:
    checks = all_checks()
    assert len({c.id for c in checks}) == len(checks) == 81
    for check in checks:
        assert check.id.startswith(check.workflow + ".")


def test_every_clause_resolves_and_every_feature_is_known() -> None:
    for check in all_checks():
        for clause in check.clauses:
            assert describe(clause)
        assert check.feature is None or check.feature in FEATURES


def test_every_workflow_has_a_suite_and_the_oci_ground_is_covered() -> None:
    assert [s.workflow for s in SUITES] == ["base", *WORKFLOWS]
    cited = {clause for check in all_checks() for clause in check.clauses}
    oci = {
        f"end-{n}"
        for n in ("1", "2", "3", "4a", "4b", "5", "6", "7", "8a", "8b", "9", "10", "11", "12a", "12b", "13")
    }
    assert oci <= cited
    assert {f"code-{n}" for n in (1, 3, 4, 5, 6, 7, 9)} <= cited


def test_selection_keeps_the_base_check_and_the_order() -> None:
    ids = [c.id for c in selected(("docker", "pull"))]
    assert ids[0] == "base.api"
    assert {c.split(".")[0] for c in ids} == {"base", "pull", "docker"}
    assert ids.index("pull.blob-get") < ids.index("docker.api-version")
    assert [c.id for c in selected(())] == ["base.api"]


def test_success_statuses_come_from_the_descriptor() -> None:
    assert success_statuses("end-4a") == {202}
    assert success_statuses("end-11") == {201, 202}
    assert success_statuses("end-2", "GET") >= {200, 206}


def test_options_refuse_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown workflows"):
        Options(url="http://x", workflows=("pull", "nope"))
    with pytest.raises(ValueError, match="unknown features"):
        Options(url="http://x", expect=frozenset({"teleport"}))
    assert Options(url="http://x/", namespace="a/b").crossmount == "a/b-crossmount"
    assert Options(url="http://x/").base_url == "http://x"


def test_public_exports() -> None:
    assert sorted(validate.__all__) == [
        "FEATURES",
        "Options",
        "Report",
        "Result",
        "Status",
        "WORKFLOWS",
        "run",
    ]
