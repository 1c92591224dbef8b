"""The review queue of the admin app (F8): what workers submitted from their phones and is waiting.

Oldest first: real-name information (个人信息采集: the ID card's front and back and the face photo side by
side, the name he typed beside the enrolled one, the sex and birth date his ID number gives), bank
cards (bank, masked number, a failed check digit he confirmed, the card it replaces) and health checks
(健康体检, issue 27: institution — flagged when not on the list —, date and result beside the report's
photo; approving records it, and only then does it count at the gate). ``v`` (or Enter)
opens the real-name comparison full size (the admin app's ``VerifyScreen``: the ID card front and the
face side by side; "same person" approves); ``a`` approves (after a question), ``r`` rejects with a reason picked from a list or typed — the worker sees it on his
phone. Every decision goes through ``store/people/review.py`` and is audited with the administrator's name.

The queue, an item's pictures (decoded and scaled to the cells available) and every decision run in
thread workers; results come back as messages. The queue is read again every ``POLL_S`` seconds.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np
from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static

from kiosk.admin.base import AdminScreen
from kiosk.admin.forms import ConfirmScreen, Field
from kiosk.i18n import label, pair, pick, t
from kiosk.widgets.pixels import PixelView
from store.errors import StoreError, ValidationError

POLL_S = 15.0
OTHER = "__other__"
#: (widget id, the words of its caption)
PICTURES = (
    ("pic-front", "admin.verify_front"),
    ("pic-back", "admin.review.pic_back"),
    ("pic-face", "admin.verify_face"),
    ("pic-report", "admin.review.pic_report"),
)
#: the pictures of real-name information (a health check shows only its report)
REALNAME_PICTURES = ("pic-front", "pic-back", "pic-face")


@dataclass(frozen=True, slots=True)
class Item:
    """The chosen queue row: which kind and which submission."""

    kind: str
    id: uuid.UUID

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def of(cls, key: str) -> Item:
        kind, _, sid = key.partition(":")
        return cls(kind, uuid.UUID(sid))


# Each screen lists its own key bindings (as workers.py): Textual's shape.
class ReviewScreen(AdminScreen):
    CSS_PATH = "review.tcss"
    AUTO_FOCUS = "#queue"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "compare", label("admin.key.compare")),
        Binding("a", "approve", label("admin.key.approve")),
        Binding("r", "reject", label("admin.key.reject")),
        Binding("f9", "refresh", label("admin.key.refresh")),
    ]

    class Loaded(Message):
        def __init__(self, items: list[Any]) -> None:
            super().__init__()
            self.items = items

    class Detail(Message):
        def __init__(self, item: Item, text: str, pictures: dict[str, np.ndarray]) -> None:
            super().__init__()
            self.item, self.text, self.pictures = item, text, pictures

    def __init__(self) -> None:
        super().__init__()
        self.current: Item | None = None
        self.count = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._heading(), id="review-heading", classes="heading")
        with Vertical(id="review-body"):
            yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
            yield Static(t("admin.review.nothing_waiting_for_review", self.lang), id="review-info")
            with Horizontal(id="review-pictures"):
                for wid, words in PICTURES:
                    view = PixelView(t(words, self.lang), id=wid)
                    view.display = wid in REALNAME_PICTURES
                    yield view
        yield Footer()

    def _heading(self) -> str:
        return t("admin.review.heading", self.lang, n=self.count)

    def on_mount(self) -> None:
        table = self.query_one("#queue", DataTable)
        for words in (
            "admin.review.col_submitted",
            "admin.review.col_kind",
            "admin.review.col_name",
            "admin.person.id_number",
            "admin.review.col_what",
        ):
            table.add_column(t(words, self.lang))
        self.reload()
        self.set_interval(POLL_S, self.reload)

    # Reloads on mount, on resume and on a key, as base.TableScreen does; the queue is no TableScreen.
    def on_screen_resume(self) -> None:
        self.reload()

    def action_refresh(self) -> None:
        self.reload()

    # --- the queue -------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="load", description="read the review queue")
    def reload(self) -> None:
        from store.people.review import review_queue

        self.post_read(lambda: review_queue(self.admin.engine), self.Loaded)

    def on_review_screen_loaded(self, message: Loaded) -> None:
        from store.people.review import ReviewKind

        table = self.query_one("#queue", DataTable)
        keep = self.current.key if self.current else None
        keys = [Item(q.kind.value, q.id).key for q in message.items]
        if keys and keys == [str(k.value) for k in table.rows] and keep in keys:
            return  # nothing new since the last read: leave the table (and the scroll) alone
        table.clear()
        for q, key in zip(message.items, keys, strict=True):
            kind = t(f"admin.review_kind.{ReviewKind(q.kind).value}", self.admin.lang)
            cells = (self.admin.local(q.submitted_at), kind, q.worker_name, q.id_masked, q.summary)
            table.add_row(*(Text(c) for c in cells), key=key)  # what workers typed is text, never markup
        self.count = len(keys)
        self.query_one("#review-heading", Static).update(self._heading())
        if not keys:
            self.current = None
            self._clear_detail(t("admin.review.nothing_waiting_for_review", self.lang))
            return
        row = keys.index(keep) if keep in keys else 0
        table.move_cursor(row=row)
        if keep not in keys:
            self._choose(keys[row])

    @on(DataTable.RowHighlighted, "#queue")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self._choose(str(event.row_key.value))

    def _choose(self, key: str) -> None:
        item = Item.of(key)
        if item == self.current and self.query_one("#pic-face", PixelView).has_picture:
            return
        self.current = item
        self._detail(item)

    def _clear_detail(self, text: str) -> None:
        self.query_one("#review-info", Static).update(text)
        for wid, _ in PICTURES:
            self.query_one(f"#{wid}", PixelView).clear()
        self.query_one("#review-pictures").display = True

    # --- one item --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail", description="read a submission")
    def _detail(self, item: Item) -> None:
        from store.people.review import ReviewKind, bankcard_review, health_review, realname_review

        try:
            if item.kind == ReviewKind.REALNAME.value:
                r = realname_review(self.admin.engine, item.id)
                text = self._realname_text(r)
                images = {"pic-front": r.front_image, "pic-back": r.back_image, "pic-face": r.face_photo}
                pictures = {wid: small for wid, data in images.items() if (small := _small(data)) is not None}
            elif item.kind == ReviewKind.HEALTH.value:
                h = health_review(self.admin.engine, item.id)
                text = self._health_text(h)
                small = _small(h.report_image)
                pictures = {"pic-report": small} if small is not None else {}
            else:
                text, pictures = self._bank_text(bankcard_review(self.admin.engine, item.id)), {}
        except StoreError as exc:
            self.app.call_from_thread(self.failed, exc)
            return
        self.post_message(self.Detail(item, text, pictures))

    def on_review_screen_detail(self, message: Detail) -> None:
        if message.item != self.current:
            return  # an answer for a row no longer chosen
        self.query_one("#review-info", Static).update(message.text)
        self.query_one("#review-pictures").display = bool(message.pictures)
        health = "pic-report" in message.pictures
        for wid, _ in PICTURES:
            view = self.query_one(f"#{wid}", PixelView)
            view.clear()
            view.display = (wid == "pic-report") if health else (wid in REALNAME_PICTURES)
        # drawn once the pictures' row is laid out, at the cells it really has
        self.call_after_refresh(self._draw, message.item, message.pictures)

    def _draw(self, item: Item, pictures: dict[str, np.ndarray]) -> None:
        if item != self.current:
            return
        for wid, image in pictures.items():
            self.query_one(f"#{wid}", PixelView).show_image(image)

    def _realname_text(self, r: Any) -> str:
        lang = self.lang
        sex = t("admin.person.m", lang) if r.sex == "M" else t("admin.person.f", lang)
        lines = [
            f"[b]{t('admin.review_kind.realname', lang)}[/]  {t('admin.review.submitted', lang)} "
            f"{self.admin.local(r.submitted_at)}",
            f"{t('admin.review.name_he_typed', lang)}: [b]{escape(r.name_typed)}[/]   "
            f"{t('admin.review.enrolled_name', lang)}: {escape(r.name_enrolled)}   "
            f"{t('admin.review.verified', lang)}: {t('admin.review.yes', lang) if r.verified else t('admin.review.no', lang)}",
            f"{t('admin.person.id_number', lang)}: {r.id_masked}   {t('admin.person.sex', lang)}: {sex}   "
            f"{t('admin.person.born', lang)}: {r.birth_date}",
        ]
        if r.name_typed != r.name_enrolled:
            lines.append("[b yellow]" + escape(t("admin.review.names_differ", lang)) + "[/]")
        lines.append(t("admin.review.compare_realname", lang))
        return "\n".join(lines)

    def _health_text(self, h: Any) -> str:
        lang = self.lang
        verdict = t("admin.review.fit" if h.passed else "admin.review.not_fit", lang)
        lines = [
            f"[b]{t('admin.review_kind.health', lang)}[/]  {t('admin.review.submitted', lang)} {self.admin.local(h.submitted_at)}",
            f"{t('admin.review.col_name', lang)}: {escape(h.name)}   {t('admin.person.id_number', lang)}: {h.id_masked}",
            f"{t('admin.review.institution', lang)}: {escape(h.institution)}   "
            f"{t('admin.review.checked_on', lang)}: {h.checked_on}   {t('admin.review.result', lang)}: [b]{verdict}[/]",
        ]
        if not h.from_list:
            lines.append("[b yellow]" + escape(t("admin.review.not_on_list", lang)) + "[/]")
        lines.append(t("admin.review.compare_health", lang))
        return "\n".join(lines)

    def _bank_text(self, b: Any) -> str:
        lang = self.lang
        lines = [
            f"[b]{t('admin.review_kind.bank_card', lang)}[/]  {t('admin.review.submitted', lang)} {self.admin.local(b.submitted_at)}",
            f"{t('admin.review.holder_himself', lang)}: {escape(b.holder)}   {t('admin.person.id_number', lang)}: {b.id_masked}",
            f"{t('admin.review.bank', lang)}: {escape(b.bank_name)}   {t('admin.review.card_number', lang)}: {b.card_masked}",
        ]
        if not b.luhn_ok:
            lines.append("[b yellow]" + escape(t("admin.review.luhn_failed", lang)) + "[/]")
        lines.append(
            f"{t('admin.review.replaces_the_card_on_file', lang)}: {escape(b.replaces)}"
            if b.replaces
            else t("admin.review.new_card", lang)
        )
        return "\n".join(lines)

    # --- decisions -------------------------------------------------------------------------------

    def _need_item(self) -> Item | None:
        if self.current is None:
            self.notify(t("admin.review.nothing_waiting_for_review", self.lang), severity="warning")
        return self.current

    @on(DataTable.RowSelected, "#queue")
    def _selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self._choose(str(event.row_key.value))
            self.action_compare()

    def action_compare(self) -> None:
        """The ID card front and the face photo side by side, full size; "same person" approves."""
        from store.people.review import ReviewKind, realname_review

        item = self._need_item()
        if item is None or item.kind != ReviewKind.REALNAME.value:
            if item is not None:
                self.action_approve()  # a bank card has nothing to compare: the plain question
            return

        def ask(r: Any) -> None:
            from kiosk.admin.workers import VerifyScreen

            if r.front_image is None or r.face_photo is None:
                return

            def answer(same: bool | None) -> None:
                if same:
                    self._approve(item)

            self.app.push_screen(VerifyScreen(r.front_image, r.face_photo, lang=self.admin.lang), answer)

        self.fetch(lambda: realname_review(self.admin.engine, item.id), ask)

    def action_approve(self) -> None:
        from store.people.review import ReviewKind

        item = self._need_item()
        if item is None:
            return
        question = pair(
            {
                ReviewKind.REALNAME.value: "admin.review.approve_realname",
                ReviewKind.HEALTH.value: "admin.review.approve_health",
            }.get(item.kind, "admin.review.approve_bank_card")
        )

        def answer(yes: bool | None) -> None:
            if yes:
                self._approve(item)

        self.app.push_screen(ConfirmScreen(question, lang=self.admin.lang), answer)

    @work(thread=True, exit_on_error=False, group="write", description="approve a submission")
    def _approve(self, item: Item) -> None:
        from store.people.admin_writes import approve_submission
        from store.people.review import ReviewKind

        if self.done(
            lambda: approve_submission(self.admin.engine, ReviewKind(item.kind), item.id, by=self.admin.actor)
        ):
            self.app.call_from_thread(self.notify, t("admin.review.approved", self.lang))
        self.app.call_from_thread(self._decided)

    def _decided(self, _result: Any = None) -> None:
        self.current = None
        self.reload()

    def action_reject(self) -> None:
        from store.people.admin_writes import reject_submission
        from store.people.review import REJECT_REASONS, ReviewKind

        item = self._need_item()
        if item is None:
            return
        engine, lang, actor = self.admin.engine, self.admin.lang, self.admin.actor

        def save(v: dict[str, str]) -> bool:
            reason = v["other"] if v["reason"] == OTHER else v["reason"]
            if v["reason"] == OTHER and not reason:
                raise ValidationError("other", *pair("admin.check.other_reason"))
            reject_submission(engine, ReviewKind(item.kind), item.id, by=actor, reason=reason)
            return True

        options = [(pick(lang, zh, en), zh) for zh, en in REJECT_REASONS] + [
            (t("admin.reject_other", lang), OTHER)
        ]
        self.form(
            pair("admin.review.reject_title"),
            [
                Field("reason", *pair("admin.field.reason"), options=options, required=True),
                Field("other", *pair("admin.field.other_reason")),
            ],
            save,
            self._decided,
        )


#: pictures are decoded in the worker and reduced to this many pixels on the long side: enough for any
#: terminal's half-block cells, small enough to draw on the UI thread
SMALL_PX = 320


def _small(data: bytes | None) -> np.ndarray | None:
    """A stored JPEG decoded and reduced (in the worker thread)."""
    if not data:
        return None
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_COLOR_2)
    if image is None:
        return None
    h, w = image.shape[:2]
    scale = SMALL_PX / max(h, w)
    return (
        cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        if scale < 1
        else image
    )
