#!/usr/bin/env bash
# Packages build/eaglesense as a self-contained AWS Lambda zip for the custom runtime provided.al2023.
#
#   scripts/package_lambda.sh [--arch x86_64|arm64] [--build-dir DIR] [--no-build] [--out-dir DIR]
#                             [--no-strip]
#
# Writes <out-dir>/eaglesense-lambda-<arch>.zip (default out-dir: dist/), holding:
#   bootstrap       the entry point Lambda starts: runs bin/eaglesense through the bundled loader with
#                   only the bundled libraries ("lambda" when called without arguments, as Lambda does)
#   bin/eaglesense  the Release binary (stripped unless --no-strip)
#   lib/            every shared library `ldd` lists for it, the dynamic loader included, so the
#                   program runs on Amazon Linux 2023 whatever glibc the build machine has (the
#                   approach of aws-lambda-cpp's packager)
#
# Build: by default scripts/setup.sh installs what is missing and builds Release into build/.
# --build-dir DIR builds only the eaglesense target of an already configured tree (never
# reconfigures it); --no-build packages the binary as it is.
# Architecture: the package is for the machine it is built on (uname -m): x86_64 -> x86_64,
# aarch64 -> arm64 (Lambda's names). There is no cross-build: an arm64 package is built on arm64.
# A self-check runs the packaged binary's --version through the bundled loader under `env -i` and
# checks that every library resolves inside the package. Prints the zip's size, SHA-256 and contents;
# the zip's path is the last line on stdout.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  es_usage
  exit "${1:-0}"
}

want_arch=""
build_dir=""
build=1
strip_binary=1
out_dir="$ES_REPO_ROOT/dist"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --arch)
      [[ $# -ge 2 ]] || es_die "--arch needs a value: x86_64 or arm64"
      want_arch="$2"
      shift
      ;;
    --build-dir)
      [[ $# -ge 2 ]] || es_die "--build-dir needs a directory"
      build_dir="$2"
      shift
      ;;
    --no-build) build=0 ;;
    --out-dir)
      [[ $# -ge 2 ]] || es_die "--out-dir needs a directory"
      out_dir="$2"
      shift
      ;;
    --no-strip) strip_binary=0 ;;
    -h | --help) usage 0 ;;
    *) es_die "unknown option '$1' (allowed: --arch, --build-dir DIR, --no-build, --out-dir DIR, --no-strip)" ;;
  esac
  shift
done

# --- architecture -------------------------------------------------------------------------------------
machine="$(uname -m)"
case "$machine" in
  x86_64)
    arch=x86_64
    loader_name=ld-linux-x86-64.so.2
    elf_machine="X86-64"
    ;;
  aarch64 | arm64)
    arch=arm64
    loader_name=ld-linux-aarch64.so.1
    elf_machine="AArch64"
    ;;
  *) es_die "unsupported machine '$machine': Lambda runs x86_64 and arm64 (aarch64)" ;;
esac
if [[ -n "$want_arch" && "$want_arch" != "$arch" ]]; then
  case "$want_arch" in
    x86_64 | arm64) ;;
    *) es_die "--arch '$want_arch' is not a Lambda architecture (x86_64 or arm64)" ;;
  esac
  es_die "this machine builds $arch packages; an $want_arch package is built on an $want_arch machine" \
    "(no cross-build: the binary and its libraries come from the build machine)"
fi

for tool in zip unzip ldd readelf sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || es_die "$tool is missing: run scripts/setup.sh (Debian packages zip, unzip, binutils)"
done

# --- build ----------------------------------------------------------------------------------------------
if [[ -z "$build_dir" ]]; then
  build_dir="$ES_REPO_ROOT/build"
  if [[ $build -eq 1 ]]; then
    "$ES_REPO_ROOT/scripts/setup.sh" --build-dir "$build_dir" >&2
  fi
elif [[ $build -eq 1 ]]; then
  [[ -f "$build_dir/CMakeCache.txt" ]] || es_die "$build_dir is not a configured build tree (run scripts/setup.sh)"
  es_log "building target eaglesense in $build_dir"
  cmake --build "$build_dir" --target eaglesense >&2
fi
binary="$build_dir/eaglesense"
[[ -x "$binary" ]] || es_die "$binary not found: build first (scripts/setup.sh) or drop --no-build"
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)"
if [[ "$build_type" != Release ]]; then
  es_warn "$build_dir is a '${build_type:-unknown}' build, not Release: fine for tests, not for production"
fi
readelf -h "$binary" | grep -q "Machine:.*$elf_machine" ||
  es_die "$binary is not an $elf_machine executable: $(readelf -h "$binary" | grep Machine: | sed 's/^ *//')"

# --- stage ------------------------------------------------------------------------------------------
stage="$(mktemp -d "${TMPDIR:-/tmp}/eaglesense-package.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib"
cp "$binary" "$stage/bin/eaglesense"
if [[ $strip_binary -eq 1 ]]; then
  strip --strip-unneeded "$stage/bin/eaglesense"
fi

# ldd lines: "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)", the loader as
# "/lib64/ld-linux-x86-64.so.2 (0x...)", the vDSO without a file. Each library is copied under the
# name the binary asks for (its soname), symlinks resolved.
ldd_out="$(ldd "$binary")" || es_die "ldd failed on $binary"
if grep -q 'not found' <<<"$ldd_out"; then
  es_die "libraries of $binary not found: $(grep 'not found' <<<"$ldd_out" | tr -s ' \t' ' ')"
fi
found_loader=0
while read -r first second third _; do
  if [[ "$second" == "=>" && "$third" == /* ]]; then
    cp -L "$third" "$stage/lib/$first"
  elif [[ "$first" == /* && "$(basename "$first")" == "$loader_name" ]]; then
    cp -L "$first" "$stage/lib/$loader_name"
    found_loader=1
  fi
done <<<"$ldd_out"
[[ $found_loader -eq 1 ]] || es_die "ldd did not list the loader $loader_name for $binary"

cat >"$stage/bootstrap" <<EOF
#!/bin/sh
# AWS Lambda custom runtime entry point, written by scripts/package_lambda.sh.
# Runs bin/eaglesense through the bundled loader with only the bundled libraries, so it does not
# depend on the glibc of the Lambda image. Without arguments (as Lambda starts it): "lambda".
set -e
# Shell built-ins only: Lambda sets PATH, \`env -i\` does not.
case "\$0" in */*) here=\${0%/*} ;; *) here=. ;; esac
here=\$(cd "\$here" && pwd)
# Debian's libcurl looks for /etc/ssl/certs/ca-certificates.crt; Amazon Linux keeps its CA bundle in
# /etc/pki/tls/certs/ca-bundle.crt. Point TLS verification at whichever exists, unless set.
if [ -z "\${AWS_CA_BUNDLE:-}" ]; then
  for ca in /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/certs/ca-certificates.crt; do
    if [ -r "\$ca" ]; then
      AWS_CA_BUNDLE=\$ca
      export AWS_CA_BUNDLE
      break
    fi
  done
fi
if [ \$# -eq 0 ]; then
  set -- lambda
fi
exec "\$here/lib/$loader_name" --library-path "\$here/lib" "\$here/bin/eaglesense" "\$@"
EOF

# Modes and timestamps fixed, files in sorted order: the same inputs give the same zip (and so the
# same content-hash key in scripts/deploy.sh).
chmod 755 "$stage/bootstrap" "$stage/bin/eaglesense" "$stage/lib/$loader_name"
find "$stage/lib" -type f ! -name "$loader_name" -exec chmod 644 {} +
find "$stage" -exec env TZ=UTC touch -h -t 202001010000 {} +

# --- self-check -----------------------------------------------------------------------------------------
# Every library must resolve inside the package (the bundled loader lists what it would load).
listing="$(cd "$stage" && env -i "./lib/$loader_name" --library-path "$stage/lib" --list ./bin/eaglesense)" ||
  es_die "the bundled loader cannot load bin/eaglesense"
outside="$(awk '/=>/ && $3 ~ /^\// { print $3 }' <<<"$listing" | grep -v "^$stage/lib/" || true)"
[[ -z "$outside" ]] || es_die "libraries resolved outside the package: $outside"
version="$(cd / && env -i "$stage/bootstrap" --version)" || es_die "the packaged bootstrap failed to run --version"
[[ "$version" == eaglesense* ]] || es_die "unexpected --version output from the package: '$version'"
es_log "self-check: env -i bootstrap --version -> $version (all libraries from the package)"

# --- zip ------------------------------------------------------------------------------------------------
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"
zip_path="$out_dir/eaglesense-lambda-$arch.zip"
rm -f "$zip_path.tmp"
(cd "$stage" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | TZ=UTC zip -q -X -@ "$zip_path.tmp")
mv "$zip_path.tmp" "$zip_path"

size_bytes="$(stat -c %s "$zip_path")"
unzipped_bytes="$(du -sb "$stage" | cut -f1)"
es_log "wrote $zip_path"
{
  echo "package: $zip_path"
  echo "architecture: $arch ($version)"
  echo "size: $size_bytes bytes zipped ($((size_bytes / 1024)) KiB), $unzipped_bytes bytes unzipped"
  echo "sha256: $(sha256sum "$zip_path" | cut -d' ' -f1)"
  unzip -l "$zip_path"
} >&2
echo "$zip_path"
