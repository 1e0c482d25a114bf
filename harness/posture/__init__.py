"""Posture: the database that remains is encrypted, backed up, protected and not public.

Public API: :func:`live_results` (boto3), :func:`template_results`
(synthesized CloudFormation, when no account is reachable), :data:`CHECKS`.
"""

from __future__ import annotations

from harness.posture.checks import CHECKS
from harness.posture.live import live_results
from harness.posture.settings import PostureSettings
from harness.posture.template import template_results

__all__ = ["CHECKS", "PostureSettings", "live_results", "template_results"]
