#!/usr/bin/env bash
# scripts/package_lambda.sh makes a zip that runs on its own: unzipped into an empty folder, its
# bootstrap runs `eaglesense --version` through the bundled loader under `env -i`, every library
# resolving inside the package; the zip holds bootstrap (executable), bin/eaglesense, the loader and
# every library ldd lists; packaging twice gives the same bytes (the deploy key is its hash).
#
#   package_lambda_test.sh BUILD_DIR
# Packages BUILD_DIR/eaglesense as built (--no-build: ctest runs after the build, and a build started
# from inside a test would race with other builds of the same tree).
set -euo pipefail
# shellcheck source=../../scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

build_dir="${1:?usage: package_lambda_test.sh BUILD_DIR}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/es-package-test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

zip_path="$("$ES_REPO_ROOT/scripts/package_lambda.sh" --build-dir "$build_dir" --no-build --out-dir "$tmp/out1" | tail -n 1)"
[[ -f "$zip_path" ]] || fail "package_lambda.sh printed '$zip_path', not a file"
case "$(uname -m)" in
  x86_64) arch=x86_64 loader=ld-linux-x86-64.so.2 ;;
  aarch64) arch=arm64 loader=ld-linux-aarch64.so.1 ;;
  *) fail "unexpected machine $(uname -m)" ;;
esac
[[ "$(basename "$zip_path")" == "eaglesense-lambda-$arch.zip" ]] || fail "zip named $(basename "$zip_path")"

listing="$(unzip -Z1 "$zip_path")"
for entry in bootstrap bin/eaglesense "lib/$loader" lib/libc.so.6 lib/libstdc++.so.6 lib/libcurl.so.4; do
  grep -qx "$entry" <<<"$listing" || fail "$entry missing from the zip"
done
# Every library the build's binary needs is in lib/ under the name it asks for.
while read -r soname arrow path _; do
  [[ "$arrow" == "=>" && "$path" == /* ]] || continue
  grep -qx "lib/$soname" <<<"$listing" || fail "lib/$soname (ldd: $path) missing from the zip"
done < <(ldd "$build_dir/eaglesense")
unzip -Z "$zip_path" bootstrap | grep -q '^-rwxr-xr-x' || fail "bootstrap is not executable in the zip"

mkdir "$tmp/task"
(cd "$tmp/task" && unzip -q "$zip_path")
version="$(cd / && env -i "$tmp/task/bootstrap" --version)" || fail "env -i bootstrap --version failed"
[[ "$version" == "$("$build_dir/eaglesense" --version)" ]] || fail "bootstrap --version said '$version'"
resolved="$(env -i "$tmp/task/lib/$loader" --library-path "$tmp/task/lib" --list "$tmp/task/bin/eaglesense")"
outside="$(awk '/=>/ && $3 ~ /^\// { print $3 }' <<<"$resolved" | grep -v "^$tmp/task/lib/" || true)"
[[ -z "$outside" ]] || fail "libraries resolved outside the package: $outside"
grep -q "lib/$loader" <<<"$(head -c 2000 "$tmp/task/bootstrap")" || fail "bootstrap does not use the bundled loader"

zip2="$("$ES_REPO_ROOT/scripts/package_lambda.sh" --build-dir "$build_dir" --no-build --out-dir "$tmp/out2" 2>/dev/null | tail -n 1)"
cmp -s "$zip_path" "$zip2" || fail "two packagings of the same binary differ"

echo "ok: $(basename "$zip_path") $(stat -c %s "$zip_path") bytes, $(wc -l <<<"$listing") files; env -i bootstrap --version -> $version"
