"""End to end, every output format with every compression: `eaglesense run --hour H` with OUTPUT_FORMAT
json / ndjson / csv and EAGLESENSE_COMPRESSION none / gzip / zstd (9 runs of one table), each object read
back with boto3, decompressed by independent tools (Python's gzip module; the zstd program) and parsed
by independent parsers (Python's json; Python's csv for csv), then compared value for value with the
items as the low-level DynamoDB client reads them (numbers by their digit strings as text).

The table holds strings with unicode, quotes, commas, CR/LF, NUL and other control characters, numbers
whose digits matter (1.50, 1E+125, 38 digits, moto's unnormalized forms), binary, the three set types,
lists, maps, booleans and nulls, attribute names that need csv quoting, events outside the hour, events
rejected for their client id or time, one client with a single event and one without a bucket
(undeliverable). For each combination: key suffix, Content-Type / Content-Encoding / checksum when the
server returns them, metadata, the manifest's figures, the undeliverable copy, the rejected file, and
`eaglesense verify --source` clean. Across combinations: the decompressed bytes of a format are the same
whatever the compression, and json and ndjson carry the same event lines.
"""
import base64
import csv
import datetime as dt
import hashlib
import io
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from es_harness import (CONTENT_TYPE, Binary, Number, batch_put_raw, check, decompress, dynamodb_client,  # noqa: E402
                        json_events, json_number_text, load_env, load_exported, object_key, read_table,
                        run_eaglesense, s3, same_value, unique)

started = time.monotonic()
env = load_env()
s3c = s3(env)
ddb = dynamodb_client(env)
prefix = unique("es-fmt")
table_name = prefix
H = dt.datetime(2026, 11, 26, 14, tzinfo=dt.timezone.utc)
HOUR = "2026-11-26T14"
MANIFEST = "manifests/2026/11/26/14.json"
REJECTED = "rejected/events-2026-11-26-14.json"
DELIVERED = ["alpha", "beta", "gamma", "delta"]  # delta has one event
UNDELIVERABLE = "nobucket"
FORMATS = ["json", "ndjson", "csv"]
COMPRESSIONS = ["none", "gzip", "zstd"]

ddb.create_table(TableName=table_name, KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
                 AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
                 BillingMode="PAY_PER_REQUEST")
ddb.get_waiter("table_exists").wait(TableName=table_name)
for c in DELIVERED:
    s3c.create_bucket(Bucket=f"{prefix}-{c}")

STRINGS = ["plain", "", "comma, inside", 'quote " inside', 'both "," and ""', "line\nfeed", "cr\rreturn",
           "crlf\r\nend\r\n", "tab\there", "nul\x00byte", "controls \x01\x08\x0b\x0c\x1b\x1f\x7f",
           "backslash \\ and \\n written", "unicode é ß 中文 ☃ 😀 \u2028 \u2029 \ufeff", "  spaces around  ",
           "null", "true", "1.50", '{"looks":"like json"}', "=SUM(A1)", "ünïcödé,\"mixed\"\r\n"]
NUMBERS = ["0", "1.50", "1E+125", "-1E-130", "12345678901234567890123456789012345678", "-0.000001", "1e-7",
           "123.4560", "-99.990", "9.9999999999999999999999999999999999999E+125", "42", "-17", "100",
           "3.14159265358979323846264338327950288", "1.0E2", "-1.5e-3", "-0", "0.000"]
# Not JSON numbers as written: dynalite normalizes the ones it accepts, moto stores them as sent and
# the exporter rewrites them (es_harness.json_number_text); "+5" dynalite refuses.
ODD_NUMBERS = ["+5", ".5", "5.", "00012", "-00.250", "007e3"]
NAMES = ["a,b", 'q"uote', "new\nline", "ünï", "Zed", "_under", "with space"]

rng = random.Random(1602)
items = []
expected = {}  # eventId -> (client, instant) of every event that must be exported
rejected = {}  # eventId -> reason


def S(v):
    return {"S": v}


def N(v):
    return {"N": v}


def B(v):
    return {"B": v}


def random_value(depth=0):
    kind = rng.choice(["S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"] if depth < 3 else ["S", "N", "BOOL"])
    if kind == "S":
        return S(rng.choice(STRINGS))
    if kind == "N":
        return N(rng.choice(NUMBERS))
    if kind == "B":
        return B(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40))))
    if kind == "BOOL":
        return {"BOOL": rng.random() < 0.5}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "SS":
        return {"SS": rng.sample([s for s in STRINGS if s], rng.randrange(1, 5))}
    if kind == "NS":
        return {"NS": rng.sample(["1.50", "1E+125", "-1E-130", "42", "-17", "0.25", "7"], rng.randrange(1, 5))}
    if kind == "BS":
        return {"BS": [bytes([i, 255 - i, rng.randrange(256)]) for i in rng.sample(range(50), rng.randrange(1, 4))]}
    if kind == "L":
        return {"L": [random_value(depth + 1) for _ in range(rng.randrange(0, 4))]}
    return {"M": {rng.choice(STRINGS + NAMES) + str(i): random_value(depth + 1) for i in range(rng.randrange(0, 4))}}


def at(seconds=0, micros=0):
    return H + dt.timedelta(seconds=seconds, microseconds=micros)


def iso_forms(instant):
    """Several spellings of one instant that the exporter places in the hour."""
    return [instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), instant.strftime("%Y-%m-%dT%H:%M:%SZ"),
            instant.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            (instant + dt.timedelta(hours=5, minutes=30)).strftime("%Y-%m-%dT%H:%M:%S+05:30"),
            (instant - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S-03:00")]


def add(event_id, client, time_av, instant=None, reason=None, **payload):
    item = {"eventId": S(event_id), **payload}
    if client is not None:
        item["clientId"] = S(client)
    if time_av is not None:
        item["time"] = time_av
    items.append(item)
    if reason:
        rejected[event_id] = reason
    elif instant is not None:
        expected[event_id] = (client, instant)


# The random events: alpha 40 %, beta 30 %, gamma 20 %, nobucket 10 %, each with a random subset of the
# typed attributes and the awkward names (so csv rows have empty cells for absent attributes).
for i in range(260):
    client = rng.choices(["alpha", "beta", "gamma", UNDELIVERABLE], [4, 3, 2, 1])[0]
    whole = rng.randrange(3600)
    kind = rng.randrange(10)
    if kind == 0:
        instant = at(whole)
        time_av = N(str(int(instant.timestamp())))  # epoch seconds
    elif kind == 1:
        ms = rng.randrange(1000)
        instant = at(whole, ms * 1000)
        time_av = N(str(int(at(whole).timestamp()) * 1000 + ms))  # epoch milliseconds
    else:
        instant = at(whole) if kind != 2 else at(whole, rng.randrange(1_000_000))
        forms = iso_forms(instant)
        time_av = S(forms[0] if kind == 2 else rng.choice(forms[1:]))
    payload = {
        "s": S(rng.choice(STRINGS)), "n": N(rng.choice(NUMBERS)), "flag": {"BOOL": rng.random() < 0.5},
        "nothing": {"NULL": True}, "b": B(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64)))),
        "ss": {"SS": rng.sample([s for s in STRINGS if s], 3)},
        "ns": {"NS": rng.sample(["1.50", "1E+125", "-1E-130", "42", "-17", "0.25", "7", "100"], 3)},
        "bs": {"BS": [bytes([j, rng.randrange(256)]) for j in rng.sample(range(100), 2)]},
        "lst": {"L": [random_value(1) for _ in range(rng.randrange(0, 5))]},
        "m": {"M": {"z": random_value(1), "a": random_value(1), "nested": {"M": {"deep": random_value(2)}}}},
        "any": random_value(),
    }
    for name in NAMES:
        payload[name] = random_value(2)
    chosen = {k: v for k, v in payload.items() if rng.random() < 0.7}
    add(f"ev-{i:04d}-{rng.randrange(10**6):06d}", client, time_av, instant, **chosen)

# Fixed events: a shared instant (ordered by eventId), the window's edges, every value type at once.
for i in range(4):
    add(f"tie-{3 - i}", "alpha", S("2026-11-26T14:30:00Z"), at(1800), s=S(f"tie {i}"))
add("edge-start", "beta", S("2026-11-26T14:00:00.000000Z"), at(0), n=N("1.50"))
add("edge-last", "beta", S("2026-11-26T14:59:59.999999Z"), at(3599, 999999), n=N("1E+125"))
add("all-types", "gamma", S("2026-11-26T14:10:00Z"), at(600), s=S("é, \"q\"\r\n\x00"), n=N("-1E-130"),
    big=N("12345678901234567890123456789012345678"), b=B(bytes(range(256))), empty_b=B(b""), empty_s=S(""),
    ss={"SS": ["b", "a", "é", "a,b"]}, ns={"NS": ["1.50", "2", "-3", "1E+125"]}, bs={"BS": [b"x", b"\x00\xff"]},
    lst={"L": [S("a"), N("1.0"), {"M": {"k": S("v")}}, {"L": [{"BOOL": True}, {"NULL": True}]}, {"L": []}]},
    m={"M": {"z": S("last"), "a": S("first"), "empty": {"M": {}}, "q\"k": N("0.10")}},
    yes={"BOOL": True}, no={"BOOL": False}, nothing={"NULL": True})
add("only-one", "delta", S("2026-11-26T14:20:00Z"), at(1200), n=N("7"))
# Outside the hour: neither exported nor rejected.
add("out-before", "alpha", S("2026-11-26T13:59:59.999999Z"))
add("out-end", "alpha", S("2026-11-26T15:00:00Z"))
add("out-epoch", "beta", N(str(int(at(7200).timestamp()))))
# Rejected, with their reasons.
add("r-upper", "Alpha", S("2026-11-26T14:05:00Z"), reason="invalid_client_id")
add("r-underscore", "bad_client", S("2026-11-26T14:05:00Z"), reason="invalid_client_id")
add("r-empty-client", "", S("2026-11-26T14:05:00Z"), reason="empty_client_id")
add("r-no-client", None, S("2026-11-26T14:05:00Z"), reason="missing_client_id")
add("r-bad-time", "alpha", S("2026-11-26T14:61:00Z"), reason="unparseable_time")
add("r-no-time", "beta", None, reason="missing_time")

batch_put_raw(env, table_name, items)
# Numbers not written in JSON form, one event each: the servers that refuse one are skipped for it.
for i, text in enumerate(ODD_NUMBERS):
    item = {"eventId": S(f"odd-{i}"), "clientId": S("beta"), "time": S(f"2026-11-26T14:4{i}:00Z"), "n": N(text),
            "ns": {"NS": [text, "9"]}, "l": {"L": [N(text)]}}
    try:
        ddb.put_item(TableName=table_name, Item=item)
    except ddb.exceptions.ClientError as e:
        check(e.response["Error"]["Code"] == "ValidationException", f"odd number {text!r}: {e}")
        continue
    items.append(item)
    expected[f"odd-{i}"] = ("beta", at(2400 + 60 * i))

stored = read_table(env, table_name)
check(set(stored) == {it["eventId"]["S"] for it in items}, "the table holds exactly the items written")
# The low-level client's digit strings are what the exporter must reproduce; say which forms the server
# kept as written (moto keeps "1.50", dynalite stores "1.5").
kept_150 = stored["edge-start"]["n"].text == "1.50"

by_client = {}
for eid, (client, instant) in expected.items():
    by_client.setdefault(client, []).append((instant, eid))
for events in by_client.values():
    events.sort()
check(by_client.keys() == set(DELIVERED) | {UNDELIVERABLE}, f"clients: {sorted(by_client)}")


def csv_cell_problems(value, cell, path):
    """One csv cell against the stored value (src/core/encode.h: strings raw, numbers their digits, null
    empty, booleans true/false, binary its base64, sets/lists/maps their compact JSON text)."""
    if value is None:
        return [] if cell == "" else [f"{path}: null exported as {cell!r}"]
    if isinstance(value, bool):
        return [] if cell == ("true" if value else "false") else [f"{path}: {value} exported as {cell!r}"]
    if isinstance(value, Number):
        want = json_number_text(value.text)
        return [] if cell == want else [f"{path}: number {cell!r} != stored {value.text!r}"]
    if isinstance(value, str):
        return [] if cell == value else [f"{path}: string {cell!r:.200} != {value!r:.200}"]
    if isinstance(value, Binary):
        want = base64.b64encode(value.value).decode()
        return [] if cell == want else [f"{path}: binary {cell!r} != {want!r}"]
    try:
        parsed = load_exported(cell)
    except ValueError as e:
        return [f"{path}: cell {cell!r:.200} is not JSON ({e})"]
    return same_value(value, parsed, path)


def raw_members(line):
    """The top-level members of one compact exported JSON object as {name: value text as written}."""
    decoder = json.JSONDecoder()
    check(line.startswith("{") and line.endswith("}"), f"not a compact JSON object: {line[:80]!r}")
    out, pos = {}, 1
    while line[pos] != "}":
        name, pos = decoder.raw_decode(line, pos)
        check(line[pos] == ":", f"not compact JSON at {pos}: {line[:80]!r}")
        _, end = decoder.raw_decode(line, pos + 1)
        out[name] = line[pos + 1:end]
        pos = end + (line[end] == ",")
    return out


def csv_events(text, client, path):
    """Parses a csv object with Python's csv module and checks every cell; returns the event ids in order."""
    check(text.endswith("\r\n"), f"{path}: csv must end with CRLF")
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    want_ids = [eid for _, eid in by_client[client]]
    check(len(rows) == len(want_ids) + 1, f"{path}: {len(rows) - 1} rows, want {len(want_ids)}")
    names = set()
    for eid in want_ids:
        names |= set(stored[eid])
    header = sorted(names, key=lambda n: n.encode())
    check(rows[0] == header, f"{path}: header {rows[0]} != {header}")
    # Each row ends with CRLF: the unquoted line ends are exactly one per row.
    check(text.count("\r\n") - sum(f.count("\r\n") for row in rows for f in row) == len(rows),
          f"{path}: rows must end with CRLF")
    ids = []
    for n, row in enumerate(rows[1:]):
        check(len(row) == len(header), f"{path}: row {n} has {len(row)} fields, header {len(header)}")
        cells = dict(zip(header, row))
        eid = cells["eventId"]
        ids.append(eid)
        item = stored.get(eid)
        check(item is not None, f"{path}: row {n} names an unknown event {eid!r}")
        problems = []
        tokens = ndjson_tokens.get(eid, {})
        for name in header:
            if name in item:
                problems += csv_cell_problems(item[name], cells[name], f"{path}:{eid}.{name}")
                # Anything but a string is written as its JSON token: the very text of the ndjson object.
                if not isinstance(item[name], str) and item[name] is not None and name in tokens:
                    if not isinstance(item[name], Binary) and cells[name] != tokens[name]:
                        problems.append(f"{path}:{eid}.{name}: cell {cells[name]!r:.200} != ndjson "
                                        f"{tokens[name]!r:.200}")
            elif cells[name] != "":
                problems.append(f"{path}:{eid}.{name}: absent attribute exported as {cells[name]!r}")
        check(not problems, "\n".join(problems[:10]))
    return ids


def decoded_events(raw, fmt, client, path):
    """Checks the uncompressed bytes of one object against the table; returns its event count."""
    text = raw.decode("utf-8")
    want_ids = [eid for _, eid in by_client[client]]
    if fmt == "csv":
        ids = csv_events(text, client, path)
    else:
        events = json_events(text, fmt)
        ids = [e["eventId"] for e in events]
        if fmt == "ndjson":
            for line in text.split("\n")[:-1]:
                members = raw_members(line)
                ndjson_tokens[load_exported(members["eventId"])] = members
        for e in events:
            problems = same_value(stored[e["eventId"]], e, f"{path}:{e['eventId']}")
            check(not problems, "\n".join(problems[:10]))
            check(list(e) == sorted(e, key=lambda k: k.encode()), f"{path}: keys not sorted: {list(e)}")
    check(ids == want_ids, f"{path}: events or their order differ:\n{ids[:12]}\n{want_ids[:12]}")
    return len(ids)


def check_compressed_bytes(body, compression, path):
    if compression == "gzip":
        check(body[:3] == b"\x1f\x8b\x08", f"{path}: not a gzip member")
        check(body[4:8] == b"\0\0\0\0" and body[9] == 3, f"{path}: gzip header must have mtime 0 and OS 3 (Unix)")
    elif compression == "zstd":
        check(body[:4] == b"\x28\xb5\x2f\xfd", f"{path}: not a zstd frame")


def sha256_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


uncompressed = {}  # (fmt, client) -> bytes, from the first compression seen
ndjson_tokens = {}  # eventId -> {name: the value's text in the ndjson object} (csv cells are checked against it)
timings = []
for fmt in FORMATS:
    for compression in COMPRESSIONS:
        t0 = time.monotonic()
        combo = f"{fmt}+{compression}"
        ops = f"{prefix}-ops-{fmt}-{compression}"
        s3c.create_bucket(Bucket=ops)
        settings = {"DYNAMODB_TABLE_NAME": table_name, "S3_BUCKET_PREFIX": prefix, "EAGLESENSE_OPS_BUCKET": ops,
                    "OUTPUT_FORMAT": fmt, "EAGLESENSE_COMPRESSION": compression, "EAGLESENSE_SEGMENTS": "3"}
        summary = json.loads(run_eaglesense(env, ["run", "--hour", HOUR], settings, check_codes=(3,)).stdout)
        n_undeliverable = len(by_client[UNDELIVERABLE])
        n_delivered = len(expected) - n_undeliverable
        check(summary["events_delivered"] == n_delivered and summary["events_undeliverable"] == n_undeliverable
              and summary["events_rejected"] == len(rejected)
              and summary["events_read"] == n_delivered + n_undeliverable + len(rejected), f"{combo}: {summary}")
        key = object_key(HOUR, fmt, compression)
        check(key.endswith({"json": ".json", "ndjson": ".ndjson", "csv": ".csv"}[fmt] +
                           {"none": "", "gzip": ".gz", "zstd": ".zst"}[compression]), key)
        manifest = json.loads(s3c.get_object(Bucket=ops, Key=MANIFEST)["Body"].read())
        check(manifest.get("format") == fmt and manifest.get("compression") == compression,
              f"{combo}: manifest says {manifest.get('format')}+{manifest.get('compression')}")
        entries = {o["client"]: o for o in manifest["objects"]}
        check(sorted(entries) == sorted(DELIVERED + [UNDELIVERABLE]), f"{combo}: manifest clients {sorted(entries)}")
        for client in DELIVERED + [UNDELIVERABLE]:
            path = f"{combo}:{client}"
            if client == UNDELIVERABLE:
                obj = s3c.get_object(Bucket=ops, Key=f"undeliverable/{client}/{key}", ChecksumMode="ENABLED")
            else:
                obj = s3c.get_object(Bucket=f"{prefix}-{client}", Key=key, ChecksumMode="ENABLED")
            body = obj["Body"].read()
            entry = entries[client]
            check(entry["key"] == key, f"{path}: manifest key {entry['key']} != {key}")
            check(entry["status"] == ("undeliverable" if client == UNDELIVERABLE else "delivered"), f"{path}: {entry}")
            check(entry["bytes"] == len(body) and entry["sha256"] == hashlib.sha256(body).hexdigest(),
                  f"{path}: manifest bytes/sha256 differ from the object's")
            check(entry["events"] == len(by_client[client]), f"{path}: manifest events {entry['events']}")
            # What the server returns of the PUT's headers (s3rver and moto keep them).
            check(obj.get("ContentType") == CONTENT_TYPE[fmt], f"{path}: Content-Type {obj.get('ContentType')!r}")
            want_encoding = {"none": None, "gzip": "gzip", "zstd": "zstd"}[compression]
            check(obj.get("ContentEncoding") in ((want_encoding,) if want_encoding else (None, "")),
                  f"{path}: Content-Encoding {obj.get('ContentEncoding')!r}, want {want_encoding!r}")
            # moto keeps the PUT's x-amz-checksum-sha256 and SSE; s3rver keeps neither.
            check(obj.get("ChecksumSHA256") or env.get("EAGLESENSE_BACKEND") != "moto", f"{path}: no checksum on moto")
            if obj.get("ChecksumSHA256"):
                check(obj["ChecksumSHA256"] == sha256_b64(body), f"{path}: x-amz-checksum-sha256 differs")
            check(obj.get("ServerSideEncryption") in (None, "AES256"), f"{path}: SSE {obj.get('ServerSideEncryption')}")
            meta = obj["Metadata"]
            check(meta.get("event-count") == str(len(by_client[client])), f"{path}: metadata {meta}")
            check(meta.get("window-start", "").startswith("2026-11-26T14:00:00") and
                  meta.get("window-end", "").startswith("2026-11-26T15:00:00"), f"{path}: metadata {meta}")
            check_compressed_bytes(body, compression, path)
            raw = decompress(body, compression)
            count = decoded_events(raw, fmt, client, path)
            check(count == len(by_client[client]), f"{path}: {count} events")
            # The same format gives the same bytes whatever the compression.
            seen = uncompressed.setdefault((fmt, client), raw)
            check(seen == raw, f"{path}: decompressed bytes differ from the same format's other compression")
        rej = json.loads(s3c.get_object(Bucket=ops, Key=REJECTED)["Body"].read())
        check({r["eventId"]: r["reason"] for r in rej} == rejected, f"{combo}: rejected file {rej}")
        ops_keys = sorted(o["Key"] for o in s3c.list_objects_v2(Bucket=ops).get("Contents", []))
        check(ops_keys == sorted([MANIFEST, REJECTED, f"undeliverable/{UNDELIVERABLE}/{key}"]), f"{combo}: ops {ops_keys}")
        report = run_eaglesense(env, ["verify", "--hour", HOUR, "--source", "--json"], settings)
        verdict = json.loads(report.stdout)
        check(verdict["ok"] and verdict["findings"] == [], f"{combo}: verify {verdict}")
        timings.append(f"{combo} {time.monotonic() - t0:.1f}s")

# json and ndjson carry the same event lines; every client bucket holds one object per combination.
for client in DELIVERED + [UNDELIVERABLE]:
    js = uncompressed[("json", client)].decode()
    nd = uncompressed[("ndjson", client)].decode()
    check(js[2:-3].split(",\n") == nd.split("\n")[:-1], f"{client}: json and ndjson event lines differ")
for client in DELIVERED:
    keys = sorted(o["Key"] for o in s3c.list_objects_v2(Bucket=f"{prefix}-{client}").get("Contents", []))
    check(keys == sorted(object_key(HOUR, f, c) for f in FORMATS for c in COMPRESSIONS), f"{client}: {keys}")

print(f"ok ({env.get('EAGLESENSE_BACKEND')}): {len(items)} items, {len(expected)} exported events "
      f"({sum(1 for e in expected if e.startswith('odd-'))} odd-form numbers; server kept 1.50: {kept_150}), "
      f"{len(rejected)} rejected, 9 combinations in {time.monotonic() - started:.1f}s: {', '.join(timings)}")
