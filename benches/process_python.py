"""Python's multiprocessing.Process start+join of a no-op target, per start
method: the peer row for benches/process.rs. Prints the median in ms.

    python3 benches/process_python.py
"""
import multiprocessing as mp
import statistics
import time


def noop():
    pass


if __name__ == "__main__":
    for method, n in (("fork", 300), ("forkserver", 100), ("spawn", 40)):
        ctx = mp.get_context(method)
        for _ in range(3):  # warm up (forkserver starts its server here)
            p = ctx.Process(target=noop)
            p.start()
            p.join()
        samples = []
        for _ in range(n):
            t = time.perf_counter()
            p = ctx.Process(target=noop)
            p.start()
            p.join()
            samples.append(time.perf_counter() - t)
        print(f"python {method:<10} start+join median {statistics.median(samples) * 1e3:.3f} ms")
