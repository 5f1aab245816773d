#!/usr/bin/env sh
# The README's demo: a sample desk, a list, a ticket, a new request from a returning
# customer made from a template, classified and assigned by the rules with its promised
# times, the similar solved tickets, a canned reply, the customer's second email merged as
# a duplicate, an on-site visit with a spare part used from stock, worked to the
# customer's rating, the cron job that keeps the promises, the notices it queued, and its
# trail in git.
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
run svcdesk rules test "空调不制冷，机房温度已经升到 30 度，全公司的服务器都要停了"
run svcdesk templates                   # the ticket templates (模板库)
run svcdesk new --template printer-jam --channel phone --title "打印机卡纸，提示纸盒 2 卡纸" \
    --serial LP4-2026-0815 --set frequency=often \
    --customer 刘建国 --company 绍兴柯桥纺织印染厂 --phone 13706751234 \
    --product "LP-404 激光打印机" --purchased "$(date +%Y)-01-01" --set customer.region=绍兴 \
    --email liu.jianguo@example.cn --description "打印到第二三张就卡纸，取出纸后重启仍然卡。" --explain
new=$(svcdesk list --sort created --limit 1 --format csv | sed -n 2p | cut -d, -f1)
owner=$(svcdesk show "$new" --format json | sed -n 's/^  "assignee": "\(.*\)",*$/\1/p')
customer=$(svcdesk show "$new" --format json | sed -n 's/^    "id": "\(C.*\)",*$/\1/p')
run svcdesk customer show "$customer"   # recognised by the phone: tier, region, history
run svcdesk similar "$new"              # how the same problem was solved before, and the KB
run svcdesk replies
run svcdesk --as "$owner" comment "$new" --reply printer-jam
run svcdesk agents
run svcdesk sla explain "$new"
run svcdesk sla check --dry-run
run svcdesk sla check
run svcdesk --as "$owner" start "$new" -m "已电话联系客户，确认故障现象，先远程排查。"
run svcdesk --as "$owner" wait "$new" -m "请提供卡纸位置的照片。"
run svcdesk --as "$owner" resume "$new" -m "客户已发来照片：搓纸轮磨损。"
run svcdesk --as "$owner" visit "$new" --at "明天 10:00" -m "请将卡纸的纸盒 2 留在机器上"
run svcdesk visits --week tomorrow     # the engineers' visit calendar (上门日程)
run svcdesk --as "$owner" depart "$new"   # the customer is told the engineer set off
run svcdesk --as "$owner" arrive "$new"
run svcdesk --as "$owner" parts use "$new" RL1-1442 -m "搓纸轮磨损"
run svcdesk --as "$owner" leave "$new" -m "已更换搓纸轮，试打 50 页正常"
run svcdesk parts stock
again=$(svcdesk new --channel email --title "打印机又卡纸了" --customer 刘建国 \
    --phone 13706751234 --product "LP-404 激光打印机" --purchased "$(date +%Y)-01-01" \
    --description "还是纸盒 2 卡纸，麻烦尽快处理。" -q)   # the customer's second email
run svcdesk merge "$again" --into "$new"
run svcdesk --as "$owner" resolve "$new" -m "上门更换搓纸轮，连续打印 50 页无卡纸。"
run svcdesk kb new --from "$new" --name lp404-tray2-jam
run svcdesk close "$new" --csat 5 --feedback "工程师很专业"
run svcdesk show "$new"
run svcdesk notify list
run svcdesk notify send
run svcdesk log "$new"
run svcdesk report weekly --week last
printf '\nThe demo desk is in %s (a git repository: try git log there).\n' "$desk"
