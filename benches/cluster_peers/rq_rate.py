"""Peer for benches/cluster.rs: Python RQ's enqueue + work rate with 4
workers (SimpleWorker: no fork per job, RQ's fastest mode) as processes,
started and registered before the clock starts.

usage: python3 rq_rate.py REDIS_URL JOBS   -> prints "items_per_sec X"
"""
import os
import subprocess
import sys
import time

from redis import Redis
from rq import Queue, Worker

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rq_jobs import count  # noqa: E402


def main():
    url, jobs = sys.argv[1], int(sys.argv[2])
    conn = Redis.from_url(url)
    q = Queue("threadlet-bench", connection=conn)
    q.empty()
    conn.delete("threadlet-bench:done")
    env = dict(os.environ, PYTHONPATH=HERE, THREADLET_BENCH_REDIS=url)
    workers = [
        subprocess.Popen(
            ["rq", "worker", "--quiet", "--url", url,
             "--worker-class", "rq.worker.SimpleWorker", "threadlet-bench"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(4)
    ]
    try:
        deadline = time.time() + 60
        while len(Worker.all(queue=q)) < 4:
            if time.time() > deadline:
                sys.exit("rq workers did not start")
            time.sleep(0.05)
        t0 = time.perf_counter()
        for i in range(jobs):
            q.enqueue(count, i, result_ttl=0)
        while int(conn.get("threadlet-bench:done") or 0) < jobs:
            time.sleep(0.005)
        elapsed = time.perf_counter() - t0
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait()
    print(f"items_per_sec {jobs / elapsed:.1f}")


if __name__ == "__main__":
    main()
