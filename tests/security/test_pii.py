from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from wealthcrm.security.pii import (
    FieldCipher,
    is_valid_mobile,
    is_valid_national_id,
    load_or_create_key,
    mask_mobile,
    mask_national_id,
    normalize_mobile,
)

CIPHER = FieldCipher(bytes(range(32)))


@given(st.text(max_size=50))
def test_encrypt_round_trips_and_never_repeats(text: str) -> None:
    a, b = CIPHER.encrypt(text), CIPHER.encrypt(text)
    assert a != b
    assert CIPHER.decrypt(a) == CIPHER.decrypt(b) == text
    assert CIPHER.blind_index(text) == CIPHER.blind_index(text)


def test_wrong_key_cannot_decrypt_and_indexes_differ() -> None:
    other = FieldCipher(bytes(32))
    token = CIPHER.encrypt("11010519491231002X")
    with pytest.raises(InvalidTag):
        other.decrypt(token)
    assert other.blind_index("x") != CIPHER.blind_index("x")


def test_masks() -> None:
    assert mask_national_id("11010519491231002X") == "110105********002X"
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_mobile("123") == "***"


def test_validation() -> None:
    assert is_valid_national_id("11010519491231002X")
    assert not is_valid_national_id("110105194912310021")  # check digit
    assert not is_valid_national_id("110105491231002")  # 15-digit IDs are withdrawn
    assert [normalize_mobile(m) for m in ["+86 138-1234-5678", "008613812345678", "8613812345678"]] == [
        "13812345678"
    ] * 3
    assert is_valid_mobile("13812345678") and not is_valid_mobile("12812345678")


def test_key_file_is_created_once_with_private_mode(tmp_path: Path) -> None:
    key = load_or_create_key(None, tmp_path)
    assert load_or_create_key(None, tmp_path) == key and len(key) == 32
    assert (tmp_path / "field.key").stat().st_mode & 0o777 == 0o600
