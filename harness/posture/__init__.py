"""Posture: the database that remains is encrypted, backed up, protected, not public, and as
the plan declares it.

Public API: :func:`live_results` (boto3), :func:`template_results` (IaC trees —
CloudFormation, ``cdk.out``, CDK source, Terraform — when no account is reachable),
:data:`CHECKS`.
"""

from __future__ import annotations

from harness.posture.checks import CHECKS
from harness.posture.live import live_results
from harness.posture.settings import PostureSettings
from harness.posture.trees import template_results

__all__ = ["CHECKS", "PostureSettings", "live_results", "template_results"]
