#!/usr/bin/env python3
"""An independent FF1 (NIST SP 800-38G, Algorithms 7 and 8) written from the standard with Python
integers over pyca/cryptography's AES-ECB, to cross-check Bulwark's Swift FF1.

Reads a JSON list of cases on stdin: {"key": hex, "tweak": hex, "radix": int, "numerals": [int]}
and writes, for each, {"ciphertext": [int]} (and checks its own decryption round-trips).
"""
import json
import math
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def ciph(key, block):
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def num_radix(numerals, radix):
    x = 0
    for n in numerals:
        x = x * radix + n
    return x


def str_radix(x, radix, m):
    out = [0] * m
    for i in range(m - 1, -1, -1):
        out[i] = x % radix
        x //= radix
    return out


def prf(key, data):
    y = bytes(16)
    for j in range(0, len(data), 16):
        y = ciph(key, bytes(a ^ b for a, b in zip(y, data[j:j + 16])))
    return y


def ff1(key, tweak, radix, x, encrypt):
    n = len(x)
    t = len(tweak)
    u = n // 2
    v = n - u
    a, b_half = list(x[:u]), list(x[u:])
    # b = ceil(ceil(v * log2(radix)) / 8), computed exactly with integers
    beta = (radix ** v - 1).bit_length()
    b = (beta + 7) // 8
    d = 4 * ((b + 3) // 4) + 4
    p = bytes([1, 2, 1]) + radix.to_bytes(3, "big") + bytes([10, u % 256]) + n.to_bytes(4, "big") + t.to_bytes(4, "big")
    rounds = range(10) if encrypt else range(9, -1, -1)
    for i in rounds:
        feed = b_half if encrypt else a
        q = tweak + bytes((-t - b - 1) % 16) + bytes([i]) + num_radix(feed, radix).to_bytes(b, "big")
        r = prf(key, p + q)
        s = r
        j = 1
        while len(s) < d:
            s += ciph(key, bytes(x ^ y for x, y in zip(r, j.to_bytes(16, "big"))))
            j += 1
        y = int.from_bytes(s[:d], "big")
        m = u if i % 2 == 0 else v
        if encrypt:
            c = (num_radix(a, radix) + y) % (radix ** m)
            a, b_half = b_half, str_radix(c, radix, m)
        else:
            c = (num_radix(b_half, radix) - y) % (radix ** m)
            b_half, a = a, str_radix(c, radix, m)
    return a + b_half


def main():
    cases = json.load(sys.stdin)
    results = []
    for case in cases:
        key = bytes.fromhex(case["key"])
        tweak = bytes.fromhex(case["tweak"])
        ct = ff1(key, tweak, case["radix"], case["numerals"], True)
        assert ff1(key, tweak, case["radix"], ct, False) == case["numerals"]
        results.append({"ciphertext": ct})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
