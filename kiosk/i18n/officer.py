"""The officer app's words (``kiosk/officer/``: the sign-in screen, its dialogs and the way-A screen), in
Chinese (the default) and English. Looked up with ``kiosk.i18n.t``; the keys of the way-A screen start
with ``way_a.``, the camera sources' state details (``kiosk/camera/sources.py``) with ``camera.``.
"""

from __future__ import annotations

#: key -> (Chinese, English)
WORDS: dict[str, tuple[str, str]] = {
    # --- the app, the header ---------------------------------------------------------------------
    "title": ("工地班前签到", "Site sign-in"),
    "demo": ("演示", "DEMO"),
    "officer": ("签到员", "Officer"),
    "project": ("项目", "Project"),
    "no_project": ("未选择项目", "no project chosen"),
    # --- the locked screen -----------------------------------------------------------------------
    "locked": ("已锁定", "LOCKED"),
    "unlock_prompt": (
        "签到员请向摄像头或扫码枪\n出示本人签到员码以解锁",  # broken where a narrow screen would not split a word
        "Officer: show your own officer code to the camera or the scanner to unlock",
    ),
    "unlock_checking": ("正在核验签到员码…", "Checking the officer code…"),
    "unlock_refused": ("无法解锁", "Cannot unlock"),
    "unlocked": ("已解锁：{name}", "Unlocked: {name}"),
    "locked_idle": ("长时间无操作，已自动锁定", "Locked after a while without scans"),
    "locked_by_key": ("已锁定", "Locked"),
    # --- the project picker ----------------------------------------------------------------------
    "pick_project": ("选择签到项目", "Choose the project"),
    "pick_hint": ("↑↓ 选择，回车确认，Esc 取消", "↑↓ to choose, Enter to confirm, Esc to cancel"),
    # --- the result card -------------------------------------------------------------------------
    "waiting": ("请出示个人建设码", "Show your personal code"),
    "waiting_hint": ("摄像头或扫码枪均可", "to the camera or the scanner"),
    "checking": ("正在核验…", "Checking…"),
    "signed_in": ("签到成功", "Signed in"),
    "signed_out": ("签退成功 {time}", "Signed out {time}"),
    "already_out": ("今日已签退 {time}", "Already signed out today at {time}"),
    "out_no_entry": ("今日无进场记录（已记录并标记）", "No entry today (recorded and flagged)"),
    "mode_in": ("进场", "ENTRY"),
    "mode_out": ("出场", "EXIT"),
    "mode_auto": ("自动", "AUTO"),
    "k_direction": ("进/出", "In/out"),
    "already": ("今日已签到 {time}", "Already signed in today at {time}"),
    "already_where": ("今日已签到 {time}（{where}）", "Already signed in today at {time} ({where})"),
    "refused": ("签到失败", "Sign-in refused"),
    "not_recorded": ("未记录，请重新扫码", "Not recorded: scan again"),
    "f_name": ("姓名", "Name"),
    "f_id": ("身份证", "ID no."),
    "f_employer": ("单位", "Employer"),
    "f_team": ("班组", "Team"),
    "f_trade": ("工种", "Trade"),
    "f_time": ("时间", "Time"),
    "enrolled_face": ("登记照片", "Enrolled photo"),
    # --- counters, attempts ----------------------------------------------------------------------
    "c_on_site": ("在场", "On site"),
    "c_signed": ("已签到", "Signed in"),
    "c_expected": ("今日应到", "Expected"),
    # the kiosk's store holds its own attempts only (attempts are pushed, never pulled): refusals here,
    # while the roster counts every gate's; signed in and expected agree with the roster (after a sync)
    "c_refused": ("本门拒绝", "At gate ✘"),
    "attempts": ("最近签到", "Last attempts"),
    "no_attempts": ("暂无记录", "none yet"),
    "a_ok": ("成功", "ok"),
    "a_already": ("已签", "again"),
    "a_out": ("签退", "out"),
    "a_refused": ("拒绝", "refused"),
    "unknown_person": ("（未识别）", "(unknown)"),
    # --- camera ----------------------------------------------------------------------------------
    "cam_connecting": ("摄像头连接中", "Camera connecting"),
    "cam_connected": ("摄像头正常", "Camera connected"),
    "cam_reconnecting": ("摄像头断开，正在重连…", "Camera lost, reconnecting…"),
    "cam_failed": (
        "摄像头故障：请检查连线，或改用扫码枪",
        "Camera failed: check the cable, or use the scanner",
    ),
    "cam_ended": ("视频已播放完：可用扫码枪继续", "End of the video: the scanner still works"),
    "cam_none": ("无摄像头：请用扫码枪", "No camera: use the scanner"),
    "no_picture": ("无画面", "no picture"),
    # a camera source's state, in the detail it reports (kiosk/camera/sources.py)
    "camera.connecting": ("正在连接摄像头", "connecting"),
    "camera.connected": ("摄像头已连接", "connected"),
    "camera.reconnecting": ("摄像头断开，正在重连", "camera lost, reconnecting"),
    "camera.failed": ("摄像头连接失败", "camera failed"),
    "camera.ended": ("视频/图片已播放完", "end of the file or folder"),
    # --- sync ------------------------------------------------------------------------------------
    "sync_local": ("仅本地", "local only"),
    "sync_ok": ("已同步 {ago}", "synced {ago}"),
    "sync_running": ("同步中…", "syncing…"),
    "sync_offline": ("离线（自 {since}）", "offline since {since}"),
    "sync_never": ("尚未同步", "not synced yet"),
    "sync_pending": ("待上传 {n}", "{n} to push"),
    "no_shared": (
        "未设置共享数据库（[store] shared_url），签到只记在本机",
        "no shared database is set ([store] shared_url): sign-ins stay on this kiosk",
    ),
    "ago_s": ("{n} 秒前", "{n} s ago"),
    "ago_m": ("{n} 分钟前", "{n} min ago"),
    "ago_h": ("{n} 小时前", "{n} h ago"),
    # --- the scanner field, keys -----------------------------------------------------------------
    "scanner": ("扫码枪输入（回车确认）", "Scanner input (Enter)"),
    "k_help": ("帮助", "Help"),
    "k_lock": ("锁定", "Lock"),
    "k_project": ("换项目", "Project"),
    "k_lang": ("English", "中文"),
    "k_way_a": ("方式一", "Way A"),
    "k_quit": ("退出", "Quit"),
    # --- dialogs ---------------------------------------------------------------------------------
    "quit_question": ("确定退出签到终端？", "Quit the sign-in kiosk?"),
    "quit_keys": ("Y 或 Ctrl+Q：退出　N 或 Esc：取消", "Y or Ctrl+Q: quit   N or Esc: cancel"),
    "project_only_one": (
        "您只负责本项目（{name}），无需切换",
        "You are assigned to this project only ({name}): nothing to change",
    ),
    "project_locked": (
        "请先出示签到员码解锁，再切换项目",
        "Unlock with your officer code first, then change the project",
    ),
    "way_a_no_key": (
        "方式一（出示签到员码）未开启：本机没有签到员码的签发密钥。请管理员运行 kiosk keys new --roles officer，"
        "再在配置 [codes] officer_key 中填写密钥文件路径（或运行 kiosk setup），然后重启签到终端",
        "Way A (the officer's code) is off: this kiosk has no key to issue officers' codes. Ask the "
        "administrator to run kiosk keys new --roles officer, put the key file's path in the config's [codes] "
        "officer_key (or run kiosk setup), then restart the kiosk",
    ),
    "way_a_locked": (
        "请先出示签到员码解锁，再打开方式一",
        "Unlock with your officer code first, then open way A",
    ),
    "quit_yes": ("退出", "Quit"),
    "quit_no": ("取消", "Cancel"),
    "help_title": ("帮助", "Help"),
    "help_body": (
        "工人出示个人建设码（手机二维码），对准摄像头或用扫码枪扫描。\n"
        "绿色：签到成功；黄色：今日已签到，不重复记录；红色：签到失败，原因见卡片。\n"
        "请核对屏幕上的登记照片与本人是否一致。\n\n"
        "F1      帮助\n"
        "F2      锁定\n"
        "F3      换项目（负责多个项目的签到员）\n"
        "F4      中文 / English\n"
        "F5      方式一：出示签到员码，工人用手机扫码（Esc 返回，n 换新码）\n"
        "F6      立即同步\n"
        "Ctrl+Q  退出（再按 Y 确认）\n\n"
        "锁定后须由签到员出示本人签到员码解锁；长时间无操作会自动锁定。",
        "The worker shows his personal code (QR on his phone) to the camera, or it is read with the scanner.\n"
        "Green: signed in; amber: already signed in today, no second record; red: refused, the reason\n"
        "is on the card. Compare the enrolled photo on screen with the person.\n\n"
        "F1      help\n"
        "F2      lock\n"
        "F3      project (an officer of several)\n"
        "F4      中文 / English\n"
        "F5      way A: show the officer's code for workers' phones (Esc back, n new code)\n"
        "F6      sync now\n"
        "Ctrl+Q  quit (then Y to confirm)\n\n"
        "When locked, the officer unlocks with his own officer code; the screen locks itself when idle.",
    ),
    "close": ("关闭", "Close"),
    "way_a_missing": ("方式一尚未提供", "Way A is not available yet"),
    # --- way A: the officer's code on the kiosk (kiosk/officer/way_a.py) -------------------------
    "way_a.title": ("方式一：请工人用手机扫码签到", "Way A: workers scan this code with their phones"),
    "way_a.left": (
        "有效期剩余 {s} 秒 · 剩 {r} 秒时自动换新码",
        "{s} s left · a new code comes {r} s before the end",
    ),
    "way_a.arrivals": ("今日手机扫码签到（{n} 人）", "Signed in by phone today ({n})"),
    "way_a.none": ("暂无", "none yet"),
    "way_a.error": ("无法生成签到员码：{e}", "Cannot make the officer's code: {e}"),
    "way_a.read_error": ("读取签到记录失败（自动重试中）：{e}", "Cannot read the arrivals (retrying): {e}"),
    "way_a.keys": ("Esc 返回 · n 换新码", "Esc back · n new code"),
    "way_a.back": ("返回", "Back"),
    "way_a.renew": ("换新码", "New code"),
    "way_a.time": ("时间", "Time"),
    "way_a.name": ("姓名", "Name"),
    "way_a.id": ("身份证号", "ID"),
    "way_a.dist": ("距离", "Distance"),
}
