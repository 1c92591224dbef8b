"""``kiosk doctor``: everything a support call would ask, checked at once, each ✓ or ✗ with what to do.

Each check is a function of the config returning a ``Check`` (Chinese and English, a fix when it
failed). They never raise: a check that cannot even run is a ✗ saying why. Slow ones (the shared
database, the camera) have their own time limits, so the doctor answers within seconds on a dead
network or an unplugged camera. No UI here; ``kiosk/cli/doctor_cmd.py`` prints the result.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.config import Config, ConfigError, default_config_path, load_config
from store.errors import StoreError

#: a disk with less free space than this is a ✗ (a day of gate photos is ~50–100 MB)
MIN_FREE_BYTES = 1 << 30
#: keys ending within this many days are a ✗ (time to rotate)
KEY_WARN_DAYS = 14
CAMERA_TIMEOUT_S = 8.0
CAMERA_FRAMES = 5


@dataclass(frozen=True, slots=True)
class Check:
    name: str  # a stable key for scripts
    ok: bool
    zh: str
    en: str
    fix_zh: str = ""
    fix_en: str = ""
    data: dict[str, Any] | None = None

    # The JSON of one check, like imports' ImportReport.as_dict: one dict each.
    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "ok": self.ok,
            "detail": self.en,
            "detail_zh": self.zh,
            "fix": self.fix_en or None,
            "fix_zh": self.fix_zh or None,
            **({"data": self.data} if self.data else {}),
        }

    def lines(self) -> list[str]:
        out = [f"{'✓' if self.ok else '✗'} {self.zh} | {self.en}"]
        if not self.ok and (self.fix_zh or self.fix_en):
            out.append(f"    → 处理：{self.fix_zh} | what to do: {self.fix_en}")
        return out


def _sqlite_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    from store.db.urls import normalise_url

    u = normalise_url(url)
    path = make_url(u).database if u.startswith("sqlite") else None
    return Path(path) if path and path != ":memory:" else None


def check_config(path: str | None) -> tuple[Check, Config | None]:
    where = Path(path) if path else default_config_path()
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        return Check(
            "config",
            False,
            exc.zh,
            exc.en,
            f"改正 {where} 中所指的设置，或重新运行 kiosk setup",
            f"correct the setting it names in {where}, or run kiosk setup again",
        ), None
    if cfg.path is None:
        return Check(
            "config",
            False,
            f"没有配置文件（{where}），使用默认设置",
            f"No config file ({where}): defaults in use",
            "运行 kiosk setup 完成本机设置",
            "run kiosk setup to set this kiosk up",
        ), cfg
    return Check("config", True, f"配置文件 {cfg.path}", f"config file {cfg.path}"), cfg


def check_local_store(cfg: Config) -> Check:
    from store.db.backup import integrity
    from store.db.schema import head

    url = cfg.store.local()
    path = _sqlite_file(url)
    if path is None:
        return Check(
            "local_store",
            False,
            f"本机数据库不是 SQLite 文件：{url}",
            f"The local store is not a SQLite file: {url}",
            "在配置 [store] local_url 中填写本机文件路径",
            "set [store] local_url to a file on this computer",
        )
    if not path.exists():
        return Check(
            "local_store",
            False,
            f"本机数据库不存在：{path}",
            f"The local store does not exist: {path}",
            "运行 kiosk setup（或 kiosk db upgrade）创建",
            "run kiosk setup (or kiosk db upgrade) to make it",
        )
    check = integrity(path)
    if check != "ok":
        return Check(
            "local_store",
            False,
            f"本机数据库已损坏：{check}",
            f"The local store is damaged: {check}",
            "用 kiosk db restore 从最近的备份恢复",
            "restore the latest backup with kiosk db restore",
        )
    rev = _revision(url)
    data = {"path": str(path), "revision": rev, "head": head(), "bytes": path.stat().st_size}
    if rev != head():
        return Check(
            "local_store",
            False,
            f"本机数据库结构版本 {rev}，应为 {head()}",
            f"The local store's schema is at {rev}, not {head()}",
            "运行 kiosk db upgrade",
            "run kiosk db upgrade",
            data,
        )
    return Check(
        "local_store",
        True,
        f"本机数据库完好（{path}，结构版本 {rev}）",
        f"local store sound ({path}, schema {rev})",
        data=data,
    )


def _revision(url: str) -> str | None:
    from store.db.engine import make_engine, translate_errors
    from store.db.schema import current

    engine = make_engine(url)
    try:
        with translate_errors(url), engine.connect() as conn:
            return current(conn)
    finally:
        engine.dispose()


def check_service(cfg: Config) -> list[Check]:
    """The kiosk's sync key (its file mode) and the site service (reachable, the key approved there)."""
    from store.errors import StoreError
    from store.sync.client import ServiceRefused, SyncClient
    from store.sync.signing import KioskKeyFile

    path = cfg.sync.key_path()
    try:
        key = KioskKeyFile.load(path)
    except StoreError as exc:
        return [
            Check(
                "sync_key",
                False,
                exc.zh,
                exc.en,
                "运行 kiosk kiosk register --token 登记码（或修正文件权限：chmod 600）",
                "Run kiosk kiosk register --token TOKEN (or fix the file's mode: chmod 600)",
            )
        ]
    checks = [
        Check("sync_key", True, f"本机同步密钥：{path}（0600）", f"The kiosk's sync key: {path} (0600)")
    ]
    url = cfg.sync.service_url
    try:
        with SyncClient(url, key, read_s=10.0) as client:
            info = client.me()
    except ServiceRefused as exc:
        checks.append(
            Check(
                "sync_service",
                False,
                f"站点服务 {url} 拒绝了本机：{exc.zh}",
                f"The site service {url} refuses this kiosk: {exc.en}",
                "请管理员运行 kiosk kiosk list / approve",
                "Ask the administrator: kiosk kiosk list / approve",
            )
        )
        return checks
    except StoreError as exc:
        checks.append(
            Check(
                "sync_service",
                False,
                f"无法连接站点服务：{exc.zh}",
                f"Cannot reach the site service: {exc.en}",
                "检查网络与 [sync] service_url",
                "Check the network and [sync] service_url",
            )
        )
        return checks
    approved = info.status == "approved"
    checks.append(
        Check(
            "sync_service",
            approved,
            f"站点服务 {url}：本机{'已获批准' if approved else '尚未获批准'}（{len(info.projects)} 个项目）",
            f"The site service {url}: this kiosk is {info.status} ({len(info.projects)} projects)",
            "" if approved else "请管理员运行 kiosk kiosk approve",
            "" if approved else "Ask the administrator to run kiosk kiosk approve",
            data={"key_id": info.key_id, "status": info.status, "projects": [str(p) for p in info.projects]},
        )
    )
    return checks


def check_shared(cfg: Config, clock: Callable[[], datetime] | None = None) -> tuple[Check, Check]:
    """The shared database (reachable, its schema) and the clock against it."""
    from store.db.engine import make_engine, translate_errors
    from store.db.schema import current, head
    from store.db.urls import redact
    from store.sync.clock import drift_message, drifting, measure_drift
    from store.timeutil import utcnow

    url = cfg.store.shared()
    shown = redact(url)
    skew = cfg.policy.clock_skew_s
    file = _sqlite_file(url)
    if file is not None and not file.exists():  # never made by looking at it
        return (
            Check(
                "shared_db",
                False,
                f"共享数据库文件不存在：{file}",
                f"The shared database file does not exist: {file}",
                "在 [store] shared_url 中填写共享数据库的地址（kiosk setup）",
                "set the shared database's address in [store] shared_url (kiosk setup)",
            ),
            _clock_from_state(cfg),
        )
    try:
        engine = make_engine(url)
        try:
            with translate_errors(url), engine.connect() as conn:
                rev = current(conn)
            drift = measure_drift(engine, clock or utcnow) if rev else None
        finally:
            engine.dispose()
    except StoreError as exc:
        fail = Check(
            "shared_db",
            False,
            f"共享数据库无法连接：{exc.zh}",
            f"The shared database cannot be reached: {exc.en}",
            "检查网络与 [store] shared_url 中的地址、用户名和密码（kiosk setup 可重新填写）",
            "check the network and the address, user and password in [store] shared_url (kiosk setup)",
        )
        return fail, _clock_from_state(cfg)
    if rev != head():
        shared = Check(
            "shared_db",
            False,
            f"共享数据库 {shown} 可连接，结构版本 {rev or '无'}，应为 {head()}",
            f"shared database {shown} reachable, schema at {rev or 'none'}, not {head()}",
            "请管理员在共享数据库上运行 kiosk db upgrade --shared",
            "ask the administrator to run kiosk db upgrade --shared on it",
            {"revision": rev},
        )
    else:
        shared = Check(
            "shared_db",
            True,
            f"共享数据库 {shown} 可连接（结构版本 {rev}）",
            f"shared database {shown} reachable (schema {rev})",
            data={"revision": rev},
        )
    ok = not drifting(drift, skew)
    in_step = Check(
        "clock",
        ok,
        drift_message(drift, skew, "zh"),
        drift_message(drift, skew, "en"),
        "" if ok else "开启本机的自动对时（设置 → 日期和时间），或手动校准",
        "" if ok else "turn on automatic time (Settings → Date & Time), or set it by hand",
        {"drift_s": drift},
    )
    return shared, in_step


def _clock_from_state(cfg: Config) -> Check:
    """The shared database is out of reach: what the last sync measured."""
    from store.db.engine import make_engine
    from store.sync.state import status

    path = _sqlite_file(cfg.store.local())
    if path is None or not path.exists():
        return Check(
            "clock",
            False,
            "无法核对时钟：共享数据库无法连接",
            "Clock not checked: the shared database is out of reach",
            "先解决共享数据库的连接",
            "first get the shared database reachable",
        )
    engine = make_engine(cfg.store.local())
    try:
        st = status(engine, clock_skew_s=cfg.policy.clock_skew_s)
    except StoreError as exc:
        return Check("clock", False, f"无法核对时钟：{exc.zh}", f"Clock not checked: {exc.en}")
    finally:
        engine.dispose()
    if st.clock_checked_at is None:
        return Check(
            "clock",
            False,
            "无法核对时钟：共享数据库无法连接，也从未同步过",
            "Clock not checked: the shared database is out of reach and never was",
            "先解决共享数据库的连接",
            "first get the shared database reachable",
        )
    when = st.clock_checked_at.isoformat(timespec="seconds")
    return Check(
        "clock",
        not st.clock_drifting,
        f"上次同步（{when}）时：{st.clock_message('zh')}",
        f"at the last sync ({when}): {st.clock_message('en')}",
        "开启本机的自动对时" if st.clock_drifting else "",
        "turn on automatic time" if st.clock_drifting else "",
        {"drift_s": st.clock_drift_s},
    )


def check_camera(
    cfg: Config, opener: Callable[..., Any] | None = None, timeout_s: float = CAMERA_TIMEOUT_S
) -> Check:
    """Opens the configured camera and reads a few frames (in a thread, with a time limit)."""
    from kiosk.camera.sources import SourceError, open_source

    spec = cfg.camera.source
    opener = opener or open_source
    result: dict[str, Any] = {}

    def run() -> None:
        src = None
        try:
            src = opener(spec, width=cfg.camera.width, height=cfg.camera.height)
            frames = 0
            while frames < CAMERA_FRAMES:
                f = src.read()
                if f is None:
                    break
                frames += 1
                result["shape"] = f.image.shape
            result["frames"] = frames
        except SourceError as exc:
            result["error"] = exc
        except Exception as exc:  # a driver's own error: say what it was
            result["error"] = StoreError(f"{type(exc).__name__}: {exc}", f"{type(exc).__name__}: {exc}")
        finally:
            if src is not None:
                src.close()

    t = threading.Thread(target=run, name="doctor-camera", daemon=True)
    t.start()
    t.join(timeout_s)
    fix_zh, fix_en = (
        "检查摄像头连线与 [camera] source，或改用扫码枪",
        "check the camera's cable and [camera] source, or use the scanner",
    )
    if t.is_alive():
        return Check(
            "camera",
            False,
            f"摄像头 {spec} 在 {timeout_s:.0f} 秒内没有画面",
            f"Camera {spec}: no picture within {timeout_s:.0f} s",
            fix_zh,
            fix_en,
        )
    if "error" in result:
        err = result["error"]
        return Check(
            "camera",
            False,
            f"摄像头无法打开：{err.zh}",
            f"The camera cannot be opened: {err.en}",
            fix_zh,
            fix_en,
        )
    if not result.get("frames"):
        return Check(
            "camera",
            False,
            f"摄像头 {spec} 打开了但没有画面",
            f"Camera {spec} opened but gave no frames",
            fix_zh,
            fix_en,
        )
    h, w = result["shape"][:2]
    data = {"source": spec, "width": w, "height": h, "frames": result["frames"]}
    if w * h < 1280 * 720 and (spec.isdigit() or spec.startswith("/dev/")):
        return Check(
            "camera",
            False,
            f"摄像头 {spec} 有画面，但只有 {w}×{h}：手机上的码不易读出",
            f"Camera {spec} gives frames, but only {w}×{h}: phone codes read poorly",
            "换一个支持 1280×720 的摄像头",
            "use a camera that gives 1280×720",
            data,
        )
    return Check(
        "camera",
        True,
        f"摄像头 {spec} 正常：{w}×{h}，读到 {result['frames']} 帧",
        f"camera {spec} works: {w}×{h}, {result['frames']} frames read",
        data=data,
    )


def check_zbar() -> Check:
    import ctypes.util

    found = ctypes.util.find_library("zbar")
    try:
        from pyzbar import pyzbar  # noqa: F401

        loaded = True
    except (ImportError, OSError):
        loaded = False
    if found and loaded:
        return Check("zbar", True, f"zbar 库已安装（{found}）", f"zbar library present ({found})")
    return Check(
        "zbar",
        False,
        "未找到 zbar 库：第二个读码器不可用",
        "The zbar library is missing: the second decoder is off",
        "sudo apt-get install libzbar0",
        "sudo apt-get install libzbar0",
    )


def check_trust(cfg: Config) -> Check:
    from store.codes.tokens import TrustList
    from store.db.engine import make_engine
    from store.timeutil import utcnow

    fix_zh, fix_en = (
        "运行 kiosk sync --once 取得签发密钥，或在 [codes] trust_file 指定信任文件",
        "run kiosk sync --once to fetch the issuer keys, or set [codes] trust_file",
    )
    local = _sqlite_file(cfg.store.local())
    try:
        tl = TrustList()
        if local is None or local.exists():
            engine = make_engine(cfg.store.local())
            try:
                tl = TrustList.from_engine(engine)
            finally:
                engine.dispose()
        if cfg.codes.trust_file:
            tl = tl.merged(TrustList.from_file(cfg.codes.trust_file))
    except Exception as exc:  # a store without schema, an unreadable trust file
        zh, en = (exc.zh, exc.en) if isinstance(exc, StoreError) else (f"{type(exc).__name__}: {exc}",) * 2
        return Check(
            "trust", False, f"无法读取信任列表：{zh}", f"The trust list cannot be read: {en}", fix_zh, fix_en
        )
    now = utcnow()
    usable = [k for k in tl.trusted() if k.revoked_at is None and (k.not_after is None or k.not_after > now)]
    ending = [
        k for k in usable if k.not_after is not None and k.not_after < now + timedelta(days=KEY_WARN_DAYS)
    ]
    data = {"keys": len(tl), "usable": len(usable), "ending_soon": [k.kid for k in ending]}
    if not len(tl):
        return Check(
            "trust",
            False,
            "信任列表为空：所有建设码都会被拒",
            "The trust list is empty: every code would be refused",
            fix_zh,
            fix_en,
            data,
        )
    if not usable:
        return Check(
            "trust",
            False,
            f"信任列表中没有可用的签发密钥（共 {len(tl)} 个，均已撤销或过期）：所有建设码都会被拒",
            f"No usable issuer key in the trust list ({len(tl)} in all, revoked or expired): every code "
            "would be refused",
            fix_zh,
            fix_en,
            data,
        )
    if ending:
        kids = ", ".join(k.kid for k in ending)
        return Check(
            "trust",
            False,
            f"签发密钥 {kids} 将在 {KEY_WARN_DAYS} 天内到期",
            f"Issuer key {kids} ends within {KEY_WARN_DAYS} days",
            "请管理员登记新的签发密钥（kiosk keys new / add），然后同步",
            "ask the administrator to register a new issuer key (kiosk keys new / add), then sync",
            data,
        )
    return Check(
        "trust",
        True,
        f"信任列表：{len(usable)} 个可用的签发密钥",
        f"trust list: {len(usable)} usable issuer key(s)",
        data=data,
    )


def check_disk(cfg: Config) -> Check:
    from kiosk.config import data_dir

    path = _sqlite_file(cfg.store.local())
    folder = path.parent if path is not None else data_dir()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    usage = shutil.disk_usage(folder)
    gb = usage.free / (1 << 30)
    data = {"folder": str(folder), "free_bytes": usage.free, "total_bytes": usage.total}
    if usage.free < MIN_FREE_BYTES:
        return Check(
            "disk",
            False,
            f"磁盘剩余空间不足：{gb:.1f} GB（{folder}）",
            f"Low disk space: {gb:.1f} GB free ({folder})",
            "清理磁盘，或运行 kiosk retention purge 清除已上传的旧记录",
            "free some space, or run kiosk retention purge to remove old pushed records",
            data,
        )
    return Check("disk", True, f"磁盘剩余 {gb:.1f} GB", f"{gb:.1f} GB free on disk", data=data)


def run_checks(
    config_path: str | None,
    *,
    camera: bool = True,
    camera_opener: Callable[..., Any] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> list[Check]:
    config, cfg = check_config(config_path)
    checks = [config]
    if cfg is None:
        return checks
    checks.append(check_local_store(cfg))
    if cfg.sync.service_url:  # syncs through the site service, by key (issue 24): no database here
        checks.extend(check_service(cfg))
    else:
        checks.extend(check_shared(cfg, clock))
    if camera:
        checks.append(check_camera(cfg, camera_opener))
    checks += [check_zbar(), check_trust(cfg), check_disk(cfg)]
    return checks
