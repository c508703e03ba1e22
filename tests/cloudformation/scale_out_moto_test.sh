#!/usr/bin/env bash
# Runs scale_out_moto_test.py (the scale-out stack on moto's CloudFormation, its state machine on moto's
# Step Functions interpreter, in process) with the machine image's Python that has moto: the one
# moto_server runs on (es_find_tool, as for the local servers and cfn-lint).
set -euo pipefail
# shellcheck source=../../scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

moto_server="$(es_find_tool moto_server)" ||
  es_die "moto_server not found on PATH or under \$HOME/.pyenv/versions/*/bin: it ships with the machine" \
    "image's Python (pip package moto[server]); the scale-out test runs on that Python's moto"
read -r shebang <"$moto_server"
python="${shebang#\#!}"
python="${python%% *}"
[[ "$shebang" == \#!* && -x "$python" ]] ||
  es_die "cannot tell moto's Python from $moto_server (first line: $shebang)"
exec "$python" "$ES_REPO_ROOT/tests/cloudformation/scale_out_moto_test.py"
