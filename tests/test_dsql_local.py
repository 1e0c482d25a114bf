"""The local DSQL, through a real client: psycopg 3 over TLS, with IAM tokens, as to Aurora DSQL.

One local DSQL serves the module; every test works in tables of its own (names carry the
test's id), so the order of tests does not matter.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from harness.dsql_local import DsqlLocal
from harness.dsql_local.answers import ANSWERS
from harness.dsql_local.limits import Limits
from harness.dsql_local.rules import refuse
from harness.dsql_local.session import Session
from harness.dsql_local.statement import classify
from harness.dsql_local.tokens import SigningIdentity
from harness.lint.pack import RULES
from harness.lint.rule import Rule
from harness.lint.split import split
from harness.results.check import Severity

IDENTITY = SigningIdentity("AKIDLOCALTEST", "local-test-secret")
OTHER = SigningIdentity("AKIDOTHERTEST", "other-secret", arn="arn:aws:iam::111122223333:role/app")
ABORTED = "current transaction is aborted, commands ignored until end of transaction block"


@pytest.fixture(scope="module")
def dsql() -> Iterator[DsqlLocal]:
    """The module's cluster; it knows a second IAM principal (OTHER) besides its own."""
    with DsqlLocal(identity=IDENTITY, principals=(OTHER,)) as local:
        yield local


def connect(dsql: DsqlLocal, user: str = "admin", **extra: object) -> psycopg.Connection:
    """An autocommit connection as a DSQL client makes one: a fresh token, TLS verified."""
    conninfo = dsql.conninfo(user, password=dsql.token(user), **extra)
    return psycopg.connect(conninfo, autocommit=True)


@pytest.fixture
def conn(dsql: DsqlLocal) -> Iterator[psycopg.Connection]:
    with connect(dsql) as connection:
        yield connection


@pytest.fixture
def table(conn: psycopg.Connection) -> str:
    """A fresh empty table ``(id int, v text)`` for one test."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    conn.execute(on(name, "CREATE TABLE {t} (id int PRIMARY KEY, v text)"))
    return name


def on(table: str, template: str, **names: str) -> sql.Composed:
    """``template`` with ``{t}`` (and any other ``names``) as quoted identifiers."""
    idents = {key: sql.Identifier(value) for key, value in {"t": table, **names}.items()}
    return sql.SQL(template).format(**idents)  # type: ignore[arg-type]


def refusal(
    conn: psycopg.Connection, statement: str | sql.Composed, *, binary: bool = False
) -> tuple[str, str]:
    """(SQLSTATE, message) of the error ``statement`` gets; fails the test when it succeeds."""
    query = statement.encode() if isinstance(statement, str) else statement
    with pytest.raises(psycopg.Error) as caught:
        conn.cursor().execute(query, binary=binary)
    return caught.value.sqlstate or "", caught.value.diag.message_primary or ""


def one_batch(
    conn: psycopg.Connection, statements: list[tuple[sql.Composed, tuple[object, ...]]]
) -> None:
    """Send ``statements`` as one extended-protocol batch (psycopg's pipeline, one Sync)."""
    cursor = conn.cursor()
    with conn.pipeline() as pipeline:
        for statement, params in statements:
            cursor.execute(statement, params)
        pipeline.sync()


def login_role(conn: psycopg.Connection) -> str:
    """A new role ``WITH LOGIN`` (and no IAM grant yet)."""
    role = f"app_{uuid.uuid4().hex[:8]}"
    conn.execute(sql.SQL("CREATE ROLE {} WITH LOGIN").format(sql.Identifier(role)))
    return role


def grant(conn: psycopg.Connection, role: str, arn: str, action: str = "GRANT") -> str:
    """``AWS IAM GRANT role TO 'arn'`` (or REVOKE … FROM); its command tag."""
    preposition = "TO" if action == "GRANT" else "FROM"
    statement = sql.SQL("AWS IAM {} {} {} {}").format(
        sql.SQL(action), sql.Identifier(role), sql.SQL(preposition), sql.Literal(arn)
    )
    return conn.execute(statement).statusmessage or ""


def count(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute(on(table, "SELECT count(*) FROM {t}")).fetchone()
    assert row is not None
    return int(row[0])


class TestConnection:
    def test_a_client_connects_over_tls_with_an_iam_token_and_sees_dsqls_version(
        self, conn: psycopg.Connection
    ) -> None:
        assert conn.info.server_version == 160015  # 16.15, as DSQL reported on 2026-09-15
        assert conn.pgconn.ssl_in_use
        assert conn.execute("SHOW transaction_isolation").fetchone() == ("repeatable read",)
        assert conn.execute("SELECT current_database()").fetchone() == ("postgres",)

    def test_direct_tls_works_as_aws_connectors_use_it(self, dsql: DsqlLocal) -> None:
        with connect(dsql, sslnegotiation="direct") as direct:
            assert direct.execute("SELECT 1").fetchone() == (1,)

    def test_a_client_that_skips_tls_is_refused(self, dsql: DsqlLocal) -> None:
        with pytest.raises(psycopg.OperationalError, match="TLS is required"):
            connect(dsql, sslmode="disable")

    @pytest.mark.parametrize(
        "password",
        ["hunter2", "x.dsql.us-east-1.on.aws/?Action=DbConnectAdmin", "db:5432/?Action=connect"],
        ids=["a-password", "an-unsigned-url", "an-rds-style-url"],
    )
    def test_a_password_that_is_not_a_valid_token_is_refused_as_dsql_refuses_it(
        self, dsql: DsqlLocal, password: str
    ) -> None:
        with pytest.raises(psycopg.OperationalError, match="unable to accept connection, access"):
            psycopg.connect(dsql.conninfo("admin", password=password))

    def test_an_expired_token_is_refused(self, dsql: DsqlLocal) -> None:
        token = dsql.token("admin", expires_in=1)
        time.sleep(1.2)
        with pytest.raises(psycopg.OperationalError, match="access denied"):
            psycopg.connect(dsql.conninfo("admin", password=token))

    def test_a_token_for_another_endpoint_or_region_is_refused(self, dsql: DsqlLocal) -> None:
        other = DsqlLocal(identity=IDENTITY, endpoint="other.dsql.us-east-1.on.aws")
        west = DsqlLocal(
            identity=IDENTITY, endpoint=dsql.endpoint.replace("us-east-1", "eu-west-1")
        )
        for stranger in (other, west):
            with pytest.raises(psycopg.OperationalError, match="access denied"):
                psycopg.connect(dsql.conninfo("admin", password=stranger.token("admin")))

    def test_a_token_signed_with_other_credentials_is_refused(self, dsql: DsqlLocal) -> None:
        forger = DsqlLocal(identity=SigningIdentity(IDENTITY.access_key, "not-the-secret"))
        forger.endpoint, forger.region = dsql.endpoint, dsql.region
        with pytest.raises(psycopg.OperationalError, match="access denied"):
            psycopg.connect(dsql.conninfo("admin", password=forger.token("admin")))

    def test_admin_needs_a_db_connect_admin_token(self, dsql: DsqlLocal) -> None:
        custom_role_token = dsql.token("app")  # signed for DbConnect
        with pytest.raises(psycopg.OperationalError, match="access denied"):
            psycopg.connect(dsql.conninfo("admin", password=custom_role_token))

    def test_a_role_created_with_login_and_granted_connects_with_a_db_connect_token(
        self, dsql: DsqlLocal, conn: psycopg.Connection
    ) -> None:
        role = login_role(conn)
        grant(conn, role, dsql.arn)
        with connect(dsql, role) as app:
            assert app.execute("SELECT current_user").fetchone() == (role,)
        with pytest.raises(psycopg.OperationalError, match="access denied"):
            psycopg.connect(dsql.conninfo(role, password=dsql.token("admin")))

    def test_a_role_without_login_cannot_connect(
        self, dsql: DsqlLocal, conn: psycopg.Connection
    ) -> None:
        role = f"nologin_{uuid.uuid4().hex[:8]}"
        conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
        with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
            connect(dsql, role)

    def test_the_servers_own_superuser_cannot_log_in(self, dsql: DsqlLocal) -> None:
        with pytest.raises(psycopg.OperationalError, match="access denied"):
            connect(dsql, "postgres")

    def test_there_is_only_database_postgres(self, dsql: DsqlLocal) -> None:
        conninfo = dsql.conninfo("admin", password=dsql.token(), dbname="reporting")
        with pytest.raises(psycopg.OperationalError, match='database "reporting" does not exist'):
            psycopg.connect(conninfo)

    def test_startup_options_outside_the_allowlist_are_refused(self, dsql: DsqlLocal) -> None:
        with pytest.raises(psycopg.OperationalError, match='"statement_timeout" not supported'):
            connect(dsql, options="-c statement_timeout=5000")
        with pytest.raises(psycopg.OperationalError, match='"default_transaction_read_only"'):
            connect(dsql, options="-c default_transaction_read_only=on -c TimeZone=UTC")

    def test_startup_parameters_in_the_allowlist_are_kept(self, dsql: DsqlLocal) -> None:
        with connect(
            dsql, application_name="rehearsal", options="-c search_path=public -c TimeZone=UTC"
        ) as allowed:
            assert allowed.execute("SHOW application_name").fetchone() == ("rehearsal",)
            assert allowed.execute("SHOW search_path").fetchone() == ("public",)


class TestIamGrants:
    """A role other than admin logs in only with a DbConnect token signed by an IAM principal
    it was granted to (``AWS IAM GRANT``); ``AWS IAM REVOKE`` takes it back."""

    def test_a_role_without_a_grant_is_refused_as_a_bad_token_is(
        self, dsql: DsqlLocal, conn: psycopg.Connection
    ) -> None:
        role = login_role(conn)
        with pytest.raises(psycopg.OperationalError, match="unable to accept connection, access"):
            connect(dsql, role)

    def test_the_grant_is_for_the_principal_that_signs(
        self, dsql: DsqlLocal, conn: psycopg.Connection
    ) -> None:
        role = login_role(conn)
        assert grant(conn, role, OTHER.arn) == "AWS IAM GRANT"
        token = dsql.token(role, identity=OTHER)
        with psycopg.connect(dsql.conninfo(role, password=token)) as app:
            assert app.execute("SELECT current_user").fetchone() == (role,)
        with pytest.raises(psycopg.OperationalError, match="access denied"):
            connect(dsql, role)  # the cluster's own principal was not granted the role
        stranger = SigningIdentity("AKIDSTRANGER", "stranger-secret", arn=OTHER.arn)
        with pytest.raises(psycopg.OperationalError, match="access denied"):  # unknown key
            psycopg.connect(dsql.conninfo(role, password=dsql.token(role, identity=stranger)))

    def test_admin_logs_in_for_any_principal_the_cluster_knows(self, dsql: DsqlLocal) -> None:
        with psycopg.connect(dsql.conninfo(password=dsql.token(identity=OTHER))) as admin:
            assert admin.execute("SELECT current_user").fetchone() == ("admin",)

    def test_the_mappings_table_lists_grants_and_revoke_takes_one_back(
        self, dsql: DsqlLocal, conn: psycopg.Connection
    ) -> None:
        role = login_role(conn)
        grant(conn, role, dsql.arn)
        mappings = conn.execute(
            "SELECT arn, pg_role_name, grantor_pg_role_name FROM sys.iam_pg_role_mappings"
            " WHERE pg_role_name = %s",
            (role,),
        ).fetchall()
        assert mappings == [(dsql.arn, role, "admin")]
        assert grant(conn, role, dsql.arn, "REVOKE") == "AWS IAM REVOKE"
        with pytest.raises(psycopg.OperationalError, match="access denied"):
            connect(dsql, role)

    def test_a_grant_is_part_of_its_transaction(
        self, dsql: DsqlLocal, conn: psycopg.Connection
    ) -> None:
        role = login_role(conn)
        conn.execute("BEGIN")
        grant(conn, role, dsql.arn)
        conn.execute("ROLLBACK")
        with pytest.raises(psycopg.OperationalError, match="access denied"):
            connect(dsql, role)

    @pytest.mark.parametrize(
        ("statement", "sqlstate", "words"),
        [
            ("AWS IAM GRANT {role} TO 'arn:aws:s3:::bucket'", "22023", "invalid IAM principal"),
            ("AWS IAM GRANT no_such_role TO '{arn}'", "42704", 'role "no_such_role" does not'),
            ("AWS IAM REVOKE {role} FROM '{arn}'", "42704", "is not granted to"),
            ("DROP ROLE {granted}", "2BP01", "cannot be dropped because some objects depend"),
            ("AWS IAM GRANT {granted} TO '{arn}'", "42710", "is already granted"),
        ],
        ids=["not-an-iam-arn", "no-such-role", "revoke-of-no-grant", "drop-granted", "twice"],
    )
    def test_misuse_is_refused(
        self, dsql: DsqlLocal, conn: psycopg.Connection, statement: str, sqlstate: str, words: str
    ) -> None:
        role, granted = login_role(conn), login_role(conn)
        grant(conn, granted, dsql.arn)
        text = statement.format(role=role, granted=granted, arn=dsql.arn)
        state, message = refusal(conn, text)
        assert (state, words in message) == (sqlstate, True)
        assert "aws_iam" not in message  # the procedure behind it stays out of sight

    def test_only_admin_grants(self, dsql: DsqlLocal, conn: psycopg.Connection) -> None:
        role = login_role(conn)
        grant(conn, role, dsql.arn)
        with connect(dsql, role) as app:
            assert refusal(app, f"AWS IAM GRANT {role} TO '{OTHER.arn}'")[0] == "42501"


class TestSessionSettings:
    @pytest.mark.parametrize(
        "statement",
        [
            "SET application_name = 'cutover'",
            "SET TIME ZONE 'UTC'",
            "SET timezone TO 'Europe/Paris'",
            "SET search_path TO public",
            "SET datestyle = 'ISO, MDY'",
            "SET extra_float_digits = 3",
            "SET intervalstyle = 'iso_8601'",
            "SET client_encoding = 'UTF8'",
            "SET enable_seqscan = off",
            "RESET application_name",
        ],
    )
    def test_settings_in_dsqls_allowlist_can_be_set(
        self, conn: psycopg.Connection, statement: str
    ) -> None:
        conn.execute(statement.encode())

    @pytest.mark.parametrize(
        ("statement", "name"),
        [
            ("SET statement_timeout = 0", "statement_timeout"),
            ("SET lock_timeout = '1s'", "lock_timeout"),
            ("SET LOCAL work_mem = '64MB'", "work_mem"),
            ("SET default_transaction_read_only = on", "default_transaction_read_only"),
            ("SET SESSION AUTHORIZATION admin", "session_authorization"),
            ("SELECT set_config('statement_timeout', '0', false)", "statement_timeout"),
        ],
    )
    def test_other_settings_are_refused_as_dsql_refuses_them(
        self, conn: psycopg.Connection, statement: str, name: str
    ) -> None:
        assert refusal(conn, statement) == (
            "0A000",
            f'setting configuration parameter "{name}" not supported',
        )

    def test_a_refused_setting_inside_a_transaction_aborts_it(
        self, conn: psycopg.Connection
    ) -> None:
        conn.execute("BEGIN")
        refusal(conn, "SET statement_timeout = 0")
        assert refusal(conn, "SELECT 1") == ("25P02", ABORTED)
        assert conn.execute("COMMIT").statusmessage == "ROLLBACK"


class TestDialect:
    @pytest.mark.parametrize("binary", [False, True], ids=["simple", "extended"])
    def test_a_refused_statement_gets_dsqls_sqlstate_and_message(
        self, conn: psycopg.Connection, table: str, binary: bool
    ) -> None:
        assert refusal(conn, on(table, "TRUNCATE {t}"), binary=binary) == (
            "0A000",
            "unsupported statement: Truncate",
        )
        assert refusal(conn, "CREATE TABLE x (id serial)", binary=binary) == (
            "42704",
            'type "serial" does not exist',
        )

    def test_a_refusal_outside_a_transaction_leaves_the_session_usable(
        self, conn: psycopg.Connection
    ) -> None:
        refusal(conn, "LISTEN events")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute("SELECT 1").fetchone() == (1,)

    def test_the_extended_protocol_refuses_at_parse_and_skips_to_sync(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        batch = [
            (on(table, "INSERT INTO {t} VALUES (%s, 'a')"), (1,)),
            (on(table, "TRUNCATE {t}"), ()),
            (on(table, "INSERT INTO {t} VALUES (%s, 'b')"), (2,)),
        ]
        with pytest.raises(psycopg.errors.FeatureNotSupported):
            one_batch(conn, batch)
        assert count(conn, table) == 0  # the batch was one implicit transaction: undone
        assert conn.execute("SELECT 1").fetchone() == (1,)

    def test_a_named_prepared_statement_is_refused_at_parse(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="Truncate"):
            conn.execute(on(table, "TRUNCATE {t}"), prepare=True)

    def test_statements_dsql_runs_and_postgresql_would_not_reach_postgresql_rewritten(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        cursor = conn.cursor()
        cursor.execute(on(table, "CREATE INDEX ASYNC {i} ON {t} (v)", i=f"{table}_v"))
        assert cursor.statusmessage == "CREATE INDEX"


class TestTransactions:
    def test_one_ddl_statement_per_transaction(self, conn: psycopg.Connection) -> None:
        first, second = (f"{n}_{uuid.uuid4().hex[:8]}" for n in "ab")
        conn.execute("BEGIN")
        conn.execute(on(first, "CREATE TABLE {t} (id int)"))
        assert refusal(conn, on(second, "CREATE TABLE {t} (id int)")) == (
            "0A000",
            "multiple ddl statements not supported in a transaction",
        )
        assert conn.execute("COMMIT").statusmessage == "ROLLBACK"
        assert refusal(conn, on(first, "SELECT 1 FROM {t}"))[0] == "42P01"  # rolled back

    @pytest.mark.parametrize("ddl_first", [True, False], ids=["ddl-then-dml", "dml-then-ddl"])
    def test_ddl_and_dml_never_share_a_transaction(
        self, conn: psycopg.Connection, table: str, ddl_first: bool
    ) -> None:
        ddl = on(table, "CREATE INDEX ASYNC {i} ON {t} (v)", i=f"{table}_i")
        dml = on(table, "INSERT INTO {t} VALUES (1, 'x')")
        conn.execute("BEGIN")
        conn.execute(ddl if ddl_first else dml)
        assert refusal(conn, dml if ddl_first else ddl) == (
            "0A000",
            "ddl and dml are not supported in the same transaction",
        )
        conn.execute("ROLLBACK")

    def test_3000_rows_commit(self, conn: psycopg.Connection, table: str) -> None:
        conn.execute("BEGIN")
        conn.execute(on(table, "INSERT INTO {t} SELECT g, 'x' FROM generate_series(1, 3000) g"))
        conn.execute("COMMIT")
        assert count(conn, table) == 3000

    def test_the_statement_crossing_3000_rows_fails_and_its_transaction_with_it(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        conn.execute("BEGIN")
        conn.execute(on(table, "INSERT INTO {t} SELECT g, 'x' FROM generate_series(1, 2000) g"))
        assert refusal(
            conn, on(table, "INSERT INTO {t} SELECT g, 'x' FROM generate_series(2001, 3001) g")
        ) == ("54000", "transaction row limit exceeded")
        assert refusal(conn, "SELECT 1") == ("25P02", ABORTED)
        assert conn.execute("COMMIT").statusmessage == "ROLLBACK"
        assert count(conn, table) == 0

    def test_updated_and_deleted_rows_count_too(self, conn: psycopg.Connection, table: str) -> None:
        conn.execute(on(table, "INSERT INTO {t} SELECT g, 'x' FROM generate_series(1, 2000) g"))
        conn.execute(on(table, "INSERT INTO {t} SELECT g, 'x' FROM generate_series(2001, 3001) g"))
        assert refusal(conn, on(table, "UPDATE {t} SET v = 'y'"))[0] == "54000"
        conn.execute("BEGIN")
        conn.execute(on(table, "DELETE FROM {t} WHERE id <= 1500"))
        assert refusal(conn, on(table, "DELETE FROM {t} WHERE id > 1499"))[0] == "54000"
        conn.execute("ROLLBACK")
        assert count(conn, table) == 3001

    def test_an_autocommit_statement_over_the_limit_keeps_no_rows(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        sql = on(table, "INSERT INTO {t} SELECT g, 'x' FROM generate_series(1, 3001) g")
        for binary in (False, True):
            assert refusal(conn, sql, binary=binary) == ("54000", "transaction row limit exceeded")
        assert count(conn, table) == 0
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    def test_one_extended_protocol_batch_is_one_transaction_for_the_limit(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        insert = on(table, "INSERT INTO {t} SELECT g, 'x' FROM generate_series(%s::int, %s::int) g")
        with pytest.raises(psycopg.errors.ProgramLimitExceeded):
            one_batch(conn, [(insert, (1, 2000)), (insert, (2001, 4000))])
        assert count(conn, table) == 0

    def test_copy_from_stdin_counts_its_rows(self, dsql: DsqlLocal, table: str) -> None:
        def copy_rows(client: psycopg.Connection, first: int, rows: int) -> None:
            with client.cursor().copy(on(table, "COPY {t} (id, v) FROM STDIN")) as copy:
                for n in range(first, first + rows):
                    copy.write_row((n, "c"))

        with psycopg.connect(dsql.conninfo(password=dsql.token())) as client:  # in a transaction
            copy_rows(client, 0, 3000)
            client.commit()
            copy_rows(client, 3000, 2999)
            with pytest.raises(psycopg.errors.ProgramLimitExceeded):
                copy_rows(client, 5999, 2)
            client.rollback()
            assert count(client, table) == 3000

    def test_a_refusal_inside_a_block_aborts_it_until_rollback(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        conn.execute("BEGIN")
        conn.execute(on(table, "INSERT INTO {t} VALUES (1, 'kept?')"))
        refusal(conn, "SAVEPOINT sp")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        assert refusal(conn, on(table, "TRUNCATE {t}")) == ("25P02", ABORTED)  # 25P02 comes first
        assert conn.execute("ROLLBACK").statusmessage == "ROLLBACK"
        assert count(conn, table) == 0

    def test_a_server_error_inside_a_block_aborts_it_the_same_way(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        conn.execute("BEGIN")
        assert refusal(conn, "SELECT 1 / 0")[0] == "22012"
        assert refusal(conn, "SELECT 1") == ("25P02", ABORTED)
        assert conn.execute("COMMIT").statusmessage == "ROLLBACK"

    def test_isolation_is_repeatable_read_only(self, conn: psycopg.Connection) -> None:
        assert refusal(conn, "BEGIN ISOLATION LEVEL READ COMMITTED") == (
            "0A000",
            "Unsupported isolation level: READ COMMITTED",
        )
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        assert conn.execute("SHOW transaction_isolation").fetchone() == ("repeatable read",)
        conn.execute("COMMIT")

    def test_a_transaction_reads_one_snapshot(
        self, dsql: DsqlLocal, conn: psycopg.Connection, table: str
    ) -> None:
        conn.execute("BEGIN")
        assert count(conn, table) == 0
        with connect(dsql) as other:
            other.execute(on(table, "INSERT INTO {t} VALUES (1, 'later')"))
        assert count(conn, table) == 0  # REPEATABLE READ: the snapshot holds
        conn.execute("COMMIT")
        assert count(conn, table) == 1

    def test_psycopgs_own_transactions_work(self, dsql: DsqlLocal, table: str) -> None:
        with psycopg.connect(dsql.conninfo(password=dsql.token())) as client:
            client.execute(on(table, "INSERT INTO {t} VALUES (%s, %s)"), (1, "a"))
            client.commit()
            client.execute(on(table, "INSERT INTO {t} VALUES (%s, %s)"), (2, "b"))
            client.rollback()
            assert count(client, table) == 1

    def test_a_clients_deallocate_all_leaves_the_guards_own_statements_working(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        """psycopg sends DEALLOCATE ALL after DDL once it has prepared statements; it drops
        the guard's own (the transaction it opens around a write) too."""
        update = on(table, "UPDATE {t} SET v = %s WHERE id = 1")
        conn.execute(update, ("before",))  # the guard prepares its statements here
        conn.execute("DEALLOCATE ALL")
        assert conn.execute(update, ("after",)).statusmessage == "UPDATE 0"

    def test_a_failed_commit_ends_the_transaction(self, conn: psycopg.Connection) -> None:
        parent, child = (f"{n}_{uuid.uuid4().hex[:8]}" for n in "pc")
        conn.execute(on(parent, "CREATE TABLE {t} (id int PRIMARY KEY)"))
        conn.execute(
            on(
                child,
                "CREATE TABLE {t} (id int PRIMARY KEY,"
                " p int REFERENCES {p} (id) DEFERRABLE INITIALLY DEFERRED)",
                p=parent,
            )
        )
        conn.execute("BEGIN")
        conn.execute(on(child, "INSERT INTO {t} VALUES (1, 42)"))
        assert refusal(conn, "COMMIT")[0] == "23503"
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


class TestAsyncJobs:
    @pytest.mark.parametrize("binary", [False, True], ids=["simple", "extended"])
    def test_create_index_async_answers_with_a_job_id_sys_jobs_records(
        self, conn: psycopg.Connection, table: str, binary: bool
    ) -> None:
        cursor = conn.cursor()
        cursor.execute(
            on(table, "CREATE INDEX ASYNC {i} ON {t} (v)", i=f"{table}_v"),
            binary=binary,
        )
        assert cursor.statusmessage == "CREATE INDEX"
        row = cursor.fetchone()
        assert row is not None
        job_id = str(row[0])
        assert len(job_id) == 26
        assert set(job_id) <= set("abcdefghijklmnopqrstuvwxyz234567")
        job = "SELECT status, job_type, object_name FROM sys.jobs WHERE job_id = %s"
        index = f"public.{table}_v"
        valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)"
        assert conn.execute(job, (job_id,)).fetchone() == ("submitted", "INDEX_BUILD", index)
        assert conn.execute(valid, (index,)).fetchone() == (False,)  # not usable yet
        assert conn.execute("CALL sys.wait_for_job(%s)", (job_id,)).statusmessage == "CALL"
        assert conn.execute(job, (job_id,)).fetchone() == ("completed", "INDEX_BUILD", index)
        assert conn.execute(valid, (index,)).fetchone() == (True,)

    def test_an_async_build_ends_by_itself_within_seconds(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        cursor = conn.cursor()
        cursor.execute(on(table, "CREATE INDEX ASYNC {i} ON {t} (v)", i=f"{table}_v"))
        valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)"
        deadline = time.monotonic() + 10
        while conn.execute(valid, (f"public.{table}_v",)).fetchone() != (True,):
            assert time.monotonic() < deadline, "the build never ended"
            time.sleep(0.2)

    def test_an_index_built_in_a_block_is_usable_when_the_block_commits(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        conn.execute("BEGIN")
        conn.execute(on(table, "CREATE INDEX ASYNC {i} ON {t} (v)", i=f"{table}_v"))
        conn.execute("COMMIT")
        valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)"
        assert conn.execute(valid, (f"public.{table}_v",)).fetchone() == (True,)

    def test_wait_for_job_refuses_what_is_not_a_job_id(self, conn: psycopg.Connection) -> None:
        assert refusal(conn, "CALL sys.wait_for_job('no-such-job')") == (
            "22P02",
            "Unable to convert text to UUID",
        )

    def test_alter_table_async_validates_a_constraint_as_a_job(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        conn.execute(
            on(
                table,
                "ALTER TABLE {t} ADD CONSTRAINT {c} CHECK (id > 0) NOT VALID",
                c=f"{table}_c",
            )
        )
        cursor = conn.cursor()
        cursor.execute(
            on(
                table,
                "ALTER TABLE ASYNC {t} VALIDATE CONSTRAINT {c}",
                c=f"{table}_c",
            )
        )
        assert cursor.statusmessage == "ALTER TABLE"
        assert cursor.fetchone() is not None


class TestOptimisticConcurrency:
    """Two transactions never wait for each other; the one that met the other's rows fails at
    its COMMIT with DSQL's 40001 (OC000), and a retry then succeeds."""

    CONFLICT = ("40001", "change conflicts with another transaction (OC000)")

    @pytest.fixture
    def rows(self, conn: psycopg.Connection, table: str) -> str:
        conn.execute(on(table, "INSERT INTO {t} VALUES (1, 'one'), (2, 'two')"))
        return table

    @pytest.fixture
    def other(self, dsql: DsqlLocal) -> Iterator[psycopg.Connection]:
        with connect(dsql) as second:
            yield second

    @pytest.mark.parametrize("binary", [False, True], ids=["simple", "extended"])
    def test_two_writers_of_one_row_do_not_wait_and_the_second_loses_at_commit(
        self, conn: psycopg.Connection, other: psycopg.Connection, rows: str, binary: bool
    ) -> None:
        update = on(rows, "UPDATE {t} SET v = %s WHERE id = 1")
        conn.execute("BEGIN")
        other.execute("BEGIN")
        conn.execute(update, ("first",), binary=binary)
        started = time.perf_counter()
        assert other.execute(update, ("second",), binary=binary).statusmessage == "UPDATE 1"
        assert time.perf_counter() - started < 2  # no wait for the first transaction
        conn.execute("COMMIT")
        assert refusal(other, "COMMIT") == self.CONFLICT
        assert other.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        other.execute(update, ("retried",), binary=binary)  # a retry succeeds
        row = conn.execute(on(rows, "SELECT v FROM {t} WHERE id = 1")).fetchone()
        assert row == ("retried",)

    @pytest.mark.parametrize(
        ("update_template", "delete_template"),
        [
            ("UPDATE {t} SET v = %t WHERE id = %t", "DELETE FROM {t} WHERE id >= %t"),
            ("UPDATE {t} SET v = %b WHERE id = %b", "DELETE FROM {t} WHERE id >= %b"),
        ],
        ids=["text-values", "binary-values"],
    )
    def test_a_blocked_write_is_answered_from_its_own_bound_values(
        self,
        conn: psycopg.Connection,
        other: psycopg.Connection,
        rows: str,
        update_template: str,
        delete_template: str,
    ) -> None:
        """Its WHERE names a parameter: the count that stands in for it takes the same
        types and values (it waited without end before 2026-12-03)."""
        update, delete = on(rows, update_template), on(rows, delete_template)
        conn.execute("BEGIN")
        other.execute("BEGIN")
        conn.execute(update, ("x", 1))
        assert other.execute(update, ("y", 1)).statusmessage == "UPDATE 1"
        assert other.execute(delete, (1,)).statusmessage == "DELETE 2"
        conn.execute("COMMIT")
        assert refusal(other, "COMMIT") == self.CONFLICT
        assert count(conn, rows) == 2

    def test_select_for_update_reads_without_waiting_and_puts_the_row_in_conflict(
        self, conn: psycopg.Connection, other: psycopg.Connection, rows: str
    ) -> None:
        conn.execute("BEGIN")
        other.execute("BEGIN")
        conn.execute(on(rows, "UPDATE {t} SET v = 'changed' WHERE id = 2"))
        locked = other.execute(on(rows, "SELECT v FROM {t} WHERE id = 2 FOR UPDATE"))
        assert locked.fetchall() == [("two",)]  # its snapshot's row, read without the lock
        conn.execute("COMMIT")
        assert refusal(other, "COMMIT") == self.CONFLICT

    def test_writes_to_different_rows_both_commit(
        self, conn: psycopg.Connection, other: psycopg.Connection, rows: str
    ) -> None:
        conn.execute("BEGIN")
        other.execute("BEGIN")
        conn.execute(on(rows, "UPDATE {t} SET v = 'a' WHERE id = 1"))
        other.execute(on(rows, "UPDATE {t} SET v = 'b' WHERE id = 2"))
        conn.execute("COMMIT")
        assert other.execute("COMMIT").statusmessage == "COMMIT"

    def test_a_transaction_that_lost_can_still_roll_back(
        self, conn: psycopg.Connection, other: psycopg.Connection, rows: str
    ) -> None:
        conn.execute("BEGIN")
        other.execute("BEGIN")
        conn.execute(on(rows, "DELETE FROM {t} WHERE id = 1"))
        assert other.execute(on(rows, "DELETE FROM {t} WHERE id = 1")).statusmessage == "DELETE 1"
        assert other.execute("ROLLBACK").statusmessage == "ROLLBACK"
        conn.execute("COMMIT")
        assert count(conn, rows) == 1


class TestFirstCommitterWins:
    """A write in autocommit commits as soon as it ends, so on DSQL it wins against a block
    that wrote the same row and has not committed: the write lands, without waiting, and the
    block fails at its COMMIT with 40001 (OC000) — whichever of the two touched the row first."""

    CONFLICT = ("40001", "change conflicts with another transaction (OC000)")

    @pytest.fixture
    def rows(self, conn: psycopg.Connection, table: str) -> str:
        conn.execute(on(table, "INSERT INTO {t} VALUES (1, 'one'), (2, 'two')"))
        return table

    @pytest.fixture
    def autocommit(self, dsql: DsqlLocal) -> Iterator[psycopg.Connection]:
        with connect(dsql) as second:
            yield second

    @pytest.mark.parametrize("binary", [False, True], ids=["simple", "extended"])
    def test_an_autocommit_write_of_a_row_a_block_holds_lands_and_the_block_loses(
        self, conn: psycopg.Connection, autocommit: psycopg.Connection, rows: str, binary: bool
    ) -> None:
        update = on(rows, "UPDATE {t} SET v = %s WHERE id = 1")
        conn.execute("BEGIN")
        assert conn.execute(update, ("block",), binary=binary).statusmessage == "UPDATE 1"
        assert autocommit.execute(update, ("autocommit",), binary=binary).statusmessage == (
            "UPDATE 1"
        )
        assert autocommit.execute(on(rows, "SELECT v FROM {t} WHERE id = 1")).fetchone() == (
            "autocommit",
        )
        # the block goes on (its statements run) until its COMMIT, which loses
        assert conn.execute(on(rows, "SELECT v FROM {t} WHERE id = 2")).fetchone() == ("two",)
        assert refusal(conn, "COMMIT", binary=binary) == self.CONFLICT
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute(on(rows, "SELECT v FROM {t} WHERE id = 1")).fetchone() == (
            "autocommit",
        )

    @pytest.mark.parametrize("binary", [False, True], ids=["simple", "extended"])
    def test_a_block_writing_a_row_an_autocommit_write_changed_since_loses_at_commit(
        self, conn: psycopg.Connection, autocommit: psycopg.Connection, rows: str, binary: bool
    ) -> None:
        update = on(rows, "UPDATE {t} SET v = %s WHERE id = 1")
        conn.execute("BEGIN")
        assert count(conn, rows) == 2  # the block's snapshot is taken here
        autocommit.execute(update, ("autocommit",), binary=binary)
        # PostgreSQL fails this UPDATE at once (40001, concurrent update); DSQL at COMMIT
        assert conn.execute(update, ("block",), binary=binary).statusmessage == "UPDATE 1"
        assert refusal(conn, "COMMIT", binary=binary) == self.CONFLICT
        assert conn.execute(on(rows, "SELECT v FROM {t} WHERE id = 1")).fetchone() == (
            "autocommit",
        )

    def test_an_autocommit_insert_of_a_key_a_block_inserted_lands_and_the_block_loses(
        self, conn: psycopg.Connection, autocommit: psycopg.Connection, rows: str
    ) -> None:
        insert = on(rows, "INSERT INTO {t} VALUES (3, %s)")
        conn.execute("BEGIN")
        conn.execute(insert, ("block",))
        assert autocommit.execute(insert, ("autocommit",)).statusmessage == "INSERT 0 1"
        assert refusal(conn, "COMMIT") == self.CONFLICT
        assert conn.execute(on(rows, "SELECT v FROM {t} WHERE id = 3")).fetchone() == (
            "autocommit",
        )

    def test_a_block_that_lost_its_locks_can_roll_back_and_retry(
        self, conn: psycopg.Connection, autocommit: psycopg.Connection, rows: str
    ) -> None:
        delete = on(rows, "DELETE FROM {t} WHERE id = 2")
        conn.execute("BEGIN")
        conn.execute(on(rows, "UPDATE {t} SET v = 'block' WHERE id = 2"))
        assert autocommit.execute(delete).statusmessage == "DELETE 1"
        assert conn.execute("ROLLBACK").statusmessage == "ROLLBACK"
        with conn.transaction():  # the retry sees the row gone
            assert conn.execute(on(rows, "UPDATE {t} SET v = 'x' WHERE id = 2")).rowcount == 0
        assert count(conn, rows) == 1


# -- one rule source ---------------------------------------------------------------------------

ERROR_RULES = [r for r in RULES if r.severity is Severity.ERROR and not r.id.startswith("LINT")]
ANSWERED_BY_POSTGRESQL = {
    "DSQL000": "42601",  # DSQL's answer is PostgreSQL's own syntax error
    "DSQL130": "42601",
    "DSQL111": "42601",
    "DSQL118": "42601",  # PostgreSQL 16 has no VIRTUAL generated columns, nor has DSQL
    "DSQL040": "42704",  # a type DSQL does not have does not exist there either
    "DSQL090": "0A000",  # the session's rules
    "DSQL091": "0A000",
}
NOT_ENFORCED = {
    "DSQL015": "table-shape limits need the whole schema; not enforced by the guard yet",
    "DSQL016": "object-count limits need the whole cluster; not enforced by the guard yet",
}
PACK_DISAGREES: dict[str, str] = {}
"""Rules whose good example DSQL would refuse (none since DSQL114 took the SET allowlist)."""


def statements(script: str) -> list[str]:
    return [s.text for s in split(script).statements if s.text.strip()]


def rule_param(rule: Rule, reasons: dict[str, str]) -> object:
    marks = []
    if rule.id in NOT_ENFORCED:
        marks.append(pytest.mark.skip(reason=NOT_ENFORCED[rule.id]))
    elif rule.id in reasons:
        marks.append(pytest.mark.xfail(reason=reasons[rule.id], strict=True))
    return pytest.param(rule, id=rule.id, marks=marks)


class TestOneRuleSource:
    """The guard decides from the lint pack: every error rule's bad example is refused through
    the guard, and its good example passes the guard's decisions."""

    @pytest.mark.parametrize("rule", [rule_param(r, {}) for r in ERROR_RULES])
    def test_the_bad_example_is_refused_with_the_rules_sqlstate(
        self, dsql: DsqlLocal, conn: psycopg.Connection, rule: Rule
    ) -> None:
        schema = f"rule_{rule.id.lower()}_{uuid.uuid4().hex[:6]}"
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        expected = ANSWERED_BY_POSTGRESQL.get(rule.id) or ANSWERS[rule.id].sqlstate
        with connect(dsql, options=f"-c search_path={schema}") as client:
            if rule.scope == "transaction":  # BEGIN … COMMIT: one simple query, as psql -c
                assert refusal_of_script(client, rule.bad) == expected
                return
            assert first_failure(client, statements(rule.bad)) == expected

    @pytest.mark.parametrize("rule", [rule_param(r, PACK_DISAGREES) for r in ERROR_RULES])
    def test_the_good_example_passes_every_decision_of_the_guard(self, rule: Rule) -> None:
        session = Session()
        for text in statements(rule.good):
            stmt = classify(text)
            assert asyncio.run(refuse(stmt)) is None, text
            if stmt.begins:
                session.begin(explicit=True)
            elif stmt.ends_transaction:
                session.end()
            else:
                assert session.check(stmt) is None, text
                session.ran(stmt)


def first_failure(conn: psycopg.Connection, script: list[str]) -> str:
    """The SQLSTATE of the first statement of ``script`` that fails, each sent on its own."""
    for statement in script:
        try:
            conn.execute(statement.encode())
        except psycopg.Error as exc:
            return exc.sqlstate or ""
    return "(every statement ran)"


def refusal_of_script(conn: psycopg.Connection, script: str) -> str:
    """The SQLSTATE a whole script sent as one simple query fails with."""
    with pytest.raises(psycopg.Error) as caught:
        psycopg.ClientCursor(conn).execute(script.encode())
    return caught.value.sqlstate or ""


class TestConflictInjector:
    """DSQL's OC000 on demand, so an application's retry loop can be proven."""

    @pytest.fixture(autouse=True)
    def _clear(self, dsql: DsqlLocal) -> Iterator[None]:
        dsql.conflicts.clear()
        yield
        dsql.conflicts.clear()

    def _retrying_insert(self, dsql: DsqlLocal, table: str, key: int) -> int:
        """An application's retry loop: the attempts one INSERT took to commit."""
        lost: list[psycopg.Error] = []
        with connect(dsql) as conn:
            for attempt in range(1, 10):
                try:
                    with conn.transaction():
                        conn.execute(on(table, "INSERT INTO {t} VALUES (%s, 'x')"), (key,))
                except psycopg.errors.SerializationFailure as exc:
                    lost.append(exc)
                    continue
                assert all(e.sqlstate == "40001" and "(OC000)" in str(e) for e in lost)
                return attempt
        raise AssertionError("never committed")

    def test_the_next_commits_fail_and_a_retry_loop_gets_through(
        self, dsql: DsqlLocal, conn: psycopg.Connection, table: str
    ) -> None:
        dsql.conflicts.fail_next(2)
        assert self._retrying_insert(dsql, table, 1) == 3
        assert conn.execute(on(table, "SELECT count(*) FROM {t}")).fetchone() == (1,)

    def test_every_nth_commit_fails(
        self, dsql: DsqlLocal, conn: psycopg.Connection, table: str
    ) -> None:
        dsql.conflicts.fail_every(3)  # commits 3, 6, … of writing transactions
        attempts = [self._retrying_insert(dsql, table, key) for key in range(4)]
        assert attempts == [1, 1, 2, 1]
        assert conn.execute(on(table, "SELECT count(*) FROM {t}")).fetchone() == (4,)

    def test_server_unavailable_answers_a_commit_and_the_retry_lands(
        self, dsql: DsqlLocal, conn: psycopg.Connection, table: str
    ) -> None:
        dsql.conflicts.unavailable_next(1)
        with connect(dsql) as writer:
            with pytest.raises(psycopg.errors.InternalError_) as caught, writer.transaction():
                writer.execute(on(table, "INSERT INTO {t} VALUES (1, 'x')"))
            assert (caught.value.sqlstate, str(caught.value)) == ("XX000", "server unavailable")
            # the same connection goes on, as AWS says to retry: the first attempt left nothing
            assert conn.execute(on(table, "SELECT count(*) FROM {t}")).fetchone() == (0,)
            with writer.transaction():
                writer.execute(on(table, "INSERT INTO {t} VALUES (1, 'x')"))
        assert conn.execute(on(table, "SELECT count(*) FROM {t}")).fetchone() == (1,)

    def test_a_read_only_transaction_never_loses(
        self, dsql: DsqlLocal, conn: psycopg.Connection, table: str
    ) -> None:
        dsql.conflicts.fail_next(1)
        with conn.transaction():
            conn.execute(on(table, "SELECT count(*) FROM {t}"))
        assert self._retrying_insert(dsql, table, 7) == 2  # the armed conflict waited for it


class TestSchemaChangedUnderATransaction:
    """Another session's committed DDL on a table a transaction read or wrote fails that
    transaction at its COMMIT with DSQL's 40001 (OC001), whether the DDL came before the
    transaction touched the table or after (when PostgreSQL's lock would make it wait); a
    retry then succeeds."""

    SCHEMA = ("40001", "schema has been updated by another transaction (OC001)")

    @pytest.fixture
    def other(self, dsql: DsqlLocal) -> Iterator[psycopg.Connection]:
        with connect(dsql) as second:
            yield second

    @pytest.mark.parametrize("binary", [False, True], ids=["simple", "extended"])
    def test_a_column_added_by_another_session_fails_the_writer_at_commit(
        self, conn: psycopg.Connection, other: psycopg.Connection, table: str, binary: bool
    ) -> None:
        insert = on(table, "INSERT INTO {t} (id, v) VALUES (%s, 'x')")
        conn.execute("BEGIN")
        other.execute(on(table, "ALTER TABLE {t} ADD COLUMN extra int"))
        conn.execute(insert, (1,), binary=binary)  # the statement runs; COMMIT adjudicates
        assert refusal(conn, "COMMIT", binary=binary) == self.SCHEMA
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute(on(table, "SELECT count(*) FROM {t}")).fetchone() == (0,)
        with conn.transaction():  # the retry sees the new catalog and commits
            conn.execute(insert, (1,), binary=binary)
        assert conn.execute(on(table, "SELECT count(*) FROM {t}")).fetchone() == (1,)

    def test_a_reader_fails_too_and_ddl_in_a_block_counts_at_its_commit(
        self, conn: psycopg.Connection, other: psycopg.Connection, table: str
    ) -> None:
        conn.execute("BEGIN")
        other.execute("BEGIN")
        other.execute(on(table, "ALTER TABLE {t} ADD COLUMN extra int"))
        other.execute("COMMIT")
        conn.execute(on(table, "SELECT count(*) FROM {t}"))
        assert refusal(conn, "COMMIT") == self.SCHEMA

    def test_ddl_on_another_table_or_before_begin_is_no_conflict(
        self, conn: psycopg.Connection, other: psycopg.Connection, table: str
    ) -> None:
        unrelated = f"t_{uuid.uuid4().hex[:10]}"
        other.execute(on(table, "ALTER TABLE {t} ADD COLUMN before_begin int"))
        conn.execute("BEGIN")
        other.execute(on(unrelated, "CREATE TABLE {t} (id int PRIMARY KEY)"))
        conn.execute(on(table, "INSERT INTO {t} (id, v) VALUES (1, 'x')"))
        assert conn.execute("COMMIT").statusmessage == "COMMIT"

    def test_a_grant_on_the_table_conflicts_and_dropping_another_table_does_not(
        self, conn: psycopg.Connection, other: psycopg.Connection, table: str
    ) -> None:
        role, unrelated = f"r_{uuid.uuid4().hex[:8]}", f"t_{uuid.uuid4().hex[:10]}"
        other.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
        other.execute(on(unrelated, "CREATE TABLE {t} (id int PRIMARY KEY)"))
        conn.execute("BEGIN")
        other.execute(on(unrelated, "DROP TABLE {t}"))
        conn.execute(on(table, "SELECT count(*) FROM {t}"))
        assert conn.execute("COMMIT").statusmessage == "COMMIT"
        conn.execute("BEGIN")
        other.execute(on(table, "GRANT SELECT ON {t} TO {r}", r=role))
        conn.execute(on(table, "SELECT count(*) FROM {t}"))
        assert refusal(conn, "COMMIT") == self.SCHEMA

    def test_the_transaction_that_made_the_change_commits(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        conn.execute("BEGIN")
        conn.execute(on(table, "ALTER TABLE {t} ADD COLUMN mine int"))
        assert conn.execute("COMMIT").statusmessage == "COMMIT"

    @pytest.mark.parametrize("binary", [False, True], ids=["simple", "extended"])
    def test_ddl_meeting_the_lock_of_a_block_that_wrote_the_table_commits_and_the_block_loses(
        self, conn: psycopg.Connection, other: psycopg.Connection, table: str, binary: bool
    ) -> None:
        """The block holds PostgreSQL's lock on the table; DSQL has none, so the DDL commits
        and the block fails at COMMIT (OC001)."""
        conn.execute("BEGIN")
        conn.execute(on(table, "INSERT INTO {t} (id, v) VALUES (%s, 'x')"), (1,), binary=binary)
        altered = other.execute(on(table, "ALTER TABLE {t} ADD COLUMN extra int"), binary=binary)
        assert altered.statusmessage == "ALTER TABLE"
        conn.execute(on(table, "SELECT count(*) FROM {t}"))  # its statements still run
        assert refusal(conn, "COMMIT", binary=binary) == self.SCHEMA
        columns = conn.execute(on(table, "SELECT * FROM {t}")).description or []
        assert [c.name for c in columns] == ["id", "v", "extra"]
        assert count(conn, table) == 0

    def test_ddl_in_a_block_of_its_own_takes_the_lock_of_a_reader_too(
        self, conn: psycopg.Connection, other: psycopg.Connection, table: str
    ) -> None:
        conn.execute("BEGIN")
        conn.execute(on(table, "SELECT count(*) FROM {t}"))
        other.execute("BEGIN")
        other.execute(on(table, "ALTER TABLE {t} ADD COLUMN extra int"))
        assert other.execute("COMMIT").statusmessage == "COMMIT"
        assert refusal(conn, "COMMIT") == self.SCHEMA

    def test_a_read_only_block_whose_lock_was_taken_stays_read_only(
        self, conn: psycopg.Connection, other: psycopg.Connection, table: str
    ) -> None:
        conn.execute("BEGIN READ ONLY")
        conn.execute(on(table, "SELECT count(*) FROM {t}"))
        other.execute(on(table, "ALTER TABLE {t} ADD COLUMN extra int"))
        assert refusal(conn, on(table, "INSERT INTO {t} (id) VALUES (1)"))[0] == "25006"
        assert conn.execute("COMMIT").statusmessage == "ROLLBACK"


class TestWriteSize:
    """At most 10 MiB of modified data per transaction: the statement crossing it fails with
    DSQL's 54000 and the transaction with it; nothing of it is kept."""

    TOO_BIG = ("54000", "transaction size limit 10mb exceeded")
    MB = 1_000_000  # under DSQL's 1 MiB column limit; 11 of them cross 10 MiB

    def test_rows_built_from_literals_count_per_row(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        fill = on(
            table,
            "INSERT INTO {t} SELECT g, repeat('x', 1000000)"
            " FROM generate_series(%s::int, %s::int) g",
        )

        def too_big(low: int, high: int) -> tuple[str, str]:
            with pytest.raises(psycopg.Error) as caught:
                conn.execute(fill, (low, high))
            return caught.value.sqlstate or "", caught.value.diag.message_primary or ""

        conn.execute("BEGIN")
        conn.execute(fill, (1, 6))
        assert too_big(7, 11) == self.TOO_BIG
        assert refusal(conn, "SELECT 1") == ("25P02", ABORTED)
        conn.execute("ROLLBACK")
        assert conn.execute(on(table, "SELECT count(*) FROM {t}")).fetchone() == (0,)
        assert too_big(1, 11) == self.TOO_BIG  # in autocommit too: nothing kept
        assert conn.execute(on(table, "SELECT count(*) FROM {t}")).fetchone() == (0,)
        conn.execute(fill, (1, 10))  # 10,000,000 bytes: within the limit
        assert conn.execute(on(table, "SELECT count(*) FROM {t}")).fetchone() == (10,)

    def test_bound_values_count_and_an_autocommit_batch_keeps_nothing(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        rows = [(key, "y" * self.MB) for key in range(11)]
        with pytest.raises(psycopg.Error) as caught, conn.transaction():
            conn.cursor().executemany(on(table, "INSERT INTO {t} VALUES (%s, %s)"), rows)
        assert (caught.value.sqlstate, caught.value.diag.message_primary) == self.TOO_BIG
        assert conn.execute(on(table, "SELECT count(*) FROM {t}")).fetchone() == (0,)
        with conn.transaction():
            conn.cursor().executemany(on(table, "INSERT INTO {t} VALUES (%s, %s)"), rows[:9])
        assert conn.execute(on(table, "SELECT count(*) FROM {t}")).fetchone() == (9,)


@pytest.fixture(scope="class")
def brief() -> Iterator[DsqlLocal]:
    """A local DSQL whose transactions and connections age in seconds (``Limits``)."""
    limits = Limits(transaction_age=1.0, connection_age=4.0)
    with DsqlLocal(identity=IDENTITY, limits=limits) as local:
        yield local


class TestAges:
    """A transaction lives at most 300 s and a connection 60 min on DSQL; here the ages are
    shortened (``Limits``) so the tests reach them in a second or two."""

    def test_a_transaction_past_its_age_fails_its_next_statement_and_its_commit(
        self, brief: DsqlLocal
    ) -> None:
        too_old = ("54000", "transaction age limit of 1s exceeded")
        with connect(brief) as conn:
            conn.execute("CREATE TABLE aged (id int PRIMARY KEY)")
            conn.execute("BEGIN")
            conn.execute("INSERT INTO aged VALUES (1)")
            time.sleep(1.2)
            assert refusal(conn, "INSERT INTO aged VALUES (2)") == too_old
            assert refusal(conn, "SELECT 1") == ("25P02", ABORTED)
            conn.execute("ROLLBACK")
            conn.execute("BEGIN")
            conn.execute("INSERT INTO aged VALUES (3)")
            time.sleep(1.2)
            assert refusal(conn, "COMMIT", binary=True) == too_old
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            assert conn.execute("SELECT count(*) FROM aged").fetchone() == (0,)
            with conn.transaction():  # a young transaction commits
                conn.execute("INSERT INTO aged VALUES (4)")

    def test_a_connection_past_its_age_is_closed_once_its_block_ends(
        self, brief: DsqlLocal
    ) -> None:
        with connect(brief) as conn, connect(brief) as busy:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            busy.execute("BEGIN")
            time.sleep(4.2)
            with pytest.raises(psycopg.OperationalError):
                conn.execute("SELECT 1")
            assert conn.closed
            # A block open when the age passed runs on to its own end, then the door shuts.
            assert refusal(busy, "SELECT 1")[0] == "54000"  # its own age (1 s) is long past
            busy.execute("ROLLBACK")
            with pytest.raises(psycopg.OperationalError):
                busy.execute("SELECT 1")
        with connect(brief) as fresh:  # a new connection is welcome
            assert fresh.execute("SELECT 1").fetchone() == (1,)

    def test_limits_are_positive(self) -> None:
        with pytest.raises(ValueError, match="positive"):
            Limits(transaction_age=0)


class TestWriteSizeOfCopy:
    """``COPY … FROM STDIN`` data counts against the 10 MiB as it arrives."""

    def test_copied_data_past_the_limit_fails_the_copy(
        self, conn: psycopg.Connection, table: str
    ) -> None:
        copy = on(table, "COPY {t} (id, v) FROM STDIN")

        def load(count: int) -> None:
            with conn.cursor().copy(copy) as feed:
                for key in range(count):
                    feed.write_row((key, "z" * TestWriteSize.MB))

        with pytest.raises(psycopg.Error) as caught:
            load(11)
        refused = (caught.value.sqlstate, caught.value.diag.message_primary)
        assert refused == TestWriteSize.TOO_BIG
        assert conn.execute(on(table, "SELECT count(*) FROM {t}")).fetchone() == (0,)
        load(9)
        assert conn.execute(on(table, "SELECT count(*) FROM {t}")).fetchone() == (9,)
