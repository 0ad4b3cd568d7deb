"""The command line: options, contradictions, exit status for an unreachable registry."""

from __future__ import annotations

import pytest
from registry_toolkit.validate.cli import main, options_from, parser
from registry_toolkit.validate.options import WORKFLOWS, Options


def parse(*argv: str) -> Options:
    return options_from(parser().parse_args(["http://r:5000", *argv]))


def test_defaults() -> None:
    options = parse()
    assert options.workflows == WORKFLOWS and options.deletes and options.verify is True
    assert options.namespace.startswith("validate/") and not options.fuzz


def test_options() -> None:
    options = parse(
        "--workflows", "push,docker", "--expect", "referrers,deletes", "--insecure", "-u", "alice", "-p", "pw",
        "--namespace", "team/x", "--crossmount-namespace", "team/y", "--fuzz", "--max-examples", "7", "--seed", "3",
    )  # fmt: skip
    assert options.workflows == ("push", "docker")
    assert options.expect == {"referrers", "deletes"}
    assert options.verify is False and options.username == "alice" and options.password == "pw"
    assert (options.namespace, options.crossmount) == ("team/x", "team/y")
    assert options.fuzz and options.max_examples == 7 and options.seed == 3
    assert parse("--workflows", "none").workflows == ()
    assert parse("--cacert", "/ca.pem").verify == "/ca.pem"


def test_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_VALIDATE_PASSWORD", "from-env")
    assert parse("-u", "alice").password == "from-env"


@pytest.mark.parametrize(
    "argv",
    [
        ["--workflows", "pull,teleport"],
        ["--expect", "nothing"],
        ["--insecure", "--cacert", "x"],
        ["--no-deletes", "--expect", "deletes"],
    ],
)
def test_bad_command_lines_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["http://r:5000", *argv])
    assert exited.value.code == 2


def test_unreachable_registry_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["http://127.0.0.1:9", "-q", "--timeout", "2"]) == 2
    assert "cannot reach" in capsys.readouterr().err
