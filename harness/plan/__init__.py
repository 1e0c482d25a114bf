"""The plan: what to compare, how to reach it, which differences are expected.

``load`` reads and validates a plan file into the frozen models of ``model`` (each section
built on ``base``); ``scope`` matches its table selection against both catalogs; ``naming``
maps source names to target names; ``schema`` is its JSON Schema and ``template`` the plan
``cutover init`` writes.
"""
