"""`make bench`: run its scripts as modules from the repo root (`python -m bench.run_bench`)."""
