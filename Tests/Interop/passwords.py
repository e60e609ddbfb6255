#!/usr/bin/env python3
"""Peer side of Bulwark's password differential tests.

Reads a JSON request on standard input and answers on standard output:
  {"make": [{"alg": ..., "password_hex": ..., params...}]}  -> {"hashes": [...]}
  {"check": [{"alg": ..., "password_hex": ..., "hash": ...}]} -> {"results": [true/false...]}
Peers: argon2-cffi, pyca bcrypt, hashlib.scrypt (passlib and Django spellings built by hand),
hashlib.pbkdf2_hmac (Django pbkdf2_sha256, passlib pbkdf2-sha512).
"""
import base64
import hashlib
import hmac
import json
import os
import sys

import argon2
import bcrypt


def ab64_encode(b):
    return base64.b64encode(b).decode().rstrip("=").replace("+", ".")


def ab64_decode(s):
    s = s.replace(".", "+")
    return base64.b64decode(s + "=" * (-len(s) % 4))


def make(case):
    pw = bytes.fromhex(case["password_hex"])
    alg = case["alg"]
    if alg == "argon2id":
        ph = argon2.PasswordHasher(time_cost=case["t"], memory_cost=case["m"], parallelism=case["p"])
        return ph.hash(pw)
    if alg == "bcrypt":
        return bcrypt.hashpw(pw, bcrypt.gensalt(case["cost"])).decode()
    if alg == "scrypt-passlib":
        salt = os.urandom(16)
        key = hashlib.scrypt(pw, salt=salt, n=1 << case["ln"], r=case["r"], p=case["p"], dklen=32, maxmem=1 << 30)
        return f"$scrypt$ln={case['ln']},r={case['r']},p={case['p']}${ab64_encode(salt)}${ab64_encode(key)}"
    if alg == "scrypt-django":
        salt = base64.b64encode(os.urandom(12)).decode().replace("+", "a").replace("/", "b")
        n = 1 << case["ln"]
        key = hashlib.scrypt(pw, salt=salt.encode(), n=n, r=case["r"], p=case["p"], dklen=64, maxmem=1 << 30)
        return f"scrypt${salt}${n}${case['r']}${case['p']}${base64.b64encode(key).decode()}"
    if alg == "pbkdf2-django":
        salt = base64.b64encode(os.urandom(12)).decode().replace("+", "a").replace("/", "b")
        key = hashlib.pbkdf2_hmac("sha256", pw, salt.encode(), case["iterations"])
        return f"pbkdf2_sha256${case['iterations']}${salt}${base64.b64encode(key).decode()}"
    raise ValueError(alg)


def check(case):
    pw = bytes.fromhex(case["password_hex"])
    h = case["hash"]
    if h.startswith("$argon2"):
        try:
            return argon2.PasswordHasher().verify(h, pw)
        except argon2.exceptions.VerifyMismatchError:
            return False
    if h.startswith("$2"):
        return bcrypt.checkpw(pw, h.encode())
    if h.startswith("$scrypt$"):
        _, _, params, salt, key = h.split("$")
        p = dict(kv.split("=") for kv in params.split(","))
        key = ab64_decode(key)
        got = hashlib.scrypt(pw, salt=ab64_decode(salt), n=1 << int(p["ln"]), r=int(p["r"]), p=int(p["p"]), dklen=len(key), maxmem=1 << 30)
        return hmac.compare_digest(got, key)
    if h.startswith("pbkdf2_sha256$"):
        _, iterations, salt, key = h.split("$")
        got = hashlib.pbkdf2_hmac("sha256", pw, salt.encode(), int(iterations))
        return hmac.compare_digest(base64.b64encode(got).decode(), key)
    if h.startswith("$pbkdf2-sha512$"):
        _, _, iterations, salt, key = h.split("$")
        key = ab64_decode(key)
        got = hashlib.pbkdf2_hmac("sha512", pw, ab64_decode(salt), int(iterations), dklen=len(key))
        return hmac.compare_digest(got, key)
    raise ValueError(h)


request = json.load(sys.stdin)
if "make" in request:
    json.dump({"hashes": [make(c) for c in request["make"]]}, sys.stdout)
else:
    json.dump({"results": [check(c) for c in request["check"]]}, sys.stdout)
