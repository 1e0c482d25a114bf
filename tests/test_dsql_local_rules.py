"""The local DSQL's decisions without a server: IAM tokens, DSQL's words, a session's rules."""

from __future__ import annotations

import asyncio
import datetime
import functools
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import boto3
import pytest

from harness.dsql_local.answers import ANSWERS, canonical_type, table
from harness.dsql_local.protocol import rows_modified
from harness.dsql_local.rules import DEFERRED, Refusal, refuse, refuse_setting
from harness.dsql_local.session import ABORTED, Session, Status
from harness.dsql_local.statement import classify, setting_name
from harness.dsql_local.tokens import LOCAL_ARN, SigningIdentity, TokenRejected, TokenVerifier
from harness.lint.pack import RULES
from harness.results.check import Severity

DOC = Path(__file__).resolve().parents[1] / "docs" / "dsql-local.md"
HOST = "abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws"
IDENTITY = SigningIdentity("AKIDRULES", "rules/secret+key=")


@functools.cache
def dsql_client(key: str, secret: str, session_token: str | None, region: str) -> Any:
    """A boto3 ``dsql`` client (made once per credentials: clients are slow to build)."""
    session = boto3.session.Session(
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=session_token
    )
    return session.client("dsql", region_name=region)


def sign(user: str = "admin", *, host: str = HOST, region: str = "us-east-1", **kw: Any) -> str:
    """A token exactly as boto3 makes one for a real cluster."""
    client = dsql_client(
        kw.pop("key", IDENTITY.access_key),
        kw.pop("secret", IDENTITY.secret_key),
        kw.pop("session_token", None),
        region,
    )
    generate = (
        client.generate_db_connect_admin_auth_token
        if user == "admin"
        else client.generate_db_connect_auth_token
    )
    token: str = generate(Hostname=host, Region=region, ExpiresIn=kw.pop("expires_in", 900))
    return token


def flip_last(token: str) -> str:
    return token[:-1] + ("0" if token[-1] != "0" else "1")


def verifier(identity: SigningIdentity = IDENTITY) -> TokenVerifier:
    return TokenVerifier(HOST, "us-east-1", identity)


def decide(sql: str) -> Refusal | None:
    return asyncio.run(refuse(classify(sql)))


class TestTokens:
    def test_a_boto3_token_for_admin_verifies(self) -> None:
        verifier().verify(sign("admin"), "admin")

    def test_a_boto3_token_for_a_custom_role_verifies(self) -> None:
        verifier().verify(sign("app"), "app")

    def test_a_token_made_with_temporary_credentials_verifies(self) -> None:
        temporary = SigningIdentity(IDENTITY.access_key, IDENTITY.secret_key, "FwoG/ZX+token==")
        token = sign(session_token=temporary.token)
        verifier(temporary).verify(token, "admin")

    @pytest.mark.parametrize(
        ("token", "user", "reason"),
        [
            (lambda: sign("admin"), "app", "needs DbConnect"),
            (lambda: sign("app"), "admin", "needs DbConnectAdmin"),
            (lambda: sign(host="other.dsql.us-east-1.on.aws"), "admin", "not 'abcdef"),
            (lambda: sign(region="eu-west-1"), "admin", "region 'eu-west-1'"),
            (lambda: sign(key="AKIDOTHER"), "admin", "not one the server knows"),
            (lambda: sign(secret="guessed"), "admin", "signature does not match"),
            (lambda: flip_last(sign()), "admin", "signature does not match"),
            (lambda: sign().replace("X-Amz-Expires=900", "X-Amz-Expires=9000"), "admin", "match"),
            (lambda: "hunter2", "admin", "not a presigned URL"),
        ],
        ids=[
            "admin-token-for-a-role",
            "role-token-for-admin",
            "another-host",
            "another-region",
            "another-key",
            "another-secret",
            "tampered-signature",
            "stretched-expiry",
            "a-password",
        ],
    )
    def test_a_token_that_does_not_authenticate_is_rejected_with_a_reason(
        self, token: object, user: str, reason: str
    ) -> None:
        with pytest.raises(TokenRejected, match=reason):
            verifier().verify(token(), user)  # type: ignore[operator]

    def test_a_token_is_good_until_it_expires(self) -> None:
        token = sign(expires_in=60)
        signed = dict(parse_qsl(token.split("/?", 1)[1]))["X-Amz-Date"]
        at = datetime.datetime.strptime(signed, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
        verifier().verify(token, "admin", now=at + datetime.timedelta(seconds=60))
        with pytest.raises(TokenRejected, match="expired"):
            verifier().verify(token, "admin", now=at + datetime.timedelta(seconds=61))
        with pytest.raises(TokenRejected, match="future"):
            verifier().verify(token, "admin", now=at - datetime.timedelta(minutes=6))

    def test_a_token_asking_for_more_than_a_week_is_rejected(self) -> None:
        with pytest.raises(TokenRejected, match="outside"):
            verifier().verify(sign(expires_in=604_801), "admin")

    def test_the_answer_is_the_arn_of_the_principal_whose_key_signed(self) -> None:
        other = SigningIdentity("AKIDSECOND", "second", arn="arn:aws:iam::111122223333:user/ci")
        both = TokenVerifier(HOST, "us-east-1", IDENTITY, others=(other,))
        assert both.verify(sign("app"), "app") == LOCAL_ARN  # no ARN named: the local one
        assert both.verify(sign("app", key=other.access_key, secret="second"), "app") == other.arn
        with pytest.raises(TokenRejected, match="signature does not match"):
            both.verify(sign("app", key=other.access_key, secret="rules/secret+key="), "app")

    def test_one_access_key_cannot_stand_for_two_principals(self) -> None:
        twin = SigningIdentity(IDENTITY.access_key, "another", arn="arn:aws:iam::1:role/x")
        with pytest.raises(ValueError, match="share access key"):
            TokenVerifier(HOST, "us-east-1", IDENTITY, others=(twin,))

    def test_an_identity_never_shows_its_secrets(self) -> None:
        temporary = SigningIdentity("AKIDSHOWN", "hidden-secret", "hidden-session-token")
        assert "hidden" not in repr(temporary)
        assert "AKIDSHOWN" in repr(temporary)


class TestAnswers:
    def test_every_error_rule_of_the_pack_has_dsqls_answer_or_a_reason_not_to(self) -> None:
        errors = {r.id for r in RULES if r.severity is Severity.ERROR}
        unanswered = errors - set(ANSWERS) - DEFERRED
        assert not unanswered

    def test_the_docs_show_the_answers_as_they_are(self) -> None:
        text = DOC.read_text(encoding="utf-8")
        shown = text.split("<!-- answers:start -->\n", 1)[1].split("<!-- answers:end -->", 1)[0]
        assert shown == table(), "regenerate the table: harness.dsql_local.answers.table()"

    @pytest.mark.parametrize(
        ("sql", "sqlstate", "message"),
        [
            ("CREATE TABLE t (v int[])", "0A000", "datatype integer[] not supported"),
            ("CREATE TABLE t (v varbit(8))", "0A000", "datatype bit varying not supported"),
            ("ALTER TABLE t ADD COLUMN v bit(8)", "0A000", "datatype bit not supported"),
            ("CREATE TABLE t (id bigserial)", "42704", 'type "bigserial" does not exist'),
            (
                "CREATE TABLE t (id int2 GENERATED ALWAYS AS IDENTITY (CACHE 1))",
                "0A000",
                "datatype smallint not supported, identity column type must be bigint",
            ),
            (
                "CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS $$ return 1 $$",
                "0A000",
                "CREATE FUNCTION with language plpython3u not supported",
            ),
            ("BEGIN ISOLATION LEVEL READ UNCOMMITTED", "0A000", "Unsupported isolation level: "),
            ("SELECT to_tsquery('simple', 'x')", "42704", 'configuration "simple" does not'),
            ("SELECT point(1, 2)", "0A000", "datatype point not supported"),
            ("CREATE SERVER s FOREIGN DATA WRAPPER w", "0A000", "CreateForeignServer"),
            ("RELEASE SAVEPOINT sp", "0A000", "unsupported transaction statement: RELEASE"),
            ("LOCK TABLE t", "0A000", "unsupported statement: Lock"),
        ],
    )
    def test_a_refusal_names_what_the_statement_did_as_postgresql_names_it(
        self, sql: str, sqlstate: str, message: str
    ) -> None:
        refusal = decide(sql)
        assert refusal is not None
        assert refusal.sqlstate == sqlstate
        assert message in refusal.message

    @pytest.mark.parametrize(
        ("written", "name"),
        [("INT", "integer"), ("int4[]", "integer[]"), ("varchar(3)[]", "character varying[]")],
    )
    def test_types_are_named_as_postgresql_names_them(self, written: str, name: str) -> None:
        assert canonical_type(written) == name

    @pytest.mark.parametrize(
        "sql",
        [
            "SELECT '127.0.0.1'::inet",
            "SELECT string_to_array('a,b', ',')",
            "CREATE TABLE t (p point_of_sale text)",
            "CREATE SEQUENCE s CACHE 65536",
            "SET CONSTRAINTS ALL DEFERRED",
            "BEGIN READ ONLY",
            "ALTER TABLE t ADD COLUMN d text STORAGE PLAIN",
        ],
    )
    def test_what_dsql_runs_is_not_refused(self, sql: str) -> None:
        assert decide(sql) is None


class TestSettings:
    @pytest.mark.parametrize(
        ("sql", "name"),
        [
            ("SET search_path TO a, b", "search_path"),
            ("SET LOCAL statement_timeout = 0", "statement_timeout"),
            ("SET TIME ZONE 'UTC'", "timezone"),
            ("SET \"TimeZone\" = 'UTC'", "TimeZone"),
            ("set dsql.enable_batched_nestloop = on", "dsql.enable_batched_nestloop"),
            ("RESET work_mem", "work_mem"),
            ("SET TRANSACTION READ ONLY", None),
        ],
    )
    def test_the_parameter_a_set_names_is_read_from_its_tokens(
        self, sql: str, name: str | None
    ) -> None:
        assert setting_name(sql) == name

    @pytest.mark.parametrize(
        "name",
        ["application_name", "TimeZone", "DateStyle", "search_path", "enable_hashjoin", "role"],
    )
    def test_the_allowlist_lets_dsqls_parameters_through(self, name: str) -> None:
        assert refuse_setting(name) is None

    @pytest.mark.parametrize("name", ["statement_timeout", "bytea_output", "work_mem"])
    def test_anything_else_is_refused(self, name: str) -> None:
        assert refuse_setting(name) == Refusal(
            "0A000", f'setting configuration parameter "{name}" not supported', "session-setting"
        )


class TestSession:
    def test_a_second_ddl_in_a_block_is_refused(self) -> None:
        session = Session()
        session.begin(explicit=True)
        session.ran(classify("CREATE TABLE a (id int)"))
        refusal = session.check(classify("CREATE TABLE b (id int)"))
        assert refusal is not None
        assert refusal.rule == "DSQL090"

    def test_dml_after_ddl_and_ddl_after_dml_are_refused(self) -> None:
        for first, second in (("CREATE TABLE a (id int)", "DELETE FROM a"),) * 2:
            session = Session()
            session.begin(explicit=True)
            session.ran(classify(first))
            refusal = session.check(classify(second))
            assert refusal is not None
            assert refusal.rule == "DSQL091"
            first, second = second, first

    def test_rows_add_up_to_the_limit_and_the_3001st_fails(self) -> None:
        session = Session()
        session.begin(explicit=True)
        insert = classify("INSERT INTO t SELECT 1")
        assert session.completed(insert, "INSERT 0 2999") is None
        assert session.completed(insert, "INSERT 0 1") is None
        refusal = session.completed(insert, "UPDATE 1")
        assert refusal is not None
        assert refusal.sqlstate == "54000"

    def test_copy_to_and_selects_write_no_rows(self) -> None:
        session = Session()
        session.begin(explicit=True)
        assert session.completed(classify("COPY t TO STDOUT"), "COPY 5000") is None
        assert session.completed(classify("SELECT * FROM t"), "SELECT 5000") is None

    def test_a_failed_block_answers_25p02_until_it_ends(self) -> None:
        session = Session()
        session.begin(explicit=True)
        session.fail()
        assert session.status is Status.FAILED
        assert session.check(classify("SELECT 1")) is ABORTED
        assert session.check(classify("COMMIT")) is None
        assert session.check(classify("ROLLBACK TO SAVEPOINT s")) is ABORTED

    def test_a_failure_outside_a_block_leaves_the_session_idle(self) -> None:
        session = Session()
        session.begin(explicit=False)
        session.fail()
        assert session.status is Status.IDLE
        assert session.txn is None

    @pytest.mark.parametrize(
        ("tag", "rows"),
        [("INSERT 0 5", 5), ("UPDATE 7", 7), ("DELETE 0", 0), ("COPY 9", 9), ("SELECT 3", 0)],
    )
    def test_rows_are_read_from_command_tags(self, tag: str, rows: int) -> None:
        assert rows_modified(tag) == rows
