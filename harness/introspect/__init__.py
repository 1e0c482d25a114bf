"""Fill a :class:`harness.catalog.Catalog` from a live database, one module per dialect."""
