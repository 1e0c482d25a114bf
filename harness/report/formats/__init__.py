"""Machine-readable outputs written beside report.html, each a pure function of its input.

    junit.py  results.json → JUnit XML, for CI test tabs (Jenkins, GitLab, GitHub reporters)
    sarif.py  located findings (lint, residue) → SARIF 2.1.0, for code-scanning views

Same input, same bytes: nothing reads the clock, the environment or the file system.
"""

from harness.report.formats.junit import junit_xml
from harness.report.formats.sarif import SarifFinding, SarifRule, sarif_json, sarif_log, sarif_run

__all__ = ["SarifFinding", "SarifRule", "junit_xml", "sarif_json", "sarif_log", "sarif_run"]
