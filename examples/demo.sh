#!/usr/bin/env bash
# The demo `make demo` runs: scan the example CloudTrail data, alert, record, query and report.
set -euo pipefail
cd "$(dirname "$0")/.."
SGWATCH=${SGWATCH:-.venv/bin/sgwatch}
mkdir -p out
rm -f out/demo-audit.sqlite

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }

step "Every security-group change in a day of CloudTrail (examples/), judged with examples/policy.yaml" \
  sgwatch scan examples/ --policy examples/policy.yaml --format table
"$SGWATCH" scan examples/ --policy examples/policy.yaml --format table

step "Deliver critical alerts (console channel) and record everything in the audit trail" \
  sgwatch scan examples/ --config examples/config.yaml --notify
"$SGWATCH" scan examples/ --config examples/config.yaml --notify --format jsonl > out/demo-changes.jsonl

step "Replaying the same data records and sends nothing twice" \
  sgwatch scan examples/ --config examples/config.yaml --notify
"$SGWATCH" scan examples/ --config examples/config.yaml --notify --format jsonl > /dev/null

step "Who opened port 22 to the world?" \
  sgwatch history --db out/demo-audit.sqlite --port 22 --world --action added --since 2026-01-01
"$SGWATCH" history --db out/demo-audit.sqlite --port 22 --world --action added --since 2026-01-01

step "An HTML compliance report of the period" \
  sgwatch report --db out/demo-audit.sqlite --since 2026-03-01 --out out/report.html
"$SGWATCH" report --db out/demo-audit.sqlite --since 2026-03-01 --out out/report.html

printf '\nJSON lines: out/demo-changes.jsonl   audit trail: out/demo-audit.sqlite   report: out/report.html\n'
