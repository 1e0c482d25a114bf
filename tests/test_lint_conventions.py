"""Issue 21, item 6: a migration tool that runs each file in one transaction makes a
multi-DDL file fail on DSQL (DSQL090/DSQL091), so the linter applies the tool's convention
where the layout names the tool, says which one it assumed, and assumes autocommit elsewhere.
The folders are written the way each tool writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lint import lint_paths
from harness.lint.settings import LintSettings

TWO_DDL = (
    'CREATE TABLE "User" (id uuid PRIMARY KEY, email text NOT NULL);\n'
    'CREATE INDEX ASYNC user_email ON "User" (email);\n'
)
DDL_THEN_DML = (
    "CREATE TABLE plan (id uuid PRIMARY KEY, name text);\n"
    "INSERT INTO plan VALUES ('00000000-0000-0000-0000-000000000001', 'free');\n"
)


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def transaction_findings(root: Path) -> dict[str, list[tuple[str, str]]]:
    report = lint_paths([root], LintSettings(paths=(root,)), jobs=1)
    return {
        Path(f.path).relative_to(root).as_posix(): [
            (x.rule_id, x.message) for x in f.findings if x.rule_id in ("DSQL090", "DSQL091")
        ]
        for f in report.files
    }


@pytest.mark.parametrize(
    ("relative", "text", "rule", "tool"),
    [
        ("prisma/migrations/20240101000000_init/migration.sql", TWO_DDL, "DSQL090", "Prisma"),
        ("db/migration/V1__create_users.sql", TWO_DDL, "DSQL090", "Flyway"),
        ("db/migration/V2_1__seed_plans.sql", DDL_THEN_DML, "DSQL091", "Flyway"),
        ("migrations/000001_init.up.sql", TWO_DDL, "DSQL090", "golang-migrate"),
        ("db/migrations/20240101_init.sql", "-- migrate:up\n" + TWO_DDL, "DSQL090", "dbmate"),
    ],
)
def test_a_tools_layout_applies_its_transaction_and_names_it(
    tmp_path: Path, relative: str, text: str, rule: str, tool: str
) -> None:
    if relative.startswith("prisma/"):
        write(tmp_path, "prisma/migrations/migration_lock.toml", 'provider = "postgresql"\n')
    write(tmp_path, relative, text)
    ((found_rule, message),) = transaction_findings(tmp_path)[relative]
    assert found_rule == rule
    assert f"(assumed: {tool}: " in message


@pytest.mark.parametrize(
    ("relative", "text"),
    [
        ("schema/create.sql", TWO_DDL),  # a bare file: autocommit, one DDL per statement
        ("db/migrations/20240102_idx.sql", "-- migrate:up transaction:false\n" + TWO_DDL),
        ("prisma/schema_dump.sql", TWO_DDL),  # beside Prisma, but not a migration
    ],
)
def test_elsewhere_statements_run_one_by_one(tmp_path: Path, relative: str, text: str) -> None:
    write(tmp_path, relative, text)
    assert transaction_findings(tmp_path)[relative] == []


def test_a_flyway_script_conf_that_turns_the_transaction_off_is_honoured(tmp_path: Path) -> None:
    write(tmp_path, "db/migration/V3__index.sql", TWO_DDL)
    write(tmp_path, "db/migration/V3__index.sql.conf", "executeInTransaction=false\n")
    assert transaction_findings(tmp_path)["db/migration/V3__index.sql"] == []
