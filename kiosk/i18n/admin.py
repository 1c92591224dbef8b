"""The admin app's words (``kiosk/admin/``) that are looked up by key, in Chinese (default) and English;
keys start with ``admin.``. Looked up with ``kiosk.i18n.t``."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    # --- the form dialog and the yes/no question (kiosk/admin/forms.py) ---------------------------
    "admin.choose": ("请选择", "Choose"),
    "admin.save": ("保存", "Save"),
    "admin.cancel": ("取消", "Cancel"),
    "admin.saving": ("正在保存…", "Saving…"),
    "admin.fill_in": ("请填写“{field}”", "Please fill in '{field}'"),
    "admin.save_failed": (
        "保存失败（{name}），请重试或联系维护人员",
        "Saving failed ({name}): retry, or tell the maintainers",
    ),
    "admin.ok": ("确定", "OK"),
    "admin.keys": ("按键", "Keys"),
    "admin.esc_close": ("Esc 关闭", "Esc close"),
    # --- the reviews (kiosk/admin/review.py) -------------------------------------------------------
    "admin.reject_other": ("其他（手填）", "Other (type it)"),
    "admin.review_kind.realname": ("个人信息（实名）", "Real-name information"),
    "admin.review_kind.bank_card": ("银行卡", "Bank card"),
    # --- the real-name check of a worker (kiosk/admin/workers.py) ----------------------------------
    "admin.verify_title": (
        "实名认证：请比对身份证照片与现场人脸照片是否为同一人",
        "Real-name verification: is the person in the ID card photo the one photographed?",
    ),
    "admin.verify_front": ("身份证正面", "ID card front"),
    "admin.verify_face": ("人脸照片", "Face photo"),
    "admin.verify_same": ("一致，记录认证", "Same person: record it"),
    "admin.verify_not_same": ("不一致 / 取消", "Not the same / cancel"),
    # --- what the audit log's codes mean (kiosk/admin/reference.py: the log keeps the codes) ------
    "admin.audit_action.create": ("新增", "created"),
    "admin.audit_action.update": ("修改", "changed"),
    "admin.audit_action.confirm": ("现场确认", "confirmed"),
    "admin.audit_action.verify": ("实名认证", "verified"),
    "admin.audit_action.unverify": ("撤销实名认证", "verification undone"),
    "admin.audit_action.revoke": ("吊销", "revoked"),
    "admin.audit_action.import": ("导入", "imported"),
    "admin.audit_action.scope": ("签发范围", "scope set"),
    "admin.audit_table.worker": ("工人", "worker"),
    "admin.audit_table.employer": ("用人单位", "employer"),
    "admin.audit_table.project": ("项目", "project"),
    "admin.audit_table.employment": ("聘用", "employment"),
    "admin.audit_table.bankcard": ("银行卡", "bank card"),
    "admin.audit_table.facecheck": ("人脸照片", "face photo"),
    "admin.audit_table.healthcheck": ("体检", "health check"),
    "admin.audit_table.healthinstitution": ("体检机构", "health institution"),
    "admin.audit_table.identitydocument": ("身份证图片", "ID card images"),
    "admin.audit_table.officer": ("签到员", "officer"),
    "admin.audit_table.officerassignment": ("签到员指派", "officer assignment"),
    "admin.audit_table.issuerkey": ("签发密钥", "issuer key"),
}
