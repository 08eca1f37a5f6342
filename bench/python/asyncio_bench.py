"""The suite's workloads with Python's asyncio, for comparison with awaitress.

Usage: python3 asyncio_bench.py <workload key> <params json>
Prints one JSON line: {"ms", "cpuMs", "checksum", "rssBefore", "maxRss"} (bytes), like bench/child.ts.
The shapes match bench/impl/awaitress.ts: the same sizes, the same checksums.
"""

import asyncio
import gc
import json
import os
import resource
import sys
import time


def w4_delay(i, max_ms):
    return i % (max_ms + 1)


def share(n, width, j):
    return n // width + (1 if j < n % width else 0)


async def w1(p):
    n = p["n"]

    async def child(i):
        await asyncio.sleep(0)
        return i

    tasks = [asyncio.create_task(child(i)) for i in range(n)]
    return sum(await asyncio.gather(*tasks))


async def w2(p):
    n, width, depth = p["n"], p["width"], p["depth"]
    queue = asyncio.Queue(depth)
    total = 0

    async def consumer():
        nonlocal total
        while True:
            item = await queue.get()
            if item < 0:
                return
            total += item

    consumers = [asyncio.create_task(consumer()) for _ in range(width)]
    for i in range(n):
        await queue.put(i)
    for _ in range(width):
        await queue.put(-1)
    await asyncio.gather(*consumers)
    return total


async def job(i):
    await asyncio.sleep(0)
    return i


async def w3(p):
    n, width = p["n"], p["width"]
    sem = asyncio.Semaphore(width)

    async def limited(i):
        async with sem:
            return await job(i)

    tasks = [asyncio.create_task(limited(i)) for i in range(n)]
    return sum(await asyncio.gather(*tasks))


async def w4(p):
    n, depth = p["n"], p["depth"]
    tasks = [asyncio.create_task(asyncio.sleep(w4_delay(i, depth) / 1000)) for i in range(n)]
    await asyncio.gather(*tasks)
    return n


async def w6(p):
    n, width = p["n"], p["width"]
    lock = asyncio.Lock()
    count = 0

    async def worker(m):
        nonlocal count
        for _ in range(m):
            async with lock:
                await asyncio.sleep(0)
                count += 1

    await asyncio.gather(*(worker(share(n, width, j)) for j in range(width)))
    return count


WORKLOADS = {"w1": w1, "w2": w2, "w3": w3, "w4": w4, "w6": w6}


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main():
    key, params = sys.argv[1], json.loads(sys.argv[2])
    workload = WORKLOADS.get(key)
    if workload is None:
        print(json.dumps({"error": f'no workload "{key}" in asyncio_bench.py'}))
        return
    gc.collect()
    before = rss()
    start = time.perf_counter()
    cpu_start = time.process_time()
    checksum = asyncio.run(workload(params))
    ms = (time.perf_counter() - start) * 1000
    cpu_ms = (time.process_time() - cpu_start) * 1000
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"ms": ms, "cpuMs": cpu_ms, "checksum": checksum, "rssBefore": before, "maxRss": max_rss}))


if __name__ == "__main__":
    main()
