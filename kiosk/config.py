"""The kiosk's configuration: one TOML file read with ``tomllib`` into a typed, validated object.

Where it comes from: ``--config FILE`` when given, else ``$KIOSK_CONFIG``, else ``config.toml`` in
the user config directory (platformdirs); a missing default file means all defaults. Every setting is
documented in ``config.example.toml``. An unknown key or a bad value is a ``ConfigError`` that names
the key (``[policy] min_age: …``), never a traceback.
"""

from __future__ import annotations

import os
import tomllib
import uuid
from datetime import time as dtime
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_config_path, user_data_path
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from store.errors import StoreError
from store.rules.policy import Policy
from store.timeutil import DEFAULT_ZONE

APP = "site-signin-kiosk"


def data_dir() -> Path:
    """Where the kiosk keeps its local store, demo data and keys by default."""
    return Path(os.environ.get("KIOSK_DATA_DIR") or user_data_path(APP))


def default_config_path() -> Path:
    return Path(os.environ.get("KIOSK_CONFIG") or user_config_path(APP) / "config.toml")


class ConfigError(StoreError):
    """The config file is missing, malformed, or has an unknown key or a bad value."""


class _Section(BaseModel):
    # inf and nan are no setting: every number is finite and has its bounds (below)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class StoreSettings(_Section):
    #: the kiosk's own SQLite store (offline-first)
    local_url: str = ""
    #: the shared database: PostgreSQL in production, a SQLite file by default
    shared_url: str = ""
    #: SQLite synchronous mode for the local store (FULL: a green sign-in survives a power cut)
    sqlite_synchronous: Literal["NORMAL", "FULL", "EXTRA"] = "FULL"

    def local(self) -> str:
        return self.local_url or f"sqlite:///{data_dir() / 'kiosk.db'}"

    def shared(self) -> str:
        return self.shared_url or f"sqlite:///{data_dir() / 'shared.db'}"


class KioskSettings(_Section):
    #: this kiosk's id (a UUID); empty: one is made and kept in the local store on first run
    id: str = ""
    name: str = "1号门"
    #: the project this kiosk signs in for (UUID); empty: the officer picks at unlock
    project: str = ""
    #: the kiosk's own position (WGS-84), for the geofence at unlock; leave out when unknown
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    #: lock the screen after this many seconds without a scan (0 = never)
    lock_idle_s: int = Field(default=600, ge=0, le=86400)
    #: ring the terminal bell: once on success, three times on refusal
    bell: bool = True
    #: keep the frame of each attempt as a JPEG (evidence against buddy-punching; kept two years)
    gate_photos: bool = True
    #: how long a result card stays on screen, seconds
    card_s: float = Field(default=3.0, ge=0.5, le=60)
    #: what a scan means at this gate: in (进场), out (出场) or auto (自动: in, or out when already in)
    direction: Literal["in", "out", "auto"] = "in"
    #: 自动: a second scan within this many minutes of the worker's last pass is a repeat, not a departure
    repeat_window_min: float = Field(default=5.0, ge=0, le=120)

    @field_validator("id", "project")
    @classmethod
    def _uuid_or_empty(cls, v: str) -> str:
        if v:
            try:
                uuid.UUID(v)
            except ValueError as exc:
                raise ValueError(f"not a UUID: {v!r}") from exc
        return v


class PolicySettings(_Section):
    timezone: str = DEFAULT_ZONE
    min_age: int = Field(default=18, ge=0, le=100)
    max_age_male: int = Field(default=60, ge=0, le=120)
    max_age_female: int = Field(default=50, ge=0, le=120)
    health_valid_days: int = Field(default=365, ge=0, le=3650)
    clock_skew_s: int = Field(default=30, ge=0, le=3600)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v


class CodeSettings(_Section):
    #: validity of a personal code issued here (seconds)
    validity_s: int = Field(default=120, ge=10, le=65535)
    #: trusted issuer public keys as a file (in addition to the IssuerKey table); optional
    trust_file: str = ""
    #: the issuer private key of the officer-code screen (way A): it must be scoped to officers' codes
    #: only (``kiosk keys new --roles officer``; loaded with store.codes.keys.load_officer_key); "" = no screen
    officer_key: str = ""


class CameraSettings(_Section):
    #: a webcam index ("0"), a device path (/dev/video0), an rtsp/http URL, a video file or a folder
    source: str = "0"
    width: int = Field(default=1280, ge=160, le=7680)
    height: int = Field(default=720, ge=120, le=4320)
    #: decoder chain: zxingcpp (default; then pyzbar, then opencv), pyzbar, opencv
    decoder: Literal["zxingcpp", "pyzbar", "opencv"] = "zxingcpp"
    #: the same code seen again within this many seconds makes no new attempt
    dedupe_window_s: float = Field(default=3.0, ge=0, le=600)


class SyncSettings(_Section):
    #: seconds between background syncs (0 = only on demand; else 1 s to a day)
    interval_s: float = Field(default=30.0, ge=0, le=86400)
    #: pull the workers' small enrolled face photos to this kiosk (for the officer to compare)
    face_thumbs: bool = False
    #: push the gate photos of attempts to the shared database (evidence kept two years)
    push_photos: bool = True
    #: the site service a kiosk syncs through (issue 24), e.g. "https://sign.example.cn" or
    #: "http://127.0.0.1:8765"; empty: no service (a kiosk then holds no database login either)
    service_url: str = ""
    #: this kiosk's private sync key (Ed25519, mode 0600); empty: kiosk-sync.key in the data folder
    key_file: str = ""

    def key_path(self) -> Path:
        return Path(self.key_file).expanduser() if self.key_file else data_dir() / "kiosk-sync.key"

    @field_validator("interval_s")
    @classmethod
    def _at_least_a_second(cls, v: float) -> float:
        if 0 < v < 1:
            raise ValueError("must be 0 (only on demand) or at least 1 second")
        return v


class LocationSettings(_Section):
    #: way A: a phone location reported less accurate than this (metres) is refused
    max_accuracy_m: float = Field(default=100.0, ge=1, le=10000)
    #: way A: the projects (ids or names; "*" every one) where a worker may also 签退 by phone
    phone_signout: list[str] = Field(default_factory=list)


class ServeSettings(_Section):
    """``kiosk serve``: the workers' phone service (see the README, "The phone service")."""

    #: the private key that signs workers' codes (and officers', when its scope allows): a key scoped
    #: ``worker`` or ``worker,officer``, registered in the shared database. The service refuses to start
    #: without one, or with an officer-only key. It lives on this server only, never on a kiosk.
    issuer_key: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    #: server processes (uvicorn workers)
    workers: int = Field(default=1, ge=1, le=64)
    #: the address phones reach the service at, as written into activation links
    #: (e.g. "https://sign.example.cn"); empty: http(s)://host:port
    base_url: str = ""
    #: TLS for a site without a reverse proxy (PEM files); empty: plain HTTP behind a TLS proxy
    certfile: str = ""
    keyfile: str = ""
    #: reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated IPs, or "*")
    forwarded_allow_ips: str = "127.0.0.1"
    #: hours an activation link stays good
    link_ttl_h: float = Field(default=24.0, gt=0, le=720)
    #: rate limits, per minute: activation attempts per address; sign-ins per phone and per address;
    #: code fetches per phone (a page renews twice a code's life)
    activate_per_min_ip: int = Field(default=60, ge=1, le=100000)
    signin_per_min_device: int = Field(default=6, ge=1, le=100000)
    signin_per_min_ip: int = Field(default=300, ge=1, le=100000)
    code_per_min_device: int = Field(default=30, ge=1, le=100000)
    #: the worker's enrollment calls (photos sent, card, health check, confirmations) per phone
    enroll_per_min_device: int = Field(default=20, ge=1, le=100000)
    #: largest photo upload accepted (megabytes)
    max_upload_mb: float = Field(default=8.0, gt=0, le=64)

    def base_url_at(self, port: int) -> str:
        """The address phones reach the service at: ``base_url``, else http(s)://host:port (a wildcard
        host is shown as 127.0.0.1)."""
        if self.base_url:
            return self.base_url.rstrip("/")
        scheme = "https" if self.certfile else "http"
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"{scheme}://{host}:{port}"

    def link_base(self, given: str | None = None) -> str:
        """Where an activation link points: ``given`` (``--base-url``), else the configured service."""
        return (given or "").rstrip("/") or self.base_url_at(self.port)


class RetentionSettings(_Section):
    """How long records are kept (store/roster/retention.py): on the shared database by law and for wages, on a
    kiosk only as long as the gate needs them once they are pushed."""

    attendance_days: int = Field(default=730, ge=1, le=36500)
    attempts_days: int = Field(default=730, ge=1, le=36500)
    photos_days: int = Field(default=730, ge=1, le=36500)
    #: the monthly attendance wages are paid from
    wages_days: int = Field(default=1095, ge=1, le=36500)
    #: a kiosk's pushed gate photos, attempts, attendance and events
    kiosk_days: int = Field(default=30, ge=1, le=36500)
    #: rows deleted per transaction
    batch: int = Field(default=5000, ge=1, le=1000000)

    def periods(self) -> Any:
        from store.roster.retention import Periods

        return Periods(
            self.attendance_days, self.attempts_days, self.photos_days, self.wages_days, self.kiosk_days
        )


class BackupSettings(_Section):
    #: where `kiosk db backup` writes when no --out is given; empty: <user data dir>/backups
    folder: str = ""
    #: how many backups to keep (the oldest beyond go)
    keep: int = Field(default=7, ge=1, le=3650)

    def dir(self) -> Path:
        return Path(self.folder).expanduser() if self.folder else data_dir() / "backups"


class CloseSettings(_Section):
    """自动签退: at a project's close time everyone still in is signed out automatically."""

    #: the close time of every project that has none of its own, local time HH:MM
    default: str = "20:00"
    #: a project's own close time, by its id or its name: {"<uuid or name>" = "18:00"}
    projects: dict[str, str] = Field(default_factory=dict)

    @field_validator("default")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        _parse_hhmm(v)
        return v

    @field_validator("projects")
    @classmethod
    def _hhmm_each(cls, v: dict[str, str]) -> dict[str, str]:
        for value in v.values():
            _parse_hhmm(value)
        return v

    def times(self) -> tuple[dtime, dict[str, dtime]]:
        """(the default, each project's) as times of day."""
        return _parse_hhmm(self.default), {k: _parse_hhmm(v) for k, v in self.projects.items()}


def _parse_hhmm(v: str) -> dtime:
    try:
        hh, mm = v.strip().split(":")
        return dtime(int(hh), int(mm))
    except ValueError as exc:
        raise ValueError(f"not a time HH:MM: {v!r}") from exc


class Config(_Section):
    #: language of the screens: zh (default) or en
    language: Literal["zh", "en"] = "zh"
    store: StoreSettings = StoreSettings()
    kiosk: KioskSettings = KioskSettings()
    policy: PolicySettings = PolicySettings()
    codes: CodeSettings = CodeSettings()
    camera: CameraSettings = CameraSettings()
    sync: SyncSettings = SyncSettings()
    location: LocationSettings = LocationSettings()
    serve: ServeSettings = ServeSettings()
    retention: RetentionSettings = RetentionSettings()
    backup: BackupSettings = BackupSettings()
    close: CloseSettings = CloseSettings()

    #: the file it was read from (None: defaults)
    path: Path | None = None

    def sign_in_policy(self) -> Policy:
        p = self.policy
        # Field by field on purpose: store's Policy must not import kiosk's config types (store never imports kiosk).
        return Policy(
            min_age=p.min_age,
            max_age_male=p.max_age_male,
            max_age_female=p.max_age_female,
            health_valid_days=p.health_valid_days,
            clock_skew_s=p.clock_skew_s,
            timezone=p.timezone,
        )


def parse_config(data: dict[str, Any], *, path: Path | None = None) -> Config:
    where = str(path) if path else "config"
    if "path" in data:
        raise ConfigError(f"{where}：未知设置项 path", f"{where}: unknown key 'path'")
    try:
        return Config.model_validate({**data, "path": path})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(x) for x in err["loc"]]
        key = (f"[{loc[0]}] " + ".".join(loc[1:])) if len(loc) > 1 else loc[0] if loc else "?"
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"{where}：未知设置项 {key}", f"{where}: unknown key {key}") from exc
        msg = err["msg"]
        raise ConfigError(
            f"{where}：设置项 {key} 的值无效（{msg}）", f"{where}: bad value for {key}: {msg}"
        ) from exc


#: a config is a few KB; anything much bigger is some other file named by mistake
MAX_CONFIG_BYTES = 1024 * 1024


def load_config(path: str | Path | None = None) -> Config:
    """Read the config. ``path`` None: the default file if it exists, else all defaults."""
    explicit = path is not None or "KIOSK_CONFIG" in os.environ
    p = Path(path) if path is not None else default_config_path()
    if not p.exists():
        if explicit:
            raise ConfigError(f"找不到配置文件：{p}", f"Config file not found: {p}")
        return Config()
    if not p.is_file():  # a device (/dev/zero would be read forever), a folder, a pipe: never a config
        raise ConfigError(
            f"配置文件不是普通文件：{p}（请指定一个 .toml 文件）",
            f"The config is not a regular file: {p} (name a .toml file)",
        )
    if p.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"配置文件过大：{p}（超过 {MAX_CONFIG_BYTES // 1024} KB，不像配置文件）",
            f"The config file is too big: {p} (over {MAX_CONFIG_BYTES // 1024} KB: not a config)",
        )
    try:
        # utf-8-sig: a file saved by Notepad starts with a byte-order mark, which TOML itself refuses
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件格式错误：{p}：{exc}", f"Malformed config file {p}: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"无法读取配置文件：{p}", f"Cannot read config file {p}: {exc}") from exc
    return parse_config(data, path=p)
