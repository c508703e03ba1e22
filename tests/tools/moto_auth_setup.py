#!/usr/bin/python3
"""Switches a fresh moto_server to signature checking with one authorized IAM access key.

Run by scripts/local-aws.sh with Debian's /usr/bin/python3 (python3-boto3), right after it started
moto_server with INITIAL_NO_AUTH_ACTION_COUNT=N. Moto lets the first N *actions* through without
authentication (each request to a service counts one, whatever its outcome; /moto-api/ does not
count), then checks every request's SigV4 signature against the IAM access keys it knows and the
caller's IAM policies. This script spends exactly those N calls:

  1. iam:CreateUser        eaglesense-test
  2. iam:CreateAccessKey   -> the key written to --key-file as "ACCESS_KEY SECRET_KEY"
  3. iam:CreatePolicy      EagleSenseTestAdmin: Allow * on *
  4. iam:AttachUserPolicy  (the user gets the policy)

Then it proves that authentication is on: the new key lists DynamoDB tables and S3 buckets, and the
same key with a wrong secret gets SignatureDoesNotMatch from both services.
"""

import argparse
import json
import os
import sys

import boto3
import botocore.exceptions
from botocore.config import Config

USER = "eaglesense-test"
POLICY = "EagleSenseTestAdmin"
ADMIN_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
# No retries: a retried call would spend one more of moto's unauthenticated actions.
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)


def client(service, endpoint, region, access_key, secret_key):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=NO_RETRY,
    )


def error_code(err):
    """The AWS error code of a ClientError.

    Moto answers an auth failure on DynamoDB with an IAM-style XML body (<ErrorResponse>...) where
    DynamoDB clients expect JSON, so botocore reports the HTTP status as the code and the XML as the
    message; look for the code in both.
    """
    error = err.response.get("Error", {})
    code = error.get("Code", "")
    if code.isdigit() and "<Code>" in error.get("Message", ""):
        message = error["Message"]
        code = message.split("<Code>", 1)[1].split("</Code>", 1)[0]
    return code


def expect_rejected(label, call):
    try:
        call()
    except botocore.exceptions.ClientError as err:
        code = error_code(err)
        if code != "SignatureDoesNotMatch":
            sys.exit(f"moto auth check: {label} with a wrong secret failed with {code}, not SignatureDoesNotMatch")
        print(f"moto auth check: {label} with a wrong secret -> {code} (as expected)")
        return
    sys.exit(f"moto auth check: {label} with a wrong secret was accepted: signature checking is off")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--no-auth-calls", type=int, default=4, help="INITIAL_NO_AUTH_ACTION_COUNT of the server")
    parser.add_argument("--key-file", required=True)
    args = parser.parse_args()
    if args.no_auth_calls != 4:
        sys.exit(f"this setup makes exactly 4 unauthenticated calls; the server allows {args.no_auth_calls}")

    # Before authentication is on, moto accepts any well-formed signature; the key is a placeholder.
    iam = client("iam", args.endpoint, args.region, "bootstrap", "bootstrap")
    iam.create_user(UserName=USER)
    key = iam.create_access_key(UserName=USER)["AccessKey"]
    policy_arn = iam.create_policy(PolicyName=POLICY, PolicyDocument=json.dumps(ADMIN_DOCUMENT))["Policy"]["Arn"]
    iam.attach_user_policy(UserName=USER, PolicyArn=policy_arn)
    access_key, secret_key = key["AccessKeyId"], key["SecretAccessKey"]
    print(f"moto auth setup: user {USER}, access key {access_key}, policy {policy_arn}")

    # Authentication is on from here.
    client("dynamodb", args.endpoint, args.region, access_key, secret_key).list_tables()
    client("s3", args.endpoint, args.region, access_key, secret_key).list_buckets()
    print("moto auth check: the new key is accepted by DynamoDB and S3")
    bad_ddb = client("dynamodb", args.endpoint, args.region, access_key, "wrong-secret")
    bad_s3 = client("s3", args.endpoint, args.region, access_key, "wrong-secret")
    expect_rejected("DynamoDB ListTables", bad_ddb.list_tables)
    expect_rejected("S3 ListBuckets", bad_s3.list_buckets)

    tmp = args.key_file + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(f"{access_key} {secret_key}\n")
    os.replace(tmp, args.key_file)


if __name__ == "__main__":
    main()
