"""A PostgreSQL side: the server computes checksums itself; only counts and digests cross
the wire.

The first pass is one scan; on a server that ends transactions after five minutes (Aurora
DSQL: ``PostgresDatabase.bounded``) it goes in statements of at most :data:`BOUNDED_SEGMENTS`
segments and key samples are read a few keys at a time, so no statement spans a large
table. Every later query is bounded by segments, and a dropped connection retries just that
query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from harness.db.database import PostgresDatabase
from harness.errors import CheckError
from harness.rows import canon
from harness.rows.encode import HASH_PROBE_SQL, ROW_HASH_SQL, SERVER_ROW_HASH_SQL
from harness.rows.segments import ALL_KEYS, BoundarySegments, IntSegments, Key, Range, Segmenter
from harness.rows.sides.base import Checksums, ColumnPlan, Rows, Side, Survey

RETRIES = 3
BOUNDED_SEGMENTS = 100
"""Segments one statement may cover on a server that ends transactions after five minutes
(Aurora DSQL): ~1,000,000 rows at the default segment size."""
T = TypeVar("T")


class PostgresSide(Side):
    def __init__(
        self,
        db: PostgresDatabase,
        role: str,
        table: str,
        columns: Sequence[ColumnPlan],
        key: Sequence[int],
        *,
        text_keys: Sequence[bool],
        fields: bool,
    ) -> None:
        super().__init__(db.display, table, columns, key)
        self.fields = fields
        self.db = db
        self.bounded = db.bounded
        self.role = role
        self._from = sql.Identifier(db.schema, table)
        self._text_keys = tuple(text_keys)
        self._declared_types: dict[str, str] | None = None
        self._serial_session: psycopg.Connection[Any] | None = None
        # Text keys are ranged in byte order (SQLite's BINARY, Aurora DSQL's C). A column
        # that already sorts that way needs no COLLATE "C", which would bypass its index.
        self._collate_c = tuple(
            text and not self._byte_ordered(self.columns[i])
            for text, i in zip(self._text_keys, self.key, strict=True)
        )
        values = [self._value(c) for c in self.columns]
        if fields:
            cells = [
                sql.SQL(form.sql("{c}", "{v}")).format(c=self._ident(column), v=value)
                for column, form, value in zip(self.columns, self._forms, values, strict=True)
            ]
            self._row = sql.SQL(" || ',' || ").join(cells)
            # The segment's fields in key order, column by column, hashed once.
            order = sql.SQL(", ").join(self._key_expr(i) for i in range(len(self.key)))
            aggregates = [
                sql.SQL("string_agg({f}, ',' ORDER BY {o})").format(f=cell, o=order)
                for cell in cells
            ]
            self._checksum = sql.SQL("md5({})").format(sql.SQL(" || ',' || ").join(aggregates))
        else:
            self._row = sql.SQL("ROW({})::text").format(sql.SQL(", ").join(values))
        self._hash = sql.SQL(ROW_HASH_SQL).format(row=self._row)
        if not fields:
            self._checksum = sql.SQL("sum({})").format(self._hash)
        self._canon = [self._canon_text(c) for c in self.columns]

    def use_server_hash(self) -> None:
        self._checksum = sql.SQL("sum({})").format(
            sql.SQL(SERVER_ROW_HASH_SQL).format(row=self._row)
        )

    def _offers_server_hash(self) -> bool:
        """Record rows on PostgreSQL 11 or later (``hashtextextended``), not Aurora DSQL,
        where the function is unconfirmed (read from the connection: no round trip)."""
        return not (self.fields or self.bounded) and self.db.conn.info.server_version >= 110000

    def name(self, column: ColumnPlan) -> str:
        return column.target if self.role == "target" else column.source

    def _ident(self, column: ColumnPlan) -> sql.Composable:
        return sql.Identifier(self.name(column))

    def _value(self, column: ColumnPlan) -> sql.Composable:
        if column.raw:
            spelled = self._raw_text(column)
            return self._ident(column) if spelled is None else spelled
        return sql.SQL(canon.sql("{col}", column.type, column.options)).format(
            col=self._ident(column)
        )

    def _canon_text(self, column: ColumnPlan) -> sql.Composable:
        if column.raw and self._raw_text(column) is None:
            return sql.SQL("{}::text").format(self._ident(column))
        return self._value(column)

    def _raw_text(self, column: ColumnPlan) -> sql.Composable | None:
        """A raw column's text spelled out where PostgreSQL's own would depend on a setting
        no session can pin everywhere (:func:`canon.raw_sql`), else None: the value itself."""
        if column.type.family == "bytes":
            declared: str | None = "bytea"
        elif (column.type.family, column.type.precision) == ("numeric", None) or (
            column.type.family == "other"
        ):
            declared = self._declared().get(self.name(column))  # money, arrays
        else:
            return None
        form = canon.raw_sql("{col}", declared) if declared else None
        return None if form is None else sql.SQL(form).format(col=self._ident(column))

    def _declared(self) -> dict[str, str]:
        """Column name → declared type, from the session's catalog (read once per session)."""
        if self._declared_types is None:
            found = self.db.catalog().table(self.table)
            columns = found.columns if found is not None else ()
            self._declared_types = {c.name: c.declared_type for c in columns}
        return self._declared_types

    def _key_expr(self, i: int) -> sql.Composable:
        ident = self._ident(self.columns[self.key[i]])
        # Byte order for text keys, as SQLite's BINARY and Aurora DSQL's C collation sort.
        return sql.SQL('{} COLLATE "C"').format(ident) if self._collate_c[i] else ident

    def _byte_ordered(self, column: ColumnPlan) -> bool:
        """Whether the column's collation is C or POSIX (its own or the database's)."""
        query = sql.SQL(
            "SELECT CASE WHEN c.collname = 'default' THEN d.datlocprovider = 'c'"
            " AND d.datcollate IN ('C', 'POSIX') ELSE c.collname IN ('C', 'POSIX', 'ucs_basic')"
            " END FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation"
            " JOIN pg_database d ON d.datname = current_database()"
            " WHERE a.attrelid = %s::regclass AND a.attname = %s"
        )
        table = f'"{self.db.schema}"."{self.table}"'
        rows = self._run(query, (table, self.name(column)))
        return bool(rows and rows[0][0])

    def _where(self, within: Range) -> tuple[sql.Composable, list[Any]]:
        parts: list[sql.Composable] = []
        params: list[Any] = []
        for bound, op in ((within.lo, ">="), (within.hi, "<")):
            if bound is not None:
                clause, values = self._compare(bound, op)
                parts.append(clause)
                params += values
        if not parts:
            return sql.SQL("true"), []
        return sql.SQL(" AND ").join(parts), params

    def _compare(self, bound: Key, op: str) -> tuple[sql.Composable, list[Any]]:
        """Lexicographic ``key OP bound``, spelled out so each part keeps its collation."""
        strict = "<" if op.startswith("<") else ">"
        keys = [self._key_expr(i) for i in range(len(self.key))]
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        for i in range(len(keys)):
            eq = [sql.SQL("{} = %s").format(keys[j]) for j in range(i)]
            last = op if i == len(keys) - 1 else strict
            clauses.append(
                sql.SQL("({})").format(
                    sql.SQL(" AND ").join([*eq, sql.SQL(f"{{}} {last} %s").format(keys[i])])
                )
            )
            params += [*bound[:i], bound[i]]
        return sql.SQL("({})").format(sql.SQL(" OR ").join(clauses)), params

    def _run(
        self, query: sql.SQL | sql.Composed, params: Sequence[Any] = ()
    ) -> list[tuple[Any, ...]]:
        return _retrying(self.db, lambda: self.db.conn.execute(query, params).fetchall())

    def repeated_key(self) -> Key | None:
        names = sql.SQL(", ").join(self._ident(self.columns[i]) for i in self.key)
        query = sql.SQL("SELECT {k} FROM {t} GROUP BY {k} HAVING count(*) > 1 LIMIT 1").format(
            k=names, t=self._from
        )
        rows = self._run(query)
        return tuple(rows[0]) if rows else None

    def survey(self, *, integer_key: bool, within: Range = ALL_KEYS, nulls: bool = True) -> Survey:
        """One statement: the three questions as scalar subqueries (each reads the key's
        index or the catalog, none the table twice)."""
        params: list[Any] = []
        if integer_key:
            where, where_params = self._where(within)
            bounds = self._bounds_sql(where)
            params += [*where_params, *where_params]
        else:
            bounds = sql.SQL("NULL::bigint, NULL::bigint")
        count = sql.SQL("({})").format(self._null_keys_sql()) if nulls else sql.SQL("0")
        probe = sql.SQL(HASH_PROBE_SQL if self._offers_server_hash() else "NULL::bigint")
        query = sql.SQL("SELECT {n}, {b}, ({e}), {p}").format(
            n=count, b=bounds, e=self._estimate_sql(), p=probe
        )
        nulls_found, lo, hi, estimate, hashed = self._run(query, [*params, self._regclass()])[0]
        bounded = None if lo is None else (int(lo), int(hi))
        return Survey(int(nulls_found), bounded, _positive(estimate), hashed)

    def _null_keys_sql(self) -> sql.Composed:
        test = sql.SQL(" OR ").join(
            sql.SQL("{} IS NULL").format(self._ident(self.columns[i])) for i in self.key
        )
        return sql.SQL("SELECT count(*) FROM {t} WHERE {w}").format(t=self._from, w=test)

    def _bounds_sql(self, where: sql.Composable) -> sql.Composable:
        bound = sql.SQL("(SELECT {f}({k})::bigint FROM {t} WHERE {w})")
        k, t = self._key_expr(0), self._from
        return sql.SQL(", ").join(
            bound.format(f=sql.SQL(f), k=k, t=t, w=where) for f in ("min", "max")
        )

    def _estimate_sql(self) -> sql.SQL:
        return sql.SQL("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass")

    def _regclass(self) -> str:
        return f'"{self.db.schema}"."{self.table}"'

    def null_keys(self) -> int:
        return int(self._run(self._null_keys_sql())[0][0])

    def key_bounds(self) -> tuple[int, int] | None:
        row = self._run(sql.SQL("SELECT {}").format(self._bounds_sql(sql.SQL("true"))))[0]
        return None if row[0] is None else (int(row[0]), int(row[1]))

    def estimate_rows(self) -> int | None:
        return _positive(self._run(self._estimate_sql(), (self._regclass(),))[0][0])

    def checksums(self, segments: Segmenter, within: Range) -> Checksums:
        if not self.db.bounded:
            return self.checksums_many([(segments, within)])[0]
        out: Checksums = {}  # one statement per block of segments, none over the whole table
        for block in self._blocks(segments, within):
            out.update(self.checksums_many([(segments, block)])[0])
        return out

    def _blocks(self, segments: Segmenter, within: Range) -> list[Range]:
        """``within`` cut at segment boundaries into ranges of at most BOUNDED_SEGMENTS
        segments, for a server whose transactions end after five minutes."""
        if isinstance(segments, IntSegments):
            if within.lo is not None and within.hi is not None:
                low, high = int(within.lo[0]), int(within.hi[0]) - 1
            else:
                keys = self.key_bounds()  # reads the two ends of the key's index
                if keys is None:
                    return [within]  # an empty table
                low = max(keys[0], int(within.lo[0])) if within.lo is not None else keys[0]
                high = min(keys[1], int(within.hi[0]) - 1) if within.hi is not None else keys[1]
            first, last = segments.segment((low,)), segments.segment((max(low, high),))
        else:
            assert isinstance(segments, BoundarySegments)
            first, last = 0, len(segments.boundaries)
        blocks = []
        for start in range(first, last + 1, BOUNDED_SEGMENTS):
            end = start + BOUNDED_SEGMENTS  # the next block's first segment
            blocks.append(
                Range(
                    within.lo if start == first else segments.range(start).lo,
                    within.hi if end > last else segments.range(end).lo,
                )
            )
        return blocks

    def checksums_many(self, jobs: Sequence[tuple[Segmenter, Range]]) -> list[Checksums]:
        # One round trip for the lot: each job's grouped query, UNION ALL, tagged with its job.
        out: list[Checksums] = [{} for _ in jobs]
        parts: list[sql.Composable] = []
        params: list[Any] = []
        for number, (segments, within) in enumerate(jobs):
            grouped = self._grouped(segments, within)
            if grouped is None:
                out[number] = self._per_range(segments)
                continue
            query, job_params = grouped
            tag = sql.Literal(number)
            parts.append(sql.SQL("SELECT {}, q.* FROM ({}) q").format(tag, query))
            params += job_params
        if parts:
            query = sql.SQL(" UNION ALL ").join(parts)
            rows = self._run_serial(query, params) if self.fields else self._run(query, params)
            for job, seg, n, total in rows:
                out[job][int(seg)] = (int(n), self._total(total))
        return out

    def _grouped(self, segments: Segmenter, within: Range) -> tuple[sql.Composed, list[Any]] | None:
        """One scan numbering rows into ``segments`` inside ``within``, giving (segment,
        count, checksum) rows; None for a composite key's boundaries."""
        where, params = self._where(within)
        if isinstance(segments, IntSegments):
            # key - lo overflows a bigint when the keys span more than half its range (a
            # negative lo): numeric then, exact and slower, for those tables only.
            wide = segments.lo < 0 or segments.width > 2**62
            form = "div({}::numeric - %s, %s)" if wide else "({}::bigint - %s) / %s"
            seg = sql.SQL(form).format(self._key_expr(0))
            seg_params: list[Any] = [segments.lo, segments.width]
        elif isinstance(segments, BoundarySegments) and len(self.key) == 1:
            # width_bucket() numbers segments as bisect_right does (and follows the operand's
            # collation), where per-range queries on a COLLATE "C" expression could not use a
            # default-collation index.
            typed = sql.SQL("%s::text[]" if self._text_keys[0] else "%s")
            seg = sql.SQL("width_bucket({}, {})").format(self._key_expr(0), typed)
            seg_params = [[b[0] for b in segments.boundaries]]
        else:
            return None
        query = sql.SQL("SELECT {s} AS seg, count(*), {c} FROM {t} WHERE {w} GROUP BY 1").format(
            s=seg, c=self._checksum, t=self._from, w=where
        )
        return query, [*seg_params, *params]

    def _per_range(self, segments: Segmenter) -> Checksums:
        """A composite key: a query per segment, each a range of the key's index."""
        assert isinstance(segments, BoundarySegments)
        out: Checksums = {}
        for number in range(len(segments.boundaries) + 1):
            part, part_params = self._where(segments.range(number))
            query = sql.SQL("SELECT count(*), {c} FROM {t} WHERE {p}").format(
                c=self._checksum, t=self._from, p=part
            )
            ((n, total),) = self._run(query, part_params)
            if n:
                out[number] = (int(n), self._total(total))
        return out

    def _run_serial(self, query: sql.Composed, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """``query`` without parallel workers: their sort gains nothing for the digests
        (measured 2.93 s with two, 3.00 s without, a million rows), and a check run against
        a production database should not take its cores. The SET goes once per session (a
        reconnect resets it), pipelined with the query: no round trip of its own over a
        link. Aurora DSQL refuses the SET (not on its allowlist) and plans on its own, so it
        is not sent there."""
        if self.db.bounded or self._serial_session is self.db.conn:
            return self._run(query, params)

        def run() -> list[tuple[Any, ...]]:
            conn = self.db.conn
            with conn.pipeline():
                conn.execute("SET max_parallel_workers_per_gather = 0")
                cursor = conn.execute(query, params)
            self._serial_session = conn
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows

        return _retrying(self.db, run)

    def _total(self, value: Any) -> int | str:
        return str(value) if self.fields else int(value)

    def sample_keys(self, every: int, within: Range) -> list[Key]:
        if self.db.bounded:
            return self._sample_keys_stepwise(every, within)
        where, params = self._where(within)
        keys = [self._key_expr(i) for i in range(len(self.key))]
        names = [self._ident(self.columns[i]) for i in self.key]
        query = sql.SQL(
            "SELECT {n} FROM (SELECT {n}, row_number() OVER (ORDER BY {o}) AS rn FROM {t}"
            " WHERE {w}) s WHERE rn %% %s = 0 ORDER BY rn"
        ).format(n=sql.SQL(", ").join(names), o=sql.SQL(", ").join(keys), t=self._from, w=where)
        return [tuple(row) for row in self._run(query, [*params, every])]

    def _sample_keys_stepwise(self, every: int, within: Range) -> list[Key]:
        """:meth:`sample_keys` as one short statement per sample, each reading ``every``
        keys along the index from the last sample: none spans the table."""
        keys = sql.SQL(", ").join(self._key_expr(i) for i in range(len(self.key)))
        names = sql.SQL(", ").join(self._ident(self.columns[i]) for i in self.key)
        out: list[Key] = []
        while True:
            where, params = self._where(within)
            if out:
                after, after_params = self._compare(out[-1], ">")
                where = sql.SQL("{} AND {}").format(where, after)
                params += after_params
            query = sql.SQL("SELECT {n} FROM {t} WHERE {w} ORDER BY {k} OFFSET %s LIMIT 1").format(
                n=names, t=self._from, w=where, k=keys
            )
            rows = self._run(query, [*params, every - 1])
            if not rows:
                return out
            out.append(tuple(rows[0]))

    def fetch(self, within: Range) -> Rows:
        return self.fetch_many([within])

    def fetch_many(self, ranges: Sequence[Range]) -> Rows:
        wheres: list[sql.Composable] = []
        params: list[Any] = []
        for within in ranges:
            where, range_params = self._where(within)
            wheres.append(sql.SQL("({})").format(where))
            params += range_params
        query = sql.SQL("SELECT {c} FROM {t} WHERE {w}").format(
            c=sql.SQL(", ").join(self._canon), t=self._from, w=sql.SQL(" OR ").join(wheres)
        )
        return self._by_key(tuple(row) for row in self._run(query, params))

    def multiset(self, buckets: Sequence[str] | None) -> tuple[Checksums, dict[str, int]]:
        if buckets is None:
            query = sql.SQL(
                "SELECT ('x' || left(md5({r}), 1))::bit(4)::int, count(*), sum({h}) FROM {t}"
                " GROUP BY 1"
            ).format(r=self._row, h=self._hash, t=self._from)
            return {int(b): (int(n), int(s)) for b, n, s in self._run(query)}, {}
        query = sql.SQL(
            "SELECT {r}, count(*) FROM {t} WHERE left(md5({r}), 1) = ANY(%s) GROUP BY 1"
        ).format(r=self._row, t=self._from)
        rows = self._run(query, [list(buckets)])
        self.rows_fetched += sum(int(n) for _, n in rows)
        return {}, {text: int(n) for text, n in rows}


def _positive(estimate: Any) -> int | None:
    """A row estimate, None where the server has none (``-1``: never analysed; 0)."""
    return int(estimate) if estimate is not None and estimate > 0 else None


def _retrying(db: PostgresDatabase, run: Callable[[], T]) -> T:
    """Run one bounded query; a dropped connection is reopened and the query retried."""
    for attempt in range(1, RETRIES + 1):
        try:
            return run()
        except psycopg.OperationalError as exc:
            if attempt == RETRIES:
                raise CheckError(
                    f"{db.display}: connection lost {RETRIES} times during a segment "
                    f"({str(exc).strip().splitlines()[0]})"
                ) from None
            db.reconnect()
        except psycopg.Error as exc:
            raise CheckError(f"{db.display}: {str(exc).strip().splitlines()[0]}") from None
    raise AssertionError("unreachable")
