#!/usr/bin/env python3
"""Computes the worked examples in docs/FORMAT.md with Python's `cryptography`.

An independent implementation of Bulwark's field envelope and stream formats: the Swift tests
check that Bulwark decrypts exactly these bytes, so the document, this script and the library
cannot drift apart silently.
"""
import base64
import hashlib
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def fnv_check(context: bytes) -> int:
    h = 0x811C9DC5
    for b in context:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return ((h >> 16) ^ h) & 0xFFFF


def spaced(b: bytes) -> str:
    return " ".join(f"{x:02x}" for x in b)


key = bytes(range(32))
key_id = 0x1234ABCD
version = 3
context = b"users.ssn.row=42"
plaintext = b"078-05-1120"
nonce = bytes.fromhex("cafebabefacedbaddecaf888")

header = bytes([0x01, 0x01]) + struct.pack(">IIH", key_id, version, fnv_check(context))
sealed = AESGCM(key).encrypt(nonce, plaintext, header + context)
envelope = header + nonce + sealed
print("<!-- example:envelope -->")
print("```")
print(f"key          {key.hex()}")
print(f"key-id       {key_id}")
print(f"key-version  {version}")
print(f"context      {context.decode()}")
print(f"plaintext    {plaintext.decode()}")
print(f"header       {spaced(header)}")
print(f"nonce        {spaced(nonce)}")
print(f"ciphertext   {spaced(sealed[:-16])}")
print(f"tag          {spaced(sealed[-16:])}")
print(f"envelope     {envelope.hex()}")
print(f"text         bw1:{base64.urlsafe_b64encode(envelope).decode().rstrip('=')}")
print("```")

# Stream: 64-byte segments, so "hello, stream" plus 40 more bytes spans two segments.
segment_size = 64
salt = bytes(range(0x40, 0x60))
prefix = bytes.fromhex("a1a2a3a4a5a6a7")
stream_context = b"backup-2026-11-26"
message = b"hello, stream" + bytes(range(40))
stream_header = bytes([0x02, 0x01]) + struct.pack(">IIHI", key_id, version, fnv_check(stream_context), segment_size) + salt + prefix
info = b"bulwark stream v1" + stream_header[:16] + hashlib.sha256(stream_context).digest()
segment_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)
plain_size = segment_size - 16
segments = []
chunks = [message[i:i + plain_size] for i in range(0, len(message), plain_size)] or [b""]
for i, chunk in enumerate(chunks):
    final = 1 if i == len(chunks) - 1 else 0
    seg_nonce = prefix + struct.pack(">I", i) + bytes([final])
    segments.append(AESGCM(segment_key).encrypt(seg_nonce, chunk, None))
print()
print("<!-- example:stream -->")
print("```")
print(f"key          {key.hex()}")
print(f"context      {stream_context.decode()}")
print(f"plaintext    {message.hex()}")
print(f"header       {stream_header.hex()}")
print(f"segment-key  {segment_key.hex()}")
for i, s in enumerate(segments):
    print(f"segment{i}     {s.hex()}")
print("```")
