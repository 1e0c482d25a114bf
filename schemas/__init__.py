"""JSON Schemas of the plan file and of results.json, shipped with cutover (readers of
results.json validate against ``results.schema.json``)."""
