#!/usr/bin/env python3
"""Embeds docs/openapi.json (the API's OpenAPI 3.1 document) in the server as
Sources/BulwarkServer/API/OpenAPIDocument.swift, so `bulwark server` serves it at
/v1/sys/internal/specs/openapi as Vault does, with no resource file to install beside the binary.
Run after changing docs/openapi.json; OpenAPIDocumentTests fails while the two differ."""
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
document = json.loads((root / "docs/openapi.json").read_text())
text = json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
assert '"##' not in text, "the document holds the raw-string delimiter"
swift = f'''/// The API's OpenAPI 3.1 document, served at `GET /v1/sys/internal/specs/openapi` (as Vault
/// serves its own). Generated from `docs/openapi.json` by `scripts/embed-openapi.py`: do not edit;
/// `OpenAPIDocumentTests` checks that the two agree.
enum OpenAPIDocument {{
    /// The document, as compact JSON.
    static let json = ##"{text}"##
}}
'''
(root / "Sources/BulwarkServer/API/OpenAPIDocument.swift").write_text(swift)
print(f"embedded {len(text)} bytes")
