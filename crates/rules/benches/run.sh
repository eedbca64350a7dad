#!/usr/bin/env bash
# Runs the rule-language benchmarks in Rust (criterion) and in the reference (rule-engine 4.5.3)
# on the same machine, one after the other, and prints a Markdown table with the ratio.
#
#   crates/rules/benches/run.sh            # from the workspace root
#
# Environment: CARGO_TARGET_DIR is honoured; STEWARD_RULES_PYENV overrides the venv
# (default target/pyenv-rules, created by the differential test or here).
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
venv="${STEWARD_RULES_PYENV:-$root/target/pyenv-rules}"
if ! "$venv/bin/python" -c 'import rule_engine, sys; sys.exit(rule_engine.__version__ != "4.5.3")' 2>/dev/null; then
  python3 -m venv --clear "$venv"
  "$venv/bin/python" -m pip install --quiet "rule-engine==4.5.3"
fi

rust_out="$(mktemp)"
py_out="$(mktemp)"
trap 'rm -f "$rust_out" "$py_out"' EXIT

cargo bench -p steward-rules --bench rules -- \
  --warm-up-time 1 --measurement-time 3 --output-format bencher | tee "$rust_out" >&2
"$venv/bin/python" crates/rules/benches/reference_bench.py | tee "$py_out" >&2

echo
echo "| benchmark | steward (ns) | rule-engine 4.5.3 (ns) | ratio |"
echo "|---|---:|---:|---:|"
while read -r name py_ns; do
  rust_ns="$(awk -v n="$name" '$1 == "test" && $2 == n { gsub(",", "", $5); print $5 }' "$rust_out")"
  if [ -z "$rust_ns" ]; then rust_ns="?"; ratio="?"; else
    ratio="$(awk -v p="$py_ns" -v r="$rust_ns" 'BEGIN { printf "%.0fx", p / r }')"
  fi
  echo "| $name | $rust_ns | $py_ns | $ratio |"
done < "$py_out"
