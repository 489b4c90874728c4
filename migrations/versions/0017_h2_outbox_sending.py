"""outbox_mails.status may be 'sending': a row claimed for one SMTP conversation, with
next_attempt_at as the end of that lease — so no transaction is held while the mail
server is talked to.

Revision ID: 0017_h2_outbox_sending
Revises: 0016_lc_email_key
"""
from alembic import op

revision = "0017_h2_outbox_sending"
down_revision = "0016_lc_email_key"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_mails") as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_mails_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('pending', 'sending', 'sent', 'failed')")


def downgrade():
    op.execute("UPDATE outbox_mails SET status = 'pending' WHERE status = 'sending'")
    with op.batch_alter_table("outbox_mails") as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_mails_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('pending', 'sent', 'failed')")
