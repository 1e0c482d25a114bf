"""Specification of the sign-off: `cutover sign` and `cutover check-signature`, end to end.

A run folder is built from `harness.results.record.build_results` (validated against the results
schema) with a plan outside the report folder; every test makes its own Ed25519 keys.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
from click.testing import CliRunner, Result

from harness.report.folder import write_folder
from harness.results.check import CheckResult, Finding, FindingKind, Severity, Status, Waiver
from harness.results.files import summary
from harness.results.record import build_results, environment, verdict
from harness.signoff import (
    PREDICATE_TYPE,
    Reviewer,
    SignoffError,
    check_bundle,
    load_private_key,
    load_public_key,
    sign_results,
    write_keypair,
)
from harness.signoff.command import check_signature, keygen, sign
from harness.signoff.dsse import INTOTO_PAYLOAD_TYPE, pae

RESULTS_SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "results.schema.json"
SIGNED_AT = datetime(2031, 5, 4, 12, 30, tzinfo=UTC)
REVIEWER = "Ada Lovelace <ada@example.com>"
PLAN_TEXT = "name: shop\nsource: {kind: sqlite, path: shop.db}\ntarget: {kind: embedded}\n"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checks() -> list[dict[str, Any]]:
    waived = Finding(
        FindingKind.TYPE_NARROWING,
        Severity.ERROR,
        "orders",
        "orders.total: numeric(12,2) → numeric(10,2)",
        column="total",
        waived_by=Waiver("amounts never exceed 10 digits", "Grace <grace@example.com>", None, 0),
    )
    results = [
        CheckResult("schema", "customers", Status.PASS, "schema matches"),
        CheckResult("schema", "orders", Status.WAIVED, "1 expected difference", (waived,)),
        CheckResult("row_count", "customers", Status.PASS, "12 rows on both sides"),
    ]
    return [dict(r.to_dict(), nodeid=f"scenarios/test_x.py::test[{r.id}]") for r in results]


def _waivers() -> list[dict[str, Any]]:
    common = {"kind": "type_narrowing", "used": True}
    return [
        {
            **common,
            "table": "orders",
            "column": "total",
            "reason": "amounts never exceed 10 digits",
            "reviewer": "Grace <grace@example.com>",
            "expires": None,
            "expired": False,
        },
        {
            **common,
            "table": "invoices",
            "column": "memo",
            "reason": "memo truncated on purpose",
            "reviewer": "Linus <linus@example.com>",
            "expires": "2020-01-31",
            "used": False,
            "expired": True,
        },
        {  # valid at the run, expired by the time it is signed (SIGNED_AT is 2031)
            **common,
            "table": "refunds",
            "column": None,
            "reason": "legacy table, dropped after cutover",
            "reviewer": "Barbara <barbara@example.com>",
            "expires": "2030-12-31",
            "expired": False,
        },
    ]


@dataclass(frozen=True)
class Run:
    """A run folder: results.json, report.html, the plan it read, and a key pair."""

    results: Path
    report: Path
    plan: Path
    private: Path
    public: Path

    @property
    def bundle(self) -> Path:
        return self.results.with_name("signoff.dsse.json")


def write_run(root: Path, *, extra: dict[str, Any] | None = None) -> Run:
    plan = root / "project" / "plan.yaml"
    plan.parent.mkdir(parents=True, exist_ok=True)
    plan.write_text(PLAN_TEXT, encoding="utf-8")
    side = {"kind": "sqlite", "display": "shop.db", "server_version": "3.45"}
    results = build_results(
        plan={"name": "shop", "path": str(plan), "sha256": _sha(plan.read_bytes())},
        checks=_checks(),
        expected_differences=_waivers(),
        env=environment(side, dict(side, kind="embedded"), 0),
        started=datetime(2031, 5, 1, 9, 0, tzinfo=UTC),
        finished=datetime(2031, 5, 1, 9, 1, tzinfo=UTC),
    )
    if extra is None:  # the schema has no `inputs` yet, so only the plain document is checked
        jsonschema.validate(results, json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8")))
    results.update(extra or {})
    out = root / "project" / "reports" / "out"
    out.mkdir(parents=True)
    path = out / "results.json"
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    report = out / "report.html"
    report.write_text("<!doctype html><title>cutover</title><h1>GO WITH WAIVERS</h1>\n")
    keys = write_keypair(root / "keys" / "k.key", root / "keys" / "k.pub")
    return Run(path, report, plan, keys.private, keys.public)


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return write_run(tmp_path)


def invoke(command: click.Command, *args: str | Path) -> Result:
    return CliRunner().invoke(command, [str(a) for a in args], catch_exceptions=False)


def cli_sign(run: Run, *extra: str | Path, decision: str = "approve") -> Result:
    return invoke(
        sign, run.results, "--key", run.private, "--reviewer", REVIEWER, "--decision", decision,
        *extra,
    )  # fmt: skip


def sign_run(run: Run, decision: str = "approve", **kwargs: Any) -> Path:
    return sign_results(
        run.results,
        key=load_private_key(run.private),
        reviewer=Reviewer.parse(REVIEWER),
        decision=decision,
        clock=lambda: SIGNED_AT,
        **kwargs,
    ).path


def statement_of(bundle: Path) -> dict[str, Any]:
    envelope = json.loads(bundle.read_text(encoding="utf-8"))
    payload: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return payload


def flip_byte(path: Path, where: float) -> None:
    data = bytearray(path.read_bytes())
    index = min(int(len(data) * where), len(data) - 1)
    data[index] ^= 0x01
    path.write_bytes(bytes(data))


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


class TestSigning:
    def test_the_bundle_is_a_dsse_envelope_of_an_in_toto_statement(self, run: Run) -> None:
        envelope = json.loads(sign_run(run).read_text(encoding="utf-8"))
        assert envelope["payloadType"] == INTOTO_PAYLOAD_TYPE
        [signature] = envelope["signatures"]
        raw = load_public_key(run.public).public_bytes_raw()
        assert signature["keyid"] == _sha(raw)
        # The signature is over the PAE of the type and the payload bytes, nothing else.
        load_public_key(run.public).verify(
            base64.b64decode(signature["sig"]),
            pae(INTOTO_PAYLOAD_TYPE, base64.b64decode(envelope["payload"])),
        )

    def test_subjects_are_results_report_and_plan_by_sha256_relative_to_the_bundle(
        self, run: Run
    ) -> None:
        statement = statement_of(sign_run(run))
        assert statement["_type"] == "https://in-toto.io/Statement/v1"
        assert statement["predicateType"] == PREDICATE_TYPE
        assert statement["subject"] == [
            {
                "name": name,
                "digest": {"sha256": _sha(path.read_bytes())},
                "annotations": {"role": role, "base": base},
            }
            for name, path, role, base in [
                ("results.json", run.results, "results", "folder"),
                ("report.html", run.report, "report", "folder"),
                ("plan.yaml", run.plan, "plan", "root"),  # the root: the plan's folder
            ]
        ]
        assert statement["predicate"]["root"] == "../.."  # the root, from the report folder

    def test_the_payload_is_rfc8785_canonical_json(self, run: Run) -> None:
        envelope = json.loads(sign_run(run).read_text(encoding="utf-8"))
        payload = base64.b64decode(envelope["payload"])
        again = json.dumps(
            json.loads(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        assert payload == again.encode("utf-8")  # no floats here, so JCS == sorted compact

    def test_the_predicate_carries_decision_reviewer_time_verdict_and_tool(self, run: Run) -> None:
        predicate = statement_of(sign_run(run, note="looks right"))["predicate"]
        assert predicate["decision"] == "approve"
        assert predicate["reviewer"] == {"name": "Ada Lovelace", "email": "ada@example.com"}
        assert predicate["signed_at"] == "2031-05-04T12:30:00Z"
        assert predicate["note"] == "looks right"
        assert predicate["verdict"] == "GO WITH WAIVERS"
        assert predicate["plan"]["sha256"] == _sha(run.plan.read_bytes())
        assert predicate["tool"]["name"] == "cutover"
        assert predicate["tool"]["version"]

    def test_waivers_are_copied_and_flagged_expired_as_of_the_signing_time(self, run: Run) -> None:
        waivers = statement_of(sign_run(run))["predicate"]["waivers"]
        assert [(w["table"], w["reviewer"], w["expired"]) for w in waivers] == [
            ("orders", "Grace <grace@example.com>", False),
            ("invoices", "Linus <linus@example.com>", True),
            ("refunds", "Barbara <barbara@example.com>", True),
        ]

    def test_every_listed_input_becomes_a_subject(self, tmp_path: Path) -> None:
        sql = tmp_path / "project" / "sql" / "001_init.sql"
        sql.parent.mkdir(parents=True)
        sql.write_bytes(b"CREATE TABLE t (id int);\n")
        relative = "../../sql/001_init.sql"  # relative to results.json's folder
        inputs = [{"path": relative, "sha256": _sha(sql.read_bytes()), "kind": "sql"}]
        run = write_run(tmp_path, extra={"inputs": inputs})
        subjects = statement_of(sign_run(run))["subject"]
        assert subjects[-1] == {
            "name": "sql/001_init.sql",
            "digest": {"sha256": _sha(sql.read_bytes())},
            "annotations": {"role": "sql", "base": "root"},
        }

    def test_an_input_listed_twice_is_one_subject(self, tmp_path: Path) -> None:
        plan = tmp_path / "project" / "plan.yaml"
        plan.parent.mkdir(parents=True)
        plan.write_text(PLAN_TEXT, encoding="utf-8")
        again = [{"path": str(plan), "sha256": _sha(PLAN_TEXT.encode())}]
        run = write_run(tmp_path, extra={"inputs": again})
        roles = [s["annotations"]["role"] for s in statement_of(sign_run(run))["subject"]]
        assert roles == ["results", "report", "plan"]

    @pytest.mark.parametrize(
        ("entry", "message"),
        [
            ("a.sql", r"inputs\[0\]: is a string, should be object"),
            (
                {"path": "a.sql", "sha256": "ABC"},
                r"inputs\[0\]\.sha256: \"ABC\" is not a lowercase hex",
            ),
            ({"path": "gone.sql", "sha256": "0" * 64}, "input gone.sql is missing"),
        ],
    )
    def test_a_bad_inputs_entry_is_named(self, tmp_path: Path, entry: Any, message: str) -> None:
        run = write_run(tmp_path, extra={"inputs": [entry]})
        with pytest.raises(SignoffError, match=message):
            sign_run(run)

    def test_an_input_that_changed_since_the_run_cannot_be_signed(self, run: Run) -> None:
        run.plan.write_text(PLAN_TEXT + "# edited after the run\n", encoding="utf-8")
        with pytest.raises(SignoffError, match=r"input .*plan\.yaml changed since the run"):
            sign_run(run)

    def test_a_missing_report_is_named_with_the_command_that_makes_it(self, run: Run) -> None:
        run.report.unlink()
        with pytest.raises(SignoffError, match=r"no report\.html beside it; .*cutover report"):
            sign_run(run)

    def test_approving_a_no_go_run_needs_a_note(self, tmp_path: Path) -> None:
        run = write_run(tmp_path)
        results = json.loads(run.results.read_text(encoding="utf-8"))
        # A real NO-GO: a check fails, and the verdict and counts say so (as a run writes them).
        results["checks"][0]["status"] = "fail"
        results["verdict"], results["verdict_reason"] = verdict(results["checks"])
        results["summary"] = summary(results["checks"])
        assert results["verdict"] == "NO-GO"
        run.results.write_text(json.dumps(results), encoding="utf-8")
        with pytest.raises(SignoffError, match="approving a NO-GO run needs a --note"):
            sign_run(run)
        bundle = sign_run(run, note="accepted risk, SC-004")
        assert check_bundle(bundle, load_public_key(run.public)).verified

    @pytest.mark.parametrize("victim", ["results", "report", "plan"])
    def test_the_bundle_never_overwrites_a_file_it_signs(self, run: Run, victim: str) -> None:
        before = getattr(run, victim).read_bytes()
        with pytest.raises(SignoffError, match="would overwrite a file it signs"):
            sign_run(run, out=getattr(run, victim))
        assert getattr(run, victim).read_bytes() == before

    def test_a_naive_clock_is_refused(self, run: Run) -> None:
        with pytest.raises(SignoffError, match="aware datetime"):
            sign_results(
                run.results,
                key=load_private_key(run.private),
                reviewer=Reviewer.parse(REVIEWER),
                decision="approve",
                clock=lambda: datetime(2031, 1, 1),  # naive: the point of the test
            )


class TestChecking:
    def test_a_run_written_by_write_folder_signs_and_verifies(self, tmp_path: Path) -> None:
        template = write_run(tmp_path / "template")
        results = json.loads(template.results.read_text(encoding="utf-8"))
        written = write_folder(results, tmp_path / "real")
        json_path, html_path = written.results, written.html
        run = Run(json_path, html_path, template.plan, template.private, template.public)
        bundle = sign_run(run)
        assert check_bundle(bundle, load_public_key(run.public)).verified
        flip_byte(html_path, 0.5)
        assert [s.state for s in check_bundle(bundle, load_public_key(run.public)).subjects] == [
            "unchanged",
            "changed",
            "unchanged",
        ]

    def test_an_untouched_approved_bundle_verifies_and_exits_0(self, run: Run) -> None:
        bundle = sign_run(run)
        result = invoke(check_signature, bundle, "--public-key", run.public)
        assert result.exit_code == 0, result.output
        assert "verified: signature by key" in result.stdout
        assert "3 signed file(s) unchanged" in result.stdout
        assert "decision: APPROVED by Ada Lovelace <ada@example.com>" in result.stdout

    @pytest.mark.parametrize("where", [0.0, 0.5, 0.999])
    @pytest.mark.parametrize(
        ("target", "name"),
        [("results", "results.json"), ("report", "report.html"), ("plan", "plan.yaml")],
    )
    def test_one_flipped_byte_in_any_signed_file_fails_naming_that_file(
        self, run: Run, target: str, name: str, where: float
    ) -> None:
        bundle = sign_run(run)
        flip_byte(getattr(run, target), where)
        result = invoke(check_signature, bundle, "--public-key", run.public)
        assert result.exit_code == 1
        line = one_line(result.stderr)
        assert line.startswith(f"cutover: verification failed: {name} changed since it was signed")
        assert result.stdout == ""

    def test_a_deleted_signed_file_fails_naming_it(self, run: Run) -> None:
        bundle = sign_run(run)
        run.report.unlink()
        result = invoke(check_signature, bundle, "--public-key", run.public)
        assert result.exit_code == 1
        assert "report.html is missing" in one_line(result.stderr)

    def test_the_bundle_verifies_after_moving_the_whole_tree(
        self, run: Run, tmp_path: Path
    ) -> None:
        bundle = sign_run(run)
        moved = tmp_path / "elsewhere"
        (run.plan.parent).rename(moved)
        outcome = check_bundle(
            moved / bundle.relative_to(run.plan.parent), load_public_key(run.public)
        )
        assert outcome.verified

    def test_another_key_fails_saying_the_signature_does_not_match_it(
        self, run: Run, tmp_path: Path
    ) -> None:
        other = write_keypair(tmp_path / "other.key", tmp_path / "other.pub")
        result = invoke(check_signature, sign_run(run), "--public-key", other.public)
        assert result.exit_code == 1
        line = one_line(result.stderr)
        assert "the signature does not match this key" in line
        assert other.keyid[:16] in line

    def test_an_altered_envelope_fails_even_with_the_right_key(self, run: Run) -> None:
        bundle = sign_run(run)
        envelope = json.loads(bundle.read_text(encoding="utf-8"))
        statement = statement_of(bundle)
        statement["predicate"]["decision"] = "reject"
        envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
        bundle.write_text(json.dumps(envelope), encoding="utf-8")
        result = invoke(check_signature, bundle, "--public-key", run.public)
        assert result.exit_code == 1
        assert "the envelope was altered after signing" in one_line(result.stderr)

    def test_a_changed_payload_type_breaks_the_signature(self, run: Run) -> None:
        bundle = sign_run(run)
        envelope = json.loads(bundle.read_text(encoding="utf-8"))
        envelope["payloadType"] = "application/json"
        bundle.write_text(json.dumps(envelope), encoding="utf-8")
        assert not check_bundle(bundle, load_public_key(run.public)).signature_ok

    def test_a_rejected_decision_verifies_but_exits_3(self, run: Run) -> None:
        bundle = sign_run(run, decision="reject", note="row counts drifted overnight")
        result = invoke(check_signature, bundle, "--public-key", run.public)
        assert result.exit_code == 3
        assert "decision: REJECTED by Ada Lovelace" in result.stdout
        assert "note: row counts drifted overnight" in result.stdout

    def test_expired_waivers_are_shown(self, run: Run) -> None:
        result = invoke(check_signature, sign_run(run), "--public-key", run.public)
        expired = [ln for ln in result.stdout.splitlines() if ln.startswith("expired waiver:")]
        assert expired == [
            "expired waiver: invoices.memo (expired 2020-01-31, reviewer Linus <linus@example.com>)"
            ": memo truncated on purpose",
            "expired waiver: refunds (expired 2030-12-31, reviewer Barbara <barbara@example.com>)"
            ": legacy table, dropped after cutover",
        ]


class TestCommands:
    def test_keygen_sign_check_round_trip(self, run: Run, tmp_path: Path) -> None:
        made = invoke(keygen, "--out", tmp_path / "cli-keys")
        assert made.exit_code == 0, made.output
        private = tmp_path / "cli-keys" / "cutover-signoff.key"
        assert private.stat().st_mode & 0o777 == 0o600
        key_pem = private.read_text(encoding="ascii")
        signed = invoke(
            sign, run.results, "--key", private, "--reviewer", REVIEWER, "--decision", "approve",
            "--note", "ok",
        )  # fmt: skip
        assert signed.exit_code == 0, signed.output
        assert f"signed: {run.bundle}" in signed.stdout
        assert "expired waiver: invoices.memo" in signed.stdout
        checked = invoke(
            check_signature,
            run.bundle,
            "--public-key",
            tmp_path / "cli-keys" / "cutover-signoff.pub",
        )
        assert checked.exit_code == 0, checked.output
        for output in (made.output, signed.output, checked.output):
            assert "PRIVATE KEY" not in output
            assert key_pem.splitlines()[1] not in output

    def test_sign_writes_the_bundle_where_asked(self, run: Run, tmp_path: Path) -> None:
        out = tmp_path / "review" / "sc-004.dsse.json"
        assert cli_sign(run, "--out", out).exit_code == 0
        names = [s["name"] for s in statement_of(out)["subject"]]
        assert names[0] == "reports/out/results.json"  # not under the bundle: from the root
        assert check_bundle(out, load_public_key(run.public)).verified

    def test_keygen_refuses_to_overwrite_without_force(self, tmp_path: Path) -> None:
        assert invoke(keygen, "--out", tmp_path).exit_code == 0
        again = invoke(keygen, "--out", tmp_path)
        assert again.exit_code == 2
        assert one_line(again.stderr).endswith("already exists; use --force to replace it")
        assert invoke(keygen, "--out", tmp_path, "--force").exit_code == 0

    def test_a_passphrase_protects_the_private_key(
        self, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CUTOVER_SIGNING_KEY_PASSPHRASE", "correct horse")
        assert invoke(keygen, "--private", tmp_path / "p.key").exit_code == 0
        assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "p.key").read_bytes()
        protected = Run(run.results, run.report, run.plan, tmp_path / "p.key", run.public)
        assert cli_sign(protected).exit_code == 0
        monkeypatch.delenv("CUTOVER_SIGNING_KEY_PASSPHRASE")
        result = invoke(
            sign, run.results, "--key", tmp_path / "p.key", "--reviewer", REVIEWER,
            "--decision", "approve",
        )  # fmt: skip
        assert result.exit_code == 2
        assert "passphrase-protected; set CUTOVER_SIGNING_KEY_PASSPHRASE" in one_line(result.stderr)

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--out", "x", "--private", "y"], "either --out DIR or --private/--public"),
            ([], "say where the keys go"),
        ],
    )
    def test_keygen_usage_errors_are_one_line(self, args: list[str], message: str) -> None:
        result = invoke(keygen, *args)
        assert result.exit_code == 2
        assert message in one_line(result.stderr)

    @pytest.mark.parametrize(
        ("mangle", "message"),
        [
            (lambda b: b.unlink(), "no such sign-off bundle"),
            (lambda b: b.write_text("{not json"), "not a DSSE envelope: not JSON"),
            (lambda b: b.write_text("[]"), "not a DSSE envelope: not a JSON object"),
            (lambda b: b.write_text('{"payload": "e30="}'), "no payloadType, signatures"),
            (
                lambda b: b.write_text(
                    '{"payloadType": "x", "payload": "!!", "signatures": [{"sig": "AA=="}]}'
                ),
                "payload is not valid base64",
            ),
        ],
    )
    def test_a_malformed_or_missing_bundle_is_a_usage_error(
        self, run: Run, mangle: Any, message: str
    ) -> None:
        bundle = sign_run(run)
        mangle(bundle)
        result = invoke(check_signature, bundle, "--public-key", run.public)
        assert result.exit_code == 2
        line = one_line(result.stderr)
        assert line.startswith("cutover: error: ")
        assert message in line

    def test_a_private_key_given_as_public_is_refused_without_echoing_it(self, run: Run) -> None:
        result = invoke(check_signature, sign_run(run), "--public-key", run.private)
        assert result.exit_code == 2
        assert "is a private key; pass the public key" in one_line(result.stderr)
        assert run.private.read_text().splitlines()[1] not in result.output

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"results": Path("nowhere.json")}, "no such results file"),
            ({"key": Path("nowhere.key")}, "no such private key file"),
            ({"reviewer": "just a name"}, 'is not of the form "Name <email>"'),
        ],
    )
    def test_sign_usage_errors_are_one_line(
        self, run: Run, tmp_path: Path, change: dict[str, Any], message: str
    ) -> None:
        args: dict[str, Any] = {"results": run.results, "key": run.private, "reviewer": REVIEWER}
        args.update({k: tmp_path / v if isinstance(v, Path) else v for k, v in change.items()})
        result = invoke(
            sign, args["results"], "--key", args["key"], "--reviewer", args["reviewer"],
            "--decision", "approve",
        )  # fmt: skip
        assert result.exit_code == 2
        assert message in one_line(result.stderr)

    def test_a_bad_decision_is_clicks_usage_error(self, run: Run) -> None:
        result = cli_sign(run, decision="maybe")
        assert result.exit_code == 2
        assert "maybe" in result.stderr
        assert "approve" in result.stderr
