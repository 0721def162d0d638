#!/usr/bin/env python3
"""Soak: mixed load with clients that hang up, against a pgrest-host on its
demo schema, while the server's resident memory is sampled. Memory should be
flat: the script prints the first and the last minute's RSS, and the answers
by status (a 5xx is a failure: the exit status is 1).

  benches/soak.py target/release/pgrest-host     # 10 minutes
  SOAK_SECONDS=120 benches/soak.py target/debug/pgrest-host

Each of CLIENTS (16) connections loops over: a page read, a to-one embed,
an insert answered with the row and its delete, a request refused by the
grammar, an unknown table, then one way of hanging up (a body cut short, a
request whose answer is never read, half a request head), reconnecting
after it. Standard library only, so it runs where the server does.
"""

import asyncio
import json
import os
import subprocess
import sys
import time

PORT = int(os.environ.get("PORT", "3121"))
SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
CLIENTS = int(os.environ.get("CLIENTS", "16"))


def request(method, target, body=b"", headers=()):
    head = [f"{method} {target} HTTP/1.1", "Host: soak"]
    head += list(headers)
    if body:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def answer(reader):
    """Reads one response (pgrest always sends Content-Length)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def exchange(conn, raw):
    reader, writer = conn
    writer.write(raw)
    await writer.drain()
    return await answer(reader)


async def connect():
    return await asyncio.open_connection("127.0.0.1", PORT)


async def hang_up(kind):
    """One client going away mid-request, on a connection of its own."""
    reader, writer = await connect()
    if kind == 0:  # a body cut short
        writer.write(request("POST", "/todos", b"x" * 10, ["Content-Length: 1000"])[:-10])
    elif kind == 1:  # a request whose answer is never read
        writer.write(request("GET", "/books?select=title,authors(name)"))
    else:  # half a request head
        writer.write(b"GET /todos?select=id HTTP/1.1\r\nHost: so")
    await writer.drain()
    writer.close()


async def client(n, deadline, counts):
    conn = await connect()
    rounds = 0
    while time.monotonic() < deadline:
        rounds += 1
        steps = [
            request("GET", "/todos?select=id,task,done&order=id&limit=20"),
            request("GET", "/books?select=title,author:authors(name)&limit=5"),
            request("GET", '/todos?select=%22a%00%22'),
            request("GET", "/nope"),
        ]
        for raw in steps:
            status, _ = await exchange(conn, raw)
            counts[status] = counts.get(status, 0) + 1
        body = json.dumps({"task": f"soak {n}"}).encode()
        status, created = await exchange(
            conn, request("POST", "/todos", body, ["Prefer: return=representation"])
        )
        counts[status] = counts.get(status, 0) + 1
        if status == 201:
            row = json.loads(created)[0]
            status, _ = await exchange(conn, request("DELETE", f"/todos?id=eq.{row['id']}"))
            counts[status] = counts.get(status, 0) + 1
        await hang_up(rounds % 3)
        counts["hung up"] = counts.get("hung up", 0) + 1
    conn[1].close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def sample(pid, deadline, samples):
    start = time.monotonic()
    while time.monotonic() < deadline:
        samples.append((time.monotonic() - start, rss_kib(pid)))
        await asyncio.sleep(5)


async def main(binary):
    env = dict(os.environ, PGRST_SERVER_PORT=str(PORT))
    for var in ("PGRST_DB_URI", "PGHOST", "PGDATABASE", "PGSERVICE"):
        env.pop(var, None)
    server = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                conn = await connect()
                status, _ = await exchange(conn, request("GET", "/todos?limit=1"))
                conn[1].close()
                if status == 200:
                    break
            except OSError:
                pass
            await asyncio.sleep(0.2)
        deadline = time.monotonic() + SECONDS
        counts, samples = {}, []
        await asyncio.gather(
            sample(server.pid, deadline, samples),
            *(client(n, deadline, counts) for n in range(CLIENTS)),
        )
    finally:
        server.terminate()
        server.wait()
    minute = min(60, SECONDS // 2)
    first = [kib for t, kib in samples if t < minute]
    last = [kib for t, kib in samples if t >= SECONDS - minute]
    print(f"{os.path.basename(binary)}: {SECONDS} s, {CLIENTS} clients")
    print(f"RSS first {minute} s: {min(first) / 1024:.1f}-{max(first) / 1024:.1f} MiB")
    print(f"RSS last {minute} s:  {min(last) / 1024:.1f}-{max(last) / 1024:.1f} MiB")
    print("answers:", dict(sorted(counts.items(), key=str)))
    failed = any(isinstance(s, int) and s >= 500 for s in counts)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
