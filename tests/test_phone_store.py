"""store/people/phone.py on its own: links, bindings, revocation, the replay guard (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select
from support.way_a_world import build_world

from store.db.engine import session
from store.db.models import AuditLog, PhoneActivation, PhoneRequest
from store.errors import ValidationError
from store.people.phone import (
    DeviceState,
    LinkError,
    LinkState,
    activate,
    claim_nonce,
    create_link,
    device,
    list_bindings,
    peek_link,
    purge_nonces,
    revoke_binding,
    secret_hash,
)
from store.timeutil import utcnow


def test_links_bindings_and_revocation(any_url: str) -> None:
    w = build_world(any_url)
    link = create_link(w.engine, worker_id=w.worker, actor="admin")
    with session(w.engine) as s:
        act = s.exec(select(PhoneActivation)).one()
        assert act.token_hash == secret_hash(link.token) and link.token not in act.token_hash
    assert peek_link(w.engine, link.token).state is LinkState.VALID
    secret, dev = activate(w.engine, link.token)
    assert dev.worker_id == w.worker and dev.officer_id is None
    assert device(w.engine, secret) == (DeviceState.OK, dev)
    with pytest.raises(LinkError) as exc:
        activate(w.engine, link.token)
    assert exc.value.state is LinkState.USED and "已使用" in exc.value.zh
    [row] = list_bindings(w.engine, worker_id=w.worker)
    assert revoke_binding(w.engine, row.id, actor="admin") is True
    assert revoke_binding(w.engine, row.id, actor="admin") is False
    assert device(w.engine, secret) == (DeviceState.REVOKED, None)
    assert device(w.engine, "nonsense") == (DeviceState.UNKNOWN, None)
    with session(w.engine) as s:
        actions = [
            a.action
            for a in s.exec(
                select(AuditLog).where(
                    AuditLog.table_name.in_(  # type: ignore[attr-defined]
                        ["phoneactivation", "phonebinding"]
                    )
                )
            )
        ]
    assert sorted(actions) == ["bind", "create", "revoke"]


def test_bad_requests_for_links(sqlite_url: str) -> None:
    w = build_world(sqlite_url)
    with pytest.raises(ValidationError):
        create_link(w.engine, worker_id=w.worker, officer_id=w.officer)
    with pytest.raises(ValidationError):
        create_link(w.engine)
    with pytest.raises(ValidationError, match="No such worker"):
        create_link(w.engine, worker_id=w.officer)
    with pytest.raises(ValidationError):
        create_link(w.engine, worker_id=w.worker, ttl_s=5)
    old = create_link(w.engine, worker_id=w.worker, at=utcnow() - timedelta(hours=25))
    assert peek_link(w.engine, old.token).state is LinkState.EXPIRED
    assert peek_link(w.engine, "x").state is LinkState.UNKNOWN
    assert peek_link(w.engine, "é" * 30).state is LinkState.UNKNOWN


def test_the_replay_guard_and_its_purge(any_url: str) -> None:
    w = build_world(any_url)
    link = create_link(w.engine, worker_id=w.worker)
    _, dev = activate(w.engine, link.token)
    assert claim_nonce(w.engine, dev.binding_id, "abcdef0123") is True
    assert claim_nonce(w.engine, dev.binding_id, "abcdef0123") is False
    assert claim_nonce(w.engine, dev.binding_id, "another-one") is True
    assert claim_nonce(w.engine, dev.binding_id, "old-nonce-1", at=utcnow() - timedelta(days=3)) is True
    assert purge_nonces(w.engine) == 1
    with session(w.engine) as s:
        assert len(list(s.exec(select(PhoneRequest)))) == 2
