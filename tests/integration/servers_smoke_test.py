#!/usr/bin/python3
"""Smoke test of the local AWS servers, with Debian's boto3 as an independent client.

Proves that the ctest fixtures (scripts/local-aws.sh) start servers that behave as the exporter needs:
DynamoDB CreateTable/PutItem/Scan, S3 CreateBucket/PutObject/GetObject and ListObjectsV2 over more
than one page (1,100 objects), and, where the server checks signatures, that a wrong secret is
rejected with SignatureDoesNotMatch (moto, both services; on the local backend s3rver checks only the
access key id and dynalite nothing).

Reads the env file named by EAGLESENSE_TEST_ENV_FILE (written by scripts/local-aws.sh start).
Run with /usr/bin/python3: Debian's boto3 (1.26) ignores AWS_ENDPOINT_URL_*, so every client here
gets its endpoint_url explicitly, never from the environment.
"""

import concurrent.futures
import os
import sys
import time
import uuid

import boto3
import botocore.exceptions
from botocore.config import Config

OBJECT_COUNT = 1100


def load_env(path):
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                env[key] = value
    return env


def error_code(err):
    # Moto answers DynamoDB auth failures with an IAM-style XML body; botocore then reports the HTTP
    # status as the code and keeps the XML in the message.
    error = err.response.get("Error", {})
    code = error.get("Code", "")
    if code.isdigit() and "<Code>" in error.get("Message", ""):
        code = error["Message"].split("<Code>", 1)[1].split("</Code>", 1)[0]
    return code


class Smoke:
    def __init__(self, env):
        self.env = env
        self.backend = env["EAGLESENSE_BACKEND"]
        self.suffix = uuid.uuid4().hex[:10]

    def client(self, service, secret=None):
        endpoint = self.env["AWS_ENDPOINT_URL_DYNAMODB" if service == "dynamodb" else "AWS_ENDPOINT_URL_S3"]
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=self.env["AWS_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=secret or self.env["AWS_SECRET_ACCESS_KEY"],
            config=Config(
                retries={"max_attempts": 2, "mode": "standard"},
                s3={"addressing_style": "path"},
                max_pool_connections=16,
            ),
        )

    def check(self, condition, message):
        if not condition:
            raise AssertionError(message)

    def dynamodb(self):
        ddb = self.client("dynamodb")
        table = f"smoke-{self.suffix}"
        ddb.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        deadline = time.monotonic() + 30
        while ddb.describe_table(TableName=table)["Table"]["TableStatus"] != "ACTIVE":
            self.check(time.monotonic() < deadline, f"table {table} not ACTIVE after 30 s")
            time.sleep(0.05)
        item = {
            "eventId": {"S": "e-1"},
            "clientId": {"S": "acme"},
            "time": {"S": "2026-11-29T10:15:42.123456+00:00"},
            "payload_size": {"N": "12345678901234567890.000100"},
        }
        ddb.put_item(TableName=table, Item=item)
        items = ddb.scan(TableName=table)["Items"]
        self.check(len(items) == 1, f"scan returned {len(items)} items, want 1")
        self.check(items[0]["eventId"] == {"S": "e-1"}, f"scan returned {items[0]}")
        print(f"  dynamodb: table {table}, put + scan ok; number stored as {items[0]['payload_size']['N']}")
        ddb.delete_table(TableName=table)

    def s3(self):
        s3 = self.client("s3")
        bucket = f"smoke-{self.suffix}"
        s3.create_bucket(Bucket=bucket)
        keys = [f"events/{i:05d}.json" for i in range(OBJECT_COUNT)]

        def put(key):
            s3.put_object(Bucket=bucket, Key=key, Body=f'{{"key":"{key}"}}'.encode())

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(put, keys))
        print(f"  s3: {OBJECT_COUNT} objects put in {time.monotonic() - started:.1f} s")

        body = s3.get_object(Bucket=bucket, Key=keys[777])["Body"].read()
        self.check(body == f'{{"key":"{keys[777]}"}}'.encode(), f"get_object returned {body!r}")

        for page_size in (1000, 300):
            listed, pages, token = [], 0, None
            while True:
                kwargs = {"Bucket": bucket, "MaxKeys": page_size}
                if token:
                    kwargs["ContinuationToken"] = token
                page = s3.list_objects_v2(**kwargs)
                pages += 1
                listed += [o["Key"] for o in page.get("Contents", [])]
                if not page.get("IsTruncated"):
                    break
                token = page["NextContinuationToken"]
                self.check(pages < 100, "ListObjectsV2 does not end")
            self.check(listed == keys, f"ListObjectsV2 (MaxKeys {page_size}) listed {len(listed)} keys, want {len(keys)} in order")
            want_pages = -(-OBJECT_COUNT // page_size)
            self.check(pages == want_pages, f"ListObjectsV2 (MaxKeys {page_size}) took {pages} pages, want {want_pages}")
            print(f"  s3: ListObjectsV2 MaxKeys={page_size}: {len(listed)} keys in {pages} pages")

        for start in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]]})
        s3.delete_bucket(Bucket=bucket)

    def expect_signature_mismatch(self, label, call):
        try:
            call()
        except botocore.exceptions.ClientError as err:
            code = error_code(err)
            self.check(code == "SignatureDoesNotMatch", f"{label} with a wrong secret: {code}, want SignatureDoesNotMatch")
            print(f"  {label} with a wrong secret: SignatureDoesNotMatch")
            return
        raise AssertionError(f"{label} with a wrong secret was accepted")

    def signatures(self):
        if self.backend == "moto":
            bad_s3 = self.client("s3", secret="wrong-secret")
            self.expect_signature_mismatch("s3 ListBuckets", bad_s3.list_buckets)
            bad_ddb = self.client("dynamodb", secret="wrong-secret")
            self.expect_signature_mismatch("dynamodb ListTables", bad_ddb.list_tables)
            return
        # s3rver 3.7 checks only that the access key id is known (S3RVER): SigV4 signatures are not
        # verified at all, and dynalite checks nothing. Only the moto backend proves signing.
        bad_key = boto3.client(
            "s3",
            endpoint_url=self.env["AWS_ENDPOINT_URL_S3"],
            region_name=self.env["AWS_REGION"],
            aws_access_key_id="NOT-S3RVER",
            aws_secret_access_key="wrong-secret",
        )
        try:
            bad_key.list_buckets()
        except botocore.exceptions.ClientError as err:
            code = error_code(err)
            self.check(code == "InvalidAccessKeyId", f"s3rver with an unknown access key: {code}, want InvalidAccessKeyId")
            print("  s3 ListBuckets with an unknown access key: InvalidAccessKeyId (s3rver checks no SigV4 signature)")
            return
        raise AssertionError("s3rver accepted an unknown access key")


def main():
    path = os.environ.get("EAGLESENSE_TEST_ENV_FILE")
    if not path:
        sys.exit("EAGLESENSE_TEST_ENV_FILE is not set: start a backend with scripts/local-aws.sh start and point it at <state>/env")
    env = load_env(path)
    smoke = Smoke(env)
    print(f"servers smoke test on backend {smoke.backend} ({path})")
    failed = 0
    for name in ("dynamodb", "s3", "signatures"):
        try:
            getattr(smoke, name)()
            print(f"[  PASSED  ] {name}")
        except Exception as err:  # report every part, then fail
            failed += 1
            print(f"[  FAILED  ] {name}: {type(err).__name__}: {err}")
    print(f"servers smoke test on {smoke.backend}: {3 - failed} of 3 parts ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
