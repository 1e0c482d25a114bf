"""The commented plan that ``cutover init`` writes (a test checks that it validates)."""

SCHEMA_NAME = "plan.schema.json"
"""Written beside the plan by ``cutover init``; the modeline below names it (a path relative
to the YAML file, as the YAML language server reads it)."""

PLAN_TEMPLATE = """\
# yaml-language-server: $schema=plan.schema.json
# cutover verification plan. Schema: plan.schema.json beside this file (`cutover schema`).
# Run: cutover verify --plan THIS_FILE
name: my-migration

# Where the data comes from. Kinds: sqlite, postgres, embedded, container.
source:
  kind: sqlite
  path: app.db                  # relative to this file; opened read-only

# Where it went. For a real server prefer dsn_env, so no secret sits in this file:
#   target: {kind: postgres, dsn_env: TARGET_DSN, schema: public}
# CUTOVER_SOURCE_DSN / CUTOVER_TARGET_DSN override a postgres endpoint's DSN.
# Aurora PostgreSQL / RDS Proxy (credentials only from Secrets Manager; TLS on):
#   target: {kind: aurora, secret: "rds!cluster-...", region: us-east-2, reader_host: ...}
# Aurora DSQL (a fresh IAM token per connection):
#   target: {kind: dsql, endpoint: <id>.dsql.us-east-1.on.aws, role: admin}
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
#  (or `query: NAME` instead of table/column: a reviewed difference in one of the queries below)

# Optional capabilities: each section switches its checks on (README: "Plan file").
# rows: {segment_rows: 10000, sample_cap: 20, columns: {Customer.City: {rtrim: true}}}
# connect: {connect_timeout_s: 5, retry: {initial_s: 0.2, multiplier: 2, cap_s: 5, attempts: 4}}
# queries:                      # the application's queries, answered the same on both sides
#   corpus:
#     orders_of_customer:
#       sql: SELECT id, total FROM orders WHERE customer_id = :customer ORDER BY id
#       generate: {customer: {kind: column, column: orders.customer_id}}
#   paths: [sql/]               # or NAME.sql files
# latency: {default: {p95_ms: 250, max_ratio: 1.5}, health: {runs: 100, min_successes: 99}}
# faults: {paths: [harness, aws], writes: 300}      # failure injection against stand-ins
# lint: {paths: [migrations/, src/db.ts]}           # DSQL compatibility of schema and app SQL
# retired:                      # residue: nothing may still point at the retired database
#   paths: [infra/]
#   cluster_ids: [legacy-aurora]
#   secrets: ["rds!cluster-..."]
#   resource_ids: [cluster-ABCDEFGHIJKLMNOPQRSTUVWXY0]  # what rds-db:connect ARNs name
#   last_rds_database: true     # no RDS database may remain: every rds-db:connect is residue
#   dsql_role: custom           # the backend connects as a custom role (dsql:DbConnect)
# posture: {mode: auto, dsql_cluster: my-cluster, dynamodb_tables: [profiles]}  # docs/posture.md
# dynamo: {tables: [profiles], baseline: dynamo-before.json}
"""
