#!/usr/bin/env sh
# The README's demo: a sample desk, a list, a ticket, a new request, its trail in git.
set -eu
desk=$(mktemp -d "${TMPDIR:-/tmp}/svcdesk-demo.XXXXXX")
export SVCDESK_AGENT=wang.fang          # act as 王芳, an agent of the sample desk
run() { printf '\n$ %s\n' "$*"; "$@"; }
run svcdesk init "$desk" --sample
cd "$desk"
run svcdesk list --limit 8
first=$(svcdesk list --status all --sort created --asc --format csv | sed -n 2p | cut -d, -f1)
run svcdesk show "$first"
run svcdesk search 卡纸
run svcdesk new --type fault --channel phone --title "打印机卡纸，提示纸盒 2 卡纸" \
    --customer 刘建国 --company 绍兴柯桥纺织印染厂 --phone 13706751234 \
    --product "LP-404 激光打印机" --purchased 2026-05-20 \
    --description "打印到第二三张就卡纸，取出纸后重启仍然卡。"
new=$(svcdesk list --sort created --limit 1 --format csv | sed -n 2p | cut -d, -f1)
run svcdesk comment "$new" -m "已电话联系客户，确认故障现象，先远程排查。"
run svcdesk show "$new"
run svcdesk log "$new"
printf '\nThe demo desk is in %s (a git repository: try git log there).\n' "$desk"
