#!/usr/bin/env bash
# Deploys EagleSense to AWS with CloudFormation (docs/DEPLOY.md).
#
#   scripts/deploy.sh --stack NAME --artifact-bucket BUCKET [--region R] [--arch x86_64|arm64]
#                     [--param KEY=VALUE ...] [--client ID ...] [--no-build | --package ZIP] [--dry-run]
#   scripts/deploy.sh --stack NAME --add-client ID [--add-client ID ...] [--region R]
#                     [--param KEY=VALUE ...] [--dry-run]
#
# The first form:
#   1. scripts/package_lambda.sh --arch ARCH (builds Release, writes dist/eaglesense-lambda-ARCH.zip);
#      --no-build packages the existing build/eaglesense; --package ZIP deploys a zip built before
#      (e.g. by CI on a machine of the target architecture; its architecture is read from its loader);
#   2. aws s3 cp the zip to s3://BUCKET/eaglesense/ARCH/<sha256 of the zip>.zip (a content-hash key:
#      a new build is a new key, so CloudFormation updates the function; the same build changes nothing);
#   3. aws cloudformation deploy of cloudformation/template.yaml as stack NAME with
#      ArtifactBucket, ArtifactKey, Architecture and every --param KEY=VALUE (template parameters;
#      BucketPrefix is required on the first deploy, later deploys keep the previous values); a
#      template above CloudFormation's 51,200-byte inline limit goes through BUCKET (--s3-bucket BUCKET
#      --s3-prefix eaglesense/templates: the CLI uploads it and passes its URL);
#   4. one client bucket stack per --client ID (as --add-client does);
#   5. prints the stack's outputs.
# The second form adds clients to a deployed stack: one stack NAME-client-ID each, from
# cloudformation/client-bucket.yaml, with BucketPrefix and KmsKeyArn read from stack NAME's outputs;
# --param here sets client-bucket.yaml parameters (e.g. ReaderPrincipalArn=..., ExpirationDays=...).
#
# --dry-run prints every step's exact command and calls nothing (no AWS call, no build: an existing
# zip is hashed, otherwise it says what it would build). --region R is passed to every aws call
# (default: the CLI's own configuration). --endpoint-url URL (testing against a local server) too, but
# the CLI's upload of a large template (--s3-bucket, above) ignores it: its S3 client is made without
# the endpoint (tests/integration/cloudformation_test.py redirects it to moto).
# AWS_CLI chooses the aws command (default: the aws on PATH).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  es_usage
  exit "${1:-0}"
}

stack=""
artifact_bucket=""
region=""
endpoint_url=""
arch=""
params=()
clients=()
add_clients=()
build=1
dry_run=0
package_zip=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --stack | --artifact-bucket | --region | --arch | --param | --client | --add-client | --endpoint-url | --package)
      [[ $# -ge 2 && -n "$2" ]] || es_die "$1 needs a value"
      case "$1" in
        --stack) stack="$2" ;;
        --artifact-bucket) artifact_bucket="$2" ;;
        --region) region="$2" ;;
        --arch) arch="$2" ;;
        --param) params+=("$2") ;;
        --client) clients+=("$2") ;;
        --add-client) add_clients+=("$2") ;;
        --endpoint-url) endpoint_url="$2" ;;
        --package) package_zip="$2" ;;
      esac
      shift
      ;;
    --no-build) build=0 ;;
    --dry-run) dry_run=1 ;;
    -h | --help) usage 0 ;;
    *) es_die "unknown option '$1' (see scripts/deploy.sh --help)" ;;
  esac
  shift
done

[[ -n "$stack" ]] || es_die "--stack NAME is required"
[[ "$stack" =~ ^[A-Za-z][A-Za-z0-9-]{0,50}$ ]] ||
  es_die "--stack '$stack': a letter, then letters, digits and - (at most 51 characters: the function is NAME-exporter)"
if [[ ${#add_clients[@]} -gt 0 ]]; then
  mode=add-client
  [[ -z "$artifact_bucket" && ${#clients[@]} -eq 0 && -z "$arch" && -z "$package_zip" ]] ||
    es_die "--add-client only adds client bucket stacks: it takes no --artifact-bucket, --arch, --package or --client"
else
  mode=deploy
  [[ -n "$artifact_bucket" ]] || es_die "--artifact-bucket BUCKET is required (or --add-client ID to add a client)"
fi
for p in ${params[@]+"${params[@]}"}; do
  [[ "$p" =~ ^[A-Za-z0-9]+=.*$ ]] || es_die "--param '$p' is not KEY=VALUE (a template parameter name, then =)"
  case "${p%%=*}" in
    ArtifactBucket | ArtifactKey | Architecture)
      es_die "--param ${p%%=*} is set by deploy.sh (use --artifact-bucket / --arch)"
      ;;
  esac
done
for c in ${clients[@]+"${clients[@]}"} ${add_clients[@]+"${add_clients[@]}"}; do
  [[ "$c" =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ && "$c" != ops ]] ||
    es_die "client id '$c' cannot name a bucket (lower-case letters, digits and -; not 'ops')"
done

aws_cli="${AWS_CLI:-aws}"
if [[ $dry_run -eq 0 ]]; then
  command -v "$aws_cli" >/dev/null 2>&1 || es_die "the AWS CLI ('$aws_cli') is not on PATH: run scripts/setup.sh (Debian package awscli)"
fi
aws_common=()
[[ -n "$region" ]] && aws_common+=(--region "$region")
[[ -n "$endpoint_url" ]] && aws_common+=(--endpoint-url "$endpoint_url")

step=0
# quote ARG: the argument as a shell word (single quotes only where needed), so a printed command can
# be pasted back into a shell.
quote() {
  if [[ "$1" =~ ^[A-Za-z0-9_./:=@,+%-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}
# show DESCRIPTION COMMAND...: prints the step number, what it does and its exact command.
show() {
  local what="$1" arg sep=""
  shift
  step=$((step + 1))
  printf '[%d] %s\n    ' "$step" "$what"
  for arg in "$@"; do
    printf '%s%s' "$sep" "$(quote "$arg")"
    sep=" "
  done
  printf '\n'
}
# run DESCRIPTION COMMAND...: shows the step and runs it unless --dry-run.
run() {
  show "$@"
  shift
  [[ $dry_run -eq 1 ]] && return 0
  "$@"
}
# output_of STACK KEY: the command that prints one output of a deployed stack.
output_of() {
  output_cmd=("$aws_cli" cloudformation describe-stacks "${aws_common[@]}" --stack-name "$1"
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue" --output text)
}

deploy_clients() {
  local prefix kms client
  output_of "$stack" BucketPrefix
  show "read the bucket prefix from stack $stack" "${output_cmd[@]}"
  [[ $dry_run -eq 1 ]] || prefix="$("${output_cmd[@]}")"
  output_of "$stack" KmsKeyArn
  show "read the KMS key (or none) from stack $stack" "${output_cmd[@]}"
  [[ $dry_run -eq 1 ]] || kms="$("${output_cmd[@]}")"
  if [[ $dry_run -eq 1 ]]; then
    prefix="<BucketPrefix of $stack>"
    kms="<KmsKeyArn of $stack>"
  else
    [[ -n "$prefix" && "$prefix" != None ]] || es_die "stack $stack has no BucketPrefix output: deploy it first"
    [[ -n "$kms" && "$kms" != None ]] || kms=none
  fi
  for client in "$@"; do
    run "client bucket stack for '$client'" \
      "$aws_cli" cloudformation deploy "${aws_common[@]}" \
      --template-file "$ES_REPO_ROOT/cloudformation/client-bucket.yaml" \
      --stack-name "$stack-client-$client" \
      --no-fail-on-empty-changeset \
      --tags "eaglesense:stack=$stack" "eaglesense:client=$client" \
      --parameter-overrides "ClientId=$client" "BucketPrefix=$prefix" "KmsKeyArn=$kms" \
      ${client_params[@]+"${client_params[@]}"}
  done
}

if [[ $dry_run -eq 1 ]]; then
  echo "dry run: nothing is built, uploaded or deployed; these are the commands, in order"
fi

if [[ "$mode" == add-client ]]; then
  client_params=(${params[@]+"${params[@]}"})
  deploy_clients "${add_clients[@]}"
  exit 0
fi
client_params=()

# --- 1. package ---------------------------------------------------------------------------------------
machine_arch="$(uname -m)"
[[ "$machine_arch" == aarch64 ]] && machine_arch=arm64
if [[ -n "$package_zip" ]]; then
  [[ $build -eq 1 ]] || es_die "--package and --no-build exclude each other"
  [[ -f "$package_zip" ]] || es_die "--package $package_zip: no such file"
  zip_path="$(cd "$(dirname "$package_zip")" && pwd)/$(basename "$package_zip")"
  # The bundled loader tells the architecture (scripts/package_lambda.sh puts it in lib/).
  zip_arch=""
  listing="$(unzip -Z1 "$zip_path" 2>/dev/null)" || es_die "--package $package_zip is not a zip"
  grep -qx 'bootstrap' <<<"$listing" || es_die "--package $package_zip has no bootstrap at its root"
  grep -qx 'lib/ld-linux-x86-64.so.2' <<<"$listing" && zip_arch=x86_64
  grep -qx 'lib/ld-linux-aarch64.so.1' <<<"$listing" && zip_arch=arm64
  if [[ -n "$arch" && -n "$zip_arch" && "$arch" != "$zip_arch" ]]; then
    es_die "--arch $arch, but $package_zip bundles the $zip_arch loader"
  fi
  arch="${arch:-$zip_arch}"
  [[ -n "$arch" ]] || es_die "cannot tell the architecture of $package_zip (no bundled loader): pass --arch"
  case "$arch" in x86_64 | arm64) ;; *) es_die "--arch '$arch': x86_64 or arm64" ;; esac
  echo "[-] package: using $zip_path ($arch), not building"
  sha="$(sha256sum "$zip_path" | cut -d' ' -f1)"
else
  arch="${arch:-$machine_arch}"
  case "$arch" in x86_64 | arm64) ;; *) es_die "--arch '$arch': x86_64 or arm64" ;; esac
  zip_path="$ES_REPO_ROOT/dist/eaglesense-lambda-$arch.zip"
  package_cmd=("$ES_REPO_ROOT/scripts/package_lambda.sh" --arch "$arch")
  [[ $build -eq 1 ]] || package_cmd+=(--no-build)
  if [[ $dry_run -eq 1 ]]; then
    run "package (build Release, bundle libraries, zip)" "${package_cmd[@]}"
    if [[ -f "$zip_path" ]]; then
      sha="$(sha256sum "$zip_path" | cut -d' ' -f1)"
      echo "    (not run: the existing $zip_path gives the key below)"
    else
      sha="<sha256 of the zip>"
      echo "    (not run: it would build build/eaglesense in Release and write $zip_path)"
    fi
  else
    [[ "$arch" == "$machine_arch" ]] ||
      es_die "--arch $arch on a $machine_arch machine: an $arch package is built on an $arch machine (or pass --package ZIP)"
    run "package (build Release, bundle libraries, zip)" "${package_cmd[@]}"
    sha="$(sha256sum "$zip_path" | cut -d' ' -f1)"
  fi
fi
artifact_key="eaglesense/$arch/$sha.zip"

# --- 2. upload ------------------------------------------------------------------------------------------
run "upload the zip under its content hash" \
  "$aws_cli" s3 cp "${aws_common[@]}" --only-show-errors "$zip_path" "s3://$artifact_bucket/$artifact_key"

# --- 3. deploy ------------------------------------------------------------------------------------------
template="$ES_REPO_ROOT/cloudformation/template.yaml"
deploy_cmd=("$aws_cli" cloudformation deploy "${aws_common[@]}"
  --template-file "$template"
  --stack-name "$stack"
  --capabilities CAPABILITY_NAMED_IAM
  --no-fail-on-empty-changeset
  --tags "eaglesense:stack=$stack")
# Templates above 51,200 bytes go to CloudFormation through S3.
if [[ $(stat -c %s "$template") -gt 51200 ]]; then
  deploy_cmd+=(--s3-bucket "$artifact_bucket" --s3-prefix eaglesense/templates)
fi
deploy_cmd+=(--parameter-overrides "ArtifactBucket=$artifact_bucket" "ArtifactKey=$artifact_key"
  "Architecture=$arch" ${params[@]+"${params[@]}"})
run "create or update stack $stack" "${deploy_cmd[@]}"

# --- 4. clients -------------------------------------------------------------------------------------------
if [[ ${#clients[@]} -gt 0 ]]; then
  deploy_clients "${clients[@]}"
fi

# --- 5. outputs ------------------------------------------------------------------------------------------
run "stack outputs" "$aws_cli" cloudformation describe-stacks "${aws_common[@]}" --stack-name "$stack" \
  --query "Stacks[0].Outputs[].[OutputKey,OutputValue]" --output table
