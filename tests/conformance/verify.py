"""Signature verification of received requests with the official SDKs' own signing code.

Nothing here re-implements a signing algorithm: each check rebuilds the SDK's request object from
what arrived on the wire (the headers the Authorization names, the decoded query, the exact body
bytes, the same date) and lets the SDK's signer compute the Authorization value, which must equal
the one received.

* Alibaba ACS3-HMAC-SHA256: ``alibabacloud_tea_openapi.utils.Utils.get_authorization`` on a
  ``darabonba.request.DaraRequest`` (what tea-openapi's ``do_request`` signs).
* Alibaba HMAC-SHA1 (V2, only for the golden captures): ``Utils.get_rpcsignature``.
* Huawei SDK-HMAC-SHA256: ``huaweicloudsdkcore.signer.signer.Signer.sign`` on an ``SdkRequest``
  (the class has no ``verify`` method), with the received ``X-Sdk-Date``, which it reuses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from alibabacloud_tea_openapi.utils import Utils as AlibabaUtils
from darabonba.request import DaraRequest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from recorder import Recorded

ACS3 = "ACS3-HMAC-SHA256"
HUAWEI = "SDK-HMAC-SHA256"


@dataclass
class Verdict:
    ok: bool
    reason: str = ""
    access_key: str | None = None
    signed_headers: list[str] = field(default_factory=list)
    expected: str | None = None

    def __bool__(self) -> bool:
        return self.ok


def decoded_pairs(raw: str) -> list[tuple[str, str]]:
    """Query or form pairs, decoded as a server decodes them (`+` is a space), UTF-8 strictly."""
    if not raw:
        return []
    return parse_qsl(raw, keep_blank_values=True, strict_parsing=True, encoding="utf-8", errors="strict")


def _unique_map(pairs: list[tuple[str, str]], what: str) -> tuple[dict | None, str]:
    out: dict[str, str] = {}
    for k, v in pairs:
        if k in out:
            return None, f"{what} parameter {k!r} appears twice"
        out[k] = v
    return out, ""


def _signed_header_values(req: Recorded, names: list[str]) -> tuple[dict | None, str]:
    """The received values of the headers the Authorization names, keyed as received."""
    out: dict[str, str] = {}
    for name in names:
        matches = [(n, v) for n, v in req.headers if n.lower() == name]
        if not matches:
            return None, f"signed header {name!r} is not in the request"
        if len(matches) > 1:
            return None, f"signed header {name!r} appears {len(matches)} times"
        n, v = matches[0]
        out[n] = v
    return out, ""


# -- Alibaba -------------------------------------------------------------------------------


def parse_acs3(value: str | None) -> tuple[dict | None, str]:
    if not value or not value.startswith(ACS3 + " "):
        return None, f"Authorization is not {ACS3}: {value!r}"
    parts = {}
    for part in value[len(ACS3) + 1:].split(","):
        k, sep, v = part.partition("=")
        if not sep or k not in ("Credential", "SignedHeaders", "Signature") or k in parts:
            return None, f"malformed Authorization part {part!r}"
        parts[k] = v
    if set(parts) != {"Credential", "SignedHeaders", "Signature"}:
        return None, f"Authorization lacks {sorted({'Credential', 'SignedHeaders', 'Signature'} - set(parts))}"
    return parts, ""


def verify_alibaba_v3(req: Recorded, secrets: dict[str, str]) -> Verdict:
    auth = req.header("authorization")
    parts, why = parse_acs3(auth)
    if parts is None:
        return Verdict(False, why)
    ak = parts["Credential"]
    names = parts["SignedHeaders"].split(";") if parts["SignedHeaders"] else []
    if ak not in secrets:
        return Verdict(False, f"unknown AccessKey id {ak!r}", ak, names)
    payload = req.header("x-acs-content-sha256")
    actual_hash = hashlib.sha256(req.body).hexdigest()
    if payload is None:
        return Verdict(False, "no x-acs-content-sha256 header", ak, names)
    if payload != actual_hash:
        return Verdict(False, f"x-acs-content-sha256 {payload} is not sha256(body) {actual_hash}", ak, names)
    headers, why = _signed_header_values(req, names)
    if headers is None:
        return Verdict(False, why, ak, names)
    try:
        query, why = _unique_map(decoded_pairs(req.query), "query")
    except (ValueError, UnicodeDecodeError) as e:
        return Verdict(False, f"query does not decode: {e}", ak, names)
    if query is None:
        return Verdict(False, why, ak, names)
    r = DaraRequest()
    r.method = req.method
    r.pathname = req.path
    r.query = query
    r.headers = headers
    expected = AlibabaUtils.get_authorization(r, ACS3, payload, ak, secrets[ak])
    if expected != auth:
        return Verdict(False, f"signature does not verify: SDK computes {expected!r}, received {auth!r}", ak, names, expected)
    return Verdict(True, "", ak, names, expected)


def verify_alibaba_v2(req: Recorded, secrets: dict[str, str]) -> Verdict:
    """The older RPC signature (query `Signature`), for the tea-v2 and legacy golden captures."""
    try:
        params = decoded_pairs(req.query)
        form = decoded_pairs(req.body.decode("utf-8")) if req.body else []
    except (ValueError, UnicodeDecodeError) as e:
        return Verdict(False, f"query or body does not decode: {e}")
    signed, why = _unique_map([p for p in params if p[0] != "Signature"] + form, "query/body")
    if signed is None:
        return Verdict(False, why)
    sig = [v for k, v in params if k == "Signature"]
    ak = signed.get("AccessKeyId")
    if not sig or ak not in secrets:
        return Verdict(False, "no Signature or unknown AccessKeyId", ak)
    expected = AlibabaUtils.get_rpcsignature(signed, req.method, secrets[ak])
    if expected != sig[0]:
        return Verdict(False, f"V2 signature does not verify: SDK computes {expected!r}, received {sig[0]!r}", ak)
    return Verdict(True, "", ak, [], expected)


# -- Huawei --------------------------------------------------------------------------------


def parse_huawei(value: str | None) -> tuple[dict | None, str]:
    if not value or not value.startswith(HUAWEI + " "):
        return None, f"Authorization is not {HUAWEI}: {value!r}"
    parts = {}
    for part in value[len(HUAWEI) + 1:].split(", "):
        k, sep, v = part.partition("=")
        if not sep or k not in ("Access", "SignedHeaders", "Signature") or k in parts:
            return None, f"malformed Authorization part {part!r}"
        parts[k] = v
    if set(parts) != {"Access", "SignedHeaders", "Signature"}:
        return None, "Authorization lacks a part"
    return parts, ""


def verify_huawei(req: Recorded, secrets: dict[str, str]) -> Verdict:
    auth = req.header("authorization")
    parts, why = parse_huawei(auth)
    if parts is None:
        return Verdict(False, why)
    ak = parts["Access"]
    names = parts["SignedHeaders"].split(";") if parts["SignedHeaders"] else []
    if ak not in secrets:
        return Verdict(False, f"unknown AK {ak!r}", ak, names)
    if "x-sdk-date" not in names:
        return Verdict(False, "x-sdk-date is not signed", ak, names)
    headers, why = _signed_header_values(req, names)
    if headers is None:
        return Verdict(False, why, ak, names)
    try:
        query = decoded_pairs(req.query)
    except (ValueError, UnicodeDecodeError) as e:
        return Verdict(False, f"query does not decode: {e}", ak, names)
    host = req.header("host") or ""
    sdk_req = SdkRequest(
        method=req.method,
        schema="http",
        host=host,
        resource_path=req.path,
        query_params=query,
        header_params=dict(headers),
        body=req.body,
    )
    try:
        Signer(BasicCredentials(ak, secrets[ak])).sign(sdk_req)
    except Exception as e:  # noqa: BLE001 - an unparsable X-Sdk-Date, say
        return Verdict(False, f"the SDK signer refused the request: {e!r}", ak, names)
    expected = sdk_req.header_params.get("Authorization")
    if expected != auth:
        return Verdict(False, f"signature does not verify: SDK computes {expected!r}, received {auth!r}", ak, names, expected)
    return Verdict(True, "", ak, names, expected)


def verify(req: Recorded, secrets: dict[str, str]) -> Verdict:
    """Whichever scheme the request uses."""
    auth = req.header("authorization") or ""
    if auth.startswith(ACS3):
        return verify_alibaba_v3(req, secrets)
    if auth.startswith(HUAWEI):
        return verify_huawei(req, secrets)
    if any(k == "Signature" for k, _ in decoded_pairs(req.query)):
        return verify_alibaba_v2(req, secrets)
    return Verdict(False, f"no recognised signature (Authorization {auth!r})")
