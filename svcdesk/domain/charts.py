"""Inline SVG charts for the HTML report: plain markup, every label escaped, no script, so a
report opens anywhere (mail, browser, print) without the network."""

from html import escape

FONT = ("-apple-system, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', "
        "'Helvetica Neue', Arial, sans-serif")
COLOURS = ("#2f6fb0", "#e08a2c", "#3a9d5d", "#c0392b")


def _svg(width: int, height: int, body: list, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="100%" role="img" aria-label="{escape(title)}" '
            f'font-family="{escape(FONT)}" font-size="11">'
            f'<title>{escape(title)}</title>' + "".join(body) + "</svg>")


def columns(title: str, labels: list, series: dict, height: int = 180) -> str:
    """Grouped vertical bars: one group per label, one bar per series, with a legend."""
    width = max(320, 40 + len(labels) * (12 * len(series) + 10))
    top = max([v for values in series.values() for v in values] + [1])
    plot_h, base = height - 64, height - 30  # room for the legend and value labels above
    step = (width - 40) / max(len(labels), 1)
    bar = min(18.0, (step - 6) / max(len(series), 1))
    body = [f'<line x1="30" y1="{base}" x2="{width - 5}" y2="{base}" stroke="#999"/>']
    for i, label in enumerate(labels):
        x0 = 34 + i * step
        for j, (name, values) in enumerate(series.items()):
            value = values[i]
            h = plot_h * value / top
            x = x0 + j * bar
            body.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar - 1:.1f}" '
                        f'height="{h:.1f}" fill="{COLOURS[j % len(COLOURS)]}">'
                        f'<title>{escape(str(label))} {escape(name)}: {value}</title></rect>')
            if value:
                body.append(f'<text x="{x + bar / 2:.1f}" y="{base - h - 2:.1f}" '
                            f'text-anchor="middle" font-size="9">{value}</text>')
        body.append(f'<text x="{x0 + bar * len(series) / 2:.1f}" y="{base + 13}" '
                    f'text-anchor="middle">{escape(str(label))}</text>')
    for j, name in enumerate(series):
        body.append(f'<rect x="{34 + j * 90}" y="4" width="10" height="10" '
                    f'fill="{COLOURS[j % len(COLOURS)]}"/><text x="{48 + j * 90}" y="13">'
                    f'{escape(name)}</text>')
    return _svg(int(width), height, body, title)


def shares(title: str, items: list, height_per: int = 22) -> str:
    """Horizontal bars of percentages (None shows as no data)."""
    width, label_w = 420, 120
    height = 10 + height_per * max(len(items), 1)
    body = []
    for i, (label, pct) in enumerate(items):
        y = 6 + i * height_per
        body.append(f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end">'
                    f'{escape(str(label))}</text>')
        body.append(f'<rect x="{label_w}" y="{y}" width="{width - label_w - 50}" height="15" '
                    f'fill="#eee"/>')
        if pct is None:
            body.append(f'<text x="{label_w + 4}" y="{y + 12}" fill="#888">—</text>')
            continue
        w = (width - label_w - 50) * pct / 100
        colour = COLOURS[2] if pct >= 90 else COLOURS[1] if pct >= 70 else COLOURS[3]
        body.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="15" '
                    f'fill="{colour}"/><text x="{width - 45}" y="{y + 12}">{pct:g}%</text>')
    return _svg(width, height, body, title)


def review_charts(data: dict, zh: bool) -> dict:
    """The HTML review's inline SVG charts from its figures, labelled in Chinese or English."""
    created, resolved = ("新建", "解决") if zh else ("created", "resolved")
    days = data["per_day"]
    labels = [d["day"][5:] for d in days]
    first, fix = data["first_response"]["working"], data["resolution"]["working"]
    return {
        "volume": columns("每日工单量" if zh else "Tickets per day", labels,
                          {created: [d["created"] for d in days],
                           resolved: [d["resolved"] for d in days]}),
        "times": columns(
            "时效分布（工作时间）" if zh else "How long (working time)", list(fix["buckets"]),
            {("首次响应" if zh else "first response"): list(first["buckets"].values()),
             ("解决" if zh else "resolution"): list(fix["buckets"].values())}),
        "sla": shares("各组解决按时率" if zh else "Resolved within SLA by team",
                      [(t["name"], t["sla_met_pct"]) for t in data["by_team"]]),
        "backlog": columns("积压账龄" if zh else "Backlog age", list(data["backlog"]["ages"]),
                           {("积压" if zh else "open"): list(data["backlog"]["ages"].values())}),
    }
