"""Validation of what people type or import: identity numbers, bank cards, mobile numbers.

Every failure is a ``ValidationError`` naming the field, with a Chinese and an English message.
The arithmetic comes from python-stdnum (``stdnum.cn.ric``: GB 11643 checksum, birth date, birth place
from the region code; ``stdnum.luhn``), not written again here.

GB 11643: 18 characters; the first 17 are digits, weighted 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2; the
weighted sum mod 11 indexes "10X98765432" for the check character. Digits 7–14 are the birth date;
the 17th digit is odd for men and even for women.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum import luhn
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

from store.errors import ValidationError

F_ID = "id_number"
F_SEX = "sex"
F_BIRTH = "birth_date"
F_CARD = "card_number"
F_MOBILE = "mobile"
F_NAME = "name"
F_BANK = "bank_name"

#: banks a wage card is usually with: the list the administrator's form and the worker's phone pick from
BANKS: tuple[str, ...] = (
    "中国工商银行",
    "中国农业银行",
    "中国银行",
    "中国建设银行",
    "交通银行",
    "中国邮政储蓄银行",
    "招商银行",
    "上海银行",
    "上海农商银行",
    "浦发银行",
    "兴业银行",
    "中信银行",
    "民生银行",
    "光大银行",
    "平安银行",
)

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise_id_number(raw: str) -> str:
    return ric.compact(raw or "")


def validate_id_number(raw: str, *, today: date | None = None) -> str:
    """The identity number in canonical form (upper-case X), or a ValidationError saying what is wrong."""
    number = normalise_id_number(raw)
    try:
        ric.validate(number)
    except InvalidLength as exc:
        raise ValidationError(
            F_ID,
            f"身份证号码应为18位，现为{len(number)}位",
            f"ID number must have 18 characters, not {len(number)}",
        ) from exc
    except InvalidFormat as exc:
        raise ValidationError(
            F_ID, "身份证号码前17位必须是数字", "ID number: the first 17 characters must be digits"
        ) from exc
    except InvalidChecksum as exc:
        raise ValidationError(F_ID, "身份证号码校验位错误", "ID number: wrong check character") from exc
    except InvalidComponent as exc:
        try:
            ric.get_birth_date(number)
        except InvalidComponent:
            raise ValidationError(
                F_ID, "身份证号码中的出生日期无效", "ID number: the birth date in it is not a real date"
            ) from exc
        raise ValidationError(F_ID, "身份证号码中的地区码无效", "ID number: unknown region code") from exc
    except StdnumError as exc:
        raise ValidationError(F_ID, "身份证号码无效", "ID number is not valid") from exc
    if ric.get_birth_date(number) > (today or date.today()):
        raise ValidationError(
            F_ID, "身份证号码中的出生日期在未来", "ID number: the birth date in it is in the future"
        )
    return number


def sex_of(number: str) -> str:
    """'M' or 'F' from the 17th digit of a valid identity number."""
    return "M" if int(number[16]) % 2 == 1 else "F"


def birth_date_of(number: str) -> date:
    return ric.get_birth_date(number)


def validate_person(id_number: str, *, sex: str | None, birth_date: date | None) -> str:
    """Check the identity number and that the given sex and birth date agree with it."""
    number = validate_id_number(id_number)
    if sex is not None and sex not in ("M", "F"):
        raise ValidationError(F_SEX, "性别只能是男或女", "Sex must be M or F")
    if sex is not None and sex != sex_of(number):
        raise ValidationError(
            F_SEX,
            "性别与身份证号码不一致",
            "Sex does not agree with the ID number (17th digit: odd = male, even = female)",
        )
    if birth_date is not None and birth_date != birth_date_of(number):
        raise ValidationError(
            F_BIRTH, "出生日期与身份证号码不一致", "Birth date does not agree with the ID number"
        )
    return number


def mask_id_number(number: str) -> str:
    """**************1234: the last 4 characters only, what screens, lists, exports and kiosks show.

    Not the first 3 as well: with the birth date and sex a kiosk holds anyway, the region's first digits
    and the checksum left at most a handful of candidates for the full number (issue 19). With the last
    4 alone, the six-digit region is open: hundreds of candidates (README, "What a kiosk can learn")."""
    if len(number) < 8:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


def validate_card_number(raw: str) -> tuple[str, list[str]]:
    """A bank card number (digits, 12–19 long). Returns it with warnings: a Luhn failure is a warning only
    (some Chinese bank cards do not use Luhn), never a refusal."""
    number = re.sub(r"[\s-]", "", raw or "")
    if not number.isdigit():
        raise ValidationError(F_CARD, "银行卡号只能包含数字", "Card number must contain digits only")
    if not 12 <= len(number) <= 19:
        raise ValidationError(
            F_CARD,
            f"银行卡号应为12至19位，现为{len(number)}位",
            f"Card number must have 12 to 19 digits, not {len(number)}",
        )
    warnings = []
    if not luhn.is_valid(number):
        warnings.append(
            "银行卡号校验（Luhn）未通过，请核对 / Card number fails the Luhn check: please double-check it"
        )
    return number, warnings


def validate_bank_name(raw: str) -> str:
    """One of ``BANKS``: a wage card is with a bank the site's payroll can pay into."""
    name = (raw or "").strip()
    if name not in BANKS:
        raise ValidationError(F_BANK, "请从列表中选择开户银行", "Choose the bank from the list")
    return name


def mask_card_number(number: str) -> str:
    """6222 **** **** 1234 style: first 4 and last 4 digits."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def validate_mobile(raw: str) -> str:
    """A mainland mobile number: 11 digits starting 13–19 (an optional +86 prefix is dropped)."""
    number = re.sub(r"[\s-]", "", raw or "")
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    if not _MOBILE.match(number):
        raise ValidationError(
            F_MOBILE,
            "手机号码应为11位数字，以13至19开头",
            "Mobile number must be 11 digits starting with 13 to 19",
        )
    return number


#: what makes Excel or WPS read a cell as a formula (=, +, -, @) or hide one behind (tab, carriage return)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: str) -> bool:
    return value.startswith(FORMULA_START)


def refuse_formula(field: str, raw: str) -> str:
    """A text that a spreadsheet would run as a formula is refused (it would reach the wage office's
    exports): names, teams, trades, employers."""
    text = (raw or "").strip(" ")
    if looks_like_formula(text):
        raise ValidationError(
            field,
            f"不能以 = + - @ 或制表符开头（电子表格会当作公式）：{text[:40]}",
            f"Must not begin with = + - @ or a tab (a spreadsheet would run it as a formula): {text[:40]}",
        )
    return raw


#: Unicode categories no name shows: controls (newlines, tabs), format characters (U+200B zero width space,
#: U+200D joiner, U+202E right-to-left override, the bidi isolates U+2066–2069), private use, unassigned,
#: surrogates, line and paragraph separators
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"})
#: letters that draw as nothing (Hangul fillers, the braille blank, the Mongolian vowel separator)
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


def invisible_char(text: str) -> str | None:
    """The first character of ``text`` a reader cannot see (or that reorders what he sees), or None."""
    import unicodedata

    for ch in text:
        if ch in BLANK_LETTERS or unicodedata.category(ch) in INVISIBLE_CATEGORIES:
            return ch
    return None


def validate_text(raw: str, field: str, what: tuple[str, str]) -> str:
    """Free text a person reads back (a name, an institution's name) stripped; refused when it holds an
    invisible or control character, naming it (``what`` names the text: ``("姓名", "The name")``)."""
    text = (raw or "").strip()
    bad = invisible_char(text)
    if bad is not None:
        zh, en = what
        code = f"U+{ord(bad):04X}"
        raise ValidationError(
            field,
            f"{zh}含有看不见的字符或控制字符（{code}），请删除后重新输入",
            f"{en} holds an invisible or control character ({code}): delete it and type it again",
        )
    return text


def validate_name(raw: str) -> str:
    refuse_formula(F_NAME, raw or "")
    name = validate_text(raw, F_NAME, ("姓名", "The name"))
    if not name:
        raise ValidationError(F_NAME, "姓名不能为空", "Name must not be empty")
    if len(name) > 64:
        raise ValidationError(F_NAME, "姓名过长", "Name is too long")
    return name


def age_on(birth: date, day: date) -> int:
    """Age in full years (周岁) on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
