"""``dsql`` endpoints against a local Aurora DSQL (:mod:`harness.dsql_local`).

The local cluster checks every IAM token the harness signs (action, host name, region,
signature, expiry) and refuses what Aurora DSQL refuses, among them the startup option and
the ``SET statement_timeout`` a PostgreSQL session of the harness relies on; the socket goes
to 127.0.0.1 through ``hostaddr`` while the token is signed for (and TLS verifies) the DSQL
host name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from psycopg import sql
from pydantic import ValidationError

from harness.db.database import PostgresDatabase
from harness.dsql_local import DsqlLocal
from harness.dsql_local.conflicts import ConflictInjector
from harness.endpoints.resolve import Connector, connect_postgres, open_database, resolve
from harness.endpoints.retry import Backoff, retry_call
from harness.endpoints.settings import DsqlEndpoint
from harness.errors import EndpointError
from harness.latency.timing import executor
from harness.queries.answers import QueryFailed, run
from harness.rows.compare import RowOptions, compare_table
from harness.rows.sides import postgres as postgres_side
from tests.aws_support import (
    DSQL_HOST,
    DSQL_ID,
    FROZEN,
    aws_env,
    dsql_cluster,
    dsql_token,
    frozen_clock,
)

__all__ = ["aws_env", "dsql_cluster"]  # fixtures used by name below


def dsql(**fields: Any) -> DsqlEndpoint:
    return DsqlEndpoint.model_validate({"kind": "dsql", **fields})


def resolved(spec: DsqlEndpoint, role: str = "target") -> Connector:
    with ExitStack() as resources:
        return resolve(spec, role, resources)


def tunnelled(cluster: DsqlLocal, **fields: Any) -> DsqlEndpoint:
    return dsql(
        endpoint=DSQL_HOST,
        hostaddr="127.0.0.1",
        port=cluster.port,
        sslmode="verify-full",
        sslrootcert=str(cluster.ca_file),
        **fields,
    )


class TestToken:
    def test_the_admin_token_reaches_the_server_as_the_password(
        self, aws_env: None, dsql_cluster: DsqlLocal
    ) -> None:
        with connect_postgres(resolved(tunnelled(dsql_cluster))) as conn:
            assert conn.execute("SELECT current_user, current_database()").fetchone() == (
                "admin",
                "postgres",
            )
            assert conn.pgconn.ssl_in_use

    def test_direct_tls_negotiation_carries_the_token_too(
        self, aws_env: None, dsql_cluster: DsqlLocal
    ) -> None:
        connector = resolved(tunnelled(dsql_cluster, sslnegotiation="direct"))
        assert "sslnegotiation=direct" in connector.display
        with connect_postgres(connector) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("admin",)
            assert conn.pgconn.ssl_in_use

    def test_an_expired_token_is_refused_naming_the_iam_action(
        self, aws_env: None, dsql_cluster: DsqlLocal, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        connector = resolved(tunnelled(dsql_cluster))
        frozen_clock(monkeypatch, FROZEN)  # signed long ago: expired at connect
        with pytest.raises(EndpointError) as info:
            connect_postgres(connector)
        message = str(info.value)
        assert message.startswith("target: cannot connect: access denied to these credentials")
        assert "the IAM token for role 'admin' was refused: check the AWS credentials in use " in (
            message
        )
        assert "dsql:DbConnectAdmin" in message
        assert "X-Amz-Signature" not in message

    def test_other_credentials_are_refused(
        self, aws_env: None, dsql_cluster: DsqlLocal, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-key-the-cluster-trusts")
        with pytest.raises(EndpointError, match="access denied to these credentials") as info:
            connect_postgres(resolved(tunnelled(dsql_cluster)))
        assert "not-the-key" not in str(info.value)

    def test_a_custom_role_gets_a_dbconnect_token(
        self, aws_env: None, dsql_cluster: DsqlLocal
    ) -> None:
        """As on DSQL, the role logs in only once it is granted to the IAM principal whose
        credentials sign the harness's token (AWS IAM GRANT)."""
        with psycopg.connect(
            dsql_cluster.conninfo(password=dsql_cluster.token()), autocommit=True
        ) as admin:
            admin.execute("CREATE ROLE app_reader WITH LOGIN")
            admin.execute(
                sql.SQL("AWS IAM GRANT app_reader TO {}").format(sql.Literal(dsql_cluster.arn))
            )
        spec = tunnelled(dsql_cluster, role="app_reader", expires_in=3600)
        connector = resolved(spec)
        assert connector.token is not None
        from harness.endpoints.dsql import make_token

        token = make_token(connector.token, "target")
        assert parse_qs(urlsplit("https://" + token).query)["Action"] == ["DbConnect"]
        with connect_postgres(connector) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("app_reader",)

    def test_a_custom_role_not_granted_to_the_signer_is_refused_naming_the_grant(
        self, aws_env: None, dsql_cluster: DsqlLocal
    ) -> None:
        with psycopg.connect(
            dsql_cluster.conninfo(password=dsql_cluster.token()), autocommit=True
        ) as admin:
            admin.execute("CREATE ROLE app_ungranted WITH LOGIN")
        connector = resolved(tunnelled(dsql_cluster, role="app_ungranted"))
        with pytest.raises(EndpointError, match="access denied to these credentials") as info:
            connect_postgres(connector)
        assert "(AWS IAM GRANT)" in str(info.value)
        assert "dsql:DbConnect " in str(info.value)

    def test_the_expiry_is_signed_into_the_token(
        self, aws_env: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from harness.endpoints.dsql import make_token

        frozen_clock(monkeypatch)
        connector = resolved(dsql(endpoint=DSQL_HOST, expires_in=1234))
        assert connector.token is not None
        token = make_token(connector.token, "target")
        assert token == dsql_token(admin=True, expires_in=1234)
        assert parse_qs(urlsplit("https://" + token).query)["X-Amz-Expires"] == ["1234"]

    def test_no_credentials_is_one_line_naming_what_to_set(
        self, aws_env: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
        with pytest.raises(
            EndpointError,
            match=f"target: cannot sign a DSQL auth token for {DSQL_HOST}: no usable AWS "
            r"credentials \(NoCredentialsError\) — set AWS_PROFILE or AWS_ACCESS_KEY_ID",
        ):
            resolved(dsql(endpoint=DSQL_HOST))


class TestPlan:
    def test_cluster_id_and_region_name_the_same_endpoint(self) -> None:
        spec = dsql(cluster_id=DSQL_ID, region="us-east-1")
        assert spec.hostname == DSQL_HOST
        assert spec.signing_region == "us-east-1"

    def test_the_region_comes_from_the_endpoint_name(self) -> None:
        assert dsql(endpoint=DSQL_HOST).signing_region == "us-east-1"

    def test_the_display_and_evidence_hold_no_token(self, aws_env: None) -> None:
        connector = resolved(dsql(endpoint=DSQL_HOST))
        assert connector.display == (
            f"dsql: postgresql://admin@{DSQL_HOST}:5432/postgres?sslmode=require "
            "(IAM token, us-east-1)"
        )
        assert "X-Amz" not in repr(connector.to_dict())

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"endpoint": "mydb.cluster-x.us-east-1.rds.amazonaws.com"}, "is not a DSQL endpoint"),
            ({}, "give exactly one of 'endpoint' or 'cluster_id'"),
            ({"cluster_id": DSQL_ID}, "'cluster_id' needs 'region'"),
            ({"endpoint": DSQL_HOST, "expires_in": 604_801}, "less than or equal to 604800"),
            ({"endpoint": DSQL_HOST, "password": "x"}, "credentials never go in the plan; DSQL"),
            ({"endpoint": DSQL_HOST, "database": "app"}, "Input should be 'postgres'"),
        ],
    )
    def test_bad_dsql_endpoints_are_refused(self, fields: dict[str, Any], message: str) -> None:
        with pytest.raises(ValidationError, match=message):
            dsql(**fields)


class TestHarnessSessions:
    """What the harness itself runs on DSQL, where its PostgreSQL habits are refused."""

    @pytest.fixture
    def db(self, aws_env: None, dsql_cluster: DsqlLocal) -> Iterator[PostgresDatabase]:
        with ExitStack() as resources:
            database = open_database(resolve(tunnelled(dsql_cluster), "target", resources))
            assert isinstance(database, PostgresDatabase)
            resources.callback(database.close)
            yield database

    def test_the_applications_sql_cannot_write(self, db: PostgresDatabase) -> None:
        with pytest.raises(QueryFailed) as info:
            run(db, "DELETE FROM users WHERE id = 1 RETURNING id", {}, 10)
        assert info.value.sqlstate == "25006"  # read_only_sql_transaction
        assert run(db, "SELECT count(*) FROM users", {}, 10).rows == [(2,)]
        assert db.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    def test_a_read_answers_inside_its_read_only_transaction(self, db: PostgresDatabase) -> None:
        answer = run(db, "SELECT email FROM users WHERE id = %(id)s", {"id": 2}, 10)
        assert answer.rows == [("bob@example.com",)]
        assert db.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    def test_a_long_query_is_cancelled_without_statement_timeout(
        self, db: PostgresDatabase
    ) -> None:
        with pytest.raises(QueryFailed) as info:
            run(db, "SELECT pg_sleep(30)", {}, 10, timeout_s=0.2)
        assert info.value.sqlstate == "57014"  # query_canceled
        assert run(db, "SELECT 1", {}, 10).rows == [(1,)]  # and the session goes on

    def test_the_timed_loop_is_read_only_too(self, db: PostgresDatabase) -> None:
        execute = executor(db, "DELETE FROM users WHERE id = %(id)s")
        with pytest.raises(QueryFailed) as info:
            execute({"id": 1})
        assert info.value.sqlstate == "25006"
        assert executor(db, "SELECT count(*) FROM users")({}) == [(2,)]

    def test_rows_are_compared_in_bounded_statements_the_guard_accepts(
        self,
        db: PostgresDatabase,
        pg_database: str,
        dsql_cluster: DsqlLocal,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Row parity against DSQL: the target's statements stay within a few segments (its
        transactions end after five minutes), every one of them passes the guard, and the
        one row missing on DSQL is found."""
        monkeypatch.setattr(postgres_side, "BOUNDED_SEGMENTS", 3)
        rows = [(i, f"n{i}") for i in range(1, 301)]
        with psycopg.connect(pg_database, autocommit=True) as pg:
            pg.execute("CREATE TABLE bounded_t (id bigint PRIMARY KEY, name text)")
            pg.cursor().executemany("INSERT INTO bounded_t VALUES (%s, %s)", rows)
        admin = dsql_cluster.conninfo(password=dsql_cluster.token())
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS bounded_t (id bigint PRIMARY KEY, name text)")
            conn.execute("DELETE FROM bounded_t")
            conn.cursor().executemany(
                "INSERT INTO bounded_t VALUES (%s, %s)", [r for r in rows if r[0] != 150]
            )
        source = open_database(
            Connector("source", "postgres", "postgres", pg_database, "s", "public")
        )
        try:
            assert db.bounded
            s, t = source.catalog().table("bounded_t"), db.catalog().table("bounded_t")
            assert s is not None
            assert t is not None
            diff = compare_table(source, db, s, t, str, None, RowOptions(segment_rows=10))
            assert (diff.missing, diff.extra, diff.changed) == (1, 0, 0)
            assert db.count_rows("bounded_t") == 299
        finally:
            source.close()


class TestRetries:
    """The harness's retry policy against DSQL's own conflict, injected on demand."""

    @pytest.mark.parametrize(
        ("inject", "failures", "error_class"),
        [
            pytest.param(ConflictInjector.fail_next, 2, "conflict", id="OC000"),
            pytest.param(ConflictInjector.unavailable_next, 1, "server", id="XX000"),
        ],
    )
    def test_a_write_that_fails_at_commit_is_retried_as_its_error_class_until_it_lands(
        self,
        aws_env: None,
        dsql_cluster: DsqlLocal,
        caplog: pytest.LogCaptureFixture,
        inject: Callable[[ConflictInjector, int], None],
        failures: int,
        error_class: str,
    ) -> None:
        """A conflict (``40001 … OC000``) is retried as a conflict and ``XX000 server
        unavailable`` as a server error: one logged retry for each failed COMMIT, then the
        row lands, read back through the harness's own connection."""
        connector = resolved(tunnelled(dsql_cluster))
        admin = dsql_cluster.conninfo(password=dsql_cluster.token())
        name = sql.Identifier(f"retried_{error_class}")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (id int PRIMARY KEY)").format(name))
        inject(dsql_cluster.conflicts, failures)

        def write() -> None:
            with psycopg.connect(admin, autocommit=True) as conn, conn.transaction():
                conn.execute(sql.SQL("INSERT INTO {} VALUES (1)").format(name))

        try:
            # a spare attempt: the write landing ends the loop, not the budget running out
            policy = Backoff(initial=0.01, cap=0.02, attempts=failures + 2)
            retry_call(write, policy=policy, endpoint="t")
        finally:
            dsql_cluster.conflicts.clear()
        with connect_postgres(connector) as conn:
            assert conn.execute(sql.SQL("SELECT count(*) FROM {}").format(name)).fetchone() == (1,)
        logged = [r for r in caplog.records if f"error_class={error_class}" in r.getMessage()]
        assert len(logged) == failures
