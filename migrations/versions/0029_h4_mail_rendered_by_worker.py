"""An appointment's mail is rendered by the worker, not in the booking request: the outbox
row is written with the event, the language and the few values the text needs
(`context`); subject, bodies and sender are filled when the worker first claims the row
(`rendered_at`), and kept, so a retry sends the same message. `skipped`: a mail the
appointment's state no longer warrants when it is rendered (a confirmation of a booking
cancelled meanwhile). The previous release writes rendered rows, which the new one sends
as they are.

Revision ID: 0029_h4_mail_rendered_by_worker
Revises: 0028_h1_fair_draw
"""
import sqlalchemy as sa
from alembic import op

revision = "0029_h4_mail_rendered_by_worker"
down_revision = "0028_h1_fair_draw"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_mails") as batch_op:
        batch_op.add_column(sa.Column("lang", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("context", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("rendered_at", sa.DateTime(timezone=True), nullable=True))
        for column in ("from_addr", "subject", "text_body", "html_body"):
            batch_op.alter_column(column, existing_type=sa.Text() if "body" in column else sa.String(300),
                                  nullable=True)
        batch_op.drop_constraint(op.f("ck_outbox_mails_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('pending', 'sending', 'sent', 'failed', 'skipped')")


def downgrade():
    op.execute("DELETE FROM outbox_mails WHERE status = 'skipped' OR text_body IS NULL")
    with op.batch_alter_table("outbox_mails") as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_mails_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('pending', 'sending', 'sent', 'failed')")
        for column in ("from_addr", "subject", "text_body", "html_body"):
            batch_op.alter_column(column, existing_type=sa.Text() if "body" in column else sa.String(300),
                                  nullable=False)
        batch_op.drop_column("rendered_at")
        batch_op.drop_column("context")
        batch_op.drop_column("lang")
