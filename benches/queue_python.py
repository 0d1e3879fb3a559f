"""Python's multiprocessing.Queue beside benches/process.rs's queue row: a
child process puts N ints, the parent gets them; items per second (median).

    python3 benches/queue_python.py
"""
import multiprocessing as mp
import statistics
import time

N = 5000


def produce(q, n):
    for i in range(n):
        q.put(i)


if __name__ == "__main__":
    for method in ("fork", "spawn"):
        ctx = mp.get_context(method)
        q = ctx.Queue()
        samples = []
        for _ in range(7):
            t = time.perf_counter()
            p = ctx.Process(target=produce, args=(q, N))
            p.start()
            total = sum(q.get() for _ in range(N))
            p.join()
            samples.append(time.perf_counter() - t)
        print(f"python queue/cross_process ({method}): {N / statistics.median(samples):,.0f} items/s")
