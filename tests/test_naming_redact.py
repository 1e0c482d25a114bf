"""Specification of harness.plan.naming (source names → target names) and
harness.endpoints.redact (no secret is ever shown)."""

from __future__ import annotations

import sqlite3
import string
from pathlib import Path

import pytest
import sqlglot
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlglot import exp

from harness.db.introspect.sqlite import read_catalog
from harness.endpoints.redact import MASK, dsn_secrets, misplaced_at, redact_dsn, scrub
from harness.plan.model import Renames
from harness.plan.naming import POLICIES, Renamer, snake_case


class TestSnakeCase:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("InvoiceLine", "invoice_line"),
            ("MediaTypeId", "media_type_id"),
            ("BillingPostalCode", "billing_postal_code"),
            ("PlaylistTrack", "playlist_track"),
            ("HTTPServer", "http_server"),
            ("userID", "user_id"),
            ("Customer", "customer"),
            ("ID", "id"),
            ("Address2Line", "address2_line"),
            ("Invoice Line", "invoice_line"),
            ("media-type", "media_type"),
        ],
    )
    def test_chinook_style_names_become_snake_case(self, name: str, expected: str) -> None:
        assert snake_case(name) == expected

    @given(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,20}", fullmatch=True))
    def test_snake_case_is_idempotent(self, name: str) -> None:
        assert snake_case(snake_case(name)) == snake_case(name)

    @given(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True))
    def test_names_already_in_snake_case_are_kept(self, name: str) -> None:
        assert snake_case(name) == name

    def test_the_policies_are_none_lower_and_snake_case(self) -> None:
        assert {p: POLICIES[p]("InvoiceLine") for p in POLICIES} == {
            "none": "InvoiceLine",
            "lower": "invoiceline",
            "snake_case": "invoice_line",
        }


def postgres_tables(script: str) -> dict[str, set[str]]:
    """Table → column names of the CREATE TABLE statements in a psql script."""
    tables = {}
    # The script also holds psql meta-commands (\c), so only CREATE TABLE statements are parsed.
    for statement in script.split(";"):
        start = statement.find("CREATE TABLE")
        if start >= 0:
            create = sqlglot.parse_one(statement[start:], read="postgres")
            assert isinstance(create, exp.Create)
            schema = create.this
            tables[schema.this.name] = {
                c.name for c in schema.expressions if isinstance(c, exp.ColumnDef)
            }
    return tables


@pytest.mark.chinook
def test_snake_case_derives_every_name_of_chinooks_postgresql_copy(chinook: Path) -> None:
    """Chinook's PascalCase SQLite file and its snake_case PostgreSQL script, made independently."""
    conn = sqlite3.connect(f"{(chinook / 'Chinook_Sqlite.sqlite').as_uri()}?mode=ro", uri=True)
    try:
        catalog = read_catalog(conn)
    finally:
        conn.close()
    derived = {snake_case(t.name): {snake_case(c.name) for c in t.columns} for t in catalog.tables}
    script = (chinook / "Chinook_PostgreSql.sql").read_text(encoding="utf-8")
    assert derived == postgres_tables(script)


class TestRenamer:
    renamer = Renamer(
        Renames(
            policy="snake_case",
            tables={"InvoiceLine": "invoice_items"},
            columns={"Invoice": {"BillingPostalCode": "zip"}},
        )
    )

    def test_an_explicit_table_rename_beats_the_policy(self) -> None:
        assert self.renamer.table("InvoiceLine") == "invoice_items"

    def test_other_tables_follow_the_policy(self) -> None:
        assert self.renamer.table("MediaType") == "media_type"

    def test_an_explicit_column_rename_beats_the_policy(self) -> None:
        assert self.renamer.column("Invoice", "BillingPostalCode") == "zip"

    def test_column_renames_apply_only_to_their_source_table(self) -> None:
        assert self.renamer.column("Customer", "BillingPostalCode") == "billing_postal_code"

    def test_other_columns_follow_the_policy(self) -> None:
        assert self.renamer.column("Invoice", "InvoiceId") == "invoice_id"

    def test_column_maps_are_keyed_by_source_table_not_renamed_table(self) -> None:
        assert self.renamer.column("invoice", "BillingPostalCode") == "billing_postal_code"

    def test_without_renames_names_are_kept(self) -> None:
        plain = Renamer(Renames())
        assert (plain.table("InvoiceLine"), plain.column("InvoiceLine", "UnitPrice")) == (
            "InvoiceLine",
            "UnitPrice",
        )


# Characters that need no quoting in either DSN form (libpq URI userinfo, key=value).
SAFE = string.ascii_letters + string.digits + "-._~!$*+,;"
PASSWORDS = st.text(SAFE, min_size=6, max_size=40)
QUOTED_PASSWORDS = st.text(SAFE + " =@:/?&'\\", min_size=6, max_size=40)


def kv_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


DSN_FORMS = {
    "uri": lambda pw: f"postgresql://app:{pw}@db.internal:5432/shop?sslmode=require",
    "uri-query": lambda pw: f"postgresql://app@db.internal/shop?password={pw}",
    "key-value": lambda pw: f"host=db.internal port=5432 user=app password={pw} dbname=shop",
    "key-value-quoted": lambda pw: f"host=db.internal user=app password={kv_quote(pw)} dbname=shop",
}


class TestRedactDsn:
    @pytest.mark.parametrize(
        ("dsn", "shown"),
        [
            ("postgresql://app:s3cret@db:5432/shop", "postgresql://app@db:5432/shop"),
            (
                "postgresql://app:s3cret@db/shop?sslmode=require",
                "postgresql://app@db/shop?sslmode=require",
            ),
            (
                "host=db port=5432 user=app password=s3cret dbname=shop",
                "postgresql://app@db:5432/shop",
            ),
            ("host=/tmp/run dbname=shop user=app", "postgresql://app@/shop?host=/tmp/run"),
        ],
    )
    def test_a_dsn_is_shown_as_a_uri_without_its_password(self, dsn: str, shown: str) -> None:
        assert redact_dsn(dsn) == shown

    @pytest.mark.parametrize("form", DSN_FORMS)
    @given(password=PASSWORDS)
    def test_the_password_never_appears(self, form: str, password: str) -> None:
        dsn = DSN_FORMS[form](password)
        # a password that is part of the rest of the text (a key-value DSN is shown as a URI)
        # would be found whether or not it leaked
        assume(password not in DSN_FORMS[form]("") + redact_dsn(DSN_FORMS[form]("")))
        assert password not in redact_dsn(dsn)

    @given(password=QUOTED_PASSWORDS)
    def test_a_quoted_password_with_spaces_and_quotes_never_appears(self, password: str) -> None:
        empty = DSN_FORMS["key-value-quoted"]("")
        dsn = DSN_FORMS["key-value-quoted"](password)
        assume(password not in empty + redact_dsn(empty))  # e.g. 'postgr', in the URI shown
        assert password not in redact_dsn(dsn)

    @given(head=PASSWORDS, tail=PASSWORDS)
    def test_an_unescaped_at_sign_in_a_uri_password_hides_all_of_it(
        self, head: str, tail: str
    ) -> None:
        # libpq reads "app:HEAD@TAIL@db" as password HEAD and host "TAIL@db"; neither part may show.
        dsn = f"postgresql://app:{head}@{tail}@db.internal:5432/shop"
        assume(head not in "postgresql://app:@@db.internal:5432/shop")
        assume(tail not in "postgresql://app:@@db.internal:5432/shop")
        for shown in (redact_dsn(dsn), scrub(f"could not connect to {dsn}: refused")):
            assert head not in shown
            assert tail not in shown
        assert misplaced_at(dsn)
        assert not misplaced_at(f"postgresql://app:{head}%40{tail}@db.internal/shop")

    def test_an_unparseable_dsn_is_scrubbed_instead(self) -> None:
        shown = redact_dsn("postgresql://app:s3cret@db:5432/shop?bad option")
        assert "s3cret" not in shown


class TestScrub:
    @pytest.mark.parametrize("form", DSN_FORMS)
    @given(password=PASSWORDS)
    def test_a_message_quoting_a_dsn_loses_the_password(self, form: str, password: str) -> None:
        dsn = DSN_FORMS[form](password)
        message = f'connection to "{dsn}" failed: FATAL: password authentication failed'
        assume(password not in message.replace(dsn, DSN_FORMS[form]("")))

        assert password not in scrub(message)
        assert password not in scrub(message, dsn_secrets(dsn))

    def test_known_secrets_are_removed_wherever_they_appear(self) -> None:
        text = "token abc123 was rejected; retried with abc123 and xyz789"
        assert (
            scrub(text, ["abc123", "xyz789"])
            == f"token {MASK} was rejected; retried with {MASK} and {MASK}"
        )

    def test_empty_secrets_are_ignored(self) -> None:
        assert scrub("nothing to hide", [""]) == "nothing to hide"

    def test_text_without_secrets_is_unchanged(self) -> None:
        text = "relation public.invoice does not exist"
        assert scrub(text) == text

    def test_dsn_secrets_are_the_password_of_a_dsn(self) -> None:
        assert dsn_secrets("host=db password='a b' dbname=shop") == ("a b",)
        assert dsn_secrets("postgresql://app:p%40ss@db/shop") == ("p@ss",)
        assert dsn_secrets("postgresql://app@db/shop") == ()

    def test_an_ssl_key_passphrase_is_scrubbed_too(self) -> None:
        assert "k3ypass" not in scrub("host=db sslpassword=k3ypass dbname=shop")
