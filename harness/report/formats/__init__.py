"""Machine-readable outputs written beside report.html, each a pure function of its input.

    junit.py     results.json → JUnit XML, for CI test tabs (Jenkins, GitLab, GitHub reporters)
    sarif.py     located findings → SARIF 2.1.0, for code-scanning views: the one SARIF writer
    findings.py  results.json (a run's results.sarif) or a lint report (``cutover lint
                 --format sarif``) → the findings sarif.py writes
    rules.py     every lint and residue rule as a SARIF rule with its full help
    root.py      the repository root SARIF paths are relative to

Same input, same bytes: nothing reads the clock, the environment or the file system (but
root.py's :func:`~harness.report.formats.root.find_source_root`, which a run and ``cutover
lint`` call once, before writing).
"""

from harness.report.formats.junit import junit_xml
from harness.report.formats.sarif import (
    SarifFinding,
    SarifNotification,
    SarifRule,
    SarifSuppression,
    sarif_json,
    sarif_log,
    sarif_run,
)

__all__ = [
    "SarifFinding",
    "SarifNotification",
    "SarifRule",
    "SarifSuppression",
    "junit_xml",
    "sarif_json",
    "sarif_log",
    "sarif_run",
]
