"""The checks of one migration, as the schema tests run them: a source, its target, the plan."""

from __future__ import annotations

from dataclasses import dataclass

from harness.checks.counts import check_row_count
from harness.checks.rows import row_options
from harness.checks.schema import check_table
from harness.checks.views import check_views
from harness.db.database import Database
from harness.endpoints.resolve import Connector, open_database
from harness.plan.model import Plan
from harness.plan.scope import Scope, build_scope
from harness.results.check import CheckResult, Finding, FindingKind


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
