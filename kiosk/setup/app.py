"""``kiosk setup``: the first-run wizard of a new site laptop, for someone who is not a programmer.

Five steps, one screen each (a ``ContentSwitcher``): welcome; the shared database (tested at once, a
plain reason when it fails; "next" only after a good test of what is typed now); this kiosk's name and
project (from the shared database); the camera (a live frame and whether a test code decodes) or the
scanner (type a code); save and first sync with a progress bar. Chinese by default, F4 for English.
Run again, it starts from the existing config and edits it (kiosk/setup/logic.py keeps everything it
does not ask about). Every slow step is a thread worker talking to the screen by messages.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import (
    Button,
    ContentSwitcher,
    Input,
    Label,
    ProgressBar,
    RadioButton,
    RadioSet,
    Select,
    Static,
)

from kiosk.config import Config
from kiosk.i18n import t
from kiosk.setup.logic import Answers, Finished, Project, SharedAddress, SharedCheck
from kiosk.widgets.preview import CameraPreview
from store.errors import StoreError

STEPS = ("welcome", "shared", "kiosk", "camera", "finish")
CAMERA_TRY_S = 6.0

#: widget id -> text key, relabelled on a language switch
LABELS = {
    "h-welcome": "h_welcome",
    "welcome": "welcome",
    "h-shared": "h_shared",
    "l-host": "host",
    "l-port": "port",
    "l-database": "database",
    "l-user": "user",
    "l-password": "password",
    "l-path": "path",
    "h-kiosk": "h_kiosk",
    "l-name": "kiosk_name",
    "l-project": "project",
    "h-camera": "h_camera",
    "l-source": "source",
    "l-scanner": "scan_here",
    "h-finish": "h_finish",
}
BUTTONS = {
    "test-shared": "test",
    "test-camera": "open_camera",
    "finish": "finish",
    "back": "back",
    "next": "next",
    "kind-pg": "kind_pg",
    "kind-sqlite": "kind_sqlite",
    "use-camera": "use_camera",
    "use-scanner": "use_scanner",
}


class ScannerInput(Input):
    """The scanner's test field: a scanner ends a scan with Enter or with Tab (a common setting); both
    end it here, so a Tab in the scanner's burst is its end, not a jump to the next field."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("tab", "submit", show=False)]


class SetupApp(App[int]):
    CSS = """
    Screen { layout: vertical; }
    #title { height: 1; background: $primary; color: $text; text-style: bold; padding: 0 1; }
    #steps { height: 1fr; padding: 0 1; }
    .step { height: 1fr; }
    .h { text-style: bold; margin: 1 0 1 0; }
    .field { height: 1; margin: 0 0 1 0; }
    .field Label { width: 24; }
    .field Input { width: 1fr; height: 1; border: none; padding: 0 1; background: $boost; }
    .field Input:focus { background: $accent 30%; }
    .field Select { width: 1fr; }
    #f-project { height: 3; }
    .result { margin: 1 0 0 0; height: auto; }
    .result.-ok { color: $success; }
    .result.-bad { color: $error; text-style: bold; }
    #preview { height: 8; width: 48; margin: 1 0 0 0; }
    RadioSet { height: auto; width: 1fr; border: none; margin: 0 0 1 0; }
    Button { height: 1; min-width: 10; border: none; margin: 0 1 0 0; }
    #nav { height: 1; dock: bottom; padding: 0 1; margin: 1 0 0 0; }
    #keys { width: 1fr; content-align: right middle; color: $text-muted; }
    #progress { margin: 1 0 0 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f4", "language", show=False),
        Binding("ctrl+q", "quit", show=False, priority=True),
    ]

    class Tested(Message):
        def __init__(self, check: SharedCheck, url: str) -> None:
            super().__init__()
            self.check = check
            self.url = url

    class CameraFrame(Message):
        def __init__(
            self,
            strips: list[Any],
            size: tuple[int, int] | None,
            decoded: str | None,
            error: str | None,
            final: bool,
        ) -> None:
            super().__init__()
            self.strips, self.size, self.decoded, self.error, self.final = strips, size, decoded, error, final

    class Progress(Message):
        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done, self.total = done, total

    class Done(Message):
        def __init__(self, finished: Finished | None, error: StoreError | None) -> None:
            super().__init__()
            self.finished, self.error = finished, error

    def __init__(
        self,
        config_path: Path,
        *,
        existing: Config | None = None,
        lang: str | None = None,
        camera_opener: Any = None,
    ) -> None:
        super().__init__()
        self.config_path = Path(config_path)
        self.existing = existing
        self.lang = lang or (existing.language if existing else "zh")
        self.camera_opener = camera_opener
        self.step = 0
        self.addr = SharedAddress.from_url(existing.store.shared_url) if existing else SharedAddress()
        self.tested_url: str | None = None  # the URL of the last good test
        self.projects: tuple[Project, ...] = ()
        self.camera_ok = False
        self.scanner_ok = False
        self.finished: Finished | None = None
        self.preview_cells = (40, 10)
        self._messages: dict[str, tuple[str, dict[str, Any], str]] = {}  # result id -> (key, fields, kind)
        self.buttons = dict(BUTTONS)

    # --- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        a, ex = self.addr, self.existing
        yield Static(id="title")
        with ContentSwitcher(initial="step-welcome", id="steps"):
            with VerticalScroll(id="step-welcome", classes="step"):
                yield Label(id="h-welcome", classes="h")
                yield Static(id="welcome")
                yield Static(id="editing", classes="result")
            with VerticalScroll(id="step-shared", classes="step"):
                yield Label(id="h-shared", classes="h")
                with RadioSet(id="kind"):
                    yield RadioButton(id="kind-pg", value=a.kind != "sqlite")
                    yield RadioButton(id="kind-sqlite", value=a.kind == "sqlite")
                for key, value, pw in (
                    ("host", a.host, False),
                    ("port", a.port, False),
                    ("database", a.database, False),
                    ("user", a.user, False),
                    ("password", a.password, True),
                ):
                    with Horizontal(classes="field pg", id=f"f-{key}"):
                        yield Label(id=f"l-{key}")
                        yield Input(value=value, id=key, password=pw)
                with Horizontal(classes="field sqlite", id="f-path"):
                    yield Label(id="l-path")
                    yield Input(value=a.path, id="path")
                yield Button(id="test-shared", variant="primary")
                yield Static(id="shared-result", classes="result")
            with VerticalScroll(id="step-kiosk", classes="step"):
                yield Label(id="h-kiosk", classes="h")
                with Horizontal(classes="field"):
                    yield Label(id="l-name")
                    yield Input(value=ex.kiosk.name if ex and ex.path else "1号门", id="name")
                with Horizontal(classes="field", id="f-project"):
                    yield Label(id="l-project")
                    yield Select[str]([], id="project-select")
                yield Static(id="kiosk-result", classes="result")
            with VerticalScroll(id="step-camera", classes="step"):
                yield Label(id="h-camera", classes="h")
                scanner = bool(ex and ex.path and not ex.camera.source.strip())
                with RadioSet(id="device"):
                    yield RadioButton(id="use-camera", value=not scanner)
                    yield RadioButton(id="use-scanner", value=scanner)
                with Horizontal(classes="field cam", id="f-source"):
                    yield Label(id="l-source")
                    yield Input(
                        value=(ex.camera.source if ex and ex.camera.source.strip() else "0"), id="source"
                    )
                yield Button(id="test-camera", classes="cam", variant="primary")
                yield CameraPreview(id="preview", classes="cam")
                with Horizontal(classes="field scan", id="f-scanner"):
                    yield Label(id="l-scanner")
                    yield ScannerInput(id="scanner", password=True)
                yield Static(id="camera-result", classes="result")
            with VerticalScroll(id="step-finish", classes="step"):
                yield Label(id="h-finish", classes="h")
                yield Static(id="summary")
                yield Button(id="finish", variant="success")
                yield ProgressBar(id="progress", total=None, show_eta=False)
                yield Static(id="finish-result", classes="result")
        with Horizontal(id="nav"):
            yield Button(id="back")
            yield Button(id="next", variant="primary")
            yield Static(id="keys")

    def on_mount(self) -> None:
        self.query_one("#progress", ProgressBar).display = False
        if self.existing is not None and self.existing.path is not None:
            self._say("editing", "editing", "ok", path=self.existing.path)
        self._show_kind()
        self._show_device()
        self.relabel()
        self._go(0)

    def relabel(self) -> None:
        lang = self.lang
        for wid, key in LABELS.items():
            self.query_one(f"#{wid}", Static).update(t(f"setup.{key}", lang))  # a Label is a Static
        for wid, key in self.buttons.items():
            self.query_one(f"#{wid}").label = t(f"setup.{key}", lang)  # type: ignore[attr-defined]  # a Button or a RadioButton: Textual gives them no common base with .label
        self.query_one("#keys", Static).update(t("setup.keys", lang))
        self.query_one("#project-select", Select).prompt = t("setup.pick_project", lang)
        self.query_one("#source", Input).placeholder = t("setup.source_hint", lang)
        for rid in self._messages:
            self._render_message(rid)
        self._title()
        if STEPS[self.step] == "finish":
            self._summary()

    def _title(self) -> None:
        self.query_one("#title", Static).update(
            f"{t('setup.title', self.lang)} · {t('setup.step', self.lang, n=self.step + 1, of=len(STEPS))}"
        )

    def _say(self, rid: str, key: str, kind: str = "", **fields: Any) -> None:
        """A result line from the catalogue (kept, so a language switch says it again)."""
        self._messages[rid] = (key, fields, kind)
        self._render_message(rid)

    def _say_both(self, rid: str, zh: str, en: str, kind: str) -> None:
        """A result line given in both languages (a reason from the store or the checks)."""
        self._messages[rid] = ("", {"zh": zh, "en": en}, kind)
        self._render_message(rid)

    def _render_message(self, rid: str) -> None:
        key, fields, kind = self._messages[rid]
        w = self.query_one(f"#{rid}", Static)
        w.update(
            t(f"setup.{key}", self.lang, **fields)
            if key
            else str(fields["en" if self.lang == "en" else "zh"])
        )
        w.set_class(kind == "ok", "-ok")
        w.set_class(kind == "bad", "-bad")

    def result_text(self, rid: str) -> str:
        """What a result line says now (tests read it)."""
        key, fields, _ = self._messages.get(rid, ("", {"zh": "", "en": ""}, ""))
        return (
            t(f"setup.{key}", self.lang, **fields)
            if key
            else str(fields["en" if self.lang == "en" else "zh"])
        )

    # --- navigation ------------------------------------------------------------------------------

    def _go(self, step: int) -> None:
        self.step = max(0, min(step, len(STEPS) - 1))
        name = STEPS[self.step]
        self.query_one("#steps", ContentSwitcher).current = f"step-{name}"
        self.query_one("#back", Button).disabled = self.step == 0
        self.query_one("#next", Button).display = name != "finish"
        self._title()
        if name == "finish":
            self._summary()
        focus = {
            "shared": "#host" if self.addr.kind != "sqlite" else "#path",
            "kiosk": "#name",
            "camera": "#scanner" if self._scanner_mode() else "#source",
            "finish": "#finish",
        }.get(name, "#next")
        self.query_one(focus).focus()

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self._go(self.step - 1)

    @on(Button.Pressed, "#next")
    def _next(self) -> None:
        name = STEPS[self.step]
        if name == "shared" and (self.tested_url is None or self.tested_url != self._address().url()):
            self._say("shared-result", "test_first", "bad")
            return
        if name == "kiosk":
            if not self.query_one("#name", Input).value.strip():
                self._say("kiosk-result", "need_name", "bad")
                return
            if not isinstance(self.query_one("#project-select", Select).value, str):
                self._say("kiosk-result", "need_project", "bad")
                return
        if name == "camera" and not (self.scanner_ok if self._scanner_mode() else self.camera_ok):
            self._say("camera-result", "need_device", "bad")
            return
        self._go(self.step + 1)

    def not_finished_message(self) -> tuple[str, str] | None:
        """What to say on leaving (zh, en): None after a good set-up; else what was and was not done."""
        if self.finished is not None and self.finished.report.ok:
            return None
        if self.finished is not None:  # saved, the first sync failed
            path = str(self.config_path)
            return t("setup.quit_unsynced", "zh", path=path), t("setup.quit_unsynced", "en", path=path)
        return t("setup.quit_unsaved", "zh"), t("setup.quit_unsaved", "en")

    async def action_quit(self) -> None:
        """Ctrl+Q: exit 0 after a good set-up, else 1 (``kiosk setup`` then says it was not finished)."""
        code = 0 if self.not_finished_message() is None else 1
        self.exit(code, return_code=code)

    def action_language(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"
        self.relabel()

    # --- the shared database ---------------------------------------------------------------------

    def _address(self) -> SharedAddress:
        v = {
            k: self.query_one(f"#{k}", Input).value
            for k in ("host", "port", "database", "user", "password", "path")
        }
        kind = "sqlite" if self.query_one("#kind-sqlite", RadioButton).value else "postgresql"
        return SharedAddress(kind=kind, **v)

    def _show_kind(self) -> None:
        self._show_either(self.query_one("#kind-sqlite", RadioButton).value, ".sqlite", ".pg")

    @on(RadioSet.Changed, "#kind")
    def _kind_changed(self) -> None:
        self._show_kind()

    @on(Input.Submitted, "#host, #port, #database, #user, #password, #path")
    @on(Button.Pressed, "#test-shared")
    def _test_pressed(self) -> None:
        self.addr = self._address()
        self._say("shared-result", "testing")
        self.query_one("#test-shared", Button).disabled = True
        self.test_shared(self.addr)

    @work(thread=True, exclusive=True, group="shared", exit_on_error=False)
    def test_shared(self, addr: SharedAddress) -> None:
        from kiosk.setup.logic import test_shared

        self.post_message(self.Tested(test_shared(addr), addr.url()))

    def on_setup_app_tested(self, msg: Tested) -> None:
        self.query_one("#test-shared", Button).disabled = False
        c = msg.check
        self._say_both("shared-result", c.zh, c.en, "ok" if c.ok else "bad")
        self.tested_url = msg.url if c.ok else None
        if c.ok:
            self.projects = c.projects
            select = self.query_one("#project-select", Select)
            keep = select.value
            select.set_options([(p.name, str(p.id)) for p in c.projects])
            wanted = keep if isinstance(keep, str) else (self.existing.kiosk.project if self.existing else "")
            if wanted in {str(p.id) for p in c.projects}:
                select.value = wanted
            elif len(c.projects) == 1:
                select.value = str(c.projects[0].id)
            self.query_one("#next", Button).focus()  # Enter goes on

    # --- camera or scanner -----------------------------------------------------------------------

    def _scanner_mode(self) -> bool:
        return bool(self.query_one("#use-scanner", RadioButton).value)

    def _show_device(self) -> None:
        self._show_either(self._scanner_mode(), ".scan", ".cam")

    def _show_either(self, first: bool, shown_when: str, otherwise: str) -> None:
        """Show the widgets of class ``shown_when`` when ``first``, else those of class ``otherwise``."""
        for w in self.query(otherwise):
            w.display = not first
        for w in self.query(shown_when):
            w.display = first

    @on(RadioSet.Changed, "#device")
    def _device_changed(self) -> None:
        self._show_device()
        self.query_one("#scanner" if self._scanner_mode() else "#source").focus()

    @on(Button.Pressed, "#test-camera")
    def _camera_pressed(self) -> None:
        self.camera_ok = False
        self._say("camera-result", "opening")
        self.query_one("#test-camera", Button).disabled = True
        self.try_camera(self.query_one("#source", Input).value.strip())

    @work(thread=True, exclusive=True, group="camera", exit_on_error=False)
    def try_camera(self, spec: str) -> None:
        """Open the camera, show frames and try to decode them, for up to ``CAMERA_TRY_S``."""
        from textual.worker import get_current_worker

        from kiosk.camera.decoders import make_decoder
        from kiosk.camera.sources import SourceError, open_source
        from kiosk.widgets.pixels import fit, halfblock_strips

        worker = get_current_worker()
        opener = self.camera_opener or open_source
        try:
            src = opener(spec)
        except SourceError as exc:
            self.post_message(self.CameraFrame([], None, None, exc.message(self.lang), True))
            return
        except Exception as exc:  # a driver's own failure
            self.post_message(self.CameraFrame([], None, None, f"{type(exc).__name__}: {exc}", True))
            return
        decoder = make_decoder("zxingcpp")
        size: tuple[int, int] | None = None
        decoded: str | None = None
        deadline = time.monotonic() + CAMERA_TRY_S
        try:
            while time.monotonic() < deadline and not worker.is_cancelled and decoded is None:
                frame = src.read()
                if frame is None:
                    if src.state.value in ("ended", "failed"):
                        break
                    time.sleep(0.05)
                    continue
                h, w = frame.image.shape[:2]
                size = (w, h)
                found = decoder(frame.image)
                decoded = found[0].text if found else None
                cols, rows = self.preview_cells
                strips = halfblock_strips(
                    fit(
                        frame.image,
                        cols,
                        rows,
                        outline=found[0].points if found else (),
                        kind="ok" if found else "seen",
                    )
                )
                self.post_message(self.CameraFrame(strips, size, decoded, None, False))
        finally:
            src.close()
        self.post_message(
            self.CameraFrame([], size, decoded, None if size else t("setup.no_frames", self.lang), True)
        )

    def on_setup_app_camera_frame(self, msg: CameraFrame) -> None:
        if msg.strips:
            self.query_one(CameraPreview).show(msg.strips)
        if not msg.final:
            return
        self.query_one("#test-camera", Button).disabled = False
        if msg.size is None:
            self._say("camera-result", "cam_failed", "bad", why=msg.error or "?")
            return
        self.camera_ok = True
        w, h = msg.size
        from store.codes.tokens import looks_like_code

        # what was read is never shown (a personal code is personal): only what kind of code it was
        kind = "" if msg.decoded is None else "kind_code" if looks_like_code(msg.decoded) else "kind_other"

        def said(lang: str) -> str:
            tail = (
                t("setup.cam_decoded", lang, kind=t(f"setup.{kind}", lang))
                if kind
                else t("setup.cam_no_code", lang)
            )
            return t("setup.cam_ok", lang, w=w, h=h) + tail

        self._say_both("camera-result", said("zh"), said("en"), "ok")
        self.query_one("#next", Button).focus()

    @on(Input.Submitted, "#name")
    def _name_entered(self) -> None:
        self.query_one("#project-select", Select).focus()

    @on(Select.Changed, "#project-select")
    def _project_picked(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and STEPS[self.step] == "kiosk":
            self.query_one("#next", Button).focus()

    @on(Input.Submitted, "#source")
    def _source_entered(self) -> None:
        self._camera_pressed()

    @on(Input.Submitted, "#scanner")
    def _scanned(self, event: Input.Submitted) -> None:
        from store.codes.tokens import looks_like_code

        text = event.value.strip()
        event.input.clear()
        if not text:
            return
        self.scanner_ok = True
        kind = "kind_code" if looks_like_code(text) else "kind_other"
        self._say_both(
            "camera-result",
            t("setup.scan_ok", "zh", n=len(text), kind=t(f"setup.{kind}", "zh")),
            t("setup.scan_ok", "en", n=len(text), kind=t(f"setup.{kind}", "en")),
            "ok",
        )
        self.query_one("#next", Button).focus()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        fields = ("host", "port", "database", "user", "password", "path")
        if event.input.id in fields and self.tested_url and self._address().url() != self.tested_url:
            self.tested_url = None  # what was tested is not what is typed now

    # --- save and sync ---------------------------------------------------------------------------

    def answers(self) -> Answers:
        project = self.query_one("#project-select", Select).value
        return Answers(
            shared_url=self.tested_url or self._address().url(),
            kiosk_name=self.query_one("#name", Input).value.strip(),
            project_id=project if isinstance(project, str) else "",
            camera_source="" if self._scanner_mode() else self.query_one("#source", Input).value.strip(),
            language=self.lang,
        )

    def _summary(self) -> None:
        from store.db.urls import redact

        a = self.answers()
        project = next((p.name for p in self.projects if str(p.id) == a.project_id), "—")
        device = (
            t("setup.use_scanner", self.lang)
            if not a.camera_source
            else f"{t('setup.use_camera', self.lang)} {a.camera_source}"
        )
        self.query_one("#summary", Static).update(
            t(
                "setup.summary",
                self.lang,
                path=self.config_path,
                shared=redact(a.shared_url),
                name=a.kiosk_name,
                project=project,
                device=device,
            )
        )

    @on(Button.Pressed, "#finish")
    def _finish_pressed(self) -> None:
        if self.finished is not None and self.finished.report.ok:
            self.exit(0)
            return
        self.query_one("#finish", Button).disabled = True
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self._say("finish-result", "saving")
        self.save_and_sync(self.answers())

    @work(thread=True, exclusive=True, group="finish", exit_on_error=False)
    def save_and_sync(self, answers: Answers) -> None:
        from kiosk.setup.logic import expected_rows, finish, write_config

        try:
            write_config(self.config_path, answers)
            total = expected_rows(answers.shared_url)
            done = [0]

            def progress(_table: str, n: int) -> None:
                done[0] += n
                self.post_message(self.Progress(done[0], max(total, done[0])))

            self.post_message(self.Progress(0, total))
            finished = finish(self.config_path, on_progress=progress)
        except StoreError as exc:
            self.post_message(self.Done(None, exc))
            return
        except Exception as exc:  # a bug must still be said, not swallowed by the worker
            name = type(exc).__name__
            self.post_message(self.Done(None, StoreError(f"意外错误：{name}", f"Unexpected error: {name}")))
            return
        self.post_message(self.Done(finished, None))

    def on_setup_app_progress(self, msg: Progress) -> None:
        self.query_one("#progress", ProgressBar).update(total=msg.total or None, progress=msg.done)

    def on_setup_app_done(self, msg: Done) -> None:
        button = self.query_one("#finish", Button)
        button.disabled = False
        button.focus()  # disabled while saving, it lost the focus: Enter presses it again (完成, 重试)
        if msg.error is not None:
            self._say_both(
                "finish-result",
                t("setup.failed", "zh", why=msg.error.zh),
                t("setup.failed", "en", why=msg.error.en),
                "bad",
            )
            button.label = t("setup.retry", self.lang)
            return
        assert msg.finished is not None
        self.finished = msg.finished
        report = msg.finished.report
        bar = self.query_one("#progress", ProgressBar)
        if report.ok:
            n = msg.finished.pulled
            bar.update(total=max(n, 1), progress=max(n, 1))
            self._say_both("finish-result", t("setup.done", "zh", n=n), t("setup.done", "en", n=n), "ok")
            self.buttons["finish"] = "close"
            button.label = t("setup.close", self.lang)
            self.query_one("#back", Button).disabled = True
        else:
            err = report.error
            self._say_both(
                "finish-result",
                t("setup.sync_failed", "zh", why=err.zh if err else "?"),
                t("setup.sync_failed", "en", why=err.en if err else "?"),
                "bad",
            )
            button.label = t("setup.retry", self.lang)


def run_setup(config_path: Path, *, lang: str | None = None) -> int:
    from kiosk.config import ConfigError, load_config

    existing: Config | None = None
    if config_path.exists():
        try:
            existing = load_config(config_path)
        except ConfigError:
            existing = None  # a broken file: the wizard writes a good one (tomlkit keeps what it can parse)
    import sys

    app = SetupApp(config_path, existing=existing, lang=lang)
    app.run()
    said = app.not_finished_message()
    if said is not None:
        print(f"{said[0]}\n{said[1]}", file=sys.stderr)
        return app.return_code or 1
    return app.return_code or 0
