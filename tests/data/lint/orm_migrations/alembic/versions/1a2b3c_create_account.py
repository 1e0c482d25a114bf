"""create account"""
from alembic import op
import sqlalchemy as sa

revision = "1a2b3c"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
    )
    op.create_index("account_name", "account", ["name"])
    op.execute("INSERT INTO account (id, name) VALUES (1, 'root')")


def downgrade() -> None:
    op.drop_table("account")
