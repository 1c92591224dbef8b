"""The words of the phone service's pages (``kiosk/serve/``: its routers, templates and refusals) and of
``kiosk code phone`` (``kiosk/phone_app.py``, keys ``phone_app.``), Chinese (default) and English; the
enrollment pages' words are in ``enroll.py``. Looked up with ``kiosk.i18n.t``.
"""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "app.title": ("实名制", "Real-name sign-in"),
    "nav.home": ("首页", "Home"),
    "nav.code": ("建设码", "My code"),
    "nav.signin": ("班前签到", "Sign in"),
    "lang.switch": ("English", "中文"),
    "home.title": ("个人从业信息", "My work record"),
    "home.name": ("姓名", "Name"),
    "home.id": ("身份证号", "ID number"),
    "home.role.worker": ("建筑工人", "Construction worker"),
    "home.role.officer": ("班前签到员", "Sign-in officer"),
    "home.ready": ("可以签到", "Ready to sign in"),
    "home.not_ready": ("还不能签到，缺少：", "Cannot sign in yet. Missing:"),
    "home.no_project": ("尚无项目聘用信息", "No employment on any project yet"),
    "home.projects_today": ("今日负责签到的项目", "Projects you sign in today"),
    "home.no_projects_today": ("今日没有负责签到的项目", "No project to sign in for today"),
    "home.steps": ("登记材料", "Enrollment"),
    "code.title": ("个人建设码", "Personal code"),
    "code.officer_title": ("签到员建设码", "Officer's code"),
    "code.hint": ("请将此码出示给班前签到员扫描", "Show this code to the sign-in officer"),
    "code.officer_hint": (
        "请工人用手机扫描此码签到（方式一）",
        "Workers scan this code with their phones (way A)",
    ),
    "code.left": ("秒后自动更新", "s until it renews itself"),
    "code.renewing": ("正在更新…", "Renewing…"),
    "code.offline": ("网络中断，正在重试…", "No connection, retrying…"),
    "code.no_officer_key": (
        "本服务的签发密钥不能签发签到员码，请联系管理员",
        "This service's key cannot sign officers' codes: ask the administrator",
    ),
    "code.no_project": (
        "今日没有负责签到的项目，无法生成签到员码",
        "No project to sign in for today, so no officer's code",
    ),
    # --- issue 27 (t27a): the code that works with no signal, offline pages ---
    "code.device": ("此码由本机签发，没有网络也能使用", "Signed by this phone: works with no signal"),
    "code.server": (
        "此码由服务器签发，需要网络才能更新",
        "Issued by the server: needs a connection to renew",
    ),
    "code.expired": (
        "此码已过期，不能用于签到。请连接网络后刷新此页",
        "This code has expired and cannot be used: connect to the internet and reload this page",
    ),
    "code.expired_short": ("已过期", "Expired"),
    "code.can_sign": ("今日可签到", "You can sign in today"),
    "code.cannot_sign": ("还不能签到：", "Cannot sign in yet: "),
    "code.see_home": ("查看需要补交的材料", "See what is missing"),
    "code.as_of": ("（{date} 联网时的信息）", "(as of {date}, when last online)"),
    "code.id": ("身份证号", "ID number"),
    "code.no_key": (
        "此手机的浏览器不支持本机签码，建设码由服务器签发，需要网络",
        "This phone's browser cannot sign codes itself: codes come from the server and need a connection",
    ),
    "net.offline": ("没有网络，恢复后会自动重试", "No connection: it will retry when the signal returns"),
    "net.offline_page": (
        "没有网络：这是上次联网时保存的页面",
        "No connection: this is the page as saved when you were last online",
    ),
    "net.offline_none": (
        "没有网络，此页面还没有保存在手机上。恢复网络后请重新打开",
        "No connection, and this page is not saved on the phone yet: open it again when the signal returns",
    ),
    "net.error": ("出错了，请稍后再试", "Something went wrong: try again shortly"),
    # --- end of issue 27 (t27a) ---
    "signin.title": ("班前签到", "Sign in before the shift"),
    "signin.locating": ("正在获取位置…", "Finding your position…"),
    "signin.allow": ("请允许使用位置信息（高精度）", "Please allow location access (high accuracy)"),
    "signin.denied": (
        "无法获取位置：请在浏览器设置中允许位置信息，并打开 GPS",
        "No position: allow location in the browser settings and turn on GPS",
    ),
    "signin.inside": ("已在签到范围内", "Inside the sign-in range"),
    "signin.outside": ("不在签到范围内", "Outside the sign-in range"),
    "signin.accuracy": ("定位精度", "Accuracy"),
    "signin.distance": ("距签到范围", "From the range"),
    "signin.button": ("签到", "Sign in"),
    "signin.scan": ("请将摄像头对准签到员的码", "Point the camera at the officer's code"),
    "signin.photo": ("无法打开摄像头？拍照上传", "Camera not working? Take a photo"),
    "signin.cancel": ("取消", "Cancel"),
    "signin.sending": ("正在签到…", "Signing in…"),
    "signin.again": ("再试一次", "Try again"),
    "signin.officer_only": (
        "签到员请在“建设码”页出示签到员码",
        "Officers: show your code on the My code page",
    ),
    "signin.no_project": ("尚无可签到的项目", "No project to sign in to"),
    "signin.camera_error": ("无法打开摄像头，请用拍照上传", "Cannot open the camera: take a photo instead"),
    "unit.m": ("米", "m"),
    "activate.title": ("绑定手机", "Link this phone"),
    "activate.for": ("将此手机绑定到：", "Link this phone to:"),
    "activate.note": (
        "绑定后，此手机即可显示您的个人建设码并签到。原来绑定的手机将失效。",
        "Once linked, this phone shows your personal code and signs you in. A phone linked before stops working.",
    ),
    "activate.button": ("确认绑定", "Link this phone"),
    "activate.done": ("绑定成功", "Phone linked"),
    "device.none": (
        "此手机尚未绑定。请向管理员索取激活链接（二维码），用手机打开。",
        "This phone is not linked yet. Ask the administrator for an activation link (a QR code) and open it on this phone.",
    ),
    "device.revoked": (
        "此手机的绑定已被撤销。请向管理员索取新的激活链接。",
        "This phone's link was revoked. Ask the administrator for a new activation link.",
    ),
    "err.title": ("出错了", "Something went wrong"),
    "err.csrf": ("页面已过期，请刷新后重试", "The page has expired: reload it and try again"),
    "err.rate": ("操作太频繁，请稍后再试", "Too many attempts: wait a minute and try again"),
    "err.replay": ("该请求已处理过，不再重复签到", "This request was already received: not signed in twice"),
    "err.too_big": (
        "照片太大，请重新拍摄（不超过 {mb} MB）",
        "The photo is too large (at most {mb} MB): take it again",
    ),
    "err.no_code": (
        "照片中没有可识别的二维码，请对准签到员的码重新拍摄",
        "No readable QR code in the photo: photograph the officer's code again",
    ),
    "err.two_codes": (
        "照片中有多个二维码，请只拍签到员的码",
        "Several QR codes in the photo: photograph the officer's code alone",
    ),
    "err.bad_image": ("无法读取该照片，请重新拍摄", "Cannot read this photo: take it again"),
    "err.officer_only": ("只有工人可以用手机签到", "Only workers sign in by phone"),
    "err.worker_only": ("此功能仅限签到员", "For sign-in officers only"),
    "err.not_found": ("页面不存在", "No such page"),
    "err.server": ("服务暂时不可用，请稍后再试", "The service is unavailable: try again shortly"),
    "err.key_revoked": (
        "本服务的签发密钥已被吊销，暂时无法生成建设码，请联系管理员",
        "This service's issuing key was revoked: no codes for now. Tell the administrator",
    ),
    "err.input": ("输入有误", "Bad input"),
    "err.json": (
        "请求内容不是有效的 JSON，请刷新页面后重试",
        "The request is not valid JSON: reload the page and try again",
    ),
    "err.body": (
        "请求内容缺失或格式不对（应为一个 JSON 对象），请刷新页面后重试",
        "The request has no content or the wrong kind (a JSON object is expected): reload the page and try again",
    ),
    "err.bad_request": (
        "请求格式有误，无法读取，请刷新页面后重试",
        "The request could not be read: reload the page and try again",
    ),
    "err.method": ("此地址不支持该操作", "This address does not allow that"),
    "err.no_photo": (
        "没有收到照片，请拍摄签到员的码后上传",
        "No photo was received: photograph the officer's code and send it",
    ),
    "err.body_too_big": ("请求内容太大（不超过 {kb} KB）", "The request is too large (at most {kb} KB)"),
    # the names of the API's fields in the refusal of bad input (kiosk/serve/security.py)
    "field.latitude": ("纬度", "latitude"),
    "field.longitude": ("经度", "longitude"),
    "field.accuracy": ("定位精度", "accuracy"),
    "field.crs": ("坐标系", "crs"),
    "field.officer_code": ("签到员建设码", "officer_code"),
    "field.nonce": ("请求编号", "nonce"),
    "field.project": ("项目", "project"),
    # --- `kiosk code phone`: the terminal standing in for a worker's phone (kiosk/phone_app.py) ---
    "phone_app.title": ("个人建设码", "Personal construction code"),
    "phone_app.worker": ("工人 {id}", "Worker {id}"),
    "phone_app.officer": ("签到员 {id}", "Officer {id}"),
    "phone_app.left": ("{s} 秒后自动刷新 · 有效至 {until}", "Renews in {s} s · valid until {until}"),
    "phone_app.renew": ("刷新", "Renew"),
    "phone_app.quit": ("退出", "Quit"),
    "phone_app.window_title": ("个人建设码", "Personal code"),
}
