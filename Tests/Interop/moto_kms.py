#!/usr/bin/env python3
"""moto's KMS server on 127.0.0.1 for the Swift tests, driven over standard input and output.

Prints `READY PORT KEY_ID` (a fresh symmetric key), then answers one line per command:
- `decrypt BLOB_B64 CONTEXT_JSON` -> the plaintext, base64 (boto3's Decrypt), or `ERROR Code`;
- `datakey CONTEXT_JSON` -> `PLAINTEXT_B64 BLOB_B64` (boto3's GenerateDataKey);
- `disable` / `enable` -> `OK` (the key's state).
Exits when standard input closes.
"""
import base64
import json
import os
import sys

import boto3
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
_, port = server.get_host_and_port()
kms = boto3.client("kms", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", aws_access_key_id="x",
                   aws_secret_access_key="y")
key = kms.create_key(Description="bulwark test")["KeyMetadata"]["KeyId"]
print(f"READY {port} {key}", flush=True)
# Test helper only: it hands moto's plaintext data keys to the Swift test over a pipe (to compare
# them with Bulwark's); moto's keys are throwaway and nothing here touches a real key or log.
for line in sys.stdin:
    parts = line.split(" ", 2)
    try:
        if parts[0] == "decrypt":
            answer = kms.decrypt(CiphertextBlob=base64.b64decode(parts[1]), EncryptionContext=json.loads(parts[2]), KeyId=key)
            print(base64.b64encode(answer["Plaintext"]).decode(), flush=True)
        elif parts[0] == "datakey":
            answer = kms.generate_data_key(KeyId=key, KeySpec="AES_256", EncryptionContext=json.loads(line.split(" ", 1)[1]))
            print(base64.b64encode(answer["Plaintext"]).decode(), base64.b64encode(answer["CiphertextBlob"]).decode(), flush=True)
        elif parts[0].strip() in ("disable", "enable"):
            (kms.disable_key if parts[0].strip() == "disable" else kms.enable_key)(KeyId=key)
            print("OK", flush=True)
        else:
            print("ERROR unknown-command", flush=True)
    except ClientError as error:
        print("ERROR " + error.response["Error"]["Code"], flush=True)
# Not server.stop(): it waits for kept-alive client connections to end; the process exits instead.
os._exit(0)
