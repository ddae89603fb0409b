#!/usr/bin/env python3
"""sapi_conform.py — protocol conformance of `qvae serve-qpu` as D-Wave's own client sees it.

Speaks raw HTTP (urllib; standard library only) the way dwave-cloud-client 0.10.6 does — read
from its dwave/cloud/client/base.py (0.10 series): one requests session carrying User-Agent,
X-Auth-Token and requests' default "Accept: */*"; GET solvers/remote/ and solvers/remote/NAME/
(trailing slash); POST problems/ with a JSON array of up to 20 jobs (_SUBMIT_BATCH_SIZE), the
solver named by its string id, the body not compressed; a reply element holding error_code and
error_msg fails only that job (SolverFailureError); polls GET problems/?id=a,b,… with back-off;
loads answers with GET problems/ID/; cancels with DELETE problems/ and a JSON list of ids.  The
later clients are spoken too: 0.13 (bare media types in Accept, v2 bodies) and 0.14 (Accept
"…; version=3.0.0", solver identity objects, deflate-compressed POST bodies).

Expected media types, body keys and versions come from the recorded exchanges in
$QVAE_SHARED/data/sapi/exchanges; energies are checked against the submitted h and J.

usage: sapi_conform.py PORT_A PORT_B TOKEN SHARED_DIR
(two emulators started the same way, serving DW_2000Q_5 and Advantage_system4.1)
"""
import base64
import gzip
import json
import math
import os
import re
import struct
import sys
import urllib.error
import urllib.request
import zlib

PORT_A, PORT_B, TOKEN, SHARED = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
UA = "dwave-cloud-client/0.10.6 python/3.11.2 CPython/3.11.2-64bit machine/x86_64 system/Linux"
MT = "application/vnd.dwave.sapi.%s+json"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what)
    return ok


def recorded(exchange, n):
    """Headers and body of a recorded SAPI response."""
    path = os.path.join(SHARED, "data/sapi/exchanges", exchange, "%02d-response.json" % n)
    with open(path) as f:
        r = json.load(f)
    return r["headers"], r["body"]


def req(port, method, path, accept="*/*", body=None, token=TOKEN, deflate=False):
    """One HTTP exchange with the headers Ocean sends; returns (status, headers, decoded JSON or text)."""
    h = {"User-Agent": UA, "Accept-Encoding": "gzip, deflate", "Accept": accept}
    if token is not None:
        h["X-Auth-Token"] = token
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        if deflate:
            data = zlib.compress(data)
            h["Content-Encoding"] = "deflate"
    rq = urllib.request.Request("http://127.0.0.1:%d/sapi/%s" % (port, path), data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(rq, timeout=120) as r:
            status, hdrs, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, e.headers, e.read()
    if hdrs.get("Content-Encoding") == "gzip":
        raw = gzip.decompress(raw)
    try:
        return status, hdrs, json.loads(raw)
    except ValueError:
        return status, hdrs, raw.decode(errors="replace")


def encode_qp(qubits, couplers, h, J):
    """qp data as Ocean's encoder builds it: lin per working qubit (NaN = inactive), quad per
    coupler whose two ends are active, both directions summed (qpu-protocol §1.5)."""
    active = set(h) | {q for e in J for q in e}
    lin = [float(h.get(q, 0.0)) if q in active else math.nan for q in qubits]
    quad = [J.get((a, b), 0.0) + J.get((b, a), 0.0) for a, b in couplers if a in active and b in active]
    return {"format": "qp", "offset": 0.0,
            "lin": base64.b64encode(struct.pack("<%dd" % len(lin), *lin)).decode(),
            "quad": base64.b64encode(struct.pack("<%dd" % len(quad), *quad)).decode()}


def raw_qp(lin, quad):
    return {"format": "qp", "lin": base64.b64encode(struct.pack("<%dd" % len(lin), *lin)).decode(),
            "quad": base64.b64encode(struct.pack("<%dd" % len(quad), *quad)).decode()}


def decode_answer(a, qubo):
    """Samples (dict qubit → value), energies, counts of a qp answer (qpu-protocol §1.8, MSB first)."""
    act = struct.unpack("<%di" % (len(base64.b64decode(a["active_variables"])) // 4),
                        base64.b64decode(a["active_variables"]))
    en = base64.b64decode(a["energies"])
    E = struct.unpack("<%dd" % (len(en) // 8), en)
    occ_b = base64.b64decode(a.get("num_occurrences", ""))
    occ = struct.unpack("<%di" % len(E), occ_b) if occ_b else (1,) * len(E)
    sol, per = base64.b64decode(a["solutions"]), (len(act) + 7) // 8
    rows = []
    for r in range(len(E)):
        bits = [(sol[r * per + k // 8] >> (7 - k % 8)) & 1 for k in range(len(act))]
        rows.append({q: (b if qubo else 2 * b - 1) for q, b in zip(act, bits)})
    return rows, E, occ


def energy(s, h, J):
    return sum(v * s[q] for q, v in h.items()) + sum(v * s[a] * s[b] for (a, b), v in J.items())


def wait_done(port, ids, accept="*/*"):
    """Poll GET problems/?id=… as 0.10.6 does (no long poll) until every problem is terminal."""
    st = {}
    for _ in range(2000):
        status, _, body = req(port, "GET", "problems/?id=" + ",".join(ids), accept)
        if not check(status == 200 and isinstance(body, list), "poll: HTTP %s %r" % (status, body)[:200]):
            return st
        st = {m["id"]: m for m in body}
        if all(st.get(i, {}).get("status") in ("COMPLETED", "FAILED", "CANCELLED") for i in ids):
            return st
    check(False, "problems %s never finished" % ids)
    return st


# ---------------------------------------------------------------- solver listings, three clients
v2h, _ = recorded("advantage2_v2_triangle-ising", 1)
v2dyn_h, v2dyn = recorded("advantage2_v2_triangle-ising", 2)
v3h, _ = recorded("advantage2_v3_triangle-ising", 1)
v3dyn_h, v3dyn = recorded("advantage2_v3_triangle-ising", 2)

# 0.10.6: Accept */*, no filter → the v2 form (string id) that its Solver class requires
status, hdrs, L = req(PORT_A, "GET", "solvers/remote/")
check(status == 200, "0.10.6 listing: HTTP %s" % status)
check(hdrs.get("Content-Type") == v2h["Content-Type"],
      "0.10.6 listing media type %r, recorded v2 %r" % (hdrs.get("Content-Type"), v2h["Content-Type"]))
solvers = {}
for s in L if isinstance(L, list) else []:
    check(isinstance(s.get("id"), str) and "identity" not in s, "v2 solver object without a string id: %r" % list(s))
    check(s.get("status") == "ONLINE" and isinstance(s.get("avg_load"), (int, float)), "v2 status/avg_load: %r" % s.get("id"))
    p = s.get("properties", {})
    for k in ("supported_problem_types", "parameters", "qubits", "couplers", "num_qubits"):
        check(k in p, "solver %s lacks properties.%s (0.10.6 StructuredSolver needs it)" % (s.get("id"), k))
    solvers[s["id"]] = p
check(set(solvers) == {"DW_2000Q_5", "Advantage_system4.1"}, "solvers served: %r" % sorted(solvers))
Q2K = solvers.get("DW_2000Q_5", {})
QADV = solvers.get("Advantage_system4.1", {})

# 0.10.6 fetches one solver as solvers/remote/NAME/ (trailing slash)
status, hdrs, one = req(PORT_A, "GET", "solvers/remote/DW_2000Q_5/")
check(status == 200 and isinstance(one, dict) and one.get("id") == "DW_2000Q_5", "0.10.6 one solver: HTTP %s" % status)
check(hdrs.get("Content-Type") == v2h["Content-Type"].replace("-list", ""), "one solver media type %r" % hdrs.get("Content-Type"))
status, _, _ = req(PORT_A, "GET", "solvers/remote/No_Such_Solver/")
check(status == 404, "unknown solver: HTTP %s, want 404" % status)

# 0.13: the bare media type and the dynamic-part filter → exactly the recorded v2 keys
status, hdrs, D = req(PORT_A, "GET", "solvers/remote/?filter=none%2C%2Bid%2C%2Bstatus%2C%2Bavg_load", MT % "solver-definition-list")
check(status == 200 and hdrs.get("Content-Type") == v2dyn_h["Content-Type"], "0.13 dynamic listing: %s %r" % (status, hdrs.get("Content-Type")))
check(isinstance(D, list) and all(set(d) == set(v2dyn[0]) for d in D), "v2 dynamic keys %r, recorded %r" % (D, sorted(v2dyn[0])))
# an explicit version 2
status, hdrs, D = req(PORT_A, "GET", "solvers/remote/", MT % "solver-definition-list" + "; version=2.0.0")
check(status == 200 and "id" in D[0] and hdrs.get("Content-Type") == v2h["Content-Type"], "version=2.0.0: %s %r" % (status, hdrs.get("Content-Type")))

# 0.14: version 3 → identity objects, exactly the recorded keys and media type
acc3 = MT % "solver-definition-list" + "; version=3.0.0"
status, hdrs, D3 = req(PORT_A, "GET", "solvers/remote/?filter=none%2C%2Bidentity%2C%2Bstatus%2C%2Bavg_load", acc3)
check(status == 200 and hdrs.get("Content-Type") == v3dyn_h["Content-Type"], "0.14 dynamic listing: %s %r" % (status, hdrs.get("Content-Type")))
check(isinstance(D3, list) and all(set(d) == set(v3dyn[0]) for d in D3), "v3 dynamic keys %r, recorded %r" % (D3, sorted(v3dyn[0])))
gid = {d["identity"]["name"]: d["identity"]["version"]["graph_id"] for d in D3}
check(all(re.match(r"^[0-9a-f]{10}$", g) for g in gid.values()), "graph ids are not 10 hex digits: %r" % gid)
check(len(set(gid.values())) == len(gid), "two different graphs share a graph id: %r" % gid)
_, _, D3b = req(PORT_B, "GET", "solvers/remote/?filter=none%2C%2Bidentity", acc3)
check({d["identity"]["name"]: d["identity"]["version"]["graph_id"] for d in D3b} == gid,
      "graph ids differ between two emulators serving the same graphs")
for bad in ("1.0.0", "4.0.0"):
    status, hdrs, body = req(PORT_A, "GET", "solvers/remote/", MT % "solver-definition-list" + "; version=" + bad)
    check(status == 415 and isinstance(body, dict) and body.get("error_code") == 415, "Accept version %s: HTTP %s, want 415" % (bad, status))

# ---------------------------------------------------------------- a batch: valid, invalid, valid
qubits, couplers = Q2K.get("qubits", []), [tuple(c) for c in Q2K.get("couplers", [])]
H = {0: 0.5, 1: -0.25, 4: 0.0, 5: 1.0}
J = {(0, 4): -1.0, (0, 5): 0.5, (1, 4): 1.0, (1, 5): -0.75}
good = {"solver": "DW_2000Q_5", "type": "ising", "data": encode_qp(qubits, couplers, H, J),
        "params": {"num_reads": 50}, "label": "conform-a"}
invalid = dict(good, params={"num_reads": 0}, label="conform-bad")
good2 = dict(good, params={"num_reads": 30, "answer_mode": "raw"}, label="conform-b")
p2h, _ = recorded("advantage2_v2_triangle-ising", 3)
status, hdrs, B = req(PORT_A, "POST", "problems/", body=[good, invalid, good2])
check(status == 200 and isinstance(B, list) and len(B) == 3, "batch [valid, invalid, valid]: HTTP %s %r" % (status, B))
check(hdrs.get("Content-Type") == p2h["Content-Type"], "submit media type %r, recorded v2 %r" % (hdrs.get("Content-Type"), p2h["Content-Type"]))
if len(B) == 3:
    check(B[0].get("status") == "PENDING" and UUID4.match(B[0].get("id", "")) and B[0].get("solver") == "DW_2000Q_5"
          and B[0].get("label") == "conform-a", "batch element 0: %r" % B[0])
    check(B[1].get("error_code") == 400 and "num_reads" in B[1].get("error_msg", "") and "id" not in B[1],
          "batch element 1 is not the error object: %r" % B[1])
    check(B[2].get("status") == "PENDING" and UUID4.match(B[2].get("id", "")), "batch element 2: %r" % B[2])
    ids = [B[0]["id"], B[2]["id"]]
    st = wait_done(PORT_A, ids)
    for i, (pid, reads, raw) in enumerate([(ids[0], 50, False), (ids[1], 30, True)]):
        check(st.get(pid, {}).get("status") == "COMPLETED", "valid problem %d of the batch: %r" % (i, st.get(pid)))
        status, hdrs, P = req(PORT_A, "GET", "problems/%s/" % pid)
        check(status == 200 and "answer" in P, "answer load: HTTP %s" % status)
        rows, E, occ = decode_answer(P.get("answer", {}), False)
        check(sum(occ) == reads and (not raw or len(rows) == reads), "occurrences %d (raw %s), want %d" % (sum(occ), raw, reads))
        check(all(abs(e - energy(r, H, J)) < 1e-9 for r, e in zip(rows, E)), "energies do not recompute from h, J")
        check(raw or list(E) == sorted(E), "histogram energies not ascending")

# ---------------------------------------------------------------- per-problem errors, each in place
broken = next((q for q in range(Q2K.get("num_qubits", 0)) if q not in set(qubits)), None)
lab_lin = [math.nan] * Q2K.get("num_qubits", 0)
if broken is not None:
    lab_lin[broken] = 1.0
c0 = couplers[0] if couplers else (0, 0)
lin_act = [1.0 if q == c0[0] else math.nan for q in qubits]             # one end of coupler 0 active
quad_all = [(-1.0 if (a, b) == c0 else 0.0) for a, b in couplers]    # one J per coupler, on coupler 0
inactive_end = c0[1]
jobs = [dict(good, solver="No_Such_Solver"),
        dict(good, data=encode_qp(qubits, couplers, {}, {})),
        dict(good, data=raw_qp(lab_lin, [])),
        dict(good, data=raw_qp(lin_act, quad_all)),
        dict(good, params={"num_reads": 10, "no_such_parameter": 1}),
        dict(good, solver={"name": "DW_2000Q_5", "version": {"graph_id": "0000000000"}}),
        "not a job",
        good]
status, _, B = req(PORT_A, "POST", "problems/", body=jobs)
want = [(404, "Solver does not exist"), (400, "empty"), (400, "qubit %s" % broken),
        (400, "qubit %d" % inactive_end), (400, "no_such_parameter"), (400, "graph_id"), (400, "JSON object")]
check(status == 200 and isinstance(B, list) and len(B) == len(jobs), "error batch: HTTP %s" % status)
for k, (code, text) in enumerate(want):
    e = B[k] if isinstance(B, list) and k < len(B) else {}
    check(e.get("error_code") == code and text in e.get("error_msg", ""), "job %d: %r, want %d with %r" % (k, e, code, text))
last = B[-1] if isinstance(B, list) and B else {}
check(last.get("status") == "PENDING", "the valid job after seven bad ones: %r" % last)
if last.get("id"):
    check(wait_done(PORT_A, [last["id"]])[last["id"]]["status"] == "COMPLETED", "valid job after errors did not complete")

# bodies that are not a JSON array of jobs: a bare 400
for body in (good, [], b"[{\"solver\": "):
    status, _, e = req(PORT_A, "POST", "problems/", body=body)
    check(status == 400 and isinstance(e, dict) and e.get("error_code") == 400, "non-array body %r: HTTP %s" % (body, status)[:120])

# ---------------------------------------------------------------- 0.14: deflate, v3 forms, long poll
p3h, _ = recorded("advantage2_v3_triangle-ising", 3)
st3h, _ = recorded("advantage2_v3_triangle-ising", 5)
ga = gid.get("Advantage_system4.1", "")
qa, ca = QADV.get("qubits", []), [tuple(c) for c in QADV.get("couplers", [])]
a0, a1 = ca[0] if ca else (0, 0)
HA, JA = {a0: 1.0, a1: -1.0}, {(a0, a1): -0.5}
job3 = {"solver": {"name": "Advantage_system4.1", "version": {"graph_id": ga}}, "type": "qubo",
        "data": encode_qp(qa, ca, HA, JA), "params": {"num_reads": 40}}
status, hdrs, B = req(PORT_A, "POST", "problems/", MT % "problems" + "; version=3.0.0", body=[job3], deflate=True)
check(status == 200 and hdrs.get("Content-Type") == p3h["Content-Type"], "0.14 submit: %s %r" % (status, hdrs.get("Content-Type")))
check(isinstance(B, list) and B and B[0].get("solver") == job3["solver"], "v3 status solver form: %r" % (B[0] if B else B))
if isinstance(B, list) and B and B[0].get("id"):
    pid = B[0]["id"]
    # long poll: one request that returns once the problem is done
    status, _, S = req(PORT_A, "GET", "problems/?id=%s&timeout=30" % pid, MT % "problems" + "; version=3.0.0")
    check(status == 200 and S and S[0].get("status") == "COMPLETED", "long poll did not return the completed status: %r" % S)
    status, hdrs, P = req(PORT_A, "GET", "problems/%s/?timeout=30" % pid, MT % "problem" + "; version=3.0.0")
    check(status == 200 and hdrs.get("Content-Type") == st3h["Content-Type"], "v3 problem: %s %r" % (status, hdrs.get("Content-Type")))
    rows, E, occ = decode_answer(P.get("answer", {}), True)
    check(sum(occ) == 40 and all(abs(e - energy(r, HA, JA)) < 1e-9 for r, e in zip(rows, E)), "QUBO energies/counts")
    # §1.9/§1.10: cancel a finished problem → 409; a list → error objects in place
    status, _, e = req(PORT_A, "DELETE", "problems/%s" % pid)
    check(status == 409 and e.get("error_msg") == "Problem has been finished.", "cancel finished: %s %r" % (status, e))
    status, _, L2 = req(PORT_A, "DELETE", "problems/", body=[pid, "00000000-0000-4000-8000-000000000000"])
    check(status == 200 and [x.get("error_code") for x in L2] == [409, 404], "cancel list: %s %r" % (status, L2))
for path, code in (("problems/00000000-0000-4000-8000-000000000000/", 404), ("problems/?id=x&timeout=31", 400)):
    status, _, _ = req(PORT_A, "GET", path)
    check(status == code, "GET %s: HTTP %s, want %d" % (path, status, code))
status, _, e = req(PORT_A, "GET", "solvers/remote/", token=None)
check(status == 401 and isinstance(e, dict) and e.get("error_code") == 401, "no token: HTTP %s" % status)

# ---------------------------------------------------------------- ids across two processes
batch = [dict(good, params={"num_reads": 1}, label="id-%d" % i) for i in range(20)]
idsets = []
for port in (PORT_A, PORT_B):
    status, _, B = req(port, "POST", "problems/", body=batch)
    got = [b.get("id", "") for b in B] if isinstance(B, list) else []
    check(status == 200 and len(got) == 20 and all(UUID4.match(i) for i in got), "20-job batch on port %d: %r" % (port, got[:2]))
    idsets.append(set(got))
check(len(idsets[0]) == 20 and len(idsets[1]) == 20 and not idsets[0] & idsets[1],
      "problem ids repeat within or across two emulators: %d, %d, shared %d"
      % (len(idsets[0]), len(idsets[1]), len(idsets[0] & idsets[1])))

print("conformance: %d failures" % len(failures))
sys.exit(1 if failures else 0)
