"""Knowledge base articles (知识库): ``kb/NAME.md``, Markdown under a YAML front matter
(title, products, categories, tags), and what a resolved ticket drafts."""

import re
from dataclasses import dataclass

KEYS = ("title", "products", "categories", "tags")
LISTS = ("products", "categories", "tags")
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_ARTICLES = 5000  # articles read by one command
MAX_BYTES = 256 * 1024  # one article


class ArticleError(ValueError):
    """What is wrong with an article: ``path`` of front-matter keys, or ``line`` of the file."""

    def __init__(self, message: str, path: tuple = (), line: int | None = None):
        super().__init__(message)
        self.message, self.path, self.line = message, path, line


@dataclass(frozen=True)
class Article:
    name: str
    title: str
    products: tuple
    categories: tuple
    tags: tuple
    body: str

    def meta_text(self) -> str:
        return " ".join((*self.products, *self.categories, *self.tags))


def split(text: str) -> tuple:
    """(front matter text, body) of an article; the front matter starts on line 2."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise ArticleError("an article starts with front matter: a line ---, then title: "
                           "and the rest, then ---", line=1)
    for i, line in enumerate(lines[1:], 1):
        if line.strip() == "---":
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1:]).strip() + "\n"
    raise ArticleError("the front matter has no closing --- line", line=1)


def article(name: str, meta, body: str) -> Article:
    """An article from its parsed front matter ``meta`` and ``body``; ArticleError naming
    the key that is wrong."""
    if not isinstance(meta, dict):
        raise ArticleError("the front matter is not a mapping of keys (title:, products:...)")
    for key in meta:
        if key not in KEYS:
            raise ArticleError(f"unknown key {key!r}; an article has " + ", ".join(KEYS),
                               (key,))
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ArticleError("title: is missing", ("title",) if "title" in meta else ())
    lists = {}
    for key in LISTS:
        value = meta.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ArticleError(f"{key}: expected a list of names", (key,))
        lists[key] = tuple(v.strip() for v in value if v.strip())
    return Article(name, title.strip(), lists["products"], lists["categories"],
                   lists["tags"], body)


def draft(fields: dict, number: str) -> tuple:
    """(front matter, body) an article drafted from a resolved ticket starts with."""
    product = (fields.get("product") or {}).get("model")
    meta = {"title": fields.get("title") or number,
            "products": [product] if product else [],
            "categories": [fields["category"]] if fields.get("category") else [],
            "tags": list(fields.get("tags") or [])}
    body = (f"## 现象 Symptoms\n\n{(fields.get('description') or '').strip()}\n\n"
            f"## 处理 Resolution\n\n{(fields.get('resolution') or '').strip()}\n\n"
            f"## 参考工单 Tickets\n\n- {number}\n")
    return meta, body


def slug(title: str, taken) -> str:
    """A file name for an article titled ``title``: its ASCII words, else kb-N."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    base = "-".join(words)[:48].strip("-")
    if base and base not in taken:
        return base
    n = 1
    while f"{base or 'kb'}-{n}" in taken:
        n += 1
    return f"{base or 'kb'}-{n}"
