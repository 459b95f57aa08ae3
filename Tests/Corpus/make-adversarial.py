#!/usr/bin/env python3
"""Writes Tests/Corpus/adversarial.json: the adversarial corpus `AdversarialCorpusTests` runs against
Policies/lab.yaml. Each case: class, media type, body, the secrets that must not leave (in the body or any report),
the control phrases that must survive, and optionally the outcome expected ("refuse": block or 422) or `known` (a
leak not fixed yet, with the reason). Run from the repository root: python3 Tests/Corpus/make-adversarial.py"""
import base64, json, os, quopri, urllib.parse

cases = []
def case(cls, body, secrets=(), controls=(), media="application/json", outcome=None, known=None, note=None):
    c = {"class": cls, "media_type": media, "body": body, "secrets": list(secrets), "controls": list(controls)}
    if outcome: c["outcome"] = outcome
    if known: c["known"] = known
    if note: c["note"] = note
    cases.append(c)

def j(obj): return json.dumps(obj, ensure_ascii=False)
B = "AdvBoundary42"
MP = "multipart/form-data; boundary=" + B
def mp(parts, preamble="", epilogue=""):
    out = preamble
    for headers, content in parts:
        out += "--" + B + "\r\n" + "\r\n".join(headers) + "\r\n\r\n" + content + "\r\n"
    return out + "--" + B + "--\r\n" + epilogue
def field(name, content, extra=()):
    return ([f'Content-Disposition: form-data; name="{name}"'] + list(extra), content)

CTRL = "the quick brown fox"
CTRL2 = "labelers agreed on the boxes"
# ---------------------------------------------------------------- multipart
case("multipart", mp([field("a", CTRL)], preamble="Nightingale launch notes\r\n"), ["Nightingale"], [CTRL], MP)
case("multipart", mp([field("a", CTRL)], epilogue="owner jane.doe@lab.example.com\r\n"), ["jane.doe@lab.example.com"], [CTRL], MP)
case("multipart", mp([field("a", CTRL)], preamble="AKIAIOSFODNN7EXAMPLE\r\n"), ["AKIAIOSFODNN7EXAMPLE"], [], MP, outcome="refuse")
b64 = base64.b64encode(b"Notes on Tidewater training: " + CTRL2.encode()).decode()
case("multipart", mp([(['Content-Disposition: form-data; name="n"', "Content-Transfer-Encoding: base64"], b64)]), ["Tidewater"], [CTRL2], MP)
qp = quopri.encodestring("Bluebird = next big thing; café".encode()).decode()
case("multipart", mp([(['Content-Disposition: form-data; name="n"', "Content-Transfer-Encoding: quoted-printable"], qp)]), ["Bluebird"], ["next big thing"], MP)
qp2 = "Proj=\r\nect Falcon ships soon"
case("multipart", mp([(['Content-Disposition: form-data; name="n"', "Content-Transfer-Encoding: quoted-printable"], qp2)]), ["Project Falcon"], ["ships soon"], MP)
case("multipart", mp([(["Content-Disposition: form-data; name=\"f\"; filename*=UTF-8''Larkspur%20plan.txt", "Content-Type: text/plain"], CTRL)]), ["Larkspur"], [CTRL], MP)
case("multipart", mp([(['Content-Disposition: form-data; name="f"; filename="Driftwood-results.csv"', "Content-Type: text/csv"], "a,b\n1,2")]), ["Driftwood"], ["a,b"], MP)
case("multipart", mp([field("Saltmarsh_notes", CTRL)]), ["Saltmarsh"], [CTRL], MP)
case("multipart", mp([(['Content-Disposition: form-data; name="a"', "Content-Type: application/json"], j({"project": "Skylark Mini", "note": CTRL}))]), ["Skylark Mini"], [CTRL], MP)
case("multipart", mp([(['Content-Disposition: form-data; name="a"', "Content-Type: application/x-ndjson"], j({"m": "Aurora Ultra"}) + "\n" + j({"n": CTRL}) + "\n")]), ["Aurora Ultra"], [CTRL], MP)
case("multipart", mp([(['Content-Disposition: form-data; name="a"', "Content-Type: text/x-Nightingale"], CTRL)]), ["Nightingale"], [], MP, outcome="refuse")
case("multipart", mp([(['Content-Disposition: form-data; name="a"', "X-Note: Kestrel Coder eval"], CTRL)]), ["Kestrel Coder"], [CTRL], MP)
case("multipart", mp([field("a", CTRL)]), [], [CTRL], MP + '; boundary="other"', outcome="refuse")
case("multipart", mp([(['Content-Disposition: form-data; name="a"', 'Content-Disposition: form-data; name="b"'], "Nightingale")]), ["Nightingale"], [], MP, outcome="refuse")
case("multipart", mp([field("operations", j({"query": "mutation { up(project: \"Tidewater\") }"}))]), ["Tidewater"], ["mutation"], MP)
case("multipart", mp([(['Content-Disposition: form-data; name="img"; filename="x.png"', "Content-Type: image/png"], "\x89PNG binary Bluebird")]), ["Bluebird"], [], MP, outcome="refuse")
case("multipart", mp([field("a", "ping http://10.2.3.4:8080/health " + CTRL)]), ["10.2.3.4"], [CTRL], MP)
case("multipart", mp([field("a", "Nightingale\u00a0Hospital cares; " + CTRL)]), [], ["Nightingale\u00a0Hospital", CTRL], MP)
case("multipart", mp([(['Content-Disposition: form-data; name="a"; filename="C:\\\\fakepath\\\\Larkspur.txt"'], CTRL)]), ["Larkspur"], [CTRL], MP)
# ---------------------------------------------------------------- paths and reasons (names where keys sit)
case("paths", j({"Nightingale": {"score": 1}, "note": CTRL}), ["Nightingale"], [CTRL])
case("paths", j({"a": {"b": {"c": {"Tidewater-eval": 3}}}, "n": CTRL}), ["Tidewater"], [CTRL])
case("paths", '{"\\u004eightingale": 1, "n": "' + CTRL + '"}', ["Nightingale"], [CTRL])
case("paths", j({"jane.doe@lab.example.com": "owner", "n": CTRL}), ["jane.doe@lab.example.com"], [CTRL])
case("paths", j({"https://wiki.corp.example.com/x": 1, "n": CTRL}), ["wiki.corp.example.com"], [CTRL])
case("paths", j({"AKIAIOSFODNN7EXAMPLE": 1}), ["AKIAIOSFODNN7EXAMPLE"], [], outcome="refuse")
case("paths", j({"a": 1}) + "\n" + j({"Bluebird": 2, "n": CTRL}) + "\n", ["Bluebird"], [CTRL], "application/x-ndjson")
case("paths", "Larkspur=1&n=" + urllib.parse.quote_plus(CTRL), ["Larkspur"], [CTRL], "application/x-www-form-urlencoded")
case("paths", j({"project": "Driftwood", "n": CTRL}), ["Driftwood"], [CTRL], "application/x-www-form-urlencoded")
case("paths", "Saltmarsh%20notes=1&n=ok", ["Saltmarsh"], ["n=ok"], "application/x-www-form-urlencoded")
case("paths", j({"line\nNightingale": 1, "n": CTRL}), ["Nightingale"], [CTRL])
case("paths", j({"a": [{"Project Falcon": True}], "n": CTRL}), ["Project Falcon"], [CTRL])
case("paths", j({"x": {"AKIAIOSFODNN7EXAMPLE": "k"}}) + "\n", ["AKIAIOSFODNN7EXAMPLE"], [], "application/x-ndjson", outcome="refuse")
case("paths", j({"EVAL-123456": {"done": True}, "n": CTRL}), ["EVAL-123456"], [CTRL])
case("paths", j({"10.1.2.3": "host", "n": CTRL}), ["10.1.2.3"], [CTRL])
case("paths", j({"run-20260114-7f3a9c2e": 1, "n": CTRL}), ["run-20260114-7f3a9c2e"], [CTRL])
case("paths", j({"skylark": {"aurora ultra": 1}, "n": CTRL}), ["skylark", "aurora ultra"], [CTRL])
case("paths", "Kestrel+Coder=yes&n=1", ["Kestrel Coder"], ["n=1"], "application/x-www-form-urlencoded")
case("paths", j({"notes": {"Tidewater": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7x\n-----END RSA PRIVATE KEY-----"}}), ["Tidewater", "MIIEowIBAAKCAQEA7x"], [], outcome="refuse")
case("paths", mp([field("Bluebird", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8")]), ["Bluebird", "ghp_a1B2c3D4e5F6"], [], MP, outcome="refuse")
# ---------------------------------------------------------------- detectors
for ip in ["10.0.0.5:8080", "http://192.168.1.20:6379/", "tcp://10.1.2.3:9000", "172.16.4.4", "[fd00::1]:443", "fd12:3456::7"]:
    host = ip.split("//")[-1].strip("/").rsplit(":", 1)[0].strip("[]") if not ip.startswith("fd") else ip
    if ip == "172.16.4.4": host = ip
    case("detectors", j({"log": f"connect {ip} then {CTRL}"}), [host], [CTRL])
for ip in ["8.8.8.8:53", "1.1.1.1"]:
    case("detectors", j({"log": f"dns {ip} " + CTRL}), [], [ip, CTRL])
for url in ["https://wiki.corp.example.com/page?id=1", "http://build.internal:8080/job", "git.example.com/team/repo", "https://git.example.com/team/repo.git"]:
    host = url.split("//")[-1].split("/")[0].split(":")[0]
    case("detectors", j({"ref": "see " + url + " and " + CTRL}), [host], [CTRL])
case("detectors", j({"ref": "see https://example.org/docs " + CTRL}), [], ["https://example.org/docs", CTRL])
for email in ["jane.doe@lab.example.com", "ops@gpu.research.example.com", "JANE.DOE@LAB.EXAMPLE.COM"]:
    case("detectors", j({"reviewer": "mail " + email + " " + CTRL}), [email], [CTRL])
case("detectors", j({"reviewer": "mail someone@gmail.com " + CTRL}), [], ["someone@gmail.com", CTRL])
secrets = [
    "AKIAIOSFODNN7EXAMPLE", "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "glpat-Ab3De6Gh9Jk2Mn5Pq8St",
    "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "AIzaSyD-1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P", "sk-proj-Ab3De6Gh9Jk2Mn5Pq8StUv1Wx4Yz7",
    "sk-ant-api03-Ab3De6Gh9Jk2Mn5Pq8StUv1Wx4Yz7", "npm_Ab3De6Gh9Jk2Mn5Pq8StUv1Wx4Yz7Ab3De6G",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
]
for s in secrets:
    case("detectors", j({"config": "key " + s}), [s], [], outcome="refuse")
case("detectors", "password=Tr0ub4dor&3xQ9 and more", ["Tr0ub4dor&3xQ9"], [], "text/plain", outcome="refuse",
     known="`&` ends an assignment's value (SecretFormats.valueClass, for query strings), so only `Tr0ub4dor` is judged and it has under 3 bits of entropy per character: the rest leaves (Matching/, wt-engine's)")
case("detectors", "password=Xk9#mQ2$vL7pWz4t", ["Xk9#mQ2"], [], "text/plain", outcome="refuse",
     known="`$` ends an assignment's value (a variable reference), so a generated password holding `$` is judged on what comes before it (Matching/, wt-engine's)")
case("detectors", "password=Xk9#mQ2!vL7pWz4t", ["Xk9#mQ2"], [], "text/plain", outcome="refuse")
case("detectors", j({"password": "hunter2-long-secret"}), ["hunter2-long-secret"], [], outcome="refuse")
case("detectors", j({"db": {"api_key": "Zk3pQ9wX7mLr2Tn8Vb4Yc6Hd"}}), ["Zk3pQ9wX7mLr2Tn8Vb4Yc6Hd"], [], outcome="refuse")
case("detectors", j({"clientSecret": "s3cr3t-V4lue!x9"}), ["s3cr3t-V4lue!x9"], [], outcome="refuse")
for ctl in [{"password_hint": "your pet's name"}, {"token_count": 512}, {"password": "changeme"}, {"sk": "sk-learn is a library"},
            {"sha": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}, {"uuid": "123e4567-e89b-12d3-a456-426614174000"},
            {"text": "the AKIA prefix names AWS keys"}, {"note": "ghp_ tokens are GitHub's"}]:
    body = j(ctl)
    val = list(ctl.values())[0]
    case("detectors", body, [], [str(val)])
# ---------------------------------------------------------------- term spellings
spell = ["Project\u00a0Falcon", "Project\tFalcon", "Project\r\nFalcon", "Project  Falcon", "Project\u2011Falcon", "Project\u2014Falcon",
         "Project-Falcon", "PROJECT_FALCON", "ProjectFalcon", "project falcon", "Project\u3000Falcon", "Project\u2003Falcon",
         "Project \u2013 Falcon"]
for s in spell:
    case("spellings", j({"t": f"{s} review; {CTRL}"}), ["Project Falcon"], [CTRL])
for s, secret in [("Nightingale's", "Nightingale"), ("Nightingale-v3", "Nightingale"), ("NIGHTINGALE", "Nightingale"),
                  ("nightingale", "Nightingale"), ("\uff2eightingale", "Nightingale"), ("Nighti\u200bngale", "Nightingale"),
                  ("Nightin\u00adgale", "Nightingale"), ("Nightingale\u2060", "Nightingale"), ("Tidewater-7b-instruct", "Tidewater"),
                  ("BLUEBIRD", "Bluebird"), ("Lark\u017fpur", "Larkspur"), ("\u212aestrel Coder", "Kestrel Coder"),
                  ("\uff34\uff49\uff44\uff45\uff57\uff41\uff54\uff45\uff52", "Tidewater"), ("Tide\u200dwater", "Tidewater"),
                  ("SKYLARK_MINI", "Skylark Mini"), ("aurora-ultra", "Aurora Ultra")]:
    case("spellings", j({"t": f"about {s} today; {CTRL}"}), [secret], [CTRL])
case("spellings", j({"t": "the \ufb01ne Nightingale; " + CTRL}), ["Nightingale"], ["\ufb01ne", CTRL])
case("spellings", j({"t": "Nightingale Hospital and Project Gutenberg; " + CTRL}), [], ["Nightingale Hospital", "Project Gutenberg", CTRL])
case("spellings", j({"t": "Bramblewood Analytics signed; " + CTRL}), ["Bramblewood Analytics"], [CTRL])
case("spellings", j({"t": "bramblewood analytics is a phrase; " + CTRL}), [], ["bramblewood analytics", CTRL])
case("spellings", j({"t": "Kestrel\u00a0Coder beats Skylark\u2009Mini; " + CTRL}), ["Kestrel Coder", "Skylark Mini"], [CTRL])
case("spellings", j({"t": "nightingales sing; " + CTRL}), [], [CTRL])
case("spellings", "Project\r\n Falcon in a text body; " + CTRL, ["Project Falcon"], [CTRL], "text/plain")
# glued to a neighbouring match
case("spellings", j({"t": "run-20260114-7f3a9c2eNightingalerun-20260114-7f3a9c2e " + CTRL}), ["Nightingale", "run-20260114-7f3a9c2e"], [CTRL])
case("spellings", j({"t": "job/a1b2c3d4e5Tidewater " + CTRL}), ["Tidewater", "job/a1b2c3d4e5"], [CTRL])
case("spellings", j({"t": "xNightingaley " + CTRL}), [], ["xNightingaley", CTRL])
# ---------------------------------------------------------------- encoded text
case("encoded", j({"q": f"project=Kestrel+Coder%20&x=1 {CTRL}"}), ["Kestrel Coder"], [CTRL],
     known="`+` is read as a space only in form bodies; in a query string inside a JSON string or text it stays `+`, which is not a separator of a term's words")
for enc in ["Kestrel%20Coder", "Project%2520Falcon", "%4Eightingale", "Night%69ngale", "jane.doe%40lab.example.com",
            "https%3A%2F%2Fwiki.corp.example.com%2Fpage", "Tidewater%E2%80%8B", "%54%69%64%65%77%61%74%65%72"]:
    secret = urllib.parse.unquote(urllib.parse.unquote(enc)).replace("+", " ").replace("\u200b", "").strip()
    if "wiki" in secret: secret = "wiki.corp.example.com"
    case("encoded", j({"q": f"project={enc}&x=1 {CTRL}"}), [secret], [CTRL])
case("encoded", "q=" + urllib.parse.quote("Bluebird launch") + "&n=" + urllib.parse.quote_plus(CTRL), ["Bluebird"], [CTRL], "application/x-www-form-urlencoded")
case("encoded", "see https://x.example.org/a%2Fb?p=Larkspur and " + CTRL, ["Larkspur"], [CTRL, "%2Fb"], "text/plain")
case("encoded", '{"t":"\\u004eightingale \\/ ' + CTRL + '"}', ["Nightingale"], [CTRL])
case("encoded", '{"t":"\\u0050roject\\u00a0Falcon ' + CTRL + '"}', ["Project Falcon"], [CTRL])
case("encoded", j({"t": "&#78;ightingale as an HTML entity, " + CTRL}), [], [CTRL], known="HTML character references are not decoded for matching (not in issue 11's scope); kept to show the class")
case("encoded", j({"t": "Tide\\u0077ater " + CTRL}), [], [CTRL], note="a literal backslash-u in the decoded text is not an escape: nothing to find")
case("encoded", j({"inner": j({"note": "Saltmarsh and " + CTRL})}), ["Saltmarsh"], [CTRL])
case("encoded", j({"inner": j({"deeper": j({"note": "Driftwood"})}), "n": CTRL}), ["Driftwood"], [CTRL])
case("encoded", j({"row_data": j({"text": "owner jane.doe@lab.example.com " + CTRL})}), ["jane.doe@lab.example.com"], [CTRL])
# ---------------------------------------------------------------- context across keys
case("context", j({"launch_quarter": "Q2 2027", "n": CTRL}), ["Q2 2027"], [CTRL])
case("context", j({"release": {"target": "Q3 2026"}, "n": CTRL}), [], [CTRL], note="a nested object's key is not a direct member: Q3 2026 alone has no hotword", outcome=None)
case("context", j({"plan": "GA", "when": "Q1 2027", "n": CTRL}), ["Q1 2027"], [CTRL])
case("context", j({"roadmap": ["Q4 2026", "Q1 2027"], "n": CTRL}), ["Q4 2026", "Q1 2027"], [CTRL])
case("context", j({"quarter": "Q2 2027", "metric": "revenue"}), [], ["Q2 2027"])
case("context", "ship date Q2 2027 for " + CTRL, ["Q2 2027"], [CTRL], "text/plain")
case("context", j({"a": 1}) + "\n" + j({"ship_window": "Q3 2027"}) + "\n", ["Q3 2027"], [], "application/x-ndjson")
case("context", "launch=Q4%202026&n=" + urllib.parse.quote_plus(CTRL), ["Q4 2026"], [CTRL], "application/x-www-form-urlencoded")
case("context", mp([field("release_window", "Q1 2027")]), ["Q1 2027"], [], MP)
case("context", "quarter=Q2+2027&n=" + urllib.parse.quote_plus(CTRL), [], ["Q2+2027", CTRL], "application/x-www-form-urlencoded")
case("context", "note=launch+in+Q4%202026&n=" + urllib.parse.quote_plus(CTRL), ["Q4 2026"], [CTRL], "application/x-www-form-urlencoded")
case("context", j({"metadata": {"internal_notes": "Tidewater is late", "public": CTRL}}), ["Tidewater is late"], [CTRL])
case("context", j({"x": {"run_id": "anything-at-all-123"}, "n": CTRL}), ["anything-at-all-123"], [CTRL])
case("context", j({"tasks": [{"reviewer": "Pat Q. Reviewer"}], "n": CTRL}), ["Pat Q. Reviewer"], [CTRL])
case("context", j({"tasks": [{"reviewer": "Pat Q. Reviewer"}]}) + "\n", ["Pat Q. Reviewer"], [], "application/x-ndjson", known="fields rules are JSON-document paths; an NDJSON line is its own document and `$.tasks[*].reviewer` applies per line: verify")
# ---------------------------------------------------------------- embedded payloads
long_text = ("Tidewater status report: " + ("the labelers agreed on most boxes today. " * 6)).encode()
e = base64.b64encode(long_text).decode()
eu = base64.urlsafe_b64encode(long_text).decode().rstrip("=")
for shifted, label in [(e, "aligned"), ("x" + e, "x+"), ("ab" + e, "ab+"), ("key" + e, "key+"), ("hello" + e, "hello+"),
                       (eu, "urlsafe"), ("q" + eu, "q+urlsafe"), (e.rstrip("=") + "z", "+z"),
                       ("data:text/plain;base64," + e, "dataurl"), ("data:text/plain,Tidewater%20status", "dataurl-percent"),
                       ("\n".join(e[i:i+76] for i in range(0, len(e), 76)), "wrapped")]:
    case("embedded", j({"blob": shifted, "n": CTRL}), ["Tidewater"], [CTRL], note=label)
    if label in ("x+", "aligned", "wrapped"):
        case("embedded", "blob: " + shifted + " " + CTRL, ["Tidewater"], [CTRL], "text/plain", note=label)
        case("embedded", "blob=" + urllib.parse.quote(shifted, safe="") + "&n=1", ["Tidewater"], ["n=1"], "application/x-www-form-urlencoded", note=label)
inner_json = json.dumps({"project": "Larkspur", "notes": "ordinary words " * 20}).encode()
case("embedded", j({"doc": base64.b64encode(inner_json).decode(), "n": CTRL}), ["Larkspur"], [CTRL])
case("embedded", j({"doc": "data:application/json;base64," + base64.b64encode(inner_json).decode()}), ["Larkspur"], [])
png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2
case("embedded", j({"img": "data:image/png;base64," + base64.b64encode(png).decode()}), [], [], outcome="refuse")
case("embedded", j({"img": "x" + base64.b64encode(png).decode()}), [], [], outcome="refuse")
short = base64.b64encode(b"Tidewater").decode()
case("embedded", j({"blob": short, "n": CTRL}), [], [CTRL], known="base64 shorter than 256 characters is not decoded (documented threshold: identifiers, hashes and tokens look like short base64)")
rnd = base64.b64encode(bytes((i * 7919 + 13) % 251 for i in range(300))).decode()
case("embedded", j({"blob": "k" + rnd}), [], ["k" + rnd[:40]])
case("embedded", mp([field("f", "x" + e)]), ["Tidewater"], [], MP)
case("embedded", j({"a": 1}) + "\n" + j({"blob": "ab" + e}) + "\n", ["Tidewater"], [], "application/x-ndjson")
# ---------------------------------------------------------------- plain controls (over-redaction baseline)
for t in ["The nightingales sang at dawn", "tidewaters rise in spring", "Bluebirds are common", "driftwoods pile up",
          "salt marsh ecology", "larkspurs are toxic", "the skylarks rise", "Q2 results were fine",
          "my project is late", "the falcon dived", "Released in 2027", "version 10.0.5 of the app", "localhost:8080 works",
          "email me at someone@example.org", "https://docs.python.org/3/", "sk-learn is a library", "password reset link sent",
          "token count is 512", "secret santa is on friday", "Kestrel and Coder are words"]:
    case("controls", j({"text": t}), [], [t], note="lookalike that must stay")
out = {"policy": "Policies/lab.yaml", "cases": cases}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "adversarial.json")
with open(path, "w") as f:
    json.dump(out, f, ensure_ascii=False, indent=1)
    f.write("\n")
print(len(cases), "cases")
