"""Every word of the set-up wizard (``kiosk/setup/app.py``), in Chinese (default) and English; keys start
with ``setup.``. Looked up with ``kiosk.i18n.t``."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "setup.title": ("签到终端设置向导", "Kiosk set-up"),
    "setup.step": ("第 {n} 步，共 {of} 步", "Step {n} of {of}"),
    "setup.keys": ("F4 English · Ctrl+Q 退出", "F4 中文 · Ctrl+Q quit"),
    "setup.back": ("上一步", "Back"),
    "setup.next": ("下一步", "Next"),
    # welcome
    "setup.h_welcome": ("欢迎", "Welcome"),
    "setup.welcome": (
        "本向导帮您设置这台签到电脑：连接共享数据库、给本机起名并选定项目、检查摄像头或扫码枪，"
        "最后保存设置并完成第一次同步。请准备好管理员提供的数据库地址、用户名和密码。",
        "This wizard sets this sign-in computer up: the shared database, this kiosk's name and project, the "
        "camera or the scanner; then it saves the settings and runs the first sync. Have the database address, "
        "user name and password from the administrator at hand.",
    ),
    "setup.editing": (
        "已找到现有设置（{path}）：修改后保存即可，其他设置保持不变。",
        "Existing settings found ({path}): change what you need; everything else is kept.",
    ),
    # shared database
    "setup.h_shared": ("共享数据库", "The shared database"),
    "setup.kind_pg": ("PostgreSQL 服务器（正式使用）", "PostgreSQL server (production)"),
    "setup.kind_sqlite": ("SQLite 文件（试用或单机）", "SQLite file (trial or one kiosk)"),
    "setup.host": ("服务器地址", "Server address"),
    "setup.port": ("端口", "Port"),
    "setup.database": ("数据库名", "Database name"),
    "setup.user": ("用户名", "User name"),
    "setup.password": ("密码", "Password"),
    "setup.path": ("数据库文件路径", "Database file path"),
    "setup.test": ("测试连接", "Test the connection"),
    "setup.testing": ("正在连接…", "Connecting…"),
    "setup.test_first": ("请先测试连接", "Test the connection first"),
    # kiosk
    "setup.h_kiosk": ("本机名称与项目", "This kiosk's name and project"),
    "setup.kiosk_name": ("本机名称（如：1号门）", "This kiosk's name (e.g. Gate 1)"),
    "setup.project": ("签到项目", "Project"),
    "setup.pick_project": ("请选择项目", "Choose the project"),
    "setup.need_name": ("请填写本机名称", "Fill in this kiosk's name"),
    "setup.need_project": ("请选择项目", "Choose the project"),
    # camera
    "setup.h_camera": ("摄像头或扫码枪", "Camera or scanner"),
    "setup.use_camera": ("摄像头", "Camera"),
    "setup.use_scanner": ("扫码枪（不用摄像头）", "Scanner (no camera)"),
    "setup.source": ("摄像头编号或地址", "Camera number or address"),
    "setup.source_hint": (
        "0 为第一个摄像头；也可填 /dev/video1 或 rtsp://…",
        "0 = the first webcam; or /dev/video1, rtsp://…",
    ),
    "setup.open_camera": ("打开摄像头并试读", "Open the camera and try"),
    "setup.opening": (
        "正在打开摄像头，请在镜头前出示一个建设码…",
        "Opening the camera: hold a personal code up to it…",
    ),
    "setup.cam_ok": ("摄像头正常：{w}×{h}", "Camera works: {w}×{h}"),
    "setup.cam_decoded": ("，已读出测试码（{kind}）", ", a test code was read ({kind})"),
    "setup.cam_no_code": (
        "，但未读出二维码：请出示一个码再试，或直接下一步",
        ", but no code was read: show one and try again, or go on",
    ),
    "setup.cam_failed": (
        "摄像头无法使用：{why}。请检查连线，或改用扫码枪",
        "The camera does not work: {why}. Check the cable, or use the scanner",
    ),
    "setup.no_frames": ("打开了但没有画面", "it opened but gave no picture"),
    "setup.scan_here": (
        "请用扫码枪扫一个码（会显示在这里）",
        "Scan any code with the scanner (it lands here)",
    ),
    "setup.scan_ok": (
        "扫码枪正常：读到 {n} 个字符（{kind}）",
        "The scanner works: {n} characters read ({kind})",
    ),
    "setup.kind_code": ("个人建设码", "a personal code"),
    "setup.kind_other": ("其他二维码", "another kind of code"),
    "setup.need_device": ("请先试一下摄像头或扫码枪", "Try the camera or the scanner first"),
    # finish
    "setup.h_finish": ("保存并同步", "Save and sync"),
    "setup.summary": (
        "将保存到：{path}\n共享数据库：{shared}\n本机：{name} · 项目：{project}\n读码：{device}",
        "To be saved in: {path}\nShared database: {shared}\nThis kiosk: {name} · project: {project}\nCodes: {device}",
    ),
    "setup.finish": ("保存设置并开始第一次同步", "Save and run the first sync"),
    "setup.saving": ("正在保存设置、创建本机数据库并同步…", "Saving, making the local store, syncing…"),
    "setup.done": (
        "设置完成，第一次同步成功（取得 {n} 条记录）。\n启动签到屏幕：kiosk run　开机自动运行：kiosk service install",
        "Set up, first sync done ({n} records).\nStart the sign-in screen: kiosk run — start on boot: kiosk service install",
    ),
    "setup.sync_failed": (
        "设置已保存，但第一次同步失败：{why}\n请检查后点“重试”；签到也可以离线进行，联网后会自动同步。",
        "The settings are saved, but the first sync failed: {why}\nCheck and press Retry; sign-ins also "
        "work offline and sync when the network is back.",
    ),
    "setup.retry": ("重试", "Retry"),
    "setup.failed": ("未能完成：{why}", "Not done: {why}"),
    "setup.close": ("完成", "Close"),
    "setup.quit_unsaved": (
        "设置未完成，没有保存任何设置。请重新运行 kiosk setup 完成设置。",
        "Set-up was not finished: nothing was saved. Run kiosk setup again to finish it.",
    ),
    "setup.quit_unsynced": (
        "设置未完成：设置已保存到 {path}，但第一次同步没有成功。请重新运行 kiosk setup，或运行 kiosk sync --once。",
        "Set-up was not finished: the settings are saved in {path}, but the first sync did not succeed. Run "
        "kiosk setup again, or kiosk sync --once.",
    ),
    # --- the shared database's test (kiosk/setup/logic.py) -----------------------------------------
    "setup.shared.fill_in_path": ("请填写共享数据库文件的路径", "Fill in the shared database file's path"),
    "setup.shared.fill_in_host": ("请填写服务器地址", "Fill in the server address"),
    "setup.shared.fill_in_database": ("请填写数据库名", "Fill in the database name"),
    "setup.shared.fill_in_user": ("请填写用户名", "Fill in the user name"),
    "setup.shared.bad_port": ("端口应为 1 到 65535 之间的数字", "The port is a number from 1 to 65535"),
    "setup.shared.bad_password": (
        "用户名或密码不正确，请向管理员核对",
        "The user name or password is wrong: check them with the administrator",
    ),
    "setup.shared.no_user": (
        "用户 {user} 不存在，请向管理员核对用户名",
        "There is no user {user}: check the user name",
    ),
    "setup.shared.no_database": (
        "数据库 {database} 不存在，请核对数据库名",
        "There is no database {database}: check its name",
    ),
    "setup.shared.no_host": (
        "找不到服务器 {host}，请核对地址和网络",
        "The server {host} cannot be found: check the address and the network",
    ),
    "setup.shared.refused": (
        "{where} 拒绝连接：数据库服务未运行，或端口不对",
        "{where} refused the connection: the database is not running there, or the port is wrong",
    ),
    "setup.shared.timeout": (
        "连接 {where} 超时：请检查网络、地址和防火墙",
        "Connecting to {where} timed out: check the network, the address and the firewall",
    ),
    "setup.shared.no_permission": (
        "该用户没有读取共享数据库的权限，请管理员运行 kiosk db roles",
        "This user may not read the shared database: ask the administrator to run kiosk db roles",
    ),
    "setup.shared.cannot_connect": (
        "无法连接共享数据库：{error}",
        "Cannot connect to the shared database: {error}",
    ),
    "setup.shared.no_file": ("文件不存在：{path}", "No such file: {path}"),
    "setup.shared.no_schema": (
        "共享数据库尚未初始化：请管理员运行 kiosk db upgrade --shared",
        "The shared database has no schema yet: ask the administrator to run kiosk db upgrade --shared",
    ),
    "setup.shared.other_schema": (
        "共享数据库的结构版本（{rev}）与本程序（{head}）不同：请升级共享数据库或本程序",
        "The shared database's schema ({rev}) is not this program's ({head}): upgrade one of them",
    ),
    "setup.shared.no_project": (
        "连接成功，但共享数据库里还没有项目：请管理员先在 kiosk admin 中添加项目",
        "Connected, but the shared database holds no project yet: ask the administrator to add one in kiosk admin",
    ),
    "setup.shared.connected": ("连接成功：共 {n} 个项目", "Connected: {n} project(s)"),
}
