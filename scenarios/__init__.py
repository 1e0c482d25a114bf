"""Stock verification scenarios, parametrized from the plan (run with ``cutover verify``)."""
