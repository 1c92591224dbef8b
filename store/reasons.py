"""The closed set of reasons a sign-in (or a code) is refused, each with a Chinese and English message.

Every refusal anywhere in the product — the code verifier, the sign-in service, way A on the phone,
the kiosk unlock — names one of these. The value is the stable code stored in ``SignInAttempt.reason``
and printed in JSON; the messages are what the officer reads.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a sign-in was refused. Values are stable: they are stored and exported."""

    # --- the code itself (#3) -------------------------------------------------------------------
    CODE_INVALID = "CODE_INVALID"
    CODE_EXPIRED = "CODE_EXPIRED"
    CODE_NOT_YET_VALID = "CODE_NOT_YET_VALID"
    CODE_UNKNOWN_KEY = "CODE_UNKNOWN_KEY"
    CODE_KEY_REVOKED = "CODE_KEY_REVOKED"
    CODE_WRONG_ROLE = "CODE_WRONG_ROLE"
    CODE_KEY_SCOPE = "CODE_KEY_SCOPE"
    # --- the worker (#2) ------------------------------------------------------------------------
    WORKER_UNKNOWN = "WORKER_UNKNOWN"
    REALNAME_INCOMPLETE = "REALNAME_INCOMPLETE"
    NO_BANK_CARD = "NO_BANK_CARD"
    NO_HEALTH_CHECK = "NO_HEALTH_CHECK"
    HEALTH_CHECK_FAILED = "HEALTH_CHECK_FAILED"
    HEALTH_CHECK_EXPIRED = "HEALTH_CHECK_EXPIRED"
    NOT_EMPLOYED_ON_PROJECT = "NOT_EMPLOYED_ON_PROJECT"
    EMPLOYMENT_NOT_CONFIRMED = "EMPLOYMENT_NOT_CONFIRMED"
    EMPLOYMENT_NOT_STARTED = "EMPLOYMENT_NOT_STARTED"
    EMPLOYMENT_ENDED = "EMPLOYMENT_ENDED"
    AGE_POLICY = "AGE_POLICY"
    # --- the officer, the place (#7) ------------------------------------------------------------
    OFFICER_UNKNOWN = "OFFICER_UNKNOWN"
    OFFICER_NOT_ASSIGNED = "OFFICER_NOT_ASSIGNED"
    SIGNOUT_NOT_ALLOWED = "SIGNOUT_NOT_ALLOWED"  # way A: the project takes no 签退 by phone
    PROJECT_UNKNOWN = "PROJECT_UNKNOWN"
    OUTSIDE_RANGE = "OUTSIDE_RANGE"
    LOCATION_INACCURATE = "LOCATION_INACCURATE"
    KIOSK_OUTSIDE_RANGE = "KIOSK_OUTSIDE_RANGE"

    @property
    def zh(self) -> str:
        return _MESSAGES[self][0]

    @property
    def en(self) -> str:
        return _MESSAGES[self][1]

    def message(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


# One entry a reason, (zh, en): the table reads alike by design.
_MESSAGES: dict[Reason, tuple[str, str]] = {
    Reason.CODE_INVALID: ("不是有效的个人建设码", "Not a valid personal construction code"),
    Reason.CODE_EXPIRED: ("建设码已过期，请刷新后重新出示", "Code expired: refresh it and show it again"),
    Reason.CODE_NOT_YET_VALID: (
        "建设码时间异常（来自未来），请核对手机时间",
        "Code is from the future: check the phone's clock",
    ),
    Reason.CODE_UNKNOWN_KEY: (
        "建设码签发密钥未知，请同步后重试",
        "Code signed by an unknown key: sync and retry",
    ),
    Reason.CODE_KEY_REVOKED: ("建设码签发密钥已吊销", "Code signed by a revoked key"),
    Reason.CODE_WRONG_ROLE: (
        "建设码身份不符（工人码/签到员码用错）",
        "Wrong kind of code (worker and officer codes mixed up)",
    ),
    Reason.CODE_KEY_SCOPE: ("该签发密钥无权签发此类建设码", "This key may not sign this kind of code"),
    Reason.WORKER_UNKNOWN: ("查无此工人，请先完成实名登记", "Worker not enrolled: register him first"),
    Reason.REALNAME_INCOMPLETE: (
        "实名信息不完整或未认证",
        "Real-name information incomplete or not verified",
    ),
    Reason.NO_BANK_CARD: (
        "未登记本人银行卡：请到项目部由管理员登记，或由工人在手机“登记”页提交",
        "No bank card: add one at office or by phone",
    ),
    Reason.NO_HEALTH_CHECK: ("无健康体检信息", "No health check on file"),
    Reason.HEALTH_CHECK_FAILED: ("健康体检结论为不合格", "Health check result: not fit for work"),
    Reason.HEALTH_CHECK_EXPIRED: ("健康体检已过期", "Health check expired"),
    Reason.NOT_EMPLOYED_ON_PROJECT: ("未在本项目聘用", "Not employed on this project"),
    Reason.EMPLOYMENT_NOT_CONFIRMED: ("聘用信息未确认", "Employment not confirmed by the worker"),
    Reason.EMPLOYMENT_NOT_STARTED: ("聘用尚未开始", "Employment has not started yet"),
    Reason.EMPLOYMENT_ENDED: ("聘用已结束", "Employment has ended"),
    Reason.AGE_POLICY: ("年龄不符合用工规定", "Age not allowed on site by policy"),
    Reason.OFFICER_UNKNOWN: ("查无此签到员", "Officer unknown"),
    Reason.OFFICER_NOT_ASSIGNED: ("签到员未被指派到本项目", "Officer not assigned to this project"),
    Reason.SIGNOUT_NOT_ALLOWED: ("本项目不允许用手机签退", "This project does not take sign-outs by phone"),
    Reason.PROJECT_UNKNOWN: ("项目不存在", "Project unknown"),
    Reason.OUTSIDE_RANGE: ("不在项目签到范围内", "Outside the project's sign-in range"),
    Reason.LOCATION_INACCURATE: (
        "定位精度不足，请到开阔处重试",
        "Location too inaccurate: move into the open and retry",
    ),
    Reason.KIOSK_OUTSIDE_RANGE: (
        "签到设备不在项目签到范围内",
        "This kiosk is outside the project's sign-in range",
    ),
}

assert set(_MESSAGES) == set(Reason), "every reason needs its two messages"


class Outcome(StrEnum):
    """The result of one sign-in attempt."""

    SIGNED_IN = "signed_in"
    ALREADY = "already"
    REFUSED = "refused"
    SIGNED_OUT = "signed_out"  # 出场 (store/rules/direction.py)


class Way(StrEnum):
    """方式一 (A): the worker's phone scans the officer's code. 方式二 (B): the kiosk scans the worker's."""

    A = "A"
    B = "B"


class Role(StrEnum):
    WORKER = "worker"
    OFFICER = "officer"
