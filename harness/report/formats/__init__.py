"""Machine-readable outputs written beside report.html, each a pure function of its input.

    junit.py     results.json → JUnit XML, for CI test tabs (Jenkins, GitLab, GitHub reporters)
    sarif.py     located findings → SARIF 2.1.0, for code-scanning views; the one SARIF writer,
                 also behind ``cutover lint --format sarif`` (harness.lint.sarif adapts to it)
    findings.py  results.json → the lint and residue findings sarif.py writes as results.sarif

Same input, same bytes: nothing reads the clock, the environment or the file system.
"""

from harness.report.formats.junit import junit_xml
from harness.report.formats.sarif import (
    LINT_STYLE,
    RESULTS_STYLE,
    SarifFinding,
    SarifNotification,
    SarifRule,
    SarifStyle,
    SarifSuppression,
    sarif_json,
    sarif_log,
    sarif_run,
)

__all__ = [
    "LINT_STYLE",
    "RESULTS_STYLE",
    "SarifFinding",
    "SarifNotification",
    "SarifRule",
    "SarifStyle",
    "SarifSuppression",
    "junit_xml",
    "sarif_json",
    "sarif_log",
    "sarif_run",
]
