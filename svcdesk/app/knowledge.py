"""How a problem was solved before: similar resolved tickets, and the knowledge base
(``kb/*.md``), both ranked by their words (domain.words), not by substrings."""

from typing import NamedTuple

from svcdesk.adapters import store
from svcdesk.adapters.change import trailers_for
from svcdesk.adapters.index import rank_words
from svcdesk.base.errors import TicketNotFoundError, UsageError, ValidationError
from svcdesk.base.identity import parse_ref
from svcdesk.domain import kb, links
from svcdesk.domain.words import words as plain_words

KB = "kb"
SHOWN = 3  # similar tickets `new` and `show --similar` show
ARTICLE_SHARE = 0.5  # an article is suggested with at least this share of the best's score
MAX_TEXT = 20_000  # characters of a free-text question read for its words


def vocabulary(extra: tuple) -> str:
    """What decides how words are cut: the segmenter's version and the words it was given."""
    import hashlib

    from svcdesk.domain import words as segmenter

    text = repr((segmenter.VERSION, sorted(segmenter.VOCABULARY), sorted(extra)))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def words(text: str, extra: tuple = ()) -> list:
    """Words for ranking: the search cut, long words with the words inside them."""
    return plain_words(text, extra, search=True)


class Similar(NamedTuple):
    """A resolved ticket like the one asked about."""

    number: str
    title: str
    score: float  # BM25 of the shared words: higher is closer
    resolution: str | None
    took_minutes: float | None  # from creation to resolution, calendar time
    fields: dict


class Found(NamedTuple):
    """What `similar` answers: the question's words, the tickets, the articles."""

    about: str | None  # the ticket asked about, when one was
    words: list
    tickets: list  # Similar
    articles: list  # (Article, score)


def similar(desk, what: str, limit: int = SHOWN, articles: int = 2) -> Found:
    """Resolved tickets closest to ``what``: a ticket's number (its title, description,
    product and category) or free text; the ticket itself, its duplicates and merged
    tickets left out. With the knowledge-base articles closest to it."""
    ticket = _ticket(desk, what)
    extra = desk.rules.words
    if ticket is not None:
        f = ticket.fields
        product = (f.get("product") or {}).get("model")
        query = {"title": words(f.get("title") or "", extra),
                 "body": words(f.get("description") or "", extra),
                 "meta": words(" ".join(x for x in (product, f.get("category")) if x), extra)}
        skip = {f["uid"], *links.links_of(f).get("duplicates", ()),
                *links.links_of(f).get("duplicate_of", ())}
    else:
        text = what.strip()
        if not text:
            raise UsageError("similar to what? give a ticket's number or some text")
        query = {"title": words(text[:MAX_TEXT], extra)}
        skip = set()
    asked = list(dict.fromkeys(w for column in query.values() for w in column))
    done = _done_statuses(desk.rules)
    out = []
    for fields, created, resolved, score in desk.index.similar(
            lambda text: words(text, extra), query, done, limit + len(skip) + 8,
            vocabulary(extra)):
        if fields.get("uid") in skip or links.merged_into(fields):
            continue
        took = (resolved - created) / 60 if resolved and created else None
        out.append(Similar(fields["id"], fields.get("title") or "", score,
                           fields.get("resolution"), took, fields))
        if len(out) == limit:
            break
    found = rank_articles(desk, query, articles) if articles else []
    if found:  # an article far weaker than the best is not about this problem
        found = [(a, score) for a, score in found if score >= found[0][1] * ARTICLE_SHARE]
    return Found(ticket.number if ticket else None, asked, out, found)


def _ticket(desk, what: str):
    """The ticket ``what`` names, or None when it is text rather than a number."""
    try:
        ref = parse_ref(what.strip())
    except ValueError:
        return None
    try:
        return desk.load(ref)
    except TicketNotFoundError:
        if ref.is_full:
            raise
        return None  # a short form that names no ticket ("404") is text after all


def _done_statuses(rules) -> tuple:
    """Statuses of a ticket whose problem was solved: where resolve leads, and the closed."""
    rule = rules.transitions.get("resolve")
    done = [rule.target] if rule is not None and rule.target else []
    return tuple(dict.fromkeys(done + [k for k, s in rules.statuses.items() if not s.open]))


# ---- the knowledge base -------------------------------------------------------------------

def articles(desk) -> list:
    """Every article of kb/, by name; an article that cannot be read is a ValidationError
    naming its file and line (`kb list` shows the desk's knowledge as it stands)."""
    folder = desk.root / KB
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.md"))
    if len(paths) > kb.MAX_ARTICLES:
        raise ValidationError(f"kb/ has {len(paths):,} articles; at most "
                              f"{kb.MAX_ARTICLES:,} are read")
    return [_read(path) for path in paths]


def article(desk, name: str) -> kb.Article:
    """The article ``name`` (kb/NAME.md)."""
    if not kb.NAME.fullmatch(name):
        raise UsageError(f"{name!r} is not an article name (kb/NAME.md: lower-case letters, "
                         "digits, - and _)")
    path = desk.root / KB / f"{name}.md"
    if not path.is_file():
        raise ValidationError(f"kb/{name}.md: no such article (`svcdesk kb list`)")
    return _read(path)


def _read(path) -> kb.Article:
    shown = f"{KB}/{path.name}"
    if path.stat().st_size > kb.MAX_BYTES:
        raise ValidationError(f"{shown}: larger than {kb.MAX_BYTES // 1024} KiB")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(f"{shown}: not UTF-8 text") from None
    try:
        head, body = kb.split(text)
        meta = store.read_yaml_file(head, shown, first_line=2)  # after the opening ---
        return kb.article(path.stem, {} if meta is None else meta, body)
    except kb.ArticleError as exc:
        line = exc.line or ((store.line_of(head, exc.path) or 0) + 1 if exc.path else 2)
        raise ValidationError(f"{shown}:{line}: {exc.message}") from None


def rank_articles(desk, query: dict, limit: int = 5) -> list:
    """[(Article, score)] closest to ``query`` ({title, body, meta: words})."""
    extra = desk.rules.words
    found = articles(desk)
    documents = [(a, {"title": words(a.title, extra), "body": words(a.body, extra),
                      "meta": words(a.meta_text(), extra)}) for a in found]
    return rank_words(documents, query, limit)


def search_articles(desk, text: str, limit: int = 10) -> list:
    """[(Article, score)] whose words are closest to ``text``."""
    if not text.strip():
        raise UsageError("search the knowledge base for what? give some text")
    query = words(text[:MAX_TEXT], desk.rules.words)
    return rank_articles(desk, {"title": query, "body": query, "meta": query}, limit)


def new_article(desk, title: str | None = None, name: str | None = None, body: str | None = None,
                products=(), categories=(), tags=(), from_ticket=None) -> tuple:
    """Write kb/NAME.md and commit it; (name, path). ``from_ticket`` (a ref): drafted from
    that resolved ticket, what else is given winning."""
    meta, drafted = {"title": None, "products": [], "categories": [], "tags": []}, None
    if from_ticket is not None:
        ticket = desk.load(from_ticket)
        if not ticket.fields.get("resolution"):
            raise ValidationError(f"{ticket.number} has no resolution yet; an article is "
                                  "drafted from a resolved ticket")
        meta, drafted = kb.draft(ticket.fields, ticket.number)
    meta["title"] = (title or "").strip() or meta["title"]
    if not meta["title"]:
        raise UsageError("an article needs a title (--title TEXT) or a ticket (--from ID)")
    for key, given in (("products", products), ("categories", categories), ("tags", tags)):
        if given:
            meta[key] = list(given)
    text = (body or "").strip() + "\n" if body and body.strip() else (drafted or "\n")
    taken = {p.stem for p in (desk.root / KB).glob("*.md")} if (desk.root / KB).is_dir() \
        else set()
    if name is None:
        name = kb.slug(meta["title"], taken)
    elif not kb.NAME.fullmatch(name):
        raise UsageError(f"--name {name!r}: lower-case letters, digits, - and _")
    elif name in taken:
        raise ValidationError(f"kb/{name}.md already exists")
    meta = {k: v for k, v in meta.items() if v}
    data = article_bytes(meta, text)
    kb.article(name, meta, text)  # what it writes, it can read back
    relpath = f"{KB}/{name}.md"
    actor, now = desk.actor(), desk.now()
    with desk.change() as change:
        change.write(relpath, data)
        change.commit(f"kb: {name}: {meta['title'][:60]}", "",
                      trailers_for(None, "kb-new"), actor.identity, now)
    return name, relpath


def article_bytes(meta: dict, body: str) -> bytes:
    """An article's file: the front matter, then the body."""
    return ("---\n" + store.dump_yaml(meta) + "---\n\n" + body).encode("utf-8")


def draft_body(ticket) -> str:
    """The text an article drafted from ``ticket`` starts with (for an editor)."""
    return kb.draft(ticket.fields, ticket.number)[1]


def took_text(minutes: float | None, language: str) -> str:
    """How long a ticket took, as people say it: 3天4小时 / 3d 4h, or 2小时10分."""
    if minutes is None:
        return "—"
    from svcdesk.domain.worktime import duration_text

    days, rest = divmod(int(minutes), 1440)
    if not days:
        return duration_text(minutes, language)
    hours = rest // 60
    return (f"{days}天{hours}小时" if hours else f"{days}天") if language == "zh" else \
        (f"{days}d {hours}h" if hours else f"{days}d")

