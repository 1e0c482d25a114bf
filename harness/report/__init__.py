"""Reports rendered from a run's ``results.json``; :mod:`harness.report.html` is the HTML page."""
