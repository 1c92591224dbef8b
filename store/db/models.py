"""The schema: SQLModel tables for every record the stores keep (workers and their documents, employers,
projects, employments, officers, issuer keys, kiosks, sign-ins and attendance, events, the audit log, sync
state, phones).

Conventions
- Primary keys are UUIDs, made where the record is made (a kiosk offline, the admin app), so records
  from many machines merge without collisions.
- Times are timezone-aware UTC (``UTCDateTime``); dates (work date, birth date, validity) are plain
  calendar dates in the project's local time.
- ``created_at``/``updated_at`` on every table; ``rev`` is the revision the database assigns on every
  insert or update (see ``store/db/revision.py``): sync pulls by it. ``deleted_at`` is a tombstone for
  reference data, so deletions reach kiosks.
- Sensitive columns (full ID numbers, full card numbers, images) are nullable: a kiosk's store keeps
  them empty (PIPL minimisation); the shared database holds them.

The schema itself is created by the Alembic migrations in ``store/db/migrations``; this module is
their model, never ``create_all`` in production code.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.timeutil import DEFAULT_ZONE, UTCDateTime, utcnow

DEFAULT_RADIUS_M = 150.0


def _id() -> uuid.UUID:
    return uuid.uuid4()


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, **kw)


def _opt_ts(**kw: Any) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=True, **kw)


class Stamped(SQLModel):
    """Columns every table has."""

    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    rev: int = Field(default=0, sa_type=BigInteger, index=True, nullable=False)


class Reference(Stamped):
    """Reference data pulled to kiosks; deleted rows keep a tombstone so the deletion syncs."""

    deleted_at: datetime | None = _opt_ts()

    #: pulled from the shared database to kiosks (see store/sync/rounds.py)
    SYNC_PULL: ClassVar[bool] = True


# --- people and organisations --------------------------------------------------------------------


class Employer(Reference, table=True):
    """用人单位."""

    name: str = Field(index=True)
    credit_code: str | None = None  # 统一社会信用代码


class Project(Reference, table=True):
    """A construction project with its sign-in range (签到范围): a centre and radius, or a polygon."""

    name: str = Field(index=True)
    address: str | None = None
    latitude: float | None = None  # WGS-84
    longitude: float | None = None
    radius_m: float = DEFAULT_RADIUS_M
    #: optional polygon as JSON ``[[lat, lon], ...]`` (WGS-84); when set it is the range
    polygon: str | None = None
    timezone: str = DEFAULT_ZONE


class Worker(Reference, table=True):
    """建筑工人. Gate-relevant fields are pulled to kiosks; ``id_number`` stays in the shared database."""

    name: str = Field(index=True)
    sex: str  # "M" or "F"
    birth_date: date
    ethnicity: str | None = None
    address: str | None = None
    mobile: str | None = None
    #: full GB 11643 number; None on kiosks
    id_number: str | None = Field(default=None, unique=True)
    #: e.g. **************1234 (the last 4 only) — what every list and screen shows
    id_number_masked: str
    #: last four characters, for search at the gate and in the roster
    id_last4: str = Field(index=True)
    realname_verified_at: datetime | None = _opt_ts()
    realname_verified_by: str | None = None
    #: denormalised flag: a bank card in his own name exists (kiosks get the flag, never the number)
    has_bank_card: bool = False
    #: small JPEG of the enrolled face, for the officer to compare; kept on kiosks only when configured
    face_thumb: bytes | None = Field(default=None, sa_type=LargeBinary)


class IdentityDocument(Stamped, table=True):
    """ID card images and fields (个人信息采集). Shared database only, never pushed to kiosks."""

    worker_id: uuid.UUID = Field(foreign_key="worker.id", index=True)
    front_image: bytes | None = Field(default=None, sa_type=LargeBinary)
    back_image: bytes | None = Field(default=None, sa_type=LargeBinary)
    issuing_authority: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None


class FaceCheck(Stamped, table=True):
    """A face photo and the administrator's real-name verification (实名认证). Shared only."""

    worker_id: uuid.UUID = Field(foreign_key="worker.id", index=True)
    photo: bytes | None = Field(default=None, sa_type=LargeBinary)
    faces_found: int = 0
    verified: bool = False
    verified_by: str | None = None
    verified_at: datetime | None = _opt_ts()


class BankCard(Stamped, table=True):
    """银行卡信息. The full number stays in the shared database for wages; kiosks never get it."""

    worker_id: uuid.UUID = Field(foreign_key="worker.id", index=True)
    bank_name: str
    card_number: str | None = None
    card_masked: str
    holder_name: str
    luhn_ok: bool = True


class HealthInstitution(Reference, table=True):
    """The list of health-check institutions (体检机构) the admin picks from."""

    name: str = Field(unique=True)
    district: str | None = None
    active: bool = True


class HealthCheck(Reference, table=True):
    """健康体检信息. Kiosks get date, result and validity, nothing of the medical detail."""

    worker_id: uuid.UUID = Field(foreign_key="worker.id", index=True)
    institution_id: uuid.UUID | None = Field(default=None, foreign_key="healthinstitution.id")
    institution_other: str | None = None  # 其他: free text
    checked_on: date
    passed: bool = True
    result_note: str | None = None
    valid_until: date | None = None


class Employment(Reference, table=True):
    """聘用信息: who works for which employer on which project, in which team and trade."""

    __table_args__ = (
        Index("ix_employment_worker_project", "worker_id", "project_id"),
        Index("ix_employment_project_rev", "project_id", "rev"),  # a kiosk's scoped pull (0008)
    )

    worker_id: uuid.UUID = Field(foreign_key="worker.id")
    employer_id: uuid.UUID = Field(foreign_key="employer.id", index=True)
    project_id: uuid.UUID = Field(foreign_key="project.id", index=True)
    team: str  # 班组
    trade: str  # 工种
    start_date: date
    end_date: date | None = None
    confirmed_at: datetime | None = _opt_ts()  # 聘用信息确认


class Officer(Reference, table=True):
    """班前签到员: a person who may sign workers in; his code unlocks a kiosk."""

    name: str
    mobile: str | None = None
    worker_id: uuid.UUID | None = Field(default=None, foreign_key="worker.id")


class OfficerAssignment(Reference, table=True):
    """Which officer may sign in for which project (and from when to when)."""

    __table_args__ = (Index("ix_officerassignment_officer_project", "officer_id", "project_id"),)

    officer_id: uuid.UUID = Field(foreign_key="officer.id")
    project_id: uuid.UUID = Field(foreign_key="project.id", index=True)
    start_date: date | None = None
    end_date: date | None = None


class IssuerKey(Reference, table=True):
    """A trusted public key that signs personal codes (the trust list). Keys rotate; revoked keys refuse."""

    kid: str = Field(unique=True)
    public_key: bytes = Field(sa_type=LargeBinary)  # raw 32-byte Ed25519 public key
    not_before: datetime = _ts()
    not_after: datetime | None = _opt_ts()
    revoked_at: datetime | None = _opt_ts()
    note: str | None = None
    #: the kinds of code it may sign: comma-separated Role values (store/codes/scope.py); a kiosk's key
    #: for the officer-code screen is "officer" only, so a stolen kiosk cannot mint workers' codes
    roles: str = Field(default="worker,officer", sa_column_kwargs={"server_default": "worker,officer"})


# --- issue 27 (t27a): the public keys of workers' phones, which sign their codes offline ---------------


class DeviceKey(Reference, table=True):
    """A worker's phone's own public key (ECDSA P-256, made by the phone's WebCrypto, the private half
    never leaves it): it signs the phone's two-minute codes, with or without a signal. Pulled to kiosks
    like issuer keys; revoked with the phone's binding (store/codes/devices.py)."""

    kid: str = Field(index=True)  # first 4 bytes of SHA-256 of ``public_key``, 8 hex digits
    worker_id: uuid.UUID = Field(foreign_key="worker.id", index=True)
    #: the PhoneBinding it was made on (that table is never pulled: no foreign key)
    binding_id: uuid.UUID = Field(index=True)
    public_key: bytes = Field(sa_type=LargeBinary)  # the raw uncompressed P-256 point, 65 bytes
    alg: str = "ES256"
    revoked_at: datetime | None = _opt_ts()


# --- end of issue 27 (t27a) -------------------------------------------------------------------------


class Kiosk(Reference, table=True):
    """A gate laptop."""

    name: str
    project_id: uuid.UUID | None = Field(default=None, foreign_key="project.id")
    latitude: float | None = None
    longitude: float | None = None
    last_seen_at: datetime | None = _opt_ts()


# --- the worker's own submissions from his phone (self-enrollment) --------------------------------


class Submission(Stamped):
    """Something a worker submitted himself, waiting for an administrator (待审核). Shared database only.

    ``status``: pending → approved / rejected (with ``reject_reason``, which the worker sees), or
    superseded by a newer submission of his. The images and the full card number are cleared once it is
    decided: approved data lives on in the enrollment tables, rejected data is not kept."""

    worker_id: uuid.UUID = Field(foreign_key="worker.id", index=True)
    status: str = Field(default="pending", index=True)
    submitted_at: datetime = _ts()
    decided_at: datetime | None = _opt_ts()
    decided_by: str | None = None
    reject_reason: str | None = None


class RealnameSubmission(Submission, table=True):
    """个人信息采集 by the worker: both sides of his ID card, a face photo (exactly one face) and his name
    as he typed it (his ID number was checked against the enrolled one and is not kept again)."""

    name: str
    front_image: bytes | None = Field(default=None, sa_type=LargeBinary)
    back_image: bytes | None = Field(default=None, sa_type=LargeBinary)
    face_photo: bytes | None = Field(default=None, sa_type=LargeBinary)
    face_thumb: bytes | None = Field(default=None, sa_type=LargeBinary)


class BankCardSubmission(Submission, table=True):
    """银行卡 added or replaced by the worker; the holder is always the worker himself."""

    bank_name: str
    card_number: str | None = None  # cleared once decided
    card_masked: str
    luhn_ok: bool = True


# --- issue 27 (t27b, migration 0012): the worker's own health check waits for review -----------------


class HealthCheckSubmission(Submission, table=True):
    """健康体检 declared by the worker on his phone: institution (from the list, or 其他 with its name),
    date, result and the report photo. It becomes a ``HealthCheck`` (and a ``HealthReport``) only when an
    administrator approves it; until then the sign-in rules do not see it."""

    institution_id: uuid.UUID | None = Field(default=None, foreign_key="healthinstitution.id")
    institution_other: str | None = None
    checked_on: date
    passed: bool
    report_image: bytes | None = Field(default=None, sa_type=LargeBinary)  # cleared once decided


# --- end of issue 27 (t27b) --------------------------------------------------------------------------


class HealthReport(Stamped, table=True):
    """A photo of a health-check report, re-encoded (store/people/images.py). Shared only: kiosks get the
    check's date and result, never the report."""

    health_check_id: uuid.UUID = Field(foreign_key="healthcheck.id", index=True)
    image: bytes = Field(sa_type=LargeBinary)


# --- what happens at the gate --------------------------------------------------------------------


class Attendance(Stamped, table=True):
    """One per worker, project and work date: the first successful sign-in of that day."""

    __table_args__ = (
        UniqueConstraint("worker_id", "project_id", "work_date", name="uq_attendance_day"),
        Index("ix_attendance_project_rev", "project_id", "rev"),  # a kiosk's scoped pull (0008)
        Index("ix_attendance_project_date", "project_id", "work_date"),  # the roster's month (0008)
    )

    worker_id: uuid.UUID = Field(foreign_key="worker.id")
    project_id: uuid.UUID = Field(foreign_key="project.id")
    work_date: date = Field(index=True)
    first_at: datetime = _ts()
    way: str  # "A" or "B"
    kiosk_id: uuid.UUID | None = None
    officer_id: uuid.UUID | None = None
    attempt_id: uuid.UUID | None = None
    latitude: float | None = None  # way A: the phone's position (WGS-84)
    longitude: float | None = None


class SignInAttempt(Stamped, table=True):
    """Every scan, refused or not, for the supervisor. Never the raw token: only its hash."""

    __table_args__ = (Index("ix_signinattempt_project_at", "project_id", "at"),)

    at: datetime = _ts()
    kiosk_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    work_date: date | None = None
    way: str = "B"
    worker_id: uuid.UUID | None = Field(default=None, index=True)  # when known from the code
    officer_id: uuid.UUID | None = None
    outcome: str  # Outcome value
    reason: str | None = None  # Reason value when refused
    kid: str | None = None
    code_hash: str | None = None  # sha256 of the token, hex
    attendance_id: uuid.UUID | None = None  # for signed_in / already: the day's attendance
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    distance_m: float | None = None
    latency_ms: float | None = None


class GatePhoto(Stamped, table=True):
    """The frame a sign-in was read from, as evidence against buddy-punching (kept two years)."""

    attempt_id: uuid.UUID = Field(foreign_key="signinattempt.id", unique=True)
    jpeg: bytes = Field(sa_type=LargeBinary)
    width: int
    height: int


class AttendanceMonth(Stamped, table=True):
    """What wages need of the attendance, kept after the daily rows are purged (``store/roster/retention.py``):
    one row per worker, project and month with the days present. Only on the shared database."""

    __table_args__ = (UniqueConstraint("worker_id", "project_id", "month", name="uq_attendancemonth"),)

    worker_id: uuid.UUID = Field(foreign_key="worker.id")
    project_id: uuid.UUID = Field(foreign_key="project.id", index=True)
    month: date = Field(index=True)  # the first day of the month
    days: str  # the days of the month present, "1,2,5"
    days_present: int


class KioskEvent(Stamped, table=True):
    """The kiosk's own event log: unlock and lock, project changes, camera lost and back, sync failures,
    clock drift, quitting (``store/roster/events.py``). Pushed with the attempts. Never a personal value beyond
    the officer's id: no names, no codes, no worker ids."""

    __table_args__ = (
        Index("ix_kioskevent_project_at", "project_id", "at"),
        Index("ix_kioskevent_kiosk_at", "kiosk_id", "at"),
    )

    at: datetime = _ts()
    kiosk_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    kind: str  # EventKind value
    officer_id: uuid.UUID | None = None
    how: str | None = None  # camera / scanner / key / idle / auto
    reason: str | None = None  # a Reason value (a refused unlock), or a short code
    detail: str | None = None  # plain, non-personal: "+312 s", the error's first line


class AuditLog(Stamped, table=True):
    """Who changed what and when (administration). Holds ids and field names, never sensitive values."""

    at: datetime = _ts()
    actor: str
    action: str  # create / update / delete / verify / revoke / import
    table_name: str
    row_id: uuid.UUID | None = None
    detail: str | None = None


# --- 出场: departures, auto close and corrections (issue 25; migration 0010) -------------------------


class Departure(Stamped, table=True):
    """出场: when a worker left the project on a work date. One per worker, project and work date — the
    earliest scanned departure wins (store/rules/direction.py, store/sync/push.py); the entry of that day
    is the ``Attendance`` row.

    ``method``: ``scan`` (扫码 at a kiosk), ``phone`` (手机扫码, way A), ``auto`` (自动签退 at the project's
    close time) or ``manual`` (补录 by a supervisor, with ``note`` the reason and ``actor`` who, audited).
    ``no_entry``: nobody had signed him in that day when he left (recorded, flagged, never refused)."""

    __table_args__ = (
        UniqueConstraint("worker_id", "project_id", "work_date", name="uq_departure_day"),
        Index("ix_departure_project_day", "project_id", "work_date"),
    )

    worker_id: uuid.UUID = Field(foreign_key="worker.id")
    project_id: uuid.UUID = Field(foreign_key="project.id")
    work_date: date
    at: datetime = _ts()
    method: str  # DepartureMethod value: scan / phone / auto / manual
    kiosk_id: uuid.UUID | None = None
    officer_id: uuid.UUID | None = None
    attempt_id: uuid.UUID | None = None
    no_entry: bool = False
    latitude: float | None = None  # way A: the phone's position (WGS-84)
    longitude: float | None = None
    note: str | None = None  # 补录: the supervisor's reason
    actor: str | None = None  # 补录: who corrected it


class SyncCounter(SQLModel, table=True):
    """The revision counter of this database (one row per name). See store/db/revision.py."""

    name: str = Field(primary_key=True)
    value: int = Field(default=0, sa_type=BigInteger)


class PushRejection(SQLModel, table=True):
    """A row a kiosk pushed that the shared database refused (another kiosk's id, no attempt behind an
    attendance, a first sign-in time far from its attempt's or from the push). Kept for the
    administrator, never pulled; photos are recorded without their image."""

    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    at: datetime = _ts(index=True)
    login: str | None = None  # the database login that pushed it (PostgreSQL)
    kiosk_id: uuid.UUID | None = None
    table_name: str
    row_id: uuid.UUID | None = None
    reason: str
    detail: str | None = None  # the refused row as JSON (no image)
    # issue 24 (0008): the administrator looked at it and settled it (kiosk kiosk settle)
    settled_at: datetime | None = _opt_ts()
    settled_by: str | None = None


class KioskLogin(SQLModel, table=True):
    """Which kiosk a PostgreSQL login pushes for: one login, one kiosk (bound at ``kiosk db roles
    --kiosk`` or at the login's first push). Shared database only."""

    role_name: str = Field(primary_key=True)
    kiosk_id: uuid.UUID = Field(unique=True)
    bound_at: datetime = _ts()


class SyncState(SQLModel, table=True):
    """Key-value state of sync on a kiosk (cursors, last success, last error)."""

    key: str = Field(primary_key=True)
    value: str


# sync/pull's PULLED repeats part of this list in the same order (what a kiosk pulls, sync's concern):
# each list stands where it is used.
#: tables whose rows get a revision on every write, in foreign-key order
REVISIONED: tuple[type[Stamped], ...] = (
    Employer,
    Project,
    Worker,
    IdentityDocument,
    FaceCheck,
    BankCard,
    HealthInstitution,
    HealthCheck,
    Employment,
    Officer,
    OfficerAssignment,
    IssuerKey,
    DeviceKey,
    Kiosk,
    Attendance,
    SignInAttempt,
    GatePhoto,
    AttendanceMonth,
    KioskEvent,
    AuditLog,
    RealnameSubmission,
    BankCardSubmission,
    HealthCheckSubmission,  # issue 27 (t27b)
    HealthReport,
    Departure,  # issue 25
)


# --- workers' phones (kiosk serve; shared database only, never synced to kiosks) -------------------
# Plain tables, not ``Stamped``: they take no revision (a phone fetching its code must not move the
# sync counter that every kiosk listens to) and sync never pulls them.


class PhoneActivation(SQLModel, table=True):
    """A one-time activation link that binds a phone to a worker or an officer. Only the SHA-256 of
    its secret is kept; it is good once, until ``expires_at``, unless revoked (a newer link revokes it)."""

    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    created_at: datetime = _ts()
    token_hash: str = Field(unique=True)
    worker_id: uuid.UUID | None = Field(default=None, foreign_key="worker.id", index=True)
    officer_id: uuid.UUID | None = Field(default=None, foreign_key="officer.id", index=True)
    expires_at: datetime = _ts()
    used_at: datetime | None = _opt_ts()
    revoked_at: datetime | None = _opt_ts()
    created_by: str = "system"
    binding_id: uuid.UUID | None = None


class PhoneBinding(SQLModel, table=True):
    """A phone's browser bound to a person: the SHA-256 of its device credential (the cookie), never
    the credential. One live binding per person; a new one revokes the old."""

    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    created_at: datetime = _ts()
    device_hash: str = Field(unique=True)
    worker_id: uuid.UUID | None = Field(default=None, foreign_key="worker.id", index=True)
    officer_id: uuid.UUID | None = Field(default=None, foreign_key="officer.id", index=True)
    activation_id: uuid.UUID | None = None
    last_seen_at: datetime | None = _opt_ts()
    revoked_at: datetime | None = _opt_ts()
    revoked_by: str | None = None


class PhoneRequest(SQLModel, table=True):
    """The replay guard of the phone's sign-in requests: the SHA-256 of each request's one-time nonce."""

    nonce_hash: str = Field(primary_key=True)
    binding_id: uuid.UUID = Field(index=True)
    at: datetime = _ts()


# --- kiosk keys (issue 24, migration 0008): kiosks sync through the site service, signed by their key ----
# Shared database only, never synced, no revision (like the phone tables above).


class KioskKey(SQLModel, table=True):
    """A kiosk's Ed25519 public key and what it may sync: ``pending`` until approved (by an administrator,
    or by a one-time enrollment token), ``approved`` for ``projects`` (comma-separated project ids), until
    ``revoked``. store/sync/keys.py."""

    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    created_at: datetime = _ts()
    kiosk_id: uuid.UUID = Field(unique=True)
    name: str
    public_key: bytes = Field(sa_type=LargeBinary, unique=True)  # raw 32 bytes
    key_id: str = Field(unique=True)  # store/sync/signing.key_id: what a request names
    status: str = "pending"  # pending / approved / revoked
    projects: str = ""
    approved_at: datetime | None = _opt_ts()
    approved_by: str | None = None
    revoked_at: datetime | None = _opt_ts()
    revoked_by: str | None = None
    last_seen_at: datetime | None = _opt_ts()


class KioskEnrollment(SQLModel, table=True):
    """A one-time enrollment token for a kiosk key, bound to projects; only its SHA-256 is kept."""

    id: uuid.UUID = Field(default_factory=_id, primary_key=True)
    created_at: datetime = _ts()
    token_hash: str = Field(unique=True)
    projects: str
    expires_at: datetime = _ts()
    used_at: datetime | None = _opt_ts()
    key_id: uuid.UUID | None = None
    created_by: str = "admin"
    revoked_at: datetime | None = _opt_ts()


class KioskNonce(SQLModel, table=True):
    """The replay guard of signed sync requests: SHA-256 of key id and nonce, kept for the time window."""

    nonce_hash: str = Field(primary_key=True)
    key_id: uuid.UUID
    at: datetime = _ts(index=True)


# --- issue 24 (item 5): the phone service's shared state, in the database (migration 0009) ------------------


class RateLimit(SQLModel, table=True):
    """One rate limit's recent hits for one key (a phone's hash, an address): the same count for every
    service process and host (``store.ratelimit``). ``hits`` holds the hit times of the last window, as
    Unix seconds separated by spaces; ``last_at`` lets old rows be purged."""

    bucket: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    hits: str = ""
    last_at: datetime = _ts(index=True)
