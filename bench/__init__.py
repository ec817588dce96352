"""The benchmark: a large generated network (generate.py), the measurements
(run.py), the load generator's script (locustfile.py). See bench/README.md."""

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mcnet_bench"
