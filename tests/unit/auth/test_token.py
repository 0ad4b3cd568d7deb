"""Token verification: every way a token is refused, and the challenges distribution sends for each."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from testkit.tokens import Signer, compact, der_b64, self_signed

from registry_impl.auth.base import Access, Challenge, Resource
from registry_impl.auth.token import TokenAccessController
from registry_impl.config import ConfigError

pytestmark = pytest.mark.anyio
REALM = "https://auth.test/token"
APP = [("repository", "org/app", ["pull"])]
PULL = [Access(Resource("repository", "org/app"), "pull")]
PUSH = [*PULL, Access(Resource("repository", "org/app"), "push")]
CHALLENGE = f'Bearer realm="{REALM}",service="test-registry"'


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return Signer.create(tmp_path)


def controller_for(signer: Signer, **params: Any) -> TokenAccessController:
    base = {
        "realm": REALM,
        "service": signer.service,
        "issuer": signer.issuer,
        "rootcertbundle": str(signer.bundle),
    }
    return TokenAccessController.from_params({**base, **params})


@pytest.fixture
def controller(signer: Signer) -> TokenAccessController:
    return controller_for(signer)


async def refused(controller: TokenAccessController, token: str | None, access: list[Access] = PULL) -> str:
    headers = {"authorization": f"Bearer {token}"} if token is not None else {}
    with pytest.raises(Challenge) as caught:
        await controller.authorized(headers, access)
    return caught.value.headers["WWW-Authenticate"]


def invalid(scope: str = "repository:org/app:pull") -> str:
    return f'{CHALLENGE},scope="{scope}",error="invalid_token"'


async def test_a_valid_token_with_x5c_is_granted(controller: TokenAccessController, signer: Signer) -> None:
    grant = await controller.authorized({"authorization": f"Bearer {signer.token(APP)}"}, PULL)
    assert grant.user == "alice"
    assert [(r.type, r.name) for r in grant.resources] == [("repository", "org/app")]


@pytest.mark.parametrize("header", ["kid", "thumbprint", "jwk"])
async def test_the_root_key_may_be_named_instead_of_chained(
    controller: TokenAccessController, signer: Signer, header: str
) -> None:
    assert (
        await controller.authorized({"authorization": f"Bearer {signer.token(APP, header=header)}"}, PULL)
    ).user


async def test_a_jwks_key_is_found_by_kid(signer: Signer, tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(signer.jwks("key-1")))
    controller = TokenAccessController.from_params(
        {"realm": REALM, "service": signer.service, "issuer": signer.issuer, "jwks": str(jwks)}
    )
    token = signer.token(APP, header="none", headers={"kid": "key-1"})
    assert (await controller.authorized({"authorization": f"Bearer {token}"}, PULL)).user == "alice"
    assert await refused(controller, signer.token(APP)) == invalid()  # x5c, but no roots to verify it


async def test_no_token_or_another_scheme_gets_the_plain_challenge(controller: TokenAccessController) -> None:
    assert await refused(controller, None) == f'{CHALLENGE},scope="repository:org/app:pull"'
    with pytest.raises(Challenge) as caught:
        await controller.authorized({"authorization": "Basic YWxpY2U6cHc="}, [])
    assert caught.value.headers["WWW-Authenticate"] == CHALLENGE


async def test_insufficient_scope_lists_what_the_request_needs(
    controller: TokenAccessController, signer: Signer
) -> None:
    header = await refused(controller, signer.token(APP), PUSH)
    assert header == f'{CHALLENGE},scope="repository:org/app:pull,push",error="insufficient_scope"'
    other = await refused(controller, signer.token([("repository", "org/other", ["pull"])]))
    assert other.endswith('error="insufficient_scope"')


async def test_star_grants_every_action(controller: TokenAccessController, signer: Signer) -> None:
    token = signer.token([("repository", "org/app", ["*"]), ("registry", "catalog", ["*"])])
    delete = [Access(Resource("repository", "org/app"), "delete")]
    catalog = [Access(Resource("registry", "catalog"), "*")]
    for access in (PUSH, delete, catalog):
        await controller.authorized({"authorization": f"Bearer {token}"}, access)


class Ago(int):
    """A time claim given as seconds before now (negative: after), resolved when the test runs, not when
    the suite is collected minutes earlier."""


def at_run_time(claims: dict[str, Any]) -> dict[str, Any]:
    now = int(time.time())
    return {key: now - value if isinstance(value, Ago) else value for key, value in claims.items()}


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": Ago(61)},
        {"nbf": Ago(-120)},
        {"iat": Ago(-120)},
        {"iss": "someone-else"},
        {"aud": "another-registry"},
        {"aud": ["another-registry", "a-third"]},
        {"exp": None},
        {"iss": None},
        {"aud": None},
        {"access": "everything"},
        {"access": [["repository", "org/app", ["pull"]]]},
    ],
    ids=[
        "expired",
        "not-yet-valid",
        "issued-in-the-future",
        "wrong-issuer",
        "wrong-audience",
        "wrong-audience-list",
        "no-exp",
        "no-iss",
        "no-aud",
        "access-not-a-list",
        "access-entry-not-an-object",
    ],
)
async def test_claims_that_fail(
    controller: TokenAccessController, signer: Signer, claims: dict[str, Any]
) -> None:
    assert await refused(controller, signer.token(APP, claims=at_run_time(claims))) == invalid()


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": Ago(30)},
        {"nbf": Ago(-30)},
        {"iat": Ago(-30)},
        {"aud": ["another-registry", "test-registry"]},
        {"nbf": None, "iat": None, "sub": None},
    ],
    ids=["exp-within-leeway", "nbf-within-leeway", "iat-within-leeway", "audience-list", "minimal"],
)
async def test_claims_that_pass(
    controller: TokenAccessController, signer: Signer, claims: dict[str, Any]
) -> None:
    token = signer.token(APP, claims=at_run_time(claims))
    await controller.authorized({"authorization": f"Bearer {token}"}, PULL)


async def test_forged_with_an_untrusted_certificate(
    controller: TokenAccessController, tmp_path: Path
) -> None:
    forger = Signer.create(tmp_path / "forger", issuer="test-issuer", service="test-registry")
    assert await refused(controller, forger.token(APP)) == invalid()
    assert await refused(controller, forger.token(APP, header="kid")) == invalid()
    assert await refused(controller, forger.token(APP, header="jwk")) == invalid()


async def test_forged_with_the_trusted_certificate_but_another_key(
    controller: TokenAccessController, signer: Signer
) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    assert await refused(controller, signer.token(APP, key=other)) == invalid()
    assert await refused(controller, signer.token(APP, key=other, header="kid")) == invalid()


async def test_tampered_claims(controller: TokenAccessController, signer: Signer) -> None:
    header, payload, signature = signer.token(APP).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["access"][0]["actions"] = ["pull", "push", "delete"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert await refused(controller, f"{header}.{forged}.{signature}", PUSH) == invalid(
        "repository:org/app:pull,push"
    )


async def test_alg_none_is_never_accepted(controller: TokenAccessController, signer: Signer) -> None:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    header = {"alg": "none", "typ": "JWT", "x5c": [der_b64(signer.certificate)]}
    assert await refused(controller, f"{b64(header)}.{b64(signer.claims(APP))}.") == invalid()
    assert (
        await refused(controller, f"{b64({**header, 'alg': 'None'})}.{b64(signer.claims(APP))}.") == invalid()
    )


async def test_hmac_keyed_with_the_public_key_is_never_accepted(signer: Signer) -> None:
    # The classic confusion attack: HS256 with the verifier's public key (PEM) as the shared secret.
    controller = controller_for(signer, signingalgorithms=["HS256", "ES256"])
    pem = signer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = signer.claims(APP)
    for named in ({"x5c": [der_b64(signer.certificate)]}, {"kid": signer.libtrust_kid}, {}):
        header = {"alg": "HS256", "typ": "JWT", **named}
        token = compact(header, claims, lambda data: hmac.new(pem, data, hashlib.sha256).digest())
        assert await refused(controller, token) == invalid()


async def test_algorithms_outside_the_allow_list(signer: Signer) -> None:
    controller = controller_for(signer, signingalgorithms=["RS256"])
    assert await refused(controller, signer.token(APP)) == invalid()


async def test_an_algorithm_that_does_not_fit_the_key(
    controller: TokenAccessController, signer: Signer
) -> None:
    # ES384 over a P-256 key, and an RSA algorithm named for an EC key.
    def es384_on_p256(data: bytes) -> bytes:
        r, s = decode_dss_signature(signer.key.sign(data, ec.ECDSA(hashes.SHA384())))  # type: ignore[call-arg,union-attr]
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    header = {"alg": "ES384", "typ": "JWT", "x5c": [der_b64(signer.certificate)]}
    assert await refused(controller, compact(header, signer.claims(APP), es384_on_p256)) == invalid()
    header, payload, signature = signer.token(APP).split(".")
    relabelled = json.loads(base64.urlsafe_b64decode(header + "=="))
    relabelled["alg"] = "RS256"
    new_header = base64.urlsafe_b64encode(json.dumps(relabelled).encode()).decode().rstrip("=")
    assert await refused(controller, f"{new_header}.{payload}.{signature}") == invalid()


async def test_an_untrusted_kid(controller: TokenAccessController, signer: Signer) -> None:
    token = signer.token(APP, header="none", headers={"kid": "AAAA:BBBB"})
    assert await refused(controller, token) == invalid()
    assert await refused(controller, signer.token(APP, header="none")) == invalid()  # no key named at all


@pytest.mark.parametrize(
    "raw", ["", "abc", "a.b", "a.b.c.d", "!!!.e30.sig", "e30.!!!.sig", "bm90IGpzb24.e30.c2ln"]
)
async def test_malformed_tokens(controller: TokenAccessController, raw: str) -> None:
    header = await refused(controller, raw)
    expected_error = "" if raw == "" else ',error="invalid_token"'
    assert header == f'{CHALLENGE},scope="repository:org/app:pull"{expected_error}'


async def test_a_chain_through_an_intermediate(tmp_path: Path) -> None:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = self_signed(root_key, "root CA", ca=True)
    mid_key = ec.generate_private_key(ec.SECP256R1())
    mid = self_signed(mid_key, "intermediate CA", ca=True, issuer=(root.subject, root_key))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = self_signed(leaf_key, "token signer", issuer=(mid.subject, mid_key))
    bundle = tmp_path / "roots.pem"
    bundle.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    signer = Signer(leaf_key, leaf, "test-issuer", "test-registry", bundle)
    controller = controller_for(signer)
    await controller.authorized({"authorization": f"Bearer {signer.token(APP, chain=[leaf, mid])}"}, PULL)
    assert await refused(controller, signer.token(APP, chain=[leaf])) == invalid()  # intermediate missing
    # A leaf is no CA: a certificate it "issued" does not chain.
    fake_key = ec.generate_private_key(ec.SECP256R1())
    fake = self_signed(fake_key, "fake", issuer=(leaf.subject, leaf_key))
    forged = Signer(fake_key, fake, "test-issuer", "test-registry", bundle)
    assert await refused(controller, forged.token(APP, chain=[fake, leaf, mid])) == invalid()


async def test_a_remembered_token_still_expires(signer: Signer) -> None:
    controller = controller_for(signer)
    now = [time.time()]
    controller.verifier.clock = lambda: now[0]
    token = signer.token(APP, claims={"exp": int(now[0]) + 10})
    await controller.authorized({"authorization": f"Bearer {token}"}, PULL)
    now[0] += 100
    assert await refused(controller, token) == invalid()


async def test_autoredirect_points_the_realm_at_this_host(signer: Signer) -> None:
    controller = controller_for(signer, autoredirect=True)
    with pytest.raises(Challenge) as caught:
        await controller.authorized({"host": "registry.test:5000"}, [])
    assert caught.value.headers["WWW-Authenticate"].startswith(
        'Bearer realm="https://registry.test:5000/auth/token"'
    )
    with pytest.raises(Challenge) as forwarded:
        await controller.authorized({"host": "r.test", "x-forwarded-proto": "http"}, [])
    assert forwarded.value.headers["WWW-Authenticate"].startswith('Bearer realm="http://r.test/auth/token"')


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"rootcertbundle": ""}, "at least one token signing key"),
        ({"rootcertbundle": "/nonexistent/roots.pem"}, "unable to read"),
        ({"signingalgorithms": ["none"]}, "unsupported signing algorithm: none"),
        ({"signingalgorithms": ["HS256"]}, "no usable"),
        ({"signingalgorithms": "ES256"}, "must be a list"),
        ({"autoredirect": "yes"}, "autoredirect"),
        ({"issuer": ""}, "auth.token.issuer"),
    ],
)
def test_configuration_errors(signer: Signer, params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        controller_for(signer, **params)


def test_a_bundle_without_certificates_and_no_jwks(tmp_path: Path, signer: Signer) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("nothing here\n")
    with pytest.raises(ConfigError, match="at least one token signing key"):
        controller_for(signer, rootcertbundle=str(empty))
