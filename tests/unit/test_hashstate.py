"""The resumable sha256 agrees with hashlib, and its saved state resumes anywhere, Go's format included."""

from __future__ import annotations

import hashlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_impl import hashstate

pytestmark = pytest.mark.skipif(not hashstate.available(), reason="libcrypto not loadable")


@given(parts=st.lists(st.binary(max_size=300), max_size=8))
@settings(max_examples=200, deadline=None)
def test_resumed_hash_equals_hashlib(parts: list[bytes]) -> None:
    hasher = hashstate.ResumableSha256()
    for part in parts:
        hasher = hashstate.ResumableSha256.unmarshal(hasher.marshal())
        hasher.update(part)
    assert hasher.hexdigest() == hashlib.sha256(b"".join(parts)).hexdigest()
    assert hasher.length == sum(map(len, parts))


def test_marshal_matches_go_layout() -> None:
    """Go's crypto/sha256: "sha\\x03", h[0..7] big-endian, the 64-byte block buffer, length big-endian."""
    hasher = hashstate.ResumableSha256()
    hasher.update(b"a" * 70)
    state = hasher.marshal()
    assert len(state) == 108
    assert state[:4] == b"sha\x03"
    assert state[36:42] == b"a" * 6 and state[42:100] == b"\0" * 58
    assert struct.unpack(">Q", state[100:])[0] == 70
    empty = hashstate.ResumableSha256().marshal()
    assert struct.unpack(">8I", empty[4:36])[0] == 0x6A09E667  # sha256's initial h0


def test_digest_does_not_finalise() -> None:
    hasher = hashstate.ResumableSha256()
    hasher.update(b"abc")
    assert hasher.hexdigest() == hashlib.sha256(b"abc").hexdigest()
    hasher.update(b"def")
    assert hasher.hexdigest() == hashlib.sha256(b"abcdef").hexdigest()


@pytest.mark.parametrize("state", [b"", b"sha\x02" + b"\0" * 104, b"sha\x03" + b"\0" * 10])
def test_foreign_states_are_refused(state: bytes) -> None:
    with pytest.raises(ValueError):
        hashstate.ResumableSha256.unmarshal(state)
