"""kiosk keys: kiosks sync through the site service, signed by their own Ed25519 key (issue 24)

``kioskkey`` is a kiosk's public key and what it may do: ``pending`` until an administrator approves it
(or it presents a one-time ``kioskenrollment`` token), then ``approved`` for the projects listed, until
``revoked``. ``kiosknonce`` is the replay guard of signed sync requests, in the database so it holds
across ``kiosk serve --workers N`` and across hosts. Indexes by (project, revision) and (project, date)
for scoped pulls and the roster. Shared database only: sync never pulls these tables.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

from store.timeutil import UTCDateTime

# Frozen history: repeats other migrations by design and must not import changing code (README.md here).
revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: what kiosks pull (store/sync/pull.py PULLED, frozen here): stamped with their writer's transaction id
PULLED_TABLES = (
    "employer",
    "project",
    "worker",
    "healthinstitution",
    "healthcheck",
    "employment",
    "officer",
    "officerassignment",
    "issuerkey",
    "kiosk",
    "attendance",
)

# PostgreSQL: commit-ordered pulls (store/sync/exchange.py Window). Each write of a pulled table keeps
# its transaction's id; a pull hands out rows of transactions older than its snapshot's xmin only.
STAMP_XID = """
CREATE FUNCTION kiosk_stamp_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.xid := pg_current_xact_id();
    RETURN NEW;
END
$$;
"""


def _stamp_xids() -> None:
    op.execute(STAMP_XID)
    for t in PULLED_TABLES:
        op.execute(f"ALTER TABLE {t} ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id()")
        op.execute(
            f"CREATE TRIGGER {t}_stamp_xid BEFORE INSERT OR UPDATE ON {t} "
            "FOR EACH ROW EXECUTE FUNCTION kiosk_stamp_xid()"
        )
        op.execute(f"CREATE INDEX ix_{t}_xid ON {t} (xid)")
    op.execute("CREATE INDEX ix_attendance_project_xid ON attendance (project_id, xid)")
    op.execute("CREATE INDEX ix_employment_project_xid ON employment (project_id, xid)")


def _unstamp_xids() -> None:
    for t in PULLED_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {t}_stamp_xid ON {t}")
        op.execute(f"ALTER TABLE {t} DROP COLUMN IF EXISTS xid")
    op.execute("DROP FUNCTION IF EXISTS kiosk_stamp_xid()")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _stamp_xids()
    op.create_table(
        "kioskkey",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("kiosk_id", sa.Uuid(), nullable=False),
        sa.Column("name", AutoString(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", AutoString(), nullable=False),
        sa.Column("status", AutoString(), nullable=False),
        sa.Column("projects", AutoString(), nullable=False),
        sa.Column("approved_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_by", AutoString(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", AutoString(), nullable=True),
        sa.Column("last_seen_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kiosk_id"),
        sa.UniqueConstraint("public_key"),
        sa.UniqueConstraint("key_id"),
    )
    op.create_table(
        "kioskenrollment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("token_hash", AutoString(), nullable=False),
        sa.Column("projects", AutoString(), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("key_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", AutoString(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "kiosknonce",
        sa.Column("nonce_hash", AutoString(), nullable=False),
        sa.Column("key_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce_hash"),
    )
    op.create_index("ix_kiosknonce_at", "kiosknonce", ["at"])
    with op.batch_alter_table("pushrejection") as batch:  # the administrator settles what was refused
        batch.add_column(sa.Column("settled_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("settled_by", AutoString(), nullable=True))
    op.create_index("ix_attendance_project_rev", "attendance", ["project_id", "rev"])
    op.create_index("ix_attendance_project_date", "attendance", ["project_id", "work_date"])
    op.create_index("ix_employment_project_rev", "employment", ["project_id", "rev"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _unstamp_xids()
    op.drop_index("ix_employment_project_rev", table_name="employment")
    op.drop_index("ix_attendance_project_date", table_name="attendance")
    op.drop_index("ix_attendance_project_rev", table_name="attendance")
    with op.batch_alter_table("pushrejection") as batch:
        batch.drop_column("settled_by")
        batch.drop_column("settled_at")
    op.drop_index("ix_kiosknonce_at", table_name="kiosknonce")
    op.drop_table("kiosknonce")
    op.drop_table("kioskenrollment")
    op.drop_table("kioskkey")
