"""Comparison of two requests for the same input: the reference one (the official SDK's, or a
golden capture) and lbpilot's.

What must agree: method, path, which parameters go in the query and which in the body, their
decoded values, the parsed JSON body, the operation headers (x-acs-action, x-acs-version,
Content-Type, X-Project-Id, the security token headers, Host), and that lbpilot signs every
header the provider requires. What may differ is reported as a note: the wire encoding (`+` or
`%20`), JSON formatting, headers only one side sends (user-agent, accept, ...), and the signed
header set beyond the required one.
"""

from __future__ import annotations

import json
import re
import time
from calendar import timegm
from dataclasses import dataclass, field

from recorder import Recorded
from verify import decoded_pairs, parse_acs3, parse_huawei

# Headers whose presence and value must be the same on both sides.
ALIBABA_HEADERS = ["host", "x-acs-action", "x-acs-version", "content-type", "x-acs-security-token", "x-acs-accesskey-id"]
HUAWEI_HEADERS = ["host", "content-type", "x-project-id", "x-security-token", "x-domain-id"]

# Parameters of the older (V2) RPC signature: protocol, not operation, parameters.
V2_PROTOCOL_PARAMS = {
    "Action", "Format", "Version", "Timestamp", "SignatureNonce", "SignatureMethod",
    "SignatureVersion", "AccessKeyId", "Signature", "SecurityToken", "SignatureType",
}

# Parameters whose values are booleans: Python writes True/False, lbpilot true/false (the
# documented form). Compared case-insensitively, the difference is a note.
BOOLEAN_PARAMS = {"DryRun"}

MAX_CLOCK_SKEW_S = 15 * 60


@dataclass
class Options:
    ignore_host: bool = False  # golden captures were sent to the production host
    ignore_params: set[str] = field(default_factory=set)  # never compared (both sides)
    strip_v2: bool = False  # the reference is a V2 capture: drop its protocol params
    compare_signing: bool = True  # the reference is V3/SDK-HMAC: compare signed header sets
    # Body fields the SDK model cannot carry: lbpilot may send them, with these values.
    sdk_cannot_send: dict[str, object] = field(default_factory=dict)
    # Headers lbpilot deliberately leaves out, with the reason (a note, not a failure).
    lbpilot_omits: dict[str, str] = field(default_factory=dict)
    # Only method, path, parameters and body: the reference has no headers (a dry-run view).
    params_only: bool = False


@dataclass
class Result:
    diffs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def is_alibaba(req: Recorded) -> bool:
    return req.header("x-acs-action") is not None or any(k == "Action" for k, _ in _pairs(req.query))


def _pairs(raw: str) -> list[tuple[str, str]]:
    try:
        return decoded_pairs(raw)
    except (ValueError, UnicodeDecodeError):
        return [("<undecodable>", raw)]


def _params(pairs: list[tuple[str, str]], where: str, res: Result, who: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in pairs:
        if k in out:
            res.diffs.append(f"{who}: {where} parameter {k} appears twice")
        out[k] = v
    return out


def body_kind(req: Recorded) -> str:
    ct = (req.header("content-type") or "").lower()
    if not req.body:
        return "empty"
    if ct.startswith("application/x-www-form-urlencoded"):
        return "form"
    if ct.startswith("application/json"):
        return "json"
    return "raw"


def _split(req: Recorded, res: Result, who: str, opts: Options) -> tuple[dict, dict | None, object]:
    """(query params, form params or None, parsed JSON body or raw bytes)."""
    query = _params(_pairs(req.query), "query", res, who)
    if opts.strip_v2:
        query = {k: v for k, v in query.items() if k not in V2_PROTOCOL_PARAMS}
    kind = body_kind(req)
    form, other = None, None
    if kind == "form":
        form = _params(_pairs(req.body.decode("utf-8", "replace")), "body", res, who)
    elif kind == "json":
        try:
            other = json.loads(req.body)
        except ValueError as e:
            res.diffs.append(f"{who}: the JSON body does not parse: {e}")
            other = req.body
    elif kind == "raw":
        other = req.body
    for p in opts.ignore_params:
        query.pop(p, None)
        if form is not None:
            form.pop(p, None)
    return query, form, other


def _values_equal(name: str, a: str, b: str) -> tuple[bool, bool]:
    """(equal, equal only case-insensitively as a boolean)."""
    if a == b:
        return True, False
    if name in BOOLEAN_PARAMS and a.lower() == b.lower() and a.lower() in ("true", "false"):
        return True, True
    return False, False


def _compare_params(ref_q, ref_f, lb_q, lb_f, res: Result, ref_name: str = "SDK") -> None:
    ref_all = {**{k: ("query", v) for k, v in ref_q.items()}, **{k: ("body", v) for k, v in (ref_f or {}).items()}}
    lb_all = {**{k: ("query", v) for k, v in lb_q.items()}, **{k: ("body", v) for k, v in (lb_f or {}).items()}}
    for k in sorted(set(ref_all) | set(lb_all)):
        if k not in lb_all:
            res.diffs.append(f"parameter {k}: {ref_name} sends {ref_all[k][1]!r} in the {ref_all[k][0]}, lbpilot does not send it")
            continue
        if k not in ref_all:
            res.diffs.append(f"parameter {k}: lbpilot sends {lb_all[k][1]!r} in the {lb_all[k][0]}, {ref_name} does not send it")
            continue
        (rw, rv), (lw, lv) = ref_all[k], lb_all[k]
        if rw != lw:
            res.diffs.append(f"parameter {k}: {ref_name} sends it in the {rw}, lbpilot in the {lw}")
        equal, case_only = _values_equal(k, rv, lv)
        if not equal:
            res.diffs.append(f"parameter {k}: {ref_name} value {rv!r}, lbpilot value {lv!r}")
        elif case_only:
            res.notes.append(f"{k} is {rv!r} from the {ref_name} (Python str(bool)) and {lv!r} from lbpilot (the documented form)")


def _json_diff(a, b, path="$", ref="SDK") -> list[str]:
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool)):
        return [f"{path}: {ref} {a!r}, lbpilot {b!r}"]
    if isinstance(a, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            if k not in b:
                out.append(f"{path}.{k}: {ref} sends {a[k]!r}, lbpilot does not send it")
            elif k not in a:
                out.append(f"{path}.{k}: lbpilot sends {b[k]!r}, {ref} does not send it")
            else:
                out += _json_diff(a[k], b[k], f"{path}.{k}", ref)
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{path}: {ref} has {len(a)} items, lbpilot {len(b)}"]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += _json_diff(x, y, f"{path}[{i}]", ref)
        return out
    return [] if a == b else [f"{path}: {ref} {a!r}, lbpilot {b!r}"]


def _key_orders(v, path="$"):
    if isinstance(v, dict):
        yield path, list(v)
        for k, x in v.items():
            yield from _key_orders(x, f"{path}.{k}")
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from _key_orders(x, f"{path}[{i}]")


def signed_headers(req: Recorded) -> list[str] | None:
    auth = req.header("authorization")
    if auth is None:
        return None
    parts, _ = parse_acs3(auth) if auth.startswith("ACS3") else parse_huawei(auth)
    if parts is None:
        return None
    return parts["SignedHeaders"].split(";") if parts["SignedHeaders"] else []


def required_signed(req: Recorded) -> list[str]:
    """The headers the provider requires lbpilot to sign, given what lbpilot sent."""
    present = {n.lower() for n, _ in req.headers}
    if is_alibaba(req):
        need = ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"]
        if req.body:
            need.append("content-type")
        if "x-acs-security-token" in present or "x-acs-accesskey-id" in present:
            need += ["x-acs-security-token", "x-acs-accesskey-id"]
        # Every common x-acs-* header that is present must be signed.
        need += sorted(h for h in present if h.startswith("x-acs-") and h not in need)
        return need
    need = ["x-sdk-date", "host"]
    for h in ("content-type", "x-project-id", "x-security-token", "x-domain-id"):
        if h in present:
            need.append(h)
    return need


def check_signing_headers(req: Recorded, who: str = "lbpilot") -> list[str]:
    """Problems with the signed-header set and the date/nonce headers of one request."""
    problems = []
    names = signed_headers(req)
    if names is None:
        return [f"{who}: no parsable Authorization header"]
    missing = [h for h in required_signed(req) if h not in names]
    if missing:
        problems.append(f"{who} does not sign required header(s) {', '.join(missing)} (signs {';'.join(names)})")
    if names != sorted(names):
        problems.append(f"{who}: SignedHeaders is not sorted: {';'.join(names)}")
    now = time.time()
    if is_alibaba(req):
        date = req.header("x-acs-date") or ""
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", date):
            problems.append(f"{who}: x-acs-date {date!r} is not yyyy-MM-ddTHH:mm:ssZ")
        elif abs(timegm(time.strptime(date, "%Y-%m-%dT%H:%M:%SZ")) - now) > MAX_CLOCK_SKEW_S:
            problems.append(f"{who}: x-acs-date {date} is more than 15 minutes off the clock")
        if not (req.header("x-acs-signature-nonce") or "").strip():
            problems.append(f"{who}: empty x-acs-signature-nonce")
    else:
        date = req.header("x-sdk-date") or ""
        if not re.fullmatch(r"\d{8}T\d{6}Z", date):
            problems.append(f"{who}: X-Sdk-Date {date!r} is not YYYYMMDDTHHMMSSZ")
        elif abs(timegm(time.strptime(date, "%Y%m%dT%H%M%SZ")) - now) > MAX_CLOCK_SKEW_S:
            problems.append(f"{who}: X-Sdk-Date {date} is more than 15 minutes off the clock")
    return problems


def compare(ref: Recorded, lb: Recorded, opts: Options | None = None, ref_name: str = "SDK") -> Result:
    opts = opts or Options()
    res = Result()
    if ref.method != lb.method:
        res.diffs.append(f"method: {ref_name} {ref.method}, lbpilot {lb.method}")
    if ref.path != lb.path:
        res.diffs.append(f"path: {ref_name} {ref.path!r}, lbpilot {lb.path!r}")

    rq, rf, rother = _split(ref, res, ref_name, opts)
    lq, lf, lother = _split(lb, res, "lbpilot", opts)
    _compare_params(rq, rf, lq, lf, res, ref_name)
    rk, lk = body_kind(ref), body_kind(lb)
    if rk != lk and {rk, lk} != {"form", "empty"}:
        res.diffs.append(f"body kind: {ref_name} sends a {rk} body, lbpilot a {lk} body")
    if rf is not None and lf is not None and ref.body != lb.body:
        res.notes.append("form bodies decode to the same pairs but differ in bytes")
    if rf is not None or lf is not None:
        pass  # compared as parameters above
    elif isinstance(rother, (dict, list)) and isinstance(lother, (dict, list)):
        lcmp = lother
        if opts.sdk_cannot_send and isinstance(lother, dict):
            lcmp = dict(lother)
            for k, want in opts.sdk_cannot_send.items():
                if k in rother:
                    res.diffs.append(f"body field {k}: expected the {ref_name} not to send it, but it does")
                    continue
                if lcmp.get(k) != want:
                    res.diffs.append(f"body field {k}: lbpilot sends {lcmp.get(k)!r}, expected {want!r}")
                lcmp.pop(k, None)
                res.notes.append(f"body field {k} is sent by lbpilot (API doc) but cannot be sent by the SDK's model (3.1.219)")
        res.diffs += [f"body {d}" for d in _json_diff(rother, lcmp, ref=ref_name)]
        if not res.diffs:
            rorders, lorders = dict(_key_orders(rother)), dict(_key_orders(lcmp))
            for p, keys in rorders.items():
                if lorders.get(p) != keys:
                    res.notes.append(f"JSON key order at {p} differs: {ref_name} {keys}, lbpilot {lorders.get(p)}")
            if ref.body != lb.body:
                res.notes.append("JSON bodies are equal as objects but formatted differently (separators, \\u escapes)")
    elif rother != lother:
        shown = lambda v: v if isinstance(v, (dict, list)) else (v or b"").decode("utf-8", "replace")  # noqa: E731
        res.diffs.append(f"body: {ref_name} {shown(rother)!r}, lbpilot {shown(lother)!r}")

    if opts.params_only:
        return res
    names = ALIBABA_HEADERS if is_alibaba(ref) or is_alibaba(lb) else HUAWEI_HEADERS
    if opts.strip_v2:
        # A V2 capture carries the STS token as the SecurityToken query parameter; V3 as a header.
        token = dict(_pairs(ref.query)).get("SecurityToken")
        if token != lb.header("x-acs-security-token"):
            res.diffs.append(f"security token: {ref_name} SecurityToken={token!r}, lbpilot x-acs-security-token {lb.header('x-acs-security-token')!r}")
        names = [h for h in names if h not in ("x-acs-security-token", "x-acs-accesskey-id")]
    for h in names:
        if h == "host" and opts.ignore_host:
            continue
        rv, lv = ref.header(h), lb.header(h)
        if h in opts.lbpilot_omits and rv is not None and lv is None:
            res.notes.append(f"{h}: {ref_name} sends {rv!r}, lbpilot leaves it out ({opts.lbpilot_omits[h]})")
            continue
        if rv != lv:
            res.diffs.append(f"header {h}: {ref_name} {rv!r}, lbpilot {lv!r}")
    if len(lb.header_all("content-type")) > 1:
        res.diffs.append("lbpilot sends Content-Type twice")

    ref_names = {n.lower() for n, _ in ref.headers}
    lb_names = {n.lower() for n, _ in lb.headers}
    only_ref = sorted(ref_names - lb_names - {"authorization"})
    only_lb = sorted(lb_names - ref_names)
    if only_ref:
        res.notes.append(f"headers only the {ref_name} sends: {', '.join(only_ref)}")
    if only_lb:
        res.notes.append(f"headers only lbpilot sends: {', '.join(only_lb)}")

    if opts.compare_signing:
        rs, ls = signed_headers(ref), signed_headers(lb)
        if rs is not None and ls is not None and rs != ls:
            extra_ref = [h for h in rs if h not in ls]
            extra_lb = [h for h in ls if h not in rs]
            note = "signed headers differ:"
            if extra_ref:
                note += f" only the {ref_name} signs {', '.join(extra_ref)};"
            if extra_lb:
                note += f" only lbpilot signs {', '.join(extra_lb)};"
            res.notes.append(note.rstrip(";"))
    res.diffs += check_signing_headers(lb)
    return res
