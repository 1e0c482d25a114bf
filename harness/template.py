"""The commented plan that ``cutover init`` writes (a test checks that it validates)."""

PLAN_TEMPLATE = """\
# cutover verification plan. Schema: schemas/plan.schema.json (`cutover schema`).
# Run: cutover verify --plan THIS_FILE
name: my-migration

# Where the data comes from. Kinds: sqlite, postgres, embedded, container.
source:
  kind: sqlite
  path: app.db                  # relative to this file; opened read-only

# Where it went. For a real server prefer dsn_env, so no secret sits in this file:
#   target: {kind: postgres, dsn_env: TARGET_DSN, schema: public}
# CUTOVER_SOURCE_DSN / CUTOVER_TARGET_DSN override a postgres endpoint's DSN.
target:
  kind: embedded                # an ephemeral PostgreSQL 16 started by cutover
  load:
    - sqlite: app.db            # copy the SQLite file in (or: - sql: schema_and_data.sql)
      naming: none              # none | snake_case | lower

# Which tables to compare (fnmatch patterns on source or target names).
tables:
  include: ["*"]
  exclude: []
  keys: {}                      # key columns of tables without a primary key,
                                #   e.g. audit_log: [id, at]

# How source names map to target names: explicit maps first, then the policy.
renames:
  policy: none                  # none | snake_case (InvoiceLine -> invoice_line) | lower
  tables: {}                    # OldName: new_name
  columns: {}                   # OldTable: {OldColumn: new_column}

# Differences you know about and a reviewer accepted; they show as waived, not failed.
expected_differences: []
#  - table: accounts
#    column: balance
#    kind: type_narrowing       # see FindingKind in schemas/plan.schema.json; omit for any kind
#    reason: amounts above 10^8 were archived before cutover (TICKET-123)
#    reviewer: Ana Lima <ana@example.com>
#    expires: 2027-03-31
"""
