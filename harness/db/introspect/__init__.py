"""Fill a :class:`harness.db.catalog.Catalog` from a live database, one module per dialect."""
