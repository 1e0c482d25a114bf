"""``cutover dynamo snapshot``: per table, the item count and an order-independent digest.

Each table is read with a parallel scan (``Segment``/``TotalSegments``), each segment paginated
through ``LastEvaluatedKey`` in its own thread (boto3 clients are thread-safe; resources are
not, so only the low-level client is used). Only hashes are kept: a snapshot never holds or
writes item values, so it is safe to attach to a review.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.dynamo.digest import combine, hexdigest, item_hash
from harness.dynamo.settings import DynamoSettings
from harness.errors import HarnessError

FORMAT = "cutover-dynamo-snapshot"
VERSION = 1


class DynamoError(HarnessError):
    """A table could not be read, or a snapshot file cannot be used."""

    def __init__(self, message: str, *, table: str | None = None, path: str | None = None):
        self.table = table
        self.path = path
        where = path or (f"table {table}" if table else None)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class TableSnapshot:
    """One table's state: how many items, and the digest of all of them."""

    items: int
    digest: str
    segments: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "digest": self.digest,
            "segments": self.segments,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Snapshot:
    """Every table of a plan at one moment."""

    taken_at: str
    region: str | None
    tables: dict[str, TableSnapshot]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "taken_at": self.taken_at,
            "region": self.region,
            "tables": {name: t.to_dict() for name, t in sorted(self.tables.items())},
        }


OnPage = Callable[[str, int], None]
"""Called with (table, items in the page) after every page: drives the progress bar."""


def client_for(settings: DynamoSettings) -> Any:
    """A DynamoDB client for the plan's region and endpoint (boto3 resolves the rest)."""
    boto3 = importlib.import_module("boto3")  # untyped; imported late so --help stays fast
    return boto3.client("dynamodb", region_name=settings.region, endpoint_url=settings.endpoint_url)


def scan_table(
    client: Any,
    table: str,
    *,
    segments: int = 4,
    consistent_read: bool = True,
    on_page: OnPage | None = None,
) -> TableSnapshot:
    """Count and digest every item of ``table`` with ``segments`` parallel scans."""
    started = time.perf_counter()

    def segment(number: int) -> tuple[int, int]:
        count, total = 0, 0
        request: dict[str, Any] = {
            "TableName": table,
            "Segment": number,
            "TotalSegments": segments,
            "ConsistentRead": consistent_read,
        }
        while True:
            page = client.scan(**request)
            items = page.get("Items", [])
            count += len(items)
            total = combine(total, *(item_hash(item) for item in items))
            if on_page is not None:
                on_page(table, len(items))
            if "LastEvaluatedKey" not in page:
                return count, total
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    with ThreadPoolExecutor(max_workers=segments, thread_name_prefix=f"scan-{table}") as pool:
        parts = list(pool.map(segment, range(segments)))
    return TableSnapshot(
        items=sum(count for count, _ in parts),
        digest=hexdigest(combine(*(digest for _, digest in parts))),
        segments=segments,
        seconds=time.perf_counter() - started,
    )


def take_snapshot(
    settings: DynamoSettings, *, client: Any = None, on_page: OnPage | None = None
) -> Snapshot:
    """Snapshot every table of the plan; a table that cannot be read is a DynamoError."""
    errors = importlib.import_module("botocore.exceptions")
    ClientError, BotoCoreError = errors.ClientError, errors.BotoCoreError

    client = client or client_for(settings)
    tables: dict[str, TableSnapshot] = {}
    for table in settings.tables:
        try:
            tables[table] = scan_table(
                client,
                table,
                segments=settings.segments,
                consistent_read=settings.consistent_read,
                on_page=on_page,
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise DynamoError(
                f"cannot scan: {error.get('Code', 'error')}: {error.get('Message', '')}",
                table=table,
            ) from None
        except BotoCoreError as exc:
            raise DynamoError(f"cannot scan: {exc}", table=table) from None
    region = getattr(getattr(client, "meta", None), "region_name", settings.region)
    return Snapshot(datetime.now(UTC).isoformat(timespec="seconds"), region, tables)


def snapshot_with_progress(settings: DynamoSettings, *, client: Any = None) -> Snapshot:
    """:func:`take_snapshot` with a rich progress bar per table on stderr."""
    from rich.console import Console
    from rich.progress import Progress

    client = client or client_for(settings)
    with Progress(console=Console(stderr=True), transient=False) as progress:
        tasks = {
            table: progress.add_task(f"scan {table}", total=_estimate(client, table))
            for table in settings.tables
        }

        def advance(table: str, items: int) -> None:
            progress.advance(tasks[table], items)

        snap = take_snapshot(settings, client=client, on_page=advance)
        for table, task in tasks.items():
            progress.update(
                task, total=snap.tables[table].items, completed=snap.tables[table].items
            )
    return snap


def _estimate(client: Any, table: str) -> int | None:
    """DescribeTable's item count (refreshed about every six hours): a total for the bar."""
    try:
        count = client.describe_table(TableName=table)["Table"].get("ItemCount")
    except Exception:  # the scan itself reports unreadable tables; the bar just has no total
        return None
    return int(count) if count else None


def write_snapshot(snapshot: Snapshot, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snapshot.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def read_snapshot(path: Path) -> Snapshot:
    """Read a snapshot file; anything else is a DynamoError naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DynamoError("no such snapshot file", path=str(path)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DynamoError(f"not a snapshot file ({exc})", path=str(path)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DynamoError(f"not a {FORMAT} file", path=str(path))
    if data.get("version") != VERSION:
        raise DynamoError(
            f"snapshot version {data.get('version')!r} is not supported (this cutover "
            f"reads version {VERSION}); take both snapshots with the same cutover",
            path=str(path),
        )
    try:
        tables = {
            name: TableSnapshot(
                int(t["items"]), str(t["digest"]), int(t["segments"]), float(t["seconds"])
            )
            for name, t in data["tables"].items()
        }
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DynamoError(f"malformed snapshot ({exc!r})", path=str(path)) from None
    return Snapshot(str(data.get("taken_at")), data.get("region"), tables)
