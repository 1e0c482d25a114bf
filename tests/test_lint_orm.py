"""Issue 21, item 6 for migrations written as code, and the Prisma folder acceptance test: the
linter recognises each tool's layout, applies its transaction convention and names it; the SQL
a migration holds is linted as SQL and the tool's schema calls count as DDL statements.

The folders under tests/data/lint are written the way each tool writes them (Rails and Django
generators, Alembic's revision template, knex and Kysely migration modules, ``prisma migrate
dev`` output with its ``migration_lock.toml``). The Python migrations are stored as
``*.py.txt`` (they import Django and Alembic, which the tests do not depend on) and linted
from a copy under their real names."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.lint import lint_paths
from harness.lint.report import FileReport, Verdict
from harness.lint.settings import LintSettings

DATA = Path(__file__).parent / "data" / "lint"
ORM = DATA / "orm_migrations"
PRISMA = DATA / "prisma_app"


def materialise(source: Path, dest: Path) -> Path:
    """A copy of a fixture folder with ``*.py.txt`` files under their ``*.py`` names."""
    shutil.copytree(source, dest)
    for stored in dest.rglob("*.py.txt"):
        stored.rename(stored.with_suffix(""))
    return dest


def lint(root: Path) -> dict[str, FileReport]:
    report = lint_paths([root], LintSettings(paths=(root,)), jobs=1)
    return {Path(f.path).relative_to(root).as_posix(): f for f in report.files}


def fired(file: FileReport) -> list[str]:
    return [f.rule_id for f in file.findings]


@pytest.fixture(scope="module")
def orm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FileReport]:
    return lint(materialise(ORM, tmp_path_factory.mktemp("orm") / "orm"))


@pytest.mark.parametrize(
    ("migration", "tool", "rules"),
    [
        (
            "rails/db/migrate/20240101120000_create_users.rb",
            "Rails",
            ["DSQL050", "DSQL090"],
        ),
        (
            "django/shop/migrations/0001_initial.py",
            "Django",
            ["DSQL090", "DSQL050", "DSQL029"],
        ),
        (
            "alembic/versions/1a2b3c_create_account.py",
            "Alembic",
            ["DSQL050", "DSQL090", "DSQL091"],
        ),
        ("knex/migrations/20240101_create_posts.js", "knex", ["DSQL050", "DSQL090"]),
        ("kysely/migrations/2024_01_01_init.ts", "Kysely", ["DSQL044", "DSQL090", "DSQL050"]),
    ],
)
def test_a_code_migration_runs_in_its_tools_transaction_and_says_so(
    orm: dict[str, FileReport], migration: str, tool: str, rules: list[str]
) -> None:
    file = orm[migration]
    assert fired(file) == rules
    (second,) = [f for f in file.findings if f.rule_id == "DSQL090"]
    assert f"(assumed: {tool}: " in second.message
    assert all(s.verdict is not Verdict.UNANALYSED for s in file.statements)


@pytest.mark.parametrize(
    ("migration", "rules"),
    [
        ("rails/db/migrate/20240102120000_add_index_concurrently.rb", ["DSQL051"]),
        ("django/shop/migrations/0002_nonatomic.py", []),
        ("knex/migrations/20240102_no_txn.js", []),
    ],
)
def test_a_migration_that_turns_the_transaction_off_runs_statement_by_statement(
    orm: dict[str, FileReport], migration: str, rules: list[str]
) -> None:
    assert fired(orm[migration]) == rules


def test_the_sql_a_migration_holds_is_linted_in_order_with_its_calls(
    orm: dict[str, FileReport],
) -> None:
    alembic = orm["alembic/versions/1a2b3c_create_account.py"]
    kinds = [s.kind for s in alembic.statements]
    assert kinds == ["Alembic op.create_table", "Alembic op.create_index", "INSERT"]
    (mixed,) = [f for f in alembic.findings if f.rule_id == "DSQL091"]
    assert (mixed.line, mixed.col) == (16, 17)  # inside op.execute's string


def test_the_knexfile_can_turn_transactions_off_for_every_migration(tmp_path: Path) -> None:
    materialise(ORM / "knex", tmp_path / "knex")
    (tmp_path / "knex" / "knexfile.js").write_text(
        "module.exports = { migrations: { disableTransactions: true } };\n", encoding="utf-8"
    )
    assert "DSQL090" not in fired(lint(tmp_path)["knex/migrations/20240101_create_posts.js"])


def test_alembic_per_migration_transactions_are_named_when_env_py_asks(tmp_path: Path) -> None:
    materialise(ORM / "alembic", tmp_path / "alembic")
    (tmp_path / "alembic" / "env.py").write_text(
        "context.configure(connection=connection, transaction_per_migration=True)\n",
        encoding="utf-8",
    )
    file = lint(tmp_path)["alembic/versions/1a2b3c_create_account.py"]
    (second,) = [f for f in file.findings if f.rule_id == "DSQL090"]
    assert "(assumed: Alembic: each migration runs in one transaction" in second.message


def test_python_code_outside_a_migration_layout_has_no_transaction(tmp_path: Path) -> None:
    app = tmp_path / "app" / "jobs.py"
    app.parent.mkdir()
    app.write_text(
        'cur.execute("CREATE TABLE a (id uuid PRIMARY KEY)")\n'
        'cur.execute("CREATE TABLE b (id uuid PRIMARY KEY)")\n',
        encoding="utf-8",
    )
    assert fired(lint(tmp_path)["app/jobs.py"]) == []


class TestPrismaFolder:
    """A ``prisma migrate dev`` tree: each migration.sql runs in one transaction."""

    def test_multi_ddl_migrations_fail_without_assume_in_transaction(self) -> None:
        files = lint(PRISMA)
        init = files["prisma/migrations/20240301093000_init/migration.sql"]
        posts = files["prisma/migrations/20240315120000_add_posts/migration.sql"]
        backfill = files["prisma/migrations/20240402081500_backfill_slugs/migration.sql"]
        assert fired(init).count("DSQL090") == 1
        assert fired(posts).count("DSQL090") == 1
        assert fired(backfill) == ["DSQL091"]
        for file in files.values():
            assert all(s.verdict is not Verdict.UNANALYSED for s in file.statements)

    def test_the_output_names_the_convention_it_assumed(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "harness.lint", str(PRISMA)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 1
        assert "(assumed: Prisma: each migration.sql runs in one transaction)" in done.stdout
        assert "0 could not be analysed" in done.stdout
