#!/usr/bin/env python3
"""Reference placements for the md5_ring distribution, written apart from
the Go code, straight from the consistent-hashing recipe: each server has
replicas x weight points, point i at md5("<name>:<i>") as a 128-bit
big-endian integer; a key at md5(key) belongs to the first point strictly
greater, wrapping to the first.

Run: python3 md5ring.py > md5ring.txt
"""
import bisect
import hashlib

SCENARIOS = [
    ("five-equal", 100, [("10.0.0.1:11211", 1, ""), ("10.0.0.2:11211", 1, ""),
                         ("10.0.0.3:11211", 1, ""), ("10.0.0.4:11211", 1, ""),
                         ("10.0.0.5:11211", 1, "")]),
    ("weighted-aliases", 40, [("10.0.1.1:11211", 1, "cache-a"), ("10.0.1.2:11212", 2, "cache-b"),
                              ("10.0.1.3:11213", 3, "cache-c")]),
    ("three-ports", 7, [("127.0.0.1:11311", 1, ""), ("127.0.0.1:11312", 1, ""),
                        ("127.0.0.1:11313", 2, "")]),
]
KEYS = 5000


def position(data):
    return int.from_bytes(hashlib.md5(data).digest(), "big")


def key(i):
    """Key i: "key-<i>", every tenth one with a byte >= 0x80 appended."""
    k = b"key-%d" % i
    if i % 10 == 0:
        k += bytes([0x80 + i % 128])
    return k


def owners(servers, replicas, keys):
    ring = []
    for index, (addr, weight, alias) in enumerate(servers):
        name = (alias or addr).encode()
        for i in range(replicas * weight):
            ring.append((position(name + b":%d" % i), index))
    ring.sort()
    points = [p for p, _ in ring]
    out = []
    for k in keys:
        at = bisect.bisect_right(points, position(k))
        out.append(ring[at % len(ring)][1])
    return out


def main():
    print("# md5_ring reference placements from md5ring.py; key i is described there.")
    for name, replicas, servers in SCENARIOS:
        print("scenario %s replicas %d keys %d" % (name, replicas, KEYS))
        for addr, weight, alias in servers:
            print(("node %s %d %s" % (addr, weight, alias)).rstrip())
        placed = owners(servers, replicas, [key(i) for i in range(KEYS)])
        digits = "".join(str(o) for o in placed)
        for i in range(0, len(digits), 100):
            print("owners " + digits[i:i + 100])


main()
