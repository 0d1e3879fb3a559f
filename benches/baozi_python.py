"""The baozi shop in Python, for benches/queue.rs's `queue/baozi` row: 4 cooks,
4 customers, a steamer of maxsize 100, `task_done` per baozi, `join`, then
`shutdown` (3.13) or sentinels (older Pythons) to send the customers home.

    python3 benches/baozi_python.py threading 20000
    python3 benches/baozi_python.py asyncio 20000

Prints the seconds the workload took (interpreter start excluded).
"""
import asyncio
import queue
import sys
import threading
import time

COOKS = 4
CUSTOMERS = 4
MAXSIZE = 100
STOP = None


def shop_threading(items):
    q = queue.Queue(maxsize=MAXSIZE)

    def cook(c):
        for i in range(items // COOKS):
            q.put(c * items + i)

    def customer():
        while True:
            baozi = q.get()
            q.task_done()
            if baozi is STOP:
                return

    customers = [threading.Thread(target=customer) for _ in range(CUSTOMERS)]
    cooks = [threading.Thread(target=cook, args=(c,)) for c in range(COOKS)]
    start = time.perf_counter()
    for t in customers + cooks:
        t.start()
    for t in cooks:
        t.join()
    q.join()
    for _ in customers:
        q.put(STOP)
    for t in customers:
        t.join()
    return time.perf_counter() - start


async def shop_asyncio(items):
    q = asyncio.Queue(maxsize=MAXSIZE)

    async def cook(c):
        for i in range(items // COOKS):
            await q.put(c * items + i)

    async def customer():
        while True:
            baozi = await q.get()
            q.task_done()
            if baozi is STOP:
                return

    start = time.perf_counter()
    customers = [asyncio.create_task(customer()) for _ in range(CUSTOMERS)]
    cooks = [asyncio.create_task(cook(c)) for c in range(COOKS)]
    await asyncio.gather(*cooks)
    await q.join()
    for _ in customers:
        await q.put(STOP)
    await asyncio.gather(*customers)
    return time.perf_counter() - start


if __name__ == "__main__":
    mode, items = sys.argv[1], int(sys.argv[2])
    if mode == "threading":
        print(shop_threading(items))
    elif mode == "asyncio":
        print(asyncio.run(shop_asyncio(items)))
    else:
        sys.exit(f"unknown mode {mode!r}")
