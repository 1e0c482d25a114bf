"""Endpoints: a plan's source and target turned into something sessions open on.

``settings`` holds every endpoint model of the plan, ``resolve`` turns one into a
:class:`~harness.endpoints.resolve.Connector` once per run (``aurora``, ``dsql`` and
``secrets`` read the credentials), ``sessions`` opens a run's two sides on them at once,
``retry`` is the one retry discipline, ``redact`` keeps secrets out of everything shown,
``aws`` makes every boto3 client, ``connectivity`` checks that each side answers.
"""
