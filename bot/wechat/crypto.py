"""Safe-mode (安全模式) message encryption: AES-256-CBC with WeChat's framing.

Plaintext = 16 random bytes + 4-byte big-endian length + message + appid, PKCS#7-padded to a multiple
of 32 bytes; key = base64(EncodingAESKey + "="); IV = the first 16 key bytes.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class CryptoError(ValueError):
    """Ciphertext that cannot be ours: bad base64, bad padding, bad length or foreign appid."""


def key_from_encoding_aes_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise CryptoError("EncodingAESKey is not base64") from exc
    if len(key) != 32:
        raise CryptoError("EncodingAESKey must decode to 32 bytes")
    return key


class MessageCrypto:
    """Encrypts and decrypts message bodies for one account; accepts an old key during rotation."""

    def __init__(self, encoding_aes_key: str, appid: str, previous_key: str = "") -> None:
        self.appid = appid
        self._keys = [key_from_encoding_aes_key(encoding_aes_key)]
        if previous_key:
            self._keys.append(key_from_encoding_aes_key(previous_key))

    def encrypt(self, message: str, random16: bytes | None = None) -> str:
        key = self._keys[0]
        body = message.encode("utf-8")
        plain = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body + self.appid.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        return base64.b64encode(enc.update(plain) + enc.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CryptoError("Encrypt is not base64") from exc
        if not raw or len(raw) % 16:
            raise CryptoError("ciphertext length is not a multiple of the block size")
        last_error = CryptoError("no key")
        for key in self._keys:
            try:
                return self._decrypt_with(key, raw)
            except CryptoError as exc:
                last_error = exc
        raise last_error

    def _decrypt_with(self, key: bytes, raw: bytes) -> str:
        dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        plain = dec.update(raw) + dec.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CryptoError("bad padding")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise CryptoError("too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise CryptoError("length field out of range")
        body, appid = plain[20 : 20 + length], plain[20 + length :]
        if appid.decode("utf-8", "replace") != self.appid:
            raise CryptoError("appid mismatch")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CryptoError("message is not UTF-8") from exc
