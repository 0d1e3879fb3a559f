"""Python's multiprocessing.Pool beside benches/process.rs's pool rows: per-task
overhead of map() on a trivial function at chunksize 1 and at the default, and
the CPU-bound primes speedup. Prints medians.

    python3 benches/pool_python.py
"""
import multiprocessing as mp
import os
import statistics
import time

TASKS = 2000


def inc(x):
    return x + 1


def count_primes(bounds):
    lo, hi = bounds
    n_primes = 0
    for n in range(max(lo, 2), hi):
        d = 2
        while d * d <= n:
            if n % d == 0:
                break
            d += 1
        else:
            n_primes += 1
    return n_primes


def median_time(f, runs):
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


if __name__ == "__main__":
    workers = os.cpu_count() or 2
    with mp.get_context("fork").Pool(workers) as pool:
        pool.map(inc, range(100))  # warm up
        for label, chunksize in (("chunksize_1", 1), ("chunksize_default", None)):
            t = median_time(lambda: pool.map(inc, range(TASKS), chunksize=chunksize), 10)
            print(f"python pool/map_trivial/{label}: {t / TASKS * 1e6:.2f} us per task")
        chunks = [(i * 31_250, (i + 1) * 31_250) for i in range(64)]
        serial = median_time(lambda: sum(map(count_primes, chunks)), 1)
        parallel = median_time(lambda: sum(pool.map(count_primes, chunks, chunksize=1)), 1)
        print(f"python pool/cpu_bound_primes: serial {serial:.2f} s, pool_{workers} {parallel:.2f} s, "
              f"speedup {serial / parallel:.2f}x")
