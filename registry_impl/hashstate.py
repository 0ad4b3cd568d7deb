"""A sha256 whose running state can be saved and restored, so an upload continues on any process.

hashlib cannot export its state. OpenSSL's SHA256_CTX is plain memory, so this wrapper drives
libcrypto (the same SHA-NI code hashlib uses) through ctypes and saves the state in the format
Go's ``crypto/sha256`` marshals — the format distribution keeps under
``_uploads/<id>/hashstates/sha256/<offset>`` — so states are portable between the two registries.
When libcrypto cannot be loaded, ``available()`` is false and callers re-hash from storage instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import struct
from functools import cache

GO_MAGIC = b"sha\x03"
BLOCK = 64
MARSHALED_SIZE = len(GO_MAGIC) + 8 * 4 + BLOCK + 8


class _Ctx(ctypes.Structure):
    _fields_ = [
        ("h", ctypes.c_uint32 * 8),
        ("Nl", ctypes.c_uint32),
        ("Nh", ctypes.c_uint32),
        ("data", ctypes.c_uint8 * BLOCK),
        ("num", ctypes.c_uint),
        ("md_len", ctypes.c_uint),
    ]


@cache
def _libcrypto() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("crypto")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
        lib.SHA256_Init.argtypes = [ctypes.POINTER(_Ctx)]
        lib.SHA256_Update.argtypes = [ctypes.POINTER(_Ctx), ctypes.c_char_p, ctypes.c_size_t]
        lib.SHA256_Final.argtypes = [ctypes.c_char_p, ctypes.POINTER(_Ctx)]
    except (OSError, AttributeError):
        return None
    return lib


def available() -> bool:
    return _libcrypto() is not None


class ResumableSha256:
    """sha256 with ``marshal``/``unmarshal`` of its running state (Go's binary format)."""

    name = "sha256"

    def __init__(self) -> None:
        lib = _libcrypto()
        if lib is None:
            raise RuntimeError("libcrypto is not available")
        self._lib = lib
        self._ctx = _Ctx()
        lib.SHA256_Init(ctypes.byref(self._ctx))

    @property
    def length(self) -> int:
        """Bytes hashed so far."""
        return int(((self._ctx.Nh << 32) | self._ctx.Nl) // 8)

    def update(self, data: bytes) -> None:
        self._lib.SHA256_Update(ctypes.byref(self._ctx), data, len(data))

    def copy(self) -> ResumableSha256:
        other = ResumableSha256.__new__(ResumableSha256)
        other._lib = self._lib
        other._ctx = _Ctx.from_buffer_copy(self._ctx)
        return other

    def digest(self) -> bytes:
        out = ctypes.create_string_buffer(32)
        ctx = _Ctx.from_buffer_copy(self._ctx)
        self._lib.SHA256_Final(out, ctypes.byref(ctx))
        return out.raw

    def hexdigest(self) -> str:
        return self.digest().hex()

    def marshal(self) -> bytes:
        length = self.length
        buffered = bytes(self._ctx.data)[: self._ctx.num]
        return (
            GO_MAGIC
            + struct.pack(">8I", *self._ctx.h)
            + buffered.ljust(BLOCK, b"\0")
            + struct.pack(">Q", length)
        )

    @classmethod
    def unmarshal(cls, state: bytes) -> ResumableSha256:
        if len(state) != MARSHALED_SIZE or not state.startswith(GO_MAGIC):
            raise ValueError("not a marshaled sha256 state")
        words = struct.unpack(">8I", state[4:36])
        (length,) = struct.unpack(">Q", state[36 + BLOCK :])
        hasher = cls()
        ctx = hasher._ctx
        for i, word in enumerate(words):
            ctx.h[i] = word
        bits = length * 8
        ctx.Nl, ctx.Nh = bits & 0xFFFFFFFF, bits >> 32
        ctx.num = length % BLOCK
        ctypes.memmove(ctx.data, state[36 : 36 + ctx.num], ctx.num)
        ctx.md_len = 32
        return hasher
