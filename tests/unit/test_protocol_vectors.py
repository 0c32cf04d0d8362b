"""Conformance with the documented WeChat vectors (docs/wechat-protocol.md) and with wechatpy."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wechatpy.crypto import PrpCrypto

from bot.wechat import signature, xmlcodec
from bot.wechat.crypto import CryptoError, MessageCrypto
from bot.wechat.messages import Inbound

OFFICIAL = {
    "token": "spamtest",
    "aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "appid": "wx2c2769f8efd9abc2",
    "timestamp": "1409735669",
    "nonce": "1320562132",
    "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
    "encrypt": (
        "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFm"
        "OD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dK"
        "OIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJ"
        "SVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM"
        "669WuMyVWQLCzpu9GhglF2PE="
    ),
}


@pytest.mark.parametrize(
    ("token", "timestamp", "nonce", "expected"),
    [
        ("AAAAA", "1714036504", "1514711492", "f464b24fc39322e44b38aa78f5edd27bd1441696"),
        ("test", "1410685589", "test", "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"),
    ],
)
def test_get_signature_vectors(token: str, timestamp: str, nonce: str, expected: str) -> None:
    assert signature.sign(token, timestamp, nonce) == expected
    assert signature.check((token, timestamp, nonce), expected)
    assert not signature.check((token, timestamp, nonce), expected[:-1] + "0")
    assert not signature.check(("other", timestamp, nonce), expected)


def test_official_safe_mode_vector_decrypts_to_abcdtet() -> None:
    v = OFFICIAL
    assert signature.sign(v["token"], v["timestamp"], v["nonce"], v["encrypt"]) == v["msg_signature"]
    plain = MessageCrypto(v["aes_key"], v["appid"]).decrypt(v["encrypt"])
    msg = Inbound.from_fields(xmlcodec.parse(plain.encode()))
    assert msg.msg_type == "text"
    assert msg.content == "abcdteT"
    assert msg.msg_id == 6054768590064713728


def test_msg_signature_is_not_the_plain_signature() -> None:
    v = OFFICIAL
    plain_sig = signature.sign(v["token"], v["timestamp"], v["nonce"])
    assert plain_sig != v["msg_signature"]
    assert not signature.check((v["token"], v["timestamp"], v["nonce"], v["encrypt"]), plain_sig)


def test_appid_mismatch_is_rejected() -> None:
    v = OFFICIAL
    with pytest.raises(CryptoError, match="appid"):
        MessageCrypto(v["aes_key"], "wx0000000000000000").decrypt(v["encrypt"])


def test_old_key_still_decrypts_during_rotation() -> None:
    v = OFFICIAL
    new_key = "Z" * 43
    crypto = MessageCrypto(new_key, v["appid"], previous_key=v["aes_key"])
    assert "abcdteT" in crypto.decrypt(v["encrypt"])


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_encrypt_decrypt_round_trip_and_interop_with_wechatpy(text: str) -> None:
    v = OFFICIAL
    ours = MessageCrypto(v["aes_key"], v["appid"])
    cipher = ours.encrypt(text)
    assert ours.decrypt(cipher) == text
    theirs = PrpCrypto(base64.b64decode(v["aes_key"] + "="))
    decoded = theirs.decrypt(cipher, v["appid"])
    assert (decoded.decode() if isinstance(decoded, bytes) else decoded) == text
    their_cipher = theirs.encrypt(text, v["appid"])
    their_cipher = their_cipher.decode() if isinstance(their_cipher, bytes) else their_cipher
    assert ours.decrypt(their_cipher) == text


@pytest.mark.parametrize("bad", ["not base64!!", "", "AAAA", base64.b64encode(b"x" * 33).decode()])
def test_bad_ciphertext_raises_crypto_error(bad: str) -> None:
    with pytest.raises(CryptoError):
        MessageCrypto(OFFICIAL["aes_key"], OFFICIAL["appid"]).decrypt(bad)


def test_timestamp_window() -> None:
    assert signature.timestamp_fresh("1000", now=1200, window=300)
    assert not signature.timestamp_fresh("1000", now=1400, window=300)
    assert not signature.timestamp_fresh("99999999999999999999", now=1000, window=300)
    assert not signature.timestamp_fresh("-5", now=0, window=300)


def test_two_mass_send_reports_in_one_second_have_different_dedup_keys() -> None:
    def report(msg_id: str) -> Inbound:
        return Inbound.from_fields({"ToUserName": "gh", "FromUserName": "oSystem", "CreateTime": "1700000000",
                                    "MsgType": "event", "Event": "MASSSENDJOBFINISH", "MsgID": msg_id})

    assert report("1000001").dedup_key != report("1000002").dedup_key
    assert report("1000001").dedup_key == report("1000001").dedup_key
