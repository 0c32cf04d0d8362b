"""An unknown staff name is checked against a stored dummy hash made with the hasher's parameters,
so it costs what a real check costs (no name enumeration by timing) without hashing at start."""

from __future__ import annotations

from argon2 import PasswordHasher, extract_parameters

from admin import accounts


def test_dummy_hash_has_the_parameters_real_hashes_get() -> None:
    real = accounts._hasher.hash("some-password")
    assert extract_parameters(accounts.DUMMY_HASH) == extract_parameters(real)
    assert extract_parameters(real) == extract_parameters(PasswordHasher().hash("x"))


def test_no_password_matches_the_dummy() -> None:
    for guess in ("", "pufa", "admin123", "password"):
        assert not accounts.check_password(accounts.DUMMY_HASH, guess)
