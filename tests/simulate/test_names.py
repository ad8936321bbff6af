"""Synthetic PII passes the same checks real PII must pass."""

from __future__ import annotations

import numpy as np
from stdnum.cn import ric

from wealthcrm.security.pii import is_valid_mobile, is_valid_national_id
from wealthcrm.simulate.names import (
    REGION_CODES,
    bump_sequence,
    mobiles,
    national_id,
    national_ids,
    next_region,
)


def test_every_region_code_is_valid_for_every_birth_year() -> None:
    for region in REGION_CODES:
        for year in range(1935, 2010):
            assert is_valid_national_id(national_id(region, f"{year}0615", 101)), (region, year)


def test_ids_encode_birth_date_and_sex() -> None:
    rng = np.random.default_rng(0)
    birth = np.array(["1961-02-28", "1990-12-31", "2004-07-01"], dtype="datetime64[D]")
    female = np.array([True, False, True])
    ids = national_ids(rng, birth, female)
    for nid, b, f in zip(ids, birth, female, strict=True):
        assert ric.is_valid(nid)
        assert str(ric.get_birth_date(nid)) == str(b)
        assert int(nid[16]) % 2 == (0 if f else 1)


def test_bumping_a_clashing_id_keeps_it_valid_and_the_same_person() -> None:
    nid = national_id("310104", "19800101", 999)
    bumped = bump_sequence(nid)
    assert bumped != nid
    assert is_valid_national_id(bumped)
    assert bumped[:14] == nid[:14]
    assert int(bumped[16]) % 2 == int(nid[16]) % 2


def test_mobiles_are_mainland_numbers() -> None:
    assert all(is_valid_mobile(m) for m in mobiles(np.random.default_rng(1), 500))


def test_a_full_birth_date_moves_to_the_next_birth_place() -> None:
    nid = national_id(REGION_CODES[-1], "19800101", 101)
    moved = next_region(nid)
    assert moved[:6] == REGION_CODES[0]
    assert moved[6:17] == nid[6:17]
    assert is_valid_national_id(moved)
