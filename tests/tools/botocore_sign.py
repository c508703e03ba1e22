#!/usr/bin/python3
"""Signs requests with botocore's SigV4 signers: the reference side of aws_sigv4_botocore_test.

Usage: botocore_sign.py REQUESTS.jsonl

Each input line is one request:
  {"id": 0, "method": "PUT", "url": "https://...", "headers": [["Name", "value"], ...],
   "body_b64": "...", "service": "s3", "region": "us-east-1", "s3": true,
   "access_key": "...", "secret_key": "...", "token": "" , "unsigned_payload": false,
   "amz_date": "20150830T123600Z"}
Each output line (stdout, same order):
  {"id": 0, "canonical_request": "...", "string_to_sign": "...", "signature": "...",
   "authorization": "..."}

Signing goes through the signers' public add_auth(); the clock is pinned to amz_date and the
intermediate strings are captured by subclassing. S3 requests use S3SigV4Auth, which sets
X-Amz-Content-SHA256 itself; "unsigned_payload" turns S3 payload signing off (the client config
switch botocore reads), which makes it send UNSIGNED-PAYLOAD.

Exit status 3 with a message when botocore cannot be imported.
"""

import base64
import datetime
import json
import sys
import types

try:
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as e:  # pragma: no cover - exercised only on a machine without the package
    sys.stderr.write(
        f"botocore is not importable by {sys.executable} ({e}); "
        "install it with: apt-get install python3-botocore\n"
    )
    sys.exit(3)


def pin_clock(amz_date):
    """Makes botocore's signers see amz_date as the current time (old and new botocore)."""
    fixed = datetime.datetime.strptime(amz_date, '%Y%m%dT%H%M%SZ')

    class FixedDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

        @classmethod
        def now(cls, tz=None):
            return fixed if tz is None else fixed.replace(tzinfo=tz)

    botocore.auth.datetime = types.SimpleNamespace(
        datetime=FixedDatetime,
        timezone=datetime.timezone,
        timedelta=datetime.timedelta,
    )
    if hasattr(botocore.auth, 'get_current_datetime'):
        botocore.auth.get_current_datetime = lambda *args, **kwargs: fixed


def capturing(signer_cls):
    class Capturing(signer_cls):
        def canonical_request(self, request):
            self.captured_canonical_request = super().canonical_request(request)
            return self.captured_canonical_request

        def string_to_sign(self, request, canonical_request):
            self.captured_string_to_sign = super().string_to_sign(request, canonical_request)
            return self.captured_string_to_sign

    return Capturing


def sign(spec):
    pin_clock(spec['amz_date'])
    request = AWSRequest(
        method=spec['method'],
        url=spec['url'],
        data=base64.b64decode(spec['body_b64']),
    )
    for name, value in spec['headers']:
        request.headers[name] = value  # HTTPHeaders appends: repeated names are kept in order
    if spec['unsigned_payload']:
        request.context['client_config'] = types.SimpleNamespace(
            s3={'payload_signing_enabled': False}
        )
    credentials = Credentials(
        spec['access_key'], spec['secret_key'], spec['token'] or None
    )
    base = botocore.auth.S3SigV4Auth if spec['s3'] else botocore.auth.SigV4Auth
    signer = capturing(base)(credentials, spec['service'], spec['region'])
    signer.add_auth(request)
    authorization = request.headers['Authorization']
    return {
        'id': spec['id'],
        'canonical_request': signer.captured_canonical_request,
        'string_to_sign': signer.captured_string_to_sign,
        'signature': authorization.rsplit('Signature=', 1)[1],
        'authorization': authorization,
    }


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    with open(sys.argv[1], encoding='utf-8') as f:
        for line in f:
            if line.strip():
                print(json.dumps(sign(json.loads(line))), flush=False)
    sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
