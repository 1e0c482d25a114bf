"""Which facts the posture checks read: the AWS account, or the synthesized templates.

``mode: auto`` (the default) uses the account when boto3 can find credentials and falls back
to the plan's ``templates:`` otherwise, so a laptop without an account still gets the checks
on what ``cdk synth`` produced; the evidence says which was used.
"""

from __future__ import annotations

import importlib
from dataclasses import replace

from harness.posture.checks import AREA
from harness.posture.live import live_results
from harness.posture.settings import PostureSettings
from harness.posture.trees import template_results
from harness.results.check import CheckResult, errored


def resolve_mode(settings: PostureSettings) -> str:
    """``account`` or ``templates``: what ``settings.mode`` means on this machine."""
    if settings.mode != "auto":
        return settings.mode
    botocore = importlib.import_module("botocore.exceptions")
    try:
        session = importlib.import_module("boto3").Session(region_name=settings.region)
        found = session.get_credentials() is not None
    except botocore.BotoCoreError:  # a profile that does not exist, a broken config file…
        found = False
    return "account" if found or not settings.templates else "templates"


def posture_results(settings: PostureSettings) -> list[CheckResult]:
    """Every posture check the plan asks for, each with ``evidence.mode``."""
    mode = resolve_mode(settings)
    if mode == "templates":
        if not settings.templates:
            return [errored(AREA, "templates", "posture.mode is templates but no templates: given")]
        results = template_results(list(settings.templates), settings)
    else:
        results = live_results(settings)
    return [replace(r, evidence={**r.evidence, "mode": mode}) for r in results]
