#!/usr/bin/env python3
"""sslyze against the key service: Mozilla's "modern" profile by default, "intermediate" with --allow-tls12.

Runs sslyze (as a library; it needs its own virtual environment because it pins an older
`cryptography`: scripts/test.sh makes one and exports BULWARK_SSLYZE_PYTHON, and this script
re-runs itself with that interpreter when sslyze is not importable) against HOST:PORT, then checks:
  - sslyze's own compliance verdict against the requested Mozilla profile (certificate type, curve,
    signature, lifespan and path validation against CA_FILE; protocols; suites; groups; ECDH size;
    compression, CCS injection, Heartbleed, ROBOT, renegotiation, TLS_FALLBACK_SCSV, EMS);
  - protocols: SSL 2.0/3.0, TLS 1.0/1.1 refused; TLS 1.3 accepted with Mozilla's suites only;
    TLS 1.2 refused ("modern") or accepted with ECDHE + AEAD suites only ("intermediate");
  - no compression, no insecure (or client-initiated) renegotiation, not vulnerable to Heartbleed,
    CCS injection or ROBOT (no oracle at all), no 0-RTT early data (replayable requests);
  - downgrade protection where it applies: TLS_FALLBACK_SCSV only matters for a server with two
    versions up to TLS 1.2 (this one never has); with TLS 1.2 on, the TLS 1.3 downgrade sentinel
    (RFC 8446 4.1.3) and the extended master secret are checked with `openssl s_client -tls1_2`;
  - supported groups within the profile's (X25519, P-256, P-384), X25519 among them;
  - HSTS max-age at least the profile's.
The summary goes to stdout as JSON; on failure the exit status is 1 and each reason is printed to
stderr. Loopback targets only.

Usage: tls_scan.py HOST:PORT [--profile modern|intermediate] [--ca-file PEM] [--sslyze-json FILE]
"""
import argparse
import http.client
import json
import os
import ssl
import subprocess
import sys
import time
import warnings

try:
    import sslyze  # noqa: F401 (only whether it imports)
except ImportError:
    python = os.environ.get("BULWARK_SSLYZE_PYTHON")
    if python and os.path.exists(python) and not os.environ.get("BULWARK_TLS_SCAN_REEXEC"):
        os.environ["BULWARK_TLS_SCAN_REEXEC"] = "1"  # once: a venv's python may be a symlink to this one
        os.execv(python, [python, *sys.argv])
    sys.exit("tls_scan: sslyze is not importable here; run scripts/test.sh (it makes the venv) or set BULWARK_SSLYZE_PYTHON")

from pathlib import Path

# sslyze's bundled trust stores hold a certificate with a negative serial number; cryptography warns.
warnings.filterwarnings("ignore", module="sslyze")
warnings.filterwarnings("ignore", message=".*serial number.*")

from sslyze import (
    CertificateInfoExtraArgument,
    RobotScanResultEnum,
    ScanCommand,
    ScanCommandAttemptStatusEnum,
    ScanCommandsExtraArguments,
    Scanner,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanResultAsJson,
    ServerScanStatusEnum,
)
from sslyze.__version__ import __version__ as SSLYZE_VERSION
from sslyze.mozilla_tls_profile.tls_config_checker import (
    SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER,
    MozillaTlsConfiguration,
    ServerNotCompliantWithTlsConfiguration,
    ServerScanResultIncomplete,
    TlsConfigurationEnum,
    check_server_against_tls_configuration,
)

PROTOCOLS = [
    ("ssl_2_0_cipher_suites", "SSLv2"),
    ("ssl_3_0_cipher_suites", "SSLv3"),
    ("tls_1_0_cipher_suites", "TLSv1.0"),
    ("tls_1_1_cipher_suites", "TLSv1.1"),
    ("tls_1_2_cipher_suites", "TLSv1.2"),
    ("tls_1_3_cipher_suites", "TLSv1.3"),
]
LOOPBACK = ("127.0.0.1", "localhost", "::1")
DOWNGRADE_SENTINEL_TLS12 = bytes.fromhex("444f574e47524401")  # "DOWNGRD" 01 (RFC 8446 4.1.3)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target", help="HOST:PORT (loopback only)")
    parser.add_argument("--profile", choices=["modern", "intermediate"], default="modern",
                        help="the Mozilla profile the server must meet: modern (TLS 1.3 only, the default) "
                             "or intermediate (the server runs with --allow-tls12)")
    parser.add_argument("--ca-file", help="PEM file of the CA that issued the server certificate")
    parser.add_argument("--sslyze-json", help="also write sslyze's full result as JSON to this file")
    arguments = parser.parse_args()
    host, _, port = arguments.target.rpartition(":")
    host = host.strip("[]")
    if host not in LOOPBACK or not port.isdigit():
        parser.error("the target must be a loopback HOST:PORT")
    return arguments, host, int(port)


def scan(host, port, ca_file):
    """Runs every check the Mozilla checker needs, plus HSTS and early data; returns the result."""
    commands = set(SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER) | {ScanCommand.HTTP_HEADERS, ScanCommand.TLS_1_3_EARLY_DATA}
    extra = ScanCommandsExtraArguments(
        certificate_info=CertificateInfoExtraArgument(custom_ca_file=Path(ca_file)) if ca_file else None)
    ip = "::1" if host == "::1" else "127.0.0.1"
    request = ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=host, port=port, ip_address=ip),
        scan_commands=commands, scan_commands_extra_arguments=extra)
    scanner = Scanner()
    scanner.queue_scans([request])
    return next(iter(scanner.get_results()))


def tls12_probe(host, port, ca_file):
    """`openssl s_client -tls1_2 -msg`: the ServerHello random and the EMS line."""
    command = ["openssl", "s_client", "-connect", f"{host}:{port}", "-servername", "localhost", "-tls1_2", "-msg"]
    if ca_file:
        command += ["-CAfile", ca_file]
    try:
        run = subprocess.run(command, input=b"", capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return {"error": f"openssl s_client: {error}"}
    text = run.stdout.decode(errors="replace")
    hello = None
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("<<<") and line.rstrip().endswith(", ServerHello"):
            hex_bytes = []
            for following in lines[index + 1:]:
                if not following.startswith("    "):
                    break
                hex_bytes += following.split()
            hello = bytes.fromhex("".join(hex_bytes))
            break
    if hello is None or len(hello) < 38:
        return {"error": "no ServerHello over TLS 1.2", "openssl_tail": text[-600:]}
    random = hello[6:38]  # type (1), length (3), legacy_version (2), then random (32)
    ems = next((line.split(":", 1)[1].strip() for line in lines if "Extended master secret" in line), None)
    protocol = next((line.split(":", 1)[1].strip() for line in lines if line.strip().startswith("Protocol")), None)
    return {
        "protocol": protocol,
        "server_random_tail": random[-8:].hex(),
        "downgrade_sentinel": random[-8:] == DOWNGRADE_SENTINEL_TLS12,
        "extended_master_secret": ems == "yes",
    }


def main():
    arguments, host, port = parse_arguments()
    profile_name = arguments.profile
    profile = MozillaTlsConfiguration.get(TlsConfigurationEnum(profile_name))
    failures = []
    started = time.monotonic()
    result = scan(host, port, arguments.ca_file)
    seconds = round(time.monotonic() - started, 2)
    summary = {"target": f"{host}:{port}", "profile": profile_name, "sslyze_version": SSLYZE_VERSION,
               "scan_seconds": seconds}
    if arguments.sslyze_json:
        Path(arguments.sslyze_json).write_text(ServerScanResultAsJson.model_validate(result).model_dump_json(indent=1))
    if result.scan_status != ServerScanStatusEnum.COMPLETED:
        summary["error"] = f"{result.scan_status.name}: {result.connectivity_error_trace}"
        return finish(summary, [f"sslyze could not connect to {host}:{port}: {result.connectivity_error_trace}"])
    scans = result.scan_result
    for command in SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER | {ScanCommand.HTTP_HEADERS, ScanCommand.TLS_1_3_EARLY_DATA}:
        attempt = getattr(scans, command.value)
        if attempt.status != ScanCommandAttemptStatusEnum.COMPLETED:
            failures.append(f"sslyze {command.value} did not complete: {attempt.error_reason} {attempt.error_trace}")
    if failures:
        return finish(summary, failures)

    # 1. sslyze's own verdict against the requested Mozilla profile.
    try:
        check_server_against_tls_configuration(result, profile)
        summary["mozilla_compliant"], summary["mozilla_issues"] = True, {}
    except ServerNotCompliantWithTlsConfiguration as error:
        summary["mozilla_compliant"], summary["mozilla_issues"] = False, error.issues
        failures += [f"not compliant with Mozilla {profile_name}: {key}: {text}" for key, text in error.issues.items()]
    except ServerScanResultIncomplete as error:
        summary["mozilla_compliant"] = False
        failures.append(f"Mozilla {profile_name} check incomplete: {error}")

    # 2. Protocols and suites.
    accepted = {}
    ephemeral = set()
    for field, name in PROTOCOLS:
        suites = getattr(scans, field).result.accepted_cipher_suites
        accepted[name] = [suite.cipher_suite.name for suite in suites]
        for suite in suites:
            key = suite.ephemeral_key
            ephemeral.add(f"{type(key).__name__}:{getattr(key, 'curve_name', None) or key.size}" if key else "none")
    summary["accepted"] = accepted
    summary["ephemeral_keys"] = sorted(ephemeral)
    for name in ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"):
        if accepted[name]:
            failures.append(f"{name} accepted ({', '.join(accepted[name])}): must be refused")
    if not accepted["TLSv1.3"]:
        failures.append("TLS 1.3 refused: it must be accepted")
    for suite in set(accepted["TLSv1.3"]) - profile.ciphersuites:
        failures.append(f"TLS 1.3 suite {suite} is outside Mozilla {profile_name}'s")
    if profile_name == "modern" and accepted["TLSv1.2"]:
        failures.append(f"TLS 1.2 accepted ({', '.join(accepted['TLSv1.2'])}): modern is TLS 1.3 only")
    if profile_name == "intermediate":
        if not accepted["TLSv1.2"]:
            failures.append("TLS 1.2 refused: with --allow-tls12 it must be accepted (ECDHE + AEAD)")
        for suite in accepted["TLSv1.2"]:
            aead = "_GCM_" in suite or "_CHACHA20_POLY1305" in suite
            if not suite.startswith("TLS_ECDHE_") or not aead:
                failures.append(f"TLS 1.2 suite {suite} is not ECDHE with an AEAD")

    # 3. Groups.
    groups = [curve.name for curve in scans.elliptic_curves.result.supported_curves or []]
    summary["groups"] = groups
    summary["groups_note"] = "classical groups only: sslyze's OpenSSL cannot offer X25519MLKEM768"
    for group in set(groups) - profile.tls_curves:
        failures.append(f"group {group} accepted: outside Mozilla {profile_name}'s {sorted(profile.tls_curves)}")
    if "X25519" not in groups:
        failures.append(f"X25519 not accepted (groups: {groups})")

    # 4. Known weaknesses.
    robot = scans.robot.result.robot_result
    renegotiation = scans.session_renegotiation.result
    early = scans.tls_1_3_early_data.result.supports_early_data
    findings = {
        "compression": scans.tls_compression.result.supports_compression,
        "heartbleed": scans.heartbleed.result.is_vulnerable_to_heartbleed,
        "ccs_injection": scans.openssl_ccs_injection.result.is_vulnerable_to_ccs_injection,
        "robot": robot.name,
        "secure_renegotiation": renegotiation.supports_secure_renegotiation,
        "client_renegotiation_dos": renegotiation.is_vulnerable_to_client_renegotiation_dos,
        "extended_master_secret": scans.tls_extended_master_secret.result.supports_ems_extension,
        "early_data": early,
    }
    summary["findings"] = findings
    if findings["compression"]:
        failures.append("TLS compression accepted (CRIME)")
    if findings["heartbleed"]:
        failures.append("vulnerable to Heartbleed")
    if findings["ccs_injection"]:
        failures.append("vulnerable to OpenSSL CCS injection")
    if robot not in (RobotScanResultEnum.NOT_VULNERABLE_NO_ORACLE, RobotScanResultEnum.NOT_VULNERABLE_RSA_NOT_SUPPORTED):
        failures.append(f"ROBOT: {robot.name}")
    if not findings["secure_renegotiation"]:
        failures.append("insecure renegotiation (no RFC 5746 secure renegotiation)")
    if findings["client_renegotiation_dos"]:
        failures.append("client-initiated renegotiation accepted (renegotiation DoS)")
    if not findings["extended_master_secret"]:
        failures.append("no extended master secret")
    if early:
        failures.append("TLS 1.3 early data (0-RTT) accepted: requests could be replayed")

    # 5. Downgrade protection where it applies.
    below_13 = [name for name, suites in accepted.items() if suites and name != "TLSv1.3"]
    scsv = scans.tls_fallback_scsv.result.supports_fallback_scsv
    summary["downgrade"] = {
        "fallback_scsv": scsv,
        "fallback_scsv_applicable": len(below_13) >= 2,
        "fallback_scsv_note": "TLS_FALLBACK_SCSV guards a fallback between versions up to TLS 1.2; "
                              "from TLS 1.3 the ServerHello sentinel does",
    }
    if not scsv:
        failures.append("TLS_FALLBACK_SCSV not honoured (sslyze downgraded the handshake)")
    if accepted["TLSv1.2"]:
        probe = tls12_probe(host, port, arguments.ca_file)
        summary["downgrade"]["tls12_probe"] = probe
        if "error" in probe:
            failures.append(f"TLS 1.2 probe failed: {probe['error']}")
        else:
            if not probe["downgrade_sentinel"]:
                failures.append(f"TLS 1.2 ServerHello.random lacks the TLS 1.3 downgrade sentinel (ends {probe['server_random_tail']})")
            if not probe["extended_master_secret"]:
                failures.append("TLS 1.2 handshake without the extended master secret")

    # 6. Certificate (Mozilla's rules are checked in 1; this is what was seen).
    deployments = scans.certificate_info.result.certificate_deployments
    certificates = []
    for deployment in deployments:
        leaf = deployment.received_certificate_chain[0]
        key = leaf.public_key()
        certificates.append({
            "subject": leaf.subject.rfc4514_string(),
            "key": f"{type(key).__name__.lstrip('_')} {getattr(getattr(key, 'curve', None), 'name', '')} {key.key_size}".strip(),
            "signature": leaf.signature_algorithm_oid._name,
            "lifespan_days": (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days,
            "chain_length_sent": len(deployment.received_certificate_chain),
            "chain_sent_contains_anchor": deployment.received_chain_contains_anchor_certificate,
            "trusted_by_ca_file": deployment.verified_certificate_chain is not None,
        })
    summary["certificates"] = certificates
    summary["certificate_limits"] = {"maximum_lifespan_days": profile.maximum_certificate_lifespan,
                                     "types": sorted(profile.certificate_types),
                                     "curves": sorted(profile.certificate_curves)}

    # 7. HSTS on sslyze's `GET /` (sslyze leaves it out of its verdict); status and header of that
    #    answer and of a known route, to tell a missing header from an unmatched-route answer.
    headers = scans.http_headers.result
    hsts = headers.strict_transport_security_header
    summary["hsts"] = {
        "sslyze_get_root": None if hsts is None else {"max_age": hsts.max_age, "include_subdomains": hsts.include_subdomains},
        "answers": {path: hsts_of(host, port, arguments.ca_file, path) for path in ("/", "/v1/sys/health")},
    }
    if headers.http_error_trace is not None:
        failures.append(f"no HTTP answer for sslyze's request: {headers.http_error_trace}")
    elif hsts is None or (hsts.max_age or 0) < profile.hsts_min_age:
        root = summary["hsts"]["answers"]["/"]
        failures.append(f"HSTS: sslyze's GET / was answered {root.get('status')} with max-age "
                        f"{None if hsts is None else hsts.max_age}, below Mozilla's {profile.hsts_min_age}")
    return finish(summary, failures)


def hsts_of(host, port, ca_file, path):
    """Status and Strict-Transport-Security of `GET path` (server certificate checked against ca_file)."""
    context = ssl.create_default_context(cafile=ca_file) if ca_file else ssl._create_unverified_context()
    context.check_hostname = False
    connection = http.client.HTTPSConnection(host, port, context=context, timeout=10)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        answer.read()
        return {"status": answer.status, "strict_transport_security": answer.getheader("Strict-Transport-Security")}
    except (OSError, http.client.HTTPException) as error:
        return {"error": str(error)}
    finally:
        connection.close()


def finish(summary, failures):
    summary["failures"] = failures
    summary["passed"] = not failures
    print(json.dumps(summary, indent=1, default=str))
    for failure in failures:
        print(f"tls_scan: FAIL: {failure}", file=sys.stderr)
    if failures:
        print(f"tls_scan: {summary['target']} does not meet Mozilla {summary['profile']}: {len(failures)} failure(s)", file=sys.stderr)
        return 1
    print(f"tls_scan: {summary['target']} meets Mozilla {summary['profile']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
