"""Throughput of ``cutover lint`` against AWS's ``dsql-lint`` on the same generated corpus.

    python benchmarks/lint.py [--mb 6] [--corpus DIR] [--rounds 3] [--compare] [--baseline DIR]

Generates a corpus of realistic SQL (pg_dump-style schema dumps with data, Flyway-style
migration folders, application query files) of at least ``--mb`` megabytes into a temporary
folder (nothing large is committed), then times each tool as a whole process on the same
files: ``python -m harness.lint --format json DIR`` on all cores (the default) and with
``--jobs 1`` (one core, as dsql-lint runs), and ``dsql-lint --format json FILES…``. The
three commands run interleaved for ``--rounds`` rounds and each keeps its fastest round, so
load from other processes on a shared machine weighs on all three alike; CPU seconds (user
and system, worker processes included) are reported beside the wall times, as the steadier
figure on a loaded machine. Throughput is MB of SQL per second; the ratios are cutover's
time over dsql-lint's (≤ 1.0 means cutover is at least as fast): ``ratio`` for the default,
``ratio_one_core`` for ``--jobs 1``. ``sqlglot_compiled`` says whether sqlglot's compiled
build (the ``fast`` extra, sqlglotc) was in use, since it changes the parse time most.
``cpu_ratio`` and ``cpu_ratio_one_core`` are the same ratios of CPU seconds. ``--compare``
also prints the statements where the two tools disagree on flagged / not flagged.
``--baseline DIR`` also times another checkout of cutover (a folder holding its ``harness``
package, e.g. ``git archive <commit> harness | tar -x -C DIR``) on one core in the same
interleaved rounds, for a before/after on equal load, and says whether its JSON output is
byte-identical to this checkout's (``baseline_same_output``). The last printed line is one
JSON object with all figures.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHOP = REPO / "tests" / "data" / "lint" / "pg_dump" / "shop.sql"
MIGRATIONS = REPO / "tests" / "data" / "lint" / "migrations"

QUERIES = [
    "SELECT o.id, o.total, c.email FROM orders o JOIN customers c ON c.id = o.customer_id "
    "WHERE o.placed_at > now() - interval '7 days' ORDER BY o.placed_at DESC LIMIT 50;",
    "UPDATE orders SET status = 'paid' WHERE id = {n};",
    "DELETE FROM sessions WHERE expires_at < now() AND user_id = {n};",
    "INSERT INTO audit_log (actor, action, at) VALUES ('svc', 'login', now()) "
    "ON CONFLICT DO NOTHING;",
    "SELECT count(*) FROM orders WHERE customer_id = {n};",
    "WITH recent AS (SELECT * FROM orders WHERE placed_at > now() - interval '1 day') "
    "SELECT customer_id, sum(total) FROM recent GROUP BY customer_id HAVING sum(total) > {n};",
    "SELECT * FROM accounts WHERE id = {n} FOR UPDATE;",
    "CREATE INDEX ASYNC IF NOT EXISTS orders_{n}_idx ON orders (customer_id, placed_at);",
    "ALTER TABLE accounts ADD COLUMN note_{n} TEXT;",
]


def _rows(rng: random.Random, n: int) -> str:
    values = ",\n".join(
        f"({i}, 'user{i}@example.com', 'Name {rng.randint(1, 10**6)}', {rng.random() * 1000:.2f}, "
        f"'2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 10:00:00+00')"
        for i in range(n)
    )
    head = "INSERT INTO public.customers_copy (id, email, name, balance, created_at) VALUES"
    return f"{head}\n{values};\n"


def _copy_block(rng: random.Random, n: int) -> str:
    lines = "".join(
        f"{i}\tuser{i}@example.com\tName {rng.randint(1, 10**6)}\t{rng.random() * 1000:.2f}\n"
        for i in range(n)
    )
    return f"COPY public.customers_copy (id, email, name, balance) FROM stdin;\n{lines}\\.\n"


def generate(folder: Path, megabytes: float, seed: int = 7) -> list[Path]:
    """Write the corpus; returns the files. Deterministic for a given seed."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    shop = SHOP.read_text(encoding="utf-8")
    migrations = [p.read_text(encoding="utf-8") for p in sorted(MIGRATIONS.glob("*.sql"))]
    files: list[Path] = []
    total = 0
    index = 0
    target = int(megabytes * 1024 * 1024)
    while total < target:
        kind = index % 4
        if kind == 0:  # a schema dump with data (INSERT and COPY), ~120 KB
            body = shop.replace("shop_owner", f"owner_{index}")
            body += "".join(_rows(rng, 200) for _ in range(3)) + _copy_block(rng, 600)
            name = f"dump_{index:04d}.sql"
        elif kind == 1:  # a migration folder's worth of files, concatenated per version
            body = "\n".join(migrations[i % len(migrations)] for i in range(40))
            name = f"V{index:04d}__migration.sql"
        else:  # application query files
            body = "\n".join(
                rng.choice(QUERIES).format(n=rng.randint(1, 10**6)) for _ in range(900)
            )
            name = f"queries_{index:04d}.sql"
        path = folder / name
        path.write_text(body + "\n", encoding="utf-8")
        files.append(path)
        total += len(body.encode()) + 1
        index += 1
    return files


def _compiled() -> bool:
    """True when sqlglot's parser is the compiled build (sqlglotc), not the Python source."""
    import sqlglot.parser

    return not str(sqlglot.parser.__file__).endswith(".py")


def _time(cmd: list[str], cwd: Path = REPO) -> tuple[float, int, str, float]:
    """Wall seconds, exit code, stdout and CPU seconds (user + system, worker processes
    included) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=cwd)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, proc.returncode, proc.stdout, cpu


def _statement_of(folder: Path) -> dict[str, list[tuple[int, int]]]:
    """Per file: (first line, last line) of each statement, to map both tools' lines."""
    from harness.lint.split import split

    out = {}
    for path in folder.glob("*.sql"):
        script = split(path.read_text(encoding="utf-8"))
        out[path.name] = [
            (script.position(st.start)[0], script.position(max(st.start, st.end - 1))[0])
            for st in script.statements
        ]
    return out


def _flagged(
    doc: dict[str, Any], spans: dict[str, list[tuple[int, int]]], *, ours: bool
) -> dict[tuple[str, int], set[str]]:
    """(file, statement index) → rule ids, for unsuppressed findings (parse errors included)."""
    out: dict[tuple[str, int], set[str]] = {}
    for file in doc["files"]:
        name = Path(file["path" if ours else "file"]).name
        for d in file["findings" if ours else "diagnostics"]:
            if ours and d.get("suppressed_by"):
                continue
            line = d["line"]
            index = next((i for i, (a, b) in enumerate(spans[name]) if a <= line <= b), -1)
            out.setdefault((name, index), set()).add(d["rule"])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=6.0, help="corpus size (default 6 MB)")
    parser.add_argument("--corpus", type=Path, default=None, help="keep the corpus here")
    parser.add_argument("--compare", action="store_true", help="count disagreeing statements")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (fastest kept)")
    parser.add_argument(
        "--baseline", type=Path, default=None, help="another checkout to time on one core"
    )
    args = parser.parse_args()
    if args.baseline is not None and not (args.baseline / "harness" / "lint").is_dir():
        parser.error(f"--baseline {args.baseline}: no harness/lint package there")
    folder = (args.corpus or Path(tempfile.mkdtemp(prefix="cutover-lint-bench-"))).resolve()
    try:
        files = generate(folder, args.mb)
        size_mb = sum(p.stat().st_size for p in files) / 1024 / 1024
        ours = [sys.executable, "-m", "harness.lint", "--format", "json", str(folder)]
        peer = shutil.which("dsql-lint")
        commands = {"cutover": ours, "cutover_one_core": [*ours[:3], "--jobs", "1", *ours[3:]]}
        if peer is not None:
            commands["dsql_lint"] = [peer, "--format", "json", *map(str, files)]
        if args.baseline is not None:
            commands["baseline_one_core"] = commands["cutover_one_core"]
        best: dict[str, tuple[float, int, str, float]] = {}
        for _ in range(max(1, args.rounds)):
            for name, cmd in commands.items():
                took = _time(cmd, args.baseline.resolve() if name.startswith("baseline") else REPO)
                if name not in best or took[0] < best[name][0]:
                    best[name] = took
        ours_s, ours_rc, ours_out, ours_cpu = best["cutover"]
        one_s, _, one_out, one_cpu = best["cutover_one_core"]
        figures: dict[str, object] = {
            "corpus_mb": round(size_mb, 2),
            "files": len(files),
            "rounds": max(1, args.rounds),
            "sqlglot_compiled": _compiled(),
            "cutover_s": round(ours_s, 3),
            "cutover_mb_s": round(size_mb / ours_s, 3),
            "cutover_one_core_s": round(one_s, 3),
            "cutover_cpu_s": round(ours_cpu, 3),
            "cutover_one_core_cpu_s": round(one_cpu, 3),
            "cutover_exit": ours_rc,
        }
        if args.baseline is not None:
            base_s, _, base_out, base_cpu = best["baseline_one_core"]
            figures.update(
                {
                    "baseline_one_core_s": round(base_s, 3),
                    "baseline_one_core_cpu_s": round(base_cpu, 3),
                    "baseline_same_output": base_out == one_out,
                }
            )
        ours_doc = json.loads(ours_out)
        figures["statements"] = ours_doc["summary"]["statements"]
        figures["unanalysed"] = ours_doc["summary"]["unanalysed"]
        if peer is None:
            figures.update({"dsql_lint_s": None, "ratio": None, "note": "dsql-lint not installed"})
        else:
            peer_s, peer_rc, peer_out, peer_cpu = best["dsql_lint"]
            figures.update(
                {
                    "dsql_lint_s": round(peer_s, 3),
                    "dsql_lint_mb_s": round(size_mb / peer_s, 3),
                    "dsql_lint_exit": peer_rc,
                    "dsql_lint_cpu_s": round(peer_cpu, 3),
                    "ratio": round(ours_s / peer_s, 3),
                    "ratio_one_core": round(one_s / peer_s, 3),
                    "cpu_ratio": round(ours_cpu / peer_cpu, 3),
                    "cpu_ratio_one_core": round(one_cpu / peer_cpu, 3),
                }
            )
            if args.compare:
                spans = _statement_of(folder)
                theirs = _flagged(json.loads(peer_out), spans, ours=False)
                mine = _flagged(ours_doc, spans, ours=True)
                only_theirs = Counter(r for k in theirs.keys() - mine.keys() for r in theirs[k])
                only_ours = Counter(r for k in mine.keys() - theirs.keys() for r in mine[k])
                figures.update(
                    {
                        "statements_flagged_by_both": len(theirs.keys() & mine.keys()),
                        "statements_only_dsql_lint": dict(only_theirs.most_common()),
                        "statements_only_cutover": dict(only_ours.most_common()),
                    }
                )
        print(
            f"corpus {figures['corpus_mb']} MB in {figures['files']} files: cutover "
            f"{figures['cutover_mb_s']} MB/s, dsql-lint {figures.get('dsql_lint_mb_s')} MB/s, "
            f"ratio {figures['ratio']} (one core: {figures.get('ratio_one_core')})"
        )
        print(json.dumps(figures))
    finally:
        if args.corpus is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
