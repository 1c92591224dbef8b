"""What the JSON API answers, as pydantic models (each route's ``response_model``; the schema at
/api/openapi.json is made from them). Field order is the order of the answer's keys. Numbers a caller sent
or the store computed keep their own type (``Num``): a distance of 12 stays 12, not 12.0."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

Num = int | float


class ErrorPublic(BaseModel):
    """Every refusal: a reason code and the message in the request's language, Chinese and English."""

    error: str
    field: str | None = None
    message: str
    message_zh: str
    message_en: str


class CsrfPublic(BaseModel):
    csrf_token: str


# --- who I am -----------------------------------------------------------------------------------------


class ProjectRef(BaseModel):
    project: str
    name: str


class CheckPublic(BaseModel):
    name: str
    label: str
    passed: bool
    reason: str | None
    message: str | None


class StepPublic(BaseModel):
    name: str
    label: str
    passed: bool


class ProjectReadiness(BaseModel):
    """A worker's project and whether he may sign in there today (``store.rules.signin.evaluate``)."""

    project: str
    name: str
    ready: bool
    checks: list[CheckPublic]
    steps: list[StepPublic]


class EnrollStepPublic(BaseModel):
    step: str
    label: str
    state: str
    state_label: str
    detail: str
    waiting: int
    submitted_at: str | None
    status: str | None
    summary: str
    reason: str | None


class EnrollmentPublic(BaseModel):
    """His four enrollment steps, each with its state and, when rejected, the administrator's reason."""

    name: str
    id_masked: str
    steps: list[EnrollStepPublic]
    ready: bool


class MePublic(BaseModel):
    """A worker: his projects' readiness and his enrollment; an officer: his projects today."""

    kind: str
    name: str
    id_masked: str | None  # an officer has none
    date: str
    projects: list[Annotated[ProjectReadiness | ProjectRef, Field(union_mode="left_to_right")]]
    enrollment: EnrollmentPublic | None = None  # a worker's only


# --- my code and way A ------------------------------------------------------------------------------------


class CodePublic(BaseModel):
    #: a worker's phone signs its own codes (issue 27): whose, and with which of its keys (None: none yet)
    subject: str | None = None
    device_kid: str | None = None
    kind: str
    token: str
    svg: str
    issued_at: str
    expires_at: str
    validity_s: int
    renew_in_s: int
    server_time: str
    project: str | None
    project_name: str | None
    projects: list[ProjectRef]


class PlaceProject(BaseModel):
    project: str
    name: str
    inside: bool
    distance_m: Num | None
    reason: str | None
    message: str | None


class PlacePublic(BaseModel):
    accuracy_m: Num | None
    max_accuracy_m: Num
    projects: list[PlaceProject]


class SignInPublic(BaseModel):
    """The server's decision on a way-A sign-in (``store.rules.way_a``)."""

    outcome: str
    reason: str | None
    message_zh: str
    message_en: str
    distance_m: Num | None
    project: str | None
    work_date: str | None
    at: str | None
    first_at: str | None
    ok: bool
    message: str
    #: a refusal's card (kiosk/serve/refusals.py): 签到失败, the project named, the step that fixes it
    title: str | None = None
    project_name: str | None = None
    fix_url: str | None = None
    fix_label: str | None = None


# --- enrollment ---------------------------------------------------------------------------------------------


class IdNumberPublic(BaseModel):
    id_masked: str
    sex: str
    sex_label: str
    birth_date: str


class SubmissionSent(BaseModel):
    submission: str
    status: str
    message: str


class BankSent(BaseModel):
    submission: str
    status: str
    card_masked: str
    luhn_ok: bool
    message: str


class EmploymentPublic(BaseModel):
    employment: str
    employer: str
    project: str
    team: str
    trade: str
    start_date: str
    end_date: str | None
    confirmed_at: str | None
    waiting: bool


class EmploymentConfirmed(BaseModel):
    employment: str
    confirmed_at: str | None
    message: str
