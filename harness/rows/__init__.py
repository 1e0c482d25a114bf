"""Row-level data parity: a value canon, segment checksums inside the databases, and a
bisecting row diff that names the exact rows and columns that differ."""
