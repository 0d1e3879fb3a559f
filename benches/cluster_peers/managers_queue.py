"""Peer for benches/cluster.rs: Python's multiprocessing.managers queue
(the stdlib's cross-host queue), 4 producer / 4 consumer processes.

usage: python3 managers_queue.py ITEMS   -> prints "items_per_sec X"
"""
import multiprocessing as mp
import queue
import sys
import time
from multiprocessing.managers import BaseManager

_q = queue.Queue()


class QueueManager(BaseManager):
    pass


QueueManager.register("get_queue", callable=lambda: _q)

AUTH = b"threadlet-bench"


def producer(address, start, count):
    m = QueueManager(address=address, authkey=AUTH)
    m.connect()
    q = m.get_queue()
    for i in range(start, start + count):
        q.put(i)


def consumer(address, count, done):
    m = QueueManager(address=address, authkey=AUTH)
    m.connect()
    q = m.get_queue()
    for _ in range(count):
        q.get()
        q.task_done()
    done.put(1)


def main():
    items = int(sys.argv[1])
    per = items // 4
    manager = QueueManager(address=("127.0.0.1", 0), authkey=AUTH)
    manager.start()
    address = manager.address
    done = mp.Queue()
    procs = [mp.Process(target=consumer, args=(address, per, done)) for _ in range(4)]
    procs += [mp.Process(target=producer, args=(address, p * per, per)) for p in range(4)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    manager.shutdown()
    print(f"items_per_sec {4 * per / elapsed:.1f}")


if __name__ == "__main__":
    main()
