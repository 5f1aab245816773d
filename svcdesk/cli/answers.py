"""Faster, consistent answers: ticket templates, canned replies, similar past tickets and
the knowledge base."""

import click

from svcdesk.cli.output import as_json, clip, echo, style, table
from svcdesk.cli.params import TICKET_ID

pass_state = click.pass_obj
_FORMAT = click.option("--format", "fmt", type=click.Choice(("table", "json")),
                       default="table", show_default=True,
                       help="table for people; json for scripts.")


@click.command()
@_FORMAT
@pass_state
def templates(state, fmt):
    """The ticket templates (模板库) `new --template NAME` starts from: templates/tickets/
    NAME.yaml in the desk, over the ones svcdesk ships."""
    from svcdesk.app import intake

    desk = state.desk()
    found = intake.presets(desk)
    if fmt == "json":
        echo(as_json([{"name": p.name, "label": p.label, "label_en": p.label_en,
                       "fields": p.fields, "title": p.title, "description": p.description,
                       "ask": list(p.ask)} for p in found]))
        return
    if not found:
        echo("No ticket templates (templates/tickets/NAME.yaml).")
        return
    rules = desk.rules
    rows = [[p.name, p.label_in(rules.language),
             rules.label("types", p.fields["type"]) if p.fields.get("type") else "",
             p.fields.get("category") or "", ", ".join(p.ask)] for p in found]
    echo(table(rows, ["name", "label", "type", "category", "asks"]))


@click.command()
@click.option("--ticket", type=TICKET_ID, help="Preview each reply rendered for this ticket.")
@_FORMAT
@pass_state
def replies(state, ticket, fmt):
    """The canned replies (常用回复) `comment --reply NAME` and `resolve --reply NAME` send:
    templates/replies/NAME.j2, rendered with the ticket."""
    from svcdesk.app import replies as canned

    desk = state.desk()
    found = canned.listing(desk, desk.load(ticket) if ticket else None)
    if fmt == "json":
        echo(as_json([r._asdict() for r in found]))
        return
    if not found:
        echo("No canned replies (templates/replies/NAME.j2).")
        return
    echo(table([[r.name, clip(r.label, 30), clip(r.preview, 50)] for r in found],
               ["name", "for", "preview"]))



def similar_lines(desk, found, width: int = 60) -> list:
    """The lines `similar`, `show --similar` and `new` print for what similar() found."""
    from svcdesk.app.knowledge import took_text

    rules = desk.rules
    zh = rules.language != "en"
    lines = []
    if found.tickets:
        lines.append(style("相似的已解决工单" if zh else "Similar solved tickets", bold=True))
    for hit in found.tickets:
        lines.append(f"  {style(hit.number, bold=True)}  {clip(hit.title, 36)}  "
                     + style(("用时 " if zh else "took ")
                             + took_text(hit.took_minutes, rules.language), dim=True))
        if hit.resolution:
            first = " ".join(hit.resolution.split())
            lines.append("      " + ("处理：" if zh else "fix: ") + clip(first, width))
    if found.articles:
        lines.append(style("知识库" if zh else "Knowledge base", bold=True))
        for article, _ in found.articles:
            lines.append(f"  {style(article.name, bold=True)}  {clip(article.title, 50)}")
    return lines


@click.command()
@click.argument("what", nargs=-1, required=True)
@click.option("-n", "--limit", type=click.IntRange(1, 50), default=5, show_default=True,
              help="How many tickets to show.")
@_FORMAT
@pass_state
def similar(state, what, limit, fmt):
    """Resolved tickets most like a ticket (its number) or a description of a problem,
    with how each was solved and how long it took, and the knowledge-base articles.

    \b
    Examples:
      svcdesk similar 20261205-3
      svcdesk similar 打印机卡纸 定影器附近
    """
    from svcdesk.app import knowledge

    desk = state.desk()
    found = knowledge.similar(desk, " ".join(what), limit)
    if fmt == "json":
        echo(as_json({"about": found.about, "words": found.words,
                      "tickets": [{"id": h.number, "title": h.title, "score": round(h.score, 3),
                                   "resolution": h.resolution,
                                   "took_minutes": h.took_minutes and round(h.took_minutes)}
                                  for h in found.tickets],
                      "articles": [{"name": a.name, "title": a.title, "score": round(s, 3)}
                                   for a, s in found.articles]}))
        return
    lines = similar_lines(desk, found)
    echo("\n".join(lines) if lines else ("没有相似的已解决工单" if desk.rules.language != "en"
                                         else "No similar solved tickets."))


@click.group()
def kb():
    """The knowledge base (知识库): Markdown articles in kb/ with a front matter (title,
    products, categories, tags), tracked in git like the tickets."""


@kb.command("list")
@_FORMAT
@pass_state
def kb_list(state, fmt):
    """Every article."""
    from svcdesk.app import knowledge

    found = knowledge.articles(state.desk())
    if fmt == "json":
        echo(as_json([_article_json(a) for a in found]))
        return
    if not found:
        echo("No articles yet (svcdesk kb new --from ID drafts one from a resolved ticket).")
        return
    echo(table([[a.name, clip(a.title, 40), ", ".join(a.products), ", ".join(a.tags)]
                for a in found], ["name", "title", "products", "tags"]))


@kb.command("show")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True, help="text for people; json for scripts.")
@pass_state
def kb_show(state, name, fmt):
    """One article."""
    from svcdesk.app import knowledge

    found = knowledge.article(state.desk(), name)
    if fmt == "json":
        echo(as_json({**_article_json(found), "body": found.body}))
        return
    echo(style(found.title, bold=True))
    meta = [", ".join(x) for x in (found.products, found.categories, found.tags) if x]
    if meta:
        echo(style(" · ".join(meta), dim=True))
    echo("")
    echo(found.body.rstrip())


@kb.command("search")
@click.argument("text", nargs=-1, required=True)
@click.option("-n", "--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@_FORMAT
@pass_state
def kb_search(state, text, limit, fmt):
    """Articles whose words are closest to TEXT, best first."""
    from svcdesk.app import knowledge

    found = knowledge.search_articles(state.desk(), " ".join(text), limit)
    if fmt == "json":
        echo(as_json([{**_article_json(a), "score": round(s, 3)} for a, s in found]))
        return
    if not found:
        echo("No article matches.")
        return
    echo(table([[a.name, clip(a.title, 50), f"{s:.1f}"] for a, s in found],
               ["name", "title", "score"]))


@kb.command("new")
@click.option("--title", help="The article's title.")
@click.option("--from", "from_ticket", type=TICKET_ID,
              help="Draft it from a resolved ticket: its problem, resolution and number.")
@click.option("--name", help="The file name, kb/NAME.md (default: from the title).")
@click.option("-m", "--message", "body", help="The article's text (Markdown).")
@click.option("--product", "products", multiple=True, help="A product it is about.")
@click.option("--category", "categories", multiple=True, help="A problem category.")
@click.option("--tag", "tags", multiple=True, help="A tag.")
@click.option("--edit", is_flag=True, help="Write it in $EDITOR before it is committed.")
@pass_state
def kb_new(state, title, from_ticket, name, body, products, categories, tags, edit):
    """Write an article and commit it (kb/NAME.md).

    \b
    Examples:
      svcdesk kb new --from 20261205-3                 # drafted from a resolved ticket
      svcdesk kb new --title "LP-404 卡纸的处理" --product "LP-404 激光打印机" -m "..."
    """
    from svcdesk.app import knowledge

    desk = state.desk()
    if edit:
        draft = body or ""
        if from_ticket is not None and not body:
            found = desk.load(from_ticket)
            from svcdesk.app.knowledge import draft_body

            draft = draft_body(found)
        body = click.edit(draft, extension=".md")
        if body is None:
            from svcdesk.base.errors import UsageError

            raise UsageError("the article was not saved; nothing was written")
    made, relpath = knowledge.new_article(desk, title, name, body, products, categories, tags,
                                          from_ticket)
    echo(f"{relpath}: written and committed")


def _article_json(a) -> dict:
    return {"name": a.name, "title": a.title, "products": list(a.products),
            "categories": list(a.categories), "tags": list(a.tags)}


COMMANDS = (templates, replies, similar, kb)
