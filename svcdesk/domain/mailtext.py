"""What a customer's mail means to the desk: the new text without the quoted earlier mail and
the signature, which ticket a reply names, and whether a reply is a rating."""

import re

# where a reply's quote of earlier mail begins, in the clients Chinese customers use
# (Outlook, Foxmail, QQ Mail, NetEase, Gmail, Apple Mail), English and Chinese; a dash
# line may carry the backslash html2text puts before dashes that would read as a list
_QUOTE_STARTS = re.compile(
    r"^\s*(?:\\?-{2,}\s*(?:Original Message|原始邮件|Forwarded message|转发邮件)\s*\\?-{2,}"
    r"|_{10,}"
    r"|(?:From|发件人|寄件者)\s*[:：].*"
    r"|On .{4,200}wrote:"
    r"|在\s?.{2,200}(?:写道|寫道)\s*[:：]"
    r"|.{2,100}\d{4}[-年/.]\d{1,2}[-月/.]\d{1,2}.{0,40}(?:写道|寫道)\s*[:：])\s*$",
    re.IGNORECASE)
_SIGNATURE = re.compile(r"^(?:-- ?|—— ?|发自我的.{1,20}|Sent from my .{1,30}|"
                        r"获取 Outlook for .{1,20}|Get Outlook for .{1,20})$")
_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|sv|回复|回覆|答复|转发|轉寄)\s*[:：]\s*)+",
                             re.IGNORECASE)
_ULID = re.compile(r"(?:^|[.<])([0-9a-hjkmnp-tv-z]{26})@", re.IGNORECASE)
NOT_FIXED = ("没有解决", "没解决", "未解决", "还是不行", "还不行", "又坏了", "问题依旧",
             "还是有问题", "依然有问题", "仍然有问题", "还是老样子", "not fixed", "not resolved",
             "still not", "still broken", "doesn't work", "does not work", "not working",
             "happened again")  # what a reply to a resolved ticket says when it is not fixed
PROGRESS = ("进度", "查询", "进展", "状态", "status", "progress")  # what asks where a ticket is
_PROGRESS_MOST = 20  # characters a progress query may say besides the ticket number
_RATINGS = {"非常满意": 5, "很满意": 5, "满意": 4, "一般": 3, "不满意": 2, "很不满意": 1,
            "非常不满意": 1, "very satisfied": 5, "satisfied": 4, "neutral": 3,
            "dissatisfied": 2, "very dissatisfied": 1}


def new_text(text: str) -> str:
    """``text`` up to where it quotes earlier mail or signs off: what the sender wrote now."""
    lines = text.split("\n")
    cut = len(lines)
    for i, line in enumerate(lines):
        if _QUOTE_STARTS.match(line) or _SIGNATURE.match(line.rstrip()) or \
                (i and line.lstrip().startswith(">")):  # a quote of earlier mail
            cut = i
            break
    kept = lines[:cut]
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()  # a quote block at the end, "> ..." lines
    return "\n".join(kept).strip()


def plain_subject(subject: str, number: str | None = None) -> str:
    """A subject without Re:/回复:/Fwd: prefixes and without the ticket's [tag]."""
    subject = _SUBJECT_PREFIX.sub("", subject)
    if number:
        subject = subject.replace(f"[{number}]", "")
    return subject.strip()


def named_uids(replies_to) -> list:
    """The ticket uids the Message-IDs a reply answers name (the desk's notices carry
    <hash.uid@domain> and thread on <uid@domain>)."""
    out = []
    for message_id in replies_to:
        match = _ULID.search(message_id)
        if match:
            out.append(match[1].upper())
    return list(dict.fromkeys(out))


def named_numbers(subject: str, prefix: str) -> list:
    """The ticket numbers tagged in a subject: [SD-20261122-0003]."""
    return re.findall(rf"\[({re.escape(prefix)}-\d{{8}}-\d{{4,6}})\]", subject, re.IGNORECASE)


def rating(text: str) -> int | None:
    """A rating of 1 to 5 when that is all a reply says: a digit, stars (★★★★), or words
    such as 满意 or very satisfied."""
    said = new_text(text).strip().strip("。.!！ ").lower()
    if not said or len(said) > 20:
        return None
    if re.fullmatch(r"[1-5](?:\s*(?:分|星|/\s*5|stars?))?", said):
        return int(said[0])
    if re.fullmatch(r"★{1,5}☆*", said):
        return said.count("★")
    return _RATINGS.get(said)


def says_not_fixed(text: str, words=NOT_FIXED) -> bool:
    """Whether the new words of a reply say the problem is not fixed (``words``)."""
    said = new_text(text).casefold()
    return any(w.casefold() in said for w in words)


def mentioned_numbers(text: str, prefix: str) -> list:
    """The ticket numbers written anywhere in ``text`` (SD-20261122-0003), in order."""
    found = re.findall(rf"(?<![A-Za-z0-9]){re.escape(prefix)}-\d{{8}}-\d{{4,6}}(?!\d)", text,
                       re.IGNORECASE)
    return list(dict.fromkeys(n.upper() for n in found))


def asks_progress(text: str, prefix: str, words=PROGRESS, number_given: bool = False) -> bool:
    """Whether a short message asks where its ticket stands: the new words, less any ticket
    number and punctuation, hold one of ``words`` and little else; or (``number_given``)
    they are only the number itself."""
    said = new_text(text)
    said = re.sub(rf"\[?{re.escape(prefix)}-\d{{8}}-\d{{4,6}}\]?", "", said,
                  flags=re.IGNORECASE)
    said = re.sub(r"[\s\W_]+", "", said).casefold()
    if not said:
        return number_given
    return len(said) <= _PROGRESS_MOST and any(w.casefold() in said for w in words)
