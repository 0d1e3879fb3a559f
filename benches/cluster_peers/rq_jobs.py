"""The job RQ workers run for benches/cluster.rs: counts itself in Redis."""
import os

from redis import Redis

_conn = None


def count(x):
    global _conn
    if _conn is None:
        _conn = Redis.from_url(os.environ["THREADLET_BENCH_REDIS"])
    _conn.incr("threadlet-bench:done")
    return x
