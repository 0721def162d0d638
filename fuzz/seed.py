#!/usr/bin/env python3
"""Writes fuzz/corpus/<target>/ from the test inputs: the plan parity corpus
(tests/parity/requests.txt, requests before its first `@env` line: the
differential target runs the base configuration), the example config file
and a few tokens. Run from the repository root; the output is committed."""
import hashlib, json, os, shutil

def write(target, inputs):
    d = f"fuzz/corpus/{target}"
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for text in sorted(set(inputs)):
        data = text.encode()
        with open(f"{d}/{hashlib.sha1(data).hexdigest()}", "wb") as f:
            f.write(data)

requests = []
for line in open("tests/parity/requests.txt"):
    line = line.rstrip("\n")
    s = line.strip()
    if s.startswith("@"):
        break
    if not s or s.startswith("#"):
        continue
    if line[0].isspace():
        if s.startswith("< "):
            requests[-1][2].append(s[2:])
        else:
            requests[-1][1].append(s)
    else:
        requests.append([s, [], []])

def header(name):
    return [v.split(":", 1)[1].strip() for _, hs, _ in requests for v in hs
            if v.split(":", 1)[0].strip().lower() == name]

write("differential", ["\n".join([r] + hs) + ("\n\n" + "".join(b) if b else "")
                       for r, hs, b in requests])
write("query", [r.split("?", 1)[1] for r, _, _ in requests if "?" in r])
write("prefer", header("prefer") + ["return=minimal\ncount=exact, tx=commit"])
write("accept", header("accept") + [
    "application/json", "text/csv;q=0.5, */*", "application/vnd.pgrst.object+json;nulls=stripped",
    'application/vnd.pgrst.plan+json; for="application/json"; options=analyze|verbose',
    "application/geo+json, application/openapi+json;q=0"])
write("range", [f"{r}\n\n" for r in header("range")]
      + ["0-9\n5\n2", "\n0\n", "5-\n\n10", "\nabc\n-1"])
write("config_file", [open("host/src/example.conf").read(),
                      'db-uri = "$(HOME)/x"\napp.settings { a = "b" }\n#; db-pool = 3\n',
                      'db-schemas = "a, b"\njwt-secret = "\\u0041x"\ndb-pool = 1.5\n'])
write("jwt", [json.dumps(c) for c in [
    {"role": "postgrest_test_author"},
    {"role": "a", "exp": 1800000000, "aud": "pgrest"},
    {"role": "a", "nbf": 1900000000},
    {"role": ["x"], "aud": ["pgrest", "other"], "iat": 1700000000},
]] + [".Bearer e30.e30.x", ".bearer  a.b.c", ".Basic Zm9vOmJhcg==", "$.a.b[0]", '$["x"]',
      '.roles[?(@ ^== "app_")]'])
