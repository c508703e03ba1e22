#!/usr/bin/env bash
# cfn-lint (from the machine image's Python: es_find_tool) on every template of cloudformation/, then
# on the scale-out state machine with its definition rendered: cfn-lint validates a Step Functions
# definition (E3601) only in a plain DefinitionString, and the template's is under Fn::Sub.
# Argument: the Python with PyYAML that renders it (default /usr/bin/python3).
# Passes only with no error and no warning; a warning that cannot be fixed is ignored in the
# template itself (resource Metadata cfn-lint ignore_checks) next to a comment saying why.
set -euo pipefail
# shellcheck source=../../scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

cfn_lint="$(es_find_tool cfn-lint)" ||
  es_die "cfn-lint not found on PATH or under \$HOME/.pyenv/versions/*/bin: it ships with the machine" \
    "image's Python (pip package cfn-lint); the templates cannot be checked without it"
mapfile -t templates < <(find "$ES_REPO_ROOT/cloudformation" -maxdepth 1 -name '*.yaml' | sort)
[[ ${#templates[@]} -gt 0 ]] || es_die "no templates in $ES_REPO_ROOT/cloudformation"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rendered="$tmp/state-machine-rendered.json"
"${1:-/usr/bin/python3}" "$ES_REPO_ROOT/tests/cloudformation/cfn_template.py" \
  render-state-machine "$rendered" || es_die "could not render the state machine's definition"

echo "$("$cfn_lint" --version) on: ${templates[*]#"$ES_REPO_ROOT/"} + the rendered state machine definition"
rc=0
"$cfn_lint" --format parseable -- "${templates[@]}" "$rendered" || rc=$?
# Exit status is a bit mask: 2 errors, 4 warnings, 8 informational (allowed), 1 a crash.
if ((rc & ~8)); then
  es_die "cfn-lint reported errors or warnings (exit $rc)"
fi
echo "ok: no errors, no warnings"
