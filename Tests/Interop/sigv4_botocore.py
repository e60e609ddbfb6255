#!/usr/bin/env python3
"""Signs requests with botocore's SigV4 signer (a second implementation for Bulwark's).

Reads a JSON array of requests on standard input: {method, host, segments (the path's, decoded),
query [[name, value]] (decoded), headers [[name, value]], payload (base64), region, service, timestamp,
access_key, secret_key, token}. Prints a JSON array of the Authorization headers botocore makes.
"""
import base64
import json
import sys
from urllib.parse import quote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

answers = []
for case in json.load(sys.stdin):
    # The request as sent: each path segment and query part percent-encoded once (RFC 3986).
    path = "/" + "/".join(quote(segment, safe="") for segment in case["segments"])
    query = "&".join(f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}" for name, value in case["query"])
    url = f"https://{case['host']}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=case["method"], url=url, data=base64.b64decode(case["payload"]))
    for name, value in case["headers"]:
        request.headers.add_header(name, value)
    request.context["timestamp"] = case["timestamp"]
    credentials = Credentials(case["access_key"], case["secret_key"], case["token"] or None)
    auth = SigV4Auth(credentials, case["service"], case["region"])
    if case["token"]:
        request.headers["X-Amz-Security-Token"] = case["token"]
    request.headers["X-Amz-Date"] = case["timestamp"]
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    signature = auth.signature(string_to_sign, request)
    scope = auth.scope(request)
    signed = auth.signed_headers(auth.headers_to_sign(request))
    answers.append(f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={signed}, Signature={signature}")
print(json.dumps(answers))
