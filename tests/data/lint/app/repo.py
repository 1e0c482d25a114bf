"""Repository functions of a Flask app (psycopg)."""

import psycopg


def archive_old(conn: psycopg.Connection, table: str) -> None:
    with conn.cursor() as cur:
        cur.execute("SAVEPOINT before_archive")
        cur.execute(f"DELETE FROM {table} WHERE created_at < now() - interval '1 year'")
        cur.execute("RELEASE SAVEPOINT before_archive")


def lock_for_report(conn: psycopg.Connection) -> None:
    # cutover: ignore[DSQL100] the nightly report runs on the PostgreSQL replica until cutover
    conn.execute("SELECT pg_advisory_lock(42)")
    conn.execute(
        """
        SELECT customer_id, sum(amount)
          FROM ledger
         GROUP BY customer_id
           FOR SHARE
        """
    )


HELP = "Delete from the list by pressing the button"  # prose
