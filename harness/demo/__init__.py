"""``cutover demo``: a SQLite application, its queries, its migration and its verification."""
