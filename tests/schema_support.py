"""The checks of one migration, as the schema tests run them: a source, its target, the plan."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from harness.checks.counts import check_row_count
from harness.checks.rows import row_options
from harness.checks.schema import check_table
from harness.checks.views import check_views
from harness.db.database import Database
from harness.embedded.provision import PostgresCluster
from harness.endpoints.resolve import Connector, open_database
from harness.plan.model import Plan
from harness.plan.scope import Scope, build_scope
from harness.results.check import CheckResult, Finding, FindingKind
from tests.conftest import run_sql


@dataclass
class Migration:
    """A source and a target database, the plan relating them, and the checks to run."""

    source: Database
    target: Database
    plan: Plan
    scope: Scope

    @classmethod
    def opened(
        cls, plan: Plan, source: Connector, target_dsn: str, opened: list[Database]
    ) -> Migration:
        """Open both sides read-only (``opened`` collects them for closing) and pair them."""
        source_db = open_database(source)
        target_db = open_database(
            Connector("target", "postgres", "postgres", target_dsn, "target", "public")
        )
        opened.extend((source_db, target_db))
        return cls(
            source_db, target_db, plan, build_scope(plan, source_db.catalog(), target_db.catalog())
        )

    def schema(self, table_id: str) -> CheckResult:
        pair = self.scope.pair(table_id)
        return check_table(
            pair,
            self.source.catalog().table(pair.source) if pair.source else None,
            self.target.catalog().table(pair.target) if pair.target else None,
            renamer=self.scope.renamer,
            source_db=self.source,
            target_dialect=self.target.dialect,
            expected=self.plan.expected_differences,
            options=row_options(self.plan.rows, pair.source or "").columns,
        )

    def views(self) -> CheckResult:
        return check_views(
            self.source.catalog(), self.target.catalog(), self.scope, self.plan.expected_differences
        )

    def row_count(self, table_id: str) -> CheckResult:
        return check_row_count(
            self.scope.pair(table_id),
            source_db=self.source,
            target_db=self.target,
            expected=self.plan.expected_differences,
        )


def only(result: CheckResult, kind: FindingKind) -> Finding:
    """The single finding of ``kind`` in ``result``."""
    found = [f for f in result.findings if f.kind is kind]
    assert len(found) == 1, f"expected one {kind.value} finding, got {result.findings}"
    return found[0]


@dataclass
class Opened:
    """What a schema test's fixture builds, undone by :meth:`close`: the databases it opens
    and the PostgreSQL sources it creates on ``cluster``."""

    cluster: PostgresCluster
    databases: list[Database] = field(default_factory=list)
    created: list[str] = field(default_factory=list)

    def source(self, sql: str, kind: str, path: Path) -> Connector:
        """A source loaded with ``sql``: the SQLite file ``path``, or (``kind="postgres"``) a
        new PostgreSQL database."""
        if kind == "sqlite":
            with sqlite3.connect(path) as conn:
                conn.executescript(sql)
            conn.close()
            return Connector("source", "sqlite", "sqlite", str(path), "source")
        name = f"src_{uuid.uuid4().hex[:12]}"
        self.created.append(name)
        dsn = self.cluster.create_database(name)
        run_sql(dsn, sql)
        return Connector("source", "postgres", "postgres", dsn, "source", "public")

    def migration(self, plan: Plan, source: Connector, target_dsn: str) -> Migration:
        """The migration from ``source`` to ``target_dsn``, closed with the rest."""
        return Migration.opened(plan, source, target_dsn, self.databases)

    def close(self) -> None:
        for db in self.databases:
            db.close()
        for name in self.created:
            self.cluster.drop_database(name)
