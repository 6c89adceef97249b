"""Names, ID numbers and mobiles for generated people: plausible, valid and unique per run."""

from __future__ import annotations

import random
from datetime import date, timedelta

from customers.validators import id_check_character

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国文辉玉兰红梅志强海燕春林小红"
    "金凤永刚德胜淑珍玉珍国庆建华建军晓东丽娟桂兰秀珍凤英翠花俊峰玉梅志勇新华长青学文家乐"
)
# Yingshang county (颍上县, seed 001) and its neighbours: the address codes of local people.
ADDRESS_CODES = ("341226", "341226", "341226", "341221", "341222", "341225", "341204")
MOBILE_PREFIXES = (
    "133",
    "135",
    "136",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "177",
    "180",
    "182",
    "186",
    "187",
    "188",
    "189",
    "199",
)


def person_name(rng: random.Random) -> str:
    given = GIVEN[rng.randrange(len(GIVEN))]
    if rng.random() < 0.6:
        given += GIVEN[rng.randrange(len(GIVEN))]
    return SURNAMES[rng.randrange(len(SURNAMES))] + given


def mobile(rng: random.Random) -> str:
    return MOBILE_PREFIXES[rng.randrange(len(MOBILE_PREFIXES))] + f"{rng.randrange(10**8):08d}"


class IdNumbers:
    """GB 11643 resident ID numbers, unique within one generator (the sequence is drawn again on
    a collision) and consistent with the birth date and gender they are issued for."""

    def __init__(self, rng: random.Random, taken: set[str] | None = None):
        self.rng = rng
        self.taken: set[str] = set(taken or ())

    def issue(self, birth: date, gender: str) -> str:
        while True:
            sequence = self.rng.randrange(500) * 2 + (1 if gender == "M" else 0)
            first17 = f"{self.rng.choice(ADDRESS_CODES)}{birth:%Y%m%d}{sequence:03d}"
            number = first17 + id_check_character(first17)
            if number not in self.taken:
                self.taken.add(number)
                return number


def birth_date(rng: random.Random, today: date, min_age: int, max_age: int) -> date:
    days = rng.randrange(min_age * 365 + 1, max_age * 365)
    return today - timedelta(days=days)
