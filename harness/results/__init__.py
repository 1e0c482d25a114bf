"""Results: what one check returns (``check``) and the run record built from them (``record``)."""
