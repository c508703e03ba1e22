"""scripts/deploy.sh --dry-run prints the package, upload and deploy commands (and the client stacks')
with the content-hash key, and calls nothing: a fake `aws` on PATH records any call, and none may
happen. The deploy command sends cloudformation/template.yaml through the artifacts bucket
(--s3-bucket, --s3-prefix eaglesense/templates) when it is above CloudFormation's 51,200-byte inline
limit, inline otherwise; client-bucket.yaml is small and always inline. Also: bad arguments stop it
before anything is printed as a step. Offline. Exit 0 = pass.
"""
import hashlib
import os
import platform
import re
import subprocess
import sys
import tempfile
import zipfile

import cfn_template as cfn

DEPLOY = os.path.join(cfn.REPO_ROOT, "scripts", "deploy.sh")
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def run(args, env, expect_ok=True):
    proc = subprocess.run([DEPLOY] + args, env=env, capture_output=True, text=True, timeout=60)
    if expect_ok and proc.returncode != 0:
        failures.append(f"deploy.sh {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


def main():
    with tempfile.TemporaryDirectory() as tmp:
        # A fake aws that leaves a mark when called; first on PATH.
        bin_dir = os.path.join(tmp, "bin")
        os.mkdir(bin_dir)
        marker = os.path.join(tmp, "aws-called")
        with open(os.path.join(bin_dir, "aws"), "w") as f:
            f.write(f"#!/bin/sh\necho \"$@\" >> {marker}\nexit 0\n")
        os.chmod(os.path.join(bin_dir, "aws"), 0o755)
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": tmp}

        # A package as scripts/package_lambda.sh lays it out (arm64: read from the bundled loader).
        zip_path = os.path.join(tmp, "pkg.zip")
        with zipfile.ZipFile(zip_path, "w") as z:
            z.writestr("bootstrap", "#!/bin/sh\n")
            z.writestr("bin/eaglesense", "")
            z.writestr("lib/ld-linux-aarch64.so.1", "")
        sha = hashlib.sha256(open(zip_path, "rb").read()).hexdigest()
        key = f"eaglesense/arm64/{sha}.zip"

        proc = run(["--stack", "es-prod", "--artifact-bucket", "acme-artifacts", "--region", "eu-west-1",
                    "--package", zip_path, "--param", "BucketPrefix=acme-events",
                    "--param", "AlarmEmail=ops@example.com", "--client", "acme", "--client", "globex",
                    "--dry-run"], env)
        out = proc.stdout
        print(out)
        template = os.path.join(cfn.REPO_ROOT, "cloudformation", "template.yaml")
        client_template = os.path.join(cfn.REPO_ROOT, "cloudformation", "client-bucket.yaml")
        # CloudFormation takes a template of at most 51,200 bytes inline; a larger one goes through the
        # artifacts bucket (aws cloudformation deploy --s3-bucket uploads it and passes its URL).
        via_s3 = ""
        if os.path.getsize(template) > cfn.TEMPLATE_BODY_LIMIT:
            via_s3 = "--s3-bucket acme-artifacts --s3-prefix eaglesense/templates "
        expected_lines = [
            f"[-] package: using {zip_path} (arm64), not building",
            f"aws s3 cp --region eu-west-1 --only-show-errors {zip_path} s3://acme-artifacts/{key}",
            f"aws cloudformation deploy --region eu-west-1 --template-file {template} --stack-name es-prod "
            f"--capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset --tags eaglesense:stack=es-prod "
            f"{via_s3}--parameter-overrides ArtifactBucket=acme-artifacts ArtifactKey={key} Architecture=arm64 "
            f"BucketPrefix=acme-events AlarmEmail=ops@example.com",
            "aws cloudformation describe-stacks --region eu-west-1 --stack-name es-prod --query "
            "'Stacks[0].Outputs[?OutputKey=='\\''BucketPrefix'\\''].OutputValue' --output text",
            f"aws cloudformation deploy --region eu-west-1 --template-file {client_template} "
            f"--stack-name es-prod-client-acme --no-fail-on-empty-changeset --tags eaglesense:stack=es-prod "
            f"eaglesense:client=acme --parameter-overrides ClientId=acme 'BucketPrefix=<BucketPrefix of es-prod>' "
            f"'KmsKeyArn=<KmsKeyArn of es-prod>'",
            "--stack-name es-prod-client-globex",
            "aws cloudformation describe-stacks --region eu-west-1 --stack-name es-prod --query "
            "'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output table",
        ]
        position = 0
        for line in expected_lines:
            found = out.find(line, position)
            check(found >= 0, f"dry-run output lacks (in order): {line}")
            if found >= 0:
                position = found
        steps = re.findall(r"^\[(\d+)\] ", out, re.M)
        check(steps == [str(i) for i in range(1, len(steps) + 1)] and len(steps) == 7,
              f"steps numbered 1..7 expected, got {steps}")

        # Building: without --package it names the packaging command and says it did not run it.
        proc = run(["--stack", "es-prod", "--artifact-bucket", "acme-artifacts", "--dry-run"], env)
        arch = {"x86_64": "x86_64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
        check(f"scripts/package_lambda.sh --arch {arch}" in proc.stdout, f"no package command:\n{proc.stdout}")
        check("(not run: " in proc.stdout, f"dry run must say the package step was not run:\n{proc.stdout}")
        # The key is the zip's hash, or a placeholder when no zip has been built yet (a fresh clone).
        check(re.search(rf"s3://acme-artifacts/eaglesense/{arch}/([0-9a-f]{{64}}|<sha256 of the zip>)\.zip",
                        proc.stdout) is not None,
              f"no upload command:\n{proc.stdout}")

        # Adding a client alone.
        proc = run(["--stack", "es-prod", "--add-client", "initech", "--param", "ExpirationDays=365", "--dry-run"], env)
        check("--stack-name es-prod-client-initech" in proc.stdout and "ExpirationDays=365" in proc.stdout
              and "cloudformation/template.yaml" not in proc.stdout,
              f"--add-client deploys only the client stack:\n{proc.stdout}")

        # Bad arguments are refused with a message, exit non-zero.
        for args, why in [
            (["--artifact-bucket", "b", "--dry-run"], "--stack NAME is required"),
            (["--stack", "s", "--dry-run"], "--artifact-bucket BUCKET is required"),
            (["--stack", "s", "--artifact-bucket", "b", "--param", "oops", "--dry-run"], "is not KEY=VALUE"),
            (["--stack", "s", "--artifact-bucket", "b", "--param", "ArtifactKey=x", "--dry-run"], "is set by deploy.sh"),
            (["--stack", "s", "--add-client", "ops", "--dry-run"], "cannot name a bucket"),
            (["--stack", "s", "--add-client", "Acme", "--dry-run"], "cannot name a bucket"),
            (["--stack", "s", "--artifact-bucket", "b", "--package", zip_path, "--arch", "x86_64", "--dry-run"],
             "bundles the arm64 loader"),
        ]:
            proc = run(args, env, expect_ok=False)
            check(proc.returncode != 0 and why in proc.stderr,
                  f"deploy.sh {' '.join(args)}: exit {proc.returncode}, stderr {proc.stderr!r} (wanted '{why}')")

        check(not os.path.exists(marker),
              f"--dry-run called aws: {open(marker).read() if os.path.exists(marker) else ''}")

    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print("ok: dry run lists package, upload, deploy, client and output commands in order; no aws call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
