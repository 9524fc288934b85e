#!/usr/bin/env python3
"""lbpilot's conformance check against the official provider SDKs.

For every case of the corpus (cases.py) it runs the same action twice against a local recording
server: once through the official Python SDK (request models built from the action's params),
once through lbpilot's executor (the `execute-actions` binary), and then

  * compares the two write requests: method, path, query and body parameters (decoded, and
    where each one goes), the JSON body, the operation and security headers, Content-Type,
    Host, X-Project-Id, and that lbpilot signs every header the provider requires;
  * verifies every request lbpilot sent (writes and reads) with the SDK's own signing code, and
    the SDK's own write with the same code as a control;
  * checks lbpilot's outcome (succeeded / dry_run / rejected).

Then it replays the golden captures (shared/tests/vectors/*.jsonl, copies of the reference captures): each
record's signature must verify with the SDK's code, the installed SDK must still produce the
same request for the record's input (SDK drift), and lbpilot's request for that input must carry
the same parameters. Finally the self-test tampers with signed requests and asserts that
verification and comparison then FAIL, so the check cannot pass vacuously.

Usage: .venv/bin/python tests/conformance/check.py --lbpilot-bin target/debug/execute-actions
       [--self-test] [--only SUBSTRING] [--verbose] [--dump FILE]
The last line printed is `N passed, M failed`; the exit status is non-zero if anything failed.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import tempfile
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
# The signer tests and this check share one copy of the reference captures.
VECTORS = HERE.parents[1] / "shared" / "tests" / "vectors"
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # leave no __pycache__ in the work tree

import cases as corpus  # noqa: E402
import sdk  # noqa: E402
from compare import Options, check_signing_headers, compare  # noqa: E402
from recorder import Behaviour, Recorded, Recorder  # noqa: E402
from verify import decoded_pairs, verify  # noqa: E402

SECRETS = sdk.SECRETS
VOLATILE_HEADERS = {"host", "x-acs-date", "x-acs-signature-nonce", "user-agent", "x-sdk-date", "content-length"}
VOLATILE_PARAMS = {"Timestamp", "SignatureNonce", "Signature"}


@dataclass
class CaseResult:
    name: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lb_requests: list[Recorded] = field(default_factory=list)
    sdk_requests: list[Recorded] = field(default_factory=list)
    outcome: dict | None = None
    stderr: str = ""

    def write(self, who: str, op: str) -> Recorded | None:
        reqs = self.lb_requests if who == "lbpilot" else self.sdk_requests
        found = [r for r in reqs if r.operation() == op]
        return found[0] if len(found) == 1 else None


class Report:
    def __init__(self, verbose: bool) -> None:
        self.passed = 0
        self.failed = 0
        self.verbose = verbose
        self.xfailed = 0
        self.notes: dict[str, list[str]] = {}

    def known_failure(self, name: str, what: list[str]) -> None:
        self.xfailed += 1
        print(f"XFAIL {name}: known difference, for the lead to decide ({len(what)}): {what[0]}", flush=True)
        for w in what[1:]:
            print(f"    - {w}", flush=True)

    def case(self, name: str, problems: list[str], notes: list[str] = ()) -> None:
        for n in notes:
            self.notes.setdefault(n, []).append(name)
        if problems:
            self.failed += 1
            print(f"FAIL {name}: {problems[0]}", flush=True)
            for p in problems[1:]:
                print(f"    - {p}", flush=True)
        else:
            self.passed += 1
            print(f"PASS {name}", flush=True)
        if self.verbose:
            for n in notes:
                print(f"    note: {n}", flush=True)

    def finish(self) -> int:
        if self.notes:
            print("notes (informational differences from the SDK, not failures):")
            for n, where in sorted(self.notes.items(), key=lambda kv: (-len(kv[1]), kv[0])):
                shown = ", ".join(where[:3]) + (f" and {len(where) - 3} more" if len(where) > 3 else "")
                print(f"  - {n} [{shown}]")
        if self.xfailed:
            print(f"known failures (XFAIL, not counted below): {self.xfailed}")
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


# -- running lbpilot -----------------------------------------------------------------------


def lbpilot_env(rec: Recorder, case: dict) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALIBABA_CLOUD_", "HUAWEICLOUD_", "LBPILOT_")) and "proxy" not in k.lower()}
    env.update({
        "NO_PROXY": "127.0.0.1,localhost",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": sdk.ALIBABA_AK,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": sdk.ALIBABA_SECRET,
        "HUAWEICLOUD_SDK_AK": sdk.HUAWEI_AK,
        "HUAWEICLOUD_SDK_SK": sdk.HUAWEI_SK,
        "LBPILOT_ALB_ENDPOINT": rec.base_url,
        "LBPILOT_SLB_ENDPOINT": rec.base_url,
        "LBPILOT_ROMA_ENDPOINT": rec.base_url,
        "LBPILOT_GA_ENDPOINT": rec.base_url,
        "LBPILOT_ALB_JOB_WAIT_MS": "0",
        "LBPILOT_MAX_ATTEMPTS": str(case.get("max_attempts", 1)),
    })
    if not case.get("no_default_project"):
        env["HUAWEICLOUD_SDK_PROJECT_ID"] = sdk.DEFAULT_PROJECT_ID
    if case.get("sts"):
        env["ALIBABA_CLOUD_SECURITY_TOKEN"] = sdk.ALIBABA_TOKEN
        env["HUAWEICLOUD_SDK_SECURITY_TOKEN"] = sdk.HUAWEI_TOKEN
    return env


def run_lbpilot(binary: str, rec: Recorder, case: dict, res: CaseResult) -> None:
    line = json.dumps(case["action"], ensure_ascii=False) + "\n"
    try:
        p = subprocess.run([binary], input=line.encode("utf-8"), capture_output=True, timeout=120,
                           env=lbpilot_env(rec, case), cwd=HERE)
    except (OSError, subprocess.TimeoutExpired) as e:
        res.problems.append(f"execute-actions did not run: {e}")
        return
    res.stderr = p.stderr.decode("utf-8", "replace")
    if p.returncode != 0:
        res.problems.append(f"execute-actions exited with {p.returncode}: {res.stderr.strip()[-500:]}")
    lines = [ln for ln in p.stdout.decode("utf-8", "replace").splitlines() if ln.strip()]
    if len(lines) != 1:
        res.problems.append(f"execute-actions printed {len(lines)} outcome lines, expected 1")
    if lines:
        try:
            res.outcome = json.loads(lines[-1])
        except ValueError as e:
            res.problems.append(f"execute-actions printed a line that is not JSON ({e}): {lines[-1][:300]}")


def view_as_request(view: dict) -> Recorded:
    """An outcome's would-be request (dry runs) as a headerless Recorded request."""
    url = urlsplit(view["url"])
    body = (view.get("body") or "").encode("utf-8")
    return Recorded(method=view["method"], target=url.path + ("?" + url.query if url.query else ""),
                    path=url.path, query=url.query, headers=[], body=body)


def expected_lbpilot_calls(case: dict) -> list[str]:
    if "calls" in case:
        return case["calls"]
    op = case["action"]["operation"]
    write = sdk.WRITE_OPERATION[op]
    if case.get("expect") == "rejected" or case.get("sends") is False:
        return []
    if op == "alb:UpdateServerGroupServersAttribute":
        return [write] if case.get("expect") == "dry_run" else [write, "ListAsynJobs"]
    if op == "ga:UpdateEndpointGroup":
        return ["GET ga endpoint-group", write]
    return [write]


def run_case(case: dict, rec: Recorder, binary: str) -> CaseResult:
    res = CaseResult(case["name"])
    action = case["action"]
    op = action["operation"]
    write_op = sdk.WRITE_OPERATION[op]
    rec.behaviour = Behaviour(job_id=case.get("job_id", "job-1"), reset_first=set(case.get("reset_first") or ()))
    rec.take()

    # lbpilot first: a case without an action id takes the id lbpilot derived (ALB ClientToken).
    run_lbpilot(binary, rec, case, res)
    res.lb_requests = rec.take()
    expect = case.get("expect", "succeeded")
    outcome = res.outcome or {}
    if res.outcome is not None and outcome.get("status") != expect:
        res.problems.append(f"lbpilot outcome is {outcome.get('status')!r}, expected {expect!r}: error {outcome.get('error')}")
    if expect == "rejected" and outcome.get("status") == "rejected":
        got = (outcome.get("error") or {}).get("field")
        if got != case.get("field"):
            res.problems.append(f"lbpilot rejected field {got!r}, expected {case.get('field')!r}")
    calls = [r.operation() for r in res.lb_requests]
    if calls != expected_lbpilot_calls(case):
        res.problems.append(f"lbpilot made the calls {calls}, expected {expected_lbpilot_calls(case)}")

    action_id = (outcome.get("action") or {}).get("id") or action.get("id")
    settings = sdk.SdkSettings(
        sts=bool(case.get("sts")),
        project_id=None if case.get("no_default_project") else sdk.DEFAULT_PROJECT_ID,
        ga_project_id=case.get("ga_project_id"),
        job_id=case.get("job_id", "job-1"),
    )
    errors = sdk.run(action, rec.authority, settings, client_token=action_id)
    res.sdk_requests = rec.take()
    dry_alb = op == "alb:UpdateServerGroupServersAttribute" and (action.get("dry_run") or action["params"].get("DryRun"))
    unexpected = [e for e in errors if not (dry_alb and "DryRunOperation" in e)]
    if unexpected:
        res.problems.append(f"the SDK raised {unexpected}")
    sdk_write = res.write("sdk", write_op)
    if sdk_write is None:
        res.problems.append(f"the SDK did not send exactly one {write_op}: {[r.operation() for r in res.sdk_requests]}")
        return res
    # Control: the SDK's own request verifies with the SDK's code (else the checker is broken).
    v = verify(sdk_write, SECRETS)
    if not v:
        res.problems.append(f"control failed: the SDK's own {write_op} does not verify: {v.reason}")
    for r in res.sdk_requests:
        if r is not sdk_write and not verify(r, SECRETS):
            res.problems.append(f"control failed: the SDK's own {r.operation()} does not verify")

    if expect == "rejected":
        return res
    if case.get("sends") is False:
        views = outcome.get("requests") or []
        if len(views) != 1:
            res.problems.append(f"lbpilot's dry-run outcome lists {len(views)} would-be requests, expected 1")
            return res
        view = view_as_request(views[0])
        if view.body and sdk_write.header("content-type"):
            # The view carries no headers: read its body as the SDK's kind of body.
            view.headers = [("content-type", sdk_write.header("content-type"))]
        c = compare(sdk_write, view, Options(params_only=True))
        res.problems += [f"dry-run view: {d}" for d in c.diffs]
        res.notes += c.notes
        return res

    lb_writes = [r for r in res.lb_requests if r.operation() == write_op]
    if not lb_writes:
        return res  # the call list above already says why
    # Every write, a repeat after a lost answer included, is the SDK's request.
    for i, w in enumerate(lb_writes):
        c = compare(sdk_write, w, Options(
            sdk_cannot_send=case.get("sdk_cannot_send") or {},
            lbpilot_omits=case.get("lbpilot_omits") or {},
        ))
        prefix = f"attempt {i + 1}: " if len(lb_writes) > 1 else ""
        res.problems += [prefix + d for d in c.diffs]
        res.notes += c.notes
    # Every request lbpilot sent, reads included, verifies with the SDK's signing code.
    for r in res.lb_requests:
        v = verify(r, SECRETS)
        if not v:
            res.problems.append(f"lbpilot's {r.operation()} does not verify with the SDK's code: {v.reason}")
        if r.operation() != write_op:
            res.problems += [f"{r.operation()}: {p}" for p in check_signing_headers(r)]
            # Reads are compared with the SDK's equivalent read for information only.
            peer = res.write("sdk", r.operation())
            if peer is not None:
                rc = compare(peer, r)
                for d in rc.diffs:
                    res.notes.append(f"read {r.operation()} differs from the SDK's: {d}")
    return res


# -- endpoints -----------------------------------------------------------------------------


def sdk_endpoints() -> dict[str, dict[str, str]]:
    """product -> region -> host, as the SDKs resolve them (no request is sent)."""
    from alibabacloud_alb20200616.client import Client as AlbClient
    from alibabacloud_slb20140515.client import Client as SlbClient
    from alibabacloud_tea_openapi import utils_models as om
    from huaweicloudsdkga.v1.region.ga_region import GaRegion
    from huaweicloudsdkroma.v2.region.roma_region import RomaRegion

    def alibaba(cls, extra):
        probe = cls(om.Config(access_key_id="a", access_key_secret="b", region_id="cn-hangzhou"))
        regions = sorted(set(probe._endpoint_map) | set(extra))
        return {r: cls(om.Config(access_key_id="a", access_key_secret="b", region_id=r))._endpoint for r in regions}

    common = ["cn-hangzhou", "cn-beijing", "cn-shanghai", "cn-zhangjiakou", "cn-huhehaote", "eu-central-1",
              "ap-northeast-1", "ap-southeast-1", "ap-south-1", "us-west-1", "me-east-1"]
    host = lambda url: urlsplit(url).netloc  # noqa: E731
    return {
        "alb": alibaba(AlbClient, common),
        "slb": alibaba(SlbClient, common),
        "roma": {r: host(reg.endpoints[0]) for r, reg in RomaRegion.static_fields.items()},
        "ga": {r: host(reg.endpoints[0]) for r, reg in GaRegion.static_fields.items()},
    }


ENDPOINT_ACTIONS = {
    "alb": {"operation": "alb:UpdateServerGroupServersAttribute",
            "params": {"ServerGroupId": "sgp-1", "Servers": [{"ServerId": "i-1", "ServerType": "Ecs", "Port": 80, "Weight": 1}]}},
    "slb": {"operation": "slb:CreateVServerGroup", "params": {"LoadBalancerId": "lb-1"}},
    "roma": {"operation": "roma:UpdateMemberGroup", "params": {**corpus.ROMA_IDS, "member_group_name": "abc"}},
    "ga": {"operation": "ga:UpdateEndpointGroup", "params": {"endpoint_group_id": "g-1", "endpoint_group": {"traffic_dial_percentage": 1}}},
}


def endpoint_checks(rec: Recorder, binary: str) -> list[tuple[str, list[str], list[str]]]:
    """The host lbpilot derives from an action's region, against the SDK's endpoint for it.

    lbpilot runs without endpoint overrides but with HTTPS_PROXY set to the recorder, which
    records each CONNECT target and refuses it: nothing leaves this machine."""
    out = []
    expected = sdk_endpoints()
    for product, by_region in expected.items():
        problems, notes = [], []
        known = corpus.KNOWN_ENDPOINT_DIFFERENCES.get(product, set())
        known_seen, known_gone = [], []
        # GA is global: lbpilot's actions carry no region; every SDK region must be the one host.
        regions = [None] if product == "ga" else sorted(by_region)
        for region in regions:
            action = {"id": "endpoint-probe", **copy.deepcopy(ENDPOINT_ACTIONS[product])}
            if region is not None:
                action["region"] = region
            case = {"action": action}
            env = lbpilot_env(rec, case)
            for k in [k for k in env if k.endswith("_ENDPOINT") or "proxy" in k.lower()]:
                del env[k]
            env["HTTPS_PROXY"] = env["HTTP_PROXY"] = rec.base_url
            rec.take()
            try:
                subprocess.run([binary], input=(json.dumps(action) + "\n").encode(), capture_output=True,
                               timeout=60, env=env, cwd=HERE)
            except (OSError, subprocess.TimeoutExpired) as e:
                problems.append(f"execute-actions did not run: {e}")
                break
            seen = rec.take()
            targets = [r.target for r in seen if r.method == "CONNECT"]
            if len(targets) != len(seen) or not targets:
                # Without a CONNECT the proxy was not used: stop rather than risk a real connection.
                problems.append(f"lbpilot did not go through the proxy for {product} {region}: {[r.method + ' ' + r.target for r in seen]}")
                return out + [(f"endpoints/{product}", problems, notes)]
            got = targets[0].rsplit(":", 1)[0]
            want = sorted(set(by_region.values())) if region is None else [by_region[region]]
            if region in known:
                (known_seen if got not in want else known_gone).append(f"{region} (SDK {want[0]}, lbpilot {got})")
            elif got not in want:
                problems.append(f"region {region}: SDK host {' or '.join(want)}, lbpilot host {got}")
            if not targets[0].endswith(":443"):
                problems.append(f"region {region}: lbpilot connects to {targets[0]}, not port 443 (https)")
        if known_gone:
            problems.append(f"listed as known differences but now equal (remove them from cases.KNOWN_ENDPOINT_DIFFERENCES): {known_gone}")
        out.append((f"endpoints/{product}", problems, notes))
        if known_seen:
            out.append((f"endpoints/{product}-sdk-map-only-regions", None, known_seen))
    return out


# -- golden replay -------------------------------------------------------------------------


def load_golden(golden_dir: Path) -> list[dict]:
    out = []
    for fname in ("alibaba_golden.jsonl", "huawei_golden.jsonl"):
        with open(golden_dir / fname, encoding="utf-8") as f:
            out += [json.loads(ln) for ln in f if ln.strip()]
    return out


def _auth_without_signature(value: str | None) -> str | None:
    return value.split("Signature=")[0] if value else value


def drift(golden: Recorded, live: Recorded) -> tuple[list[str], list[str]]:
    """Differences between a golden capture and the installed SDK's request for the same
    input, apart from what varies per request (date, nonce, signature) or per machine (host,
    user agent)."""
    diffs, notes = [], []
    if golden.method != live.method:
        diffs.append(f"method {golden.method} -> {live.method}")
    if golden.path != live.path:
        diffs.append(f"path {golden.path!r} -> {live.path!r}")
    blank = lambda pairs: [(k, "*" if k in VOLATILE_PARAMS else v) for k, v in pairs]  # noqa: E731
    gq, lq = blank(decoded_pairs(golden.query)), blank(decoded_pairs(live.query))
    if gq != lq:
        diffs.append(f"query {gq} -> {lq}")
    elif golden.query.split("Timestamp=")[0] != live.query.split("Timestamp=")[0]:
        diffs.append(f"raw query {golden.query!r} -> {live.query!r}")
    if golden.body != live.body:
        diffs.append(f"body {golden.body!r} -> {live.body!r}")

    def hmap(r: Recorded) -> dict[str, list[str]]:
        m: dict[str, list[str]] = {}
        for n, v in r.headers:
            if n.lower() in VOLATILE_HEADERS:
                continue
            if n.lower() == "authorization":
                v = _auth_without_signature(v)
            m.setdefault(n.lower(), []).append(v)
        return m

    gh, lh = hmap(golden), hmap(live)
    for n in sorted(set(gh) | set(lh)):
        if gh.get(n) != lh.get(n):
            diffs.append(f"header {n} {gh.get(n)} -> {lh.get(n)}")
    if [n.lower() for n, _ in golden.headers] != [n.lower() for n, _ in live.headers]:
        notes.append("SDK header order differs from the golden capture's (the capture tool pinned X-Sdk-Date)")
    return diffs, notes


def replay(record: dict, results: dict[str, CaseResult], rec: Recorder, case_by_name: dict) -> tuple[list[str], list[str]]:
    label = record["label"]
    rep = corpus.GOLDEN_REPLAYS.get(label)
    if rep is None:
        return [f"no replay is defined for golden record {label!r} (add it to cases.GOLDEN_REPLAYS)"], []
    problems, notes = [], []
    if rep.get("note"):
        notes.append(f"{label}: {rep['note']}")
    g = Recorded.from_golden(record)

    # 1. The record's own signature verifies with the SDK's code (a control for verify.py).
    if rep.get("signature") == "v11":
        notes.append(f"{label}: V11 signature not verified (DerivationAKSKSigner demo)")
    else:
        v = verify(g, SECRETS)
        if not v:
            problems.append(f"control failed: the golden capture's signature does not verify with the SDK's code: {v.reason}")

    case_name = rep["case"]
    lb_case = rep.get("lbpilot_case", case_name)
    for n in (case_name, lb_case):
        if n not in results:
            return problems + [f"case {n} did not run"], notes
    op = rep.get("request") or sdk.WRITE_OPERATION[case_by_name[case_name]["action"]["operation"]]

    # 2. SDK drift: the installed SDK still sends what was captured.
    mode = rep.get("sdk_mode", "v3")
    if mode is None:
        notes.append(f"{label}: recorded with an SDK that is not installed here; parameters compared, no drift check")
    else:
        if mode == "v3":
            live = results[case_name].write("sdk", op)
        else:
            case = case_by_name[case_name]
            rec.take()
            errors = sdk.run(case["action"], rec.authority, sdk.SdkSettings(sts=bool(case.get("sts")), mode=mode), reads=False)
            found = [r for r in rec.take() if r.operation() == op]
            live = found[0] if len(found) == 1 else None
            if errors:
                problems.append(f"the SDK ({mode}) raised {errors}")
            if live is not None and not verify(live, SECRETS):
                problems.append(f"control failed: the SDK's own {mode} request does not verify")
        if live is None:
            problems.append(f"no live SDK request {op} for case {case_name}")
        else:
            d, n = drift(g, live)
            problems += [f"SDK drift from the golden capture: {x}" for x in d]
            notes += n

    # 3. lbpilot's request for the same input carries the same parameters.
    lb = results[lb_case].write("lbpilot", op)
    if lb is None:
        problems.append(f"no lbpilot request {op} in case {lb_case}")
        return problems, notes
    lb_case_def = case_by_name[lb_case]
    v2 = "Signature" in dict(decoded_pairs(g.query))
    c = compare(g, lb, Options(
        ignore_host=True,
        strip_v2=v2,
        compare_signing=not v2,
        ignore_params=set(rep.get("ignore_params") or []),
        sdk_cannot_send=lb_case_def.get("sdk_cannot_send") or {},
        lbpilot_omits=lb_case_def.get("lbpilot_omits") or {},
    ), ref_name="golden")
    problems += c.diffs
    # Header-set notes repeat the case's own comparison with the live SDK: keep the others.
    notes += [n for n in c.notes if not n.startswith(("headers only", "signed headers differ"))]
    return problems, notes


# -- self-test -----------------------------------------------------------------------------


def _replace_header(r: Recorded, name: str, value: str) -> Recorded:
    t = copy.deepcopy(r)
    t.headers = [(n, value if n.lower() == name else v) for n, v in t.headers]
    return t


def _with(r: Recorded, **kw) -> Recorded:
    t = copy.deepcopy(r)
    for k, v in kw.items():
        setattr(t, k, v)
    return t


def self_test(results: dict[str, CaseResult], golden: list[dict]) -> list[tuple[str, list[str]]]:
    """Tampered requests must fail verification, and tampered parameters must fail comparison."""
    out = []

    def must_fail(label: str, req: Recorded, problems: list[str]) -> None:
        v = verify(req, SECRETS)
        if v:
            problems.append(f"tampered request ({label}) still verifies: the check could pass vacuously")

    # Alibaba
    problems: list[str] = []
    res = results.get("alb/golden-1")
    lb = res.write("lbpilot", "UpdateServerGroupServersAttribute") if res else None
    ref = res.write("sdk", "UpdateServerGroupServersAttribute") if res else None
    if lb is None or ref is None:
        problems.append("alb/golden-1 produced no requests to tamper with")
    else:
        if not verify(lb, SECRETS):
            problems.append("the untampered lbpilot request does not verify")
        import hashlib
        body2 = lb.body.replace(b"Weight=100", b"Weight=101")
        must_fail("query value changed after signing", _with(lb, query=lb.query.replace("sgp-", "sgq-")), problems)
        must_fail("query parameter added", _with(lb, query=lb.query + "&Extra=1"), problems)
        must_fail("body changed, hash header kept", _with(lb, body=body2), problems)
        must_fail("body changed, hash header recomputed",
                  _replace_header(_with(lb, body=body2), "x-acs-content-sha256", hashlib.sha256(body2).hexdigest()), problems)
        must_fail("x-acs-date changed", _replace_header(lb, "x-acs-date", "2020-01-01T00:00:00Z"), problems)
        must_fail("signed header list shortened", _replace_header(lb, "authorization",
                  lb.header("authorization").replace("content-type;", "")), problems)
        if verify(lb, {sdk.ALIBABA_AK: "not-the-secret"}):
            problems.append("a request verifies with the wrong secret")
        if not compare(ref, _with(lb, body=body2)).diffs:
            problems.append("comparison missed a changed body value (Weight)")
        if not compare(ref, _replace_header(lb, "x-acs-version", "2014-05-15")).diffs:
            problems.append("comparison missed a changed x-acs-version")
        moved_q = "&".join(p for p in lb.query.split("&") if not p.startswith("ServerGroupId="))
        moved = _with(lb, query=moved_q, body=lb.body + b"&ServerGroupId=sgp-atstuj3rtop%2A%2A%2A%2A")
        if not any("in the body" in d or "in the query" in d for d in compare(ref, moved).diffs):
            problems.append("comparison missed a parameter moved from the query to the body")
        unsigned = _replace_header(lb, "authorization", lb.header("authorization").replace("x-acs-content-sha256;", ""))
        if not check_signing_headers(unsigned):
            problems.append("the signed-header check missed an unsigned x-acs-content-sha256")
    out.append(("selftest/alibaba-tamper", problems))

    # Huawei
    problems = []
    res = results.get("roma/golden-1")
    lb = res.write("lbpilot", "PUT roma member-group") if res else None
    ref = res.write("sdk", "PUT roma member-group") if res else None
    if lb is None or ref is None:
        problems.append("roma/golden-1 produced no requests to tamper with")
    else:
        if not verify(lb, SECRETS):
            problems.append("the untampered lbpilot request does not verify")
        body2 = lb.body.replace(b"10", b"11")
        must_fail("body changed", _with(lb, body=body2), problems)
        must_fail("path changed", _with(lb, path=lb.path.replace("105c69", "105c70")), problems)
        must_fail("query added", _with(lb, query="a=b"), problems)
        must_fail("X-Project-Id changed", _replace_header(lb, "x-project-id", "other"), problems)
        must_fail("X-Sdk-Date changed", _replace_header(lb, "x-sdk-date", "20200101T000000Z"), problems)
        if not compare(ref, _with(lb, body=body2)).diffs:
            problems.append("comparison missed a changed JSON body value")
        if not compare(ref, _replace_header(lb, "content-type", "application/json")).diffs:
            problems.append("comparison missed a changed Content-Type")
        no_project = _replace_header(lb, "authorization", lb.header("authorization").replace("x-project-id;", ""))
        if not check_signing_headers(no_project):
            problems.append("the signed-header check missed an unsigned X-Project-Id")
    out.append(("selftest/huawei-tamper", problems))

    # Golden captures: a tampered capture must not verify.
    problems = []
    for record in golden:
        if record["label"] in ("alb.UpdateServerGroupServersAttribute/v3", "alb.UpdateServerGroupServersAttribute/tea-v2",
                               "roma_update_member_group"):
            g = Recorded.from_golden(record)
            if not verify(g, SECRETS):
                problems.append(f"golden {record['label']} does not verify untampered")
            t = _with(g, body=g.body.replace(b"1", b"2", 1))
            if record["label"].endswith("tea-v2"):
                t = _with(g, query=g.query.replace("DryRun=False", "DryRun=True"))
            must_fail(f"golden {record['label']} tampered", t, problems)
    out.append(("selftest/golden-tamper", problems))
    return out


# -- main ----------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lbpilot-bin", required=True, help="path to the execute-actions binary")
    ap.add_argument("--golden-dir", default=os.environ.get("LBPILOT_GOLDEN_DIR", str(VECTORS)))
    ap.add_argument("--self-test", action="store_true", help="run only the self-test (and the cases it needs)")
    ap.add_argument("--only", help="run only cases whose name contains this")
    ap.add_argument("--verbose", "-v", action="store_true", help="print each case's notes")
    ap.add_argument("--dump", help="write every recorded request to this JSONL file")
    args = ap.parse_args(argv)

    binary = os.path.abspath(args.lbpilot_bin)
    report = Report(args.verbose)
    if not os.access(binary, os.X_OK):
        report.case("setup/lbpilot-binary", [f"{binary} is not an executable (build it: cargo build -p lbpilot-tests --bin execute-actions)"])
        return report.finish()
    # Run a private copy: the target directory is shared, and a concurrent build may relink it.
    try:
        workdir = tempfile.TemporaryDirectory(prefix=".lbpilot-conformance-", dir=os.path.dirname(binary))
    except OSError:
        workdir = tempfile.TemporaryDirectory(prefix="lbpilot-conformance-")
    private = os.path.join(workdir.name, "execute-actions")
    try:
        os.link(binary, private)  # a hard link keeps this inode even if cargo relinks the path
    except OSError:
        shutil.copy2(binary, private)
    binary = private
    try:
        golden = load_golden(Path(args.golden_dir))
    except OSError as e:
        report.case("setup/golden-captures", [f"cannot read the golden captures: {e}"])
        golden = []
    # The copies here must still be the reference's, where the reference is at hand (shared/
    # beside the work tree, as on developer machines and in CI).
    for ref_dir in (HERE.parents[2] / "shared" / "reference", Path("/work/shared/reference")):
        if (ref_dir / "alibaba_golden.jsonl").exists() and Path(args.golden_dir) == VECTORS:
            stale = [f for f in ("alibaba_golden.jsonl", "huawei_golden.jsonl")
                     if (ref_dir / f).read_bytes() != (VECTORS / f).read_bytes()]
            report.case("setup/golden-copies-current",
                        [f"shared/tests/vectors/{', '.join(stale)} differ from {ref_dir}: copy them again"] if stale else [])
            break

    names = [c["name"] for c in corpus.CASES]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        report.case("setup/corpus", [f"duplicate case names {sorted(dupes)}"])
    case_by_name = {c["name"]: c for c in corpus.CASES}
    selected = corpus.CASES
    if args.self_test:
        selected = [case_by_name["alb/golden-1"], case_by_name["roma/golden-1"]]
    elif args.only:
        selected = [c for c in corpus.CASES if args.only in c["name"]]

    started = time.time()
    results: dict[str, CaseResult] = {}
    with Recorder() as rec:
        for case in selected:
            res = run_case(case, rec, binary)
            results[case["name"]] = res
            report.case(case["name"], res.problems, res.notes)
            if res.problems and res.stderr.strip():
                print("    lbpilot stderr: " + res.stderr.strip()[-800:].replace("\n", "\n      "))

        if not args.only and not args.self_test:
            for name, problems, notes in endpoint_checks(rec, binary):
                if problems is None:
                    report.known_failure(name, notes)
                else:
                    report.case(name, problems, notes)

        # Nonces are unique across everything lbpilot sent.
        if not args.self_test:
            nonces = [r.header("x-acs-signature-nonce") for res in results.values() for r in res.lb_requests if r.header("x-acs-signature-nonce")]
            dup = sorted({n for n in nonces if nonces.count(n) > 1})
            report.case("lbpilot/nonces-unique", [f"nonces reused: {dup}"] if dup else [])

        if not args.only or args.self_test:
            for record in golden:
                if args.self_test and record["label"] not in ("alb.UpdateServerGroupServersAttribute/v3", "roma_update_member_group"):
                    continue
                problems, notes = replay(record, results, rec, case_by_name)
                report.case(f"golden/{record['label']}", problems, notes)
            for name, problems in self_test(results, golden):
                report.case(name, problems)

    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as f:
            for res in results.values():
                for who, reqs in (("lbpilot", res.lb_requests), ("sdk", res.sdk_requests)):
                    for r in reqs:
                        f.write(json.dumps({"case": res.name, "who": who, **r.to_json()}, ensure_ascii=False) + "\n")
    replayed = len(golden) if not args.only and not args.self_test else (2 if args.self_test else 0)
    print(f"conformance: {len(results)} cases and {replayed} golden captures in {time.time() - started:.1f}s", flush=True)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
