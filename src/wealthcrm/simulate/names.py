"""Synthetic personal data: Chinese names, occupations, districts, national IDs and mobile numbers.

Nothing here belongs to a real person: names are random pairs of common characters, and ID numbers
are random birth places, birth dates and sequence numbers with a valid GB 11643 check digit.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from stdnum.cn import ric

SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_MALE = tuple("伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波宁浩凯健俊帆斌宇晨博文斌哲瑞翔昊天毅峰建国志东海")
_FEMALE = tuple("芳娜敏静丽艳娟霞秀英玲燕萍红婷雪琳晶颖倩洁佳琪慧瑶欣怡悦岚蕾薇璐晓梅兰菲丹")

#: (occupation, share of customers, income multiplier, chance salary is paid into the bank)
OCCUPATIONS: tuple[tuple[str, float, float, float], ...] = (
    ("企业职员", 0.30, 1.0, 0.70),
    ("公务员", 0.06, 1.0, 0.90),
    ("教师", 0.06, 0.9, 0.85),
    ("医生", 0.05, 1.4, 0.80),
    ("IT工程师", 0.07, 1.5, 0.70),
    ("金融从业者", 0.04, 1.8, 0.60),
    ("企业主", 0.10, 2.5, 0.05),
    ("个体工商户", 0.10, 1.2, 0.02),
    ("自由职业", 0.05, 1.0, 0.02),
    ("退休", 0.17, 0.6, 0.60),  # pension paid into the account counts as a payroll credit
)

#: Residential districts of the branch's city.
DISTRICTS = ("徐汇区", "长宁区", "黄浦区", "静安区", "闵行区", "浦东新区", "普陀区", "虹口区", "杨浦区")

#: Birth-place prefixes (address codes) that python-stdnum accepts for every birth year: the
#: prefixes whose county existed throughout (checked by ``tests/simulate/test_names.py``).
REGION_CODES = (
    "310101", "310104", "310105", "310106", "310107", "310109", "310110",
    "110101", "110102", "110105", "110106", "110107", "110108", "110109",
    "330122", "330127", "510121",
)  # fmt: skip
_REGION_WEIGHTS = np.array([4.0] * 7 + [1.0] * 7 + [1.0] * 3)

_MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]


def person_names(rng: np.random.Generator, n: int, female: npt.NDArray[np.bool_]) -> list[str]:
    """Surname plus one or two given-name characters, picked by sex."""
    sur = rng.integers(0, len(SURNAMES), n)
    male_1 = rng.integers(0, len(_MALE), (n, 2))
    female_1 = rng.integers(0, len(_FEMALE), (n, 2))
    two = rng.random(n) < 0.7
    out: list[str] = []
    for i in range(n):
        chars = _FEMALE if female[i] else _MALE
        idx = female_1[i] if female[i] else male_1[i]
        given = chars[idx[0]] + (chars[idx[1]] if two[i] else "")
        out.append(SURNAMES[sur[i]] + given)
    return out


def national_id(region: str, birth: str, seq: int) -> str:
    """An 18-character ID: region, birth date YYYYMMDD, 3-digit sequence (odd for men), check digit."""
    body = f"{region}{birth}{seq:03d}"
    # calc_check_digit expects the full number and ignores its last character
    return body + str(ric.calc_check_digit(body + "0"))


def national_ids(
    rng: np.random.Generator, birth: npt.NDArray[np.datetime64], female: npt.NDArray[np.bool_]
) -> list[str]:
    """One ID per person; the sequence number's parity encodes sex as GB 11643 requires."""
    n = len(birth)
    region = rng.choice(len(REGION_CODES), n, p=_REGION_WEIGHTS / _REGION_WEIGHTS.sum())
    seq = rng.integers(0, 500, n) * 2 + np.where(female, 0, 1)
    births = np.datetime_as_string(birth, unit="D")
    return [national_id(REGION_CODES[region[i]], births[i].replace("-", ""), int(seq[i])) for i in range(n)]


def bump_sequence(national: str) -> str:
    """The same person's ID with the next sequence number of the same sex (to resolve a clash)."""
    seq = (int(national[14:17]) + 2) % 1000
    return national_id(national[:6], national[6:14], seq)


def next_region(national: str) -> str:
    """The same person's ID with the next birth place: when all 500 sequence numbers are taken."""
    region = REGION_CODES.index(national[:6]) if national[:6] in REGION_CODES else -1
    return national_id(REGION_CODES[(region + 1) % len(REGION_CODES)], national[6:14], int(national[14:17]))


def mobiles(rng: np.random.Generator, n: int) -> list[str]:
    prefix = rng.integers(0, len(_MOBILE_PREFIXES), n)
    rest = rng.integers(0, 100_000_000, n)
    return [f"{_MOBILE_PREFIXES[prefix[i]]}{rest[i]:08d}" for i in range(n)]
