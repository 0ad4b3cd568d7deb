"""Key identifiers (libtrust and RFC 7638), the algorithm allow-list, and which algorithm fits which key."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from registry_impl.auth.keys import (
    DEFAULT_ALGORITHMS,
    algorithm_fits,
    jwk_thumbprint,
    libtrust_key_id,
    signing_algorithms,
)
from registry_impl.config import ConfigError

# RFC 7638 section 3.1: this key's thumbprint is NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3"
    "oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdA"
    "ZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-"
    "kEgU8awapJzKnqDKgw"
)


def test_rfc7638_example_thumbprint() -> None:
    n = int.from_bytes(base64.urlsafe_b64decode(RFC7638_N + "=="), "big")
    key = rsa.RSAPublicNumbers(65537, n).public_key()
    assert jwk_thumbprint(key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_libtrust_key_id_shape_and_stability() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    kid = libtrust_key_id(key)
    assert re.fullmatch(r"([A-Z2-7]{4}:){11}[A-Z2-7]{4}", kid)
    assert kid == libtrust_key_id(key)
    assert kid != libtrust_key_id(ec.generate_private_key(ec.SECP256R1()).public_key())


def test_allow_list() -> None:
    assert signing_algorithms(None) == DEFAULT_ALGORITHMS
    assert "none" not in DEFAULT_ALGORITHMS and not any(a.startswith("HS") for a in DEFAULT_ALGORITHMS)
    assert signing_algorithms(["HS256", "ES256"]) == ("ES256",)
    with pytest.raises(ConfigError, match="unsupported signing algorithm: none"):
        signing_algorithms(["none"])
    with pytest.raises(ConfigError, match="unsupported signing algorithm: XS1"):
        signing_algorithms(["ES256", "XS1"])


def test_algorithms_fit_only_their_key_types() -> None:
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    ed = ed25519.Ed25519PrivateKey.generate().public_key()
    assert (
        algorithm_fits("ES256", p256)
        and not algorithm_fits("ES384", p256)
        and not algorithm_fits("RS256", p256)
    )
    assert algorithm_fits("ES384", p384) and not algorithm_fits("ES256", p384)
    assert (
        algorithm_fits("RS256", rsa_key)
        and algorithm_fits("PS512", rsa_key)
        and not algorithm_fits("ES256", rsa_key)
    )
    assert algorithm_fits("EdDSA", ed) and not algorithm_fits("ES256", ed)
    for name in ("HS256", "none", ""):
        assert not any(algorithm_fits(name, key) for key in (p256, rsa_key, ed))
