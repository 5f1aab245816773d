"""Classification: ordered rules that read a request and decide its type, team, priority...

A rule's conditions test words and a regular expression on the title and description, and
field values; its actions set fields and add tags. The first rule that matches decides and
ends the run, unless it says ``continue``. A field a person set is never overridden, and the
first rule to set a field keeps it. Priority then follows from impact x urgency (or a rule,
or the type), raised by the customer's tier.
"""

import copy
import fnmatch
import re
from dataclasses import dataclass, field
from functools import cache
from typing import NamedTuple

from svcdesk.base import fields as F
from svcdesk.base.errors import RulesError
from svcdesk.base.model import get_path, set_path

# English words match whole words, with these endings: jam finds "jams", "jammed".
_ENDINGS = r"(?:s|es|ed|d|ing|med|ming)?"


@dataclass(frozen=True)
class Words:
    """Keywords (case ignored): Chinese match as substrings, English as whole words.

    An English word's pattern is compiled only once the text holds the word as a substring:
    most keywords do not occur in a given request, and each pattern costs ~0.4 ms to compile.
    """

    words: tuple = ()
    _patterns: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, words) -> "Words":
        """Keywords ``words``."""
        return cls(tuple(words))

    def compile(self) -> None:
        """Compile every word's pattern now (the server does, so that its workers find the
        patterns of the words a request holds already compiled)."""
        for word in self.words:
            if _whole_word(word):
                self._pattern(word)

    def found(self, text: str) -> list:
        """The words that occur in ``text`` (already case folded)."""
        return [w for w in self.words if self._occurs(w, text)]

    def _occurs(self, word: str, text: str) -> bool:
        if word.casefold() not in text:  # a whole word is a substring too: no regex needed
            return False
        return not _whole_word(word) or self._pattern(word).search(text) is not None

    def _pattern(self, word: str) -> re.Pattern:
        pattern = self._patterns.get(word)
        if pattern is None:
            pattern = self._patterns[word] = _word_pattern(word)
        return pattern


def _whole_word(word: str) -> bool:
    """Whether ``word`` must match as a whole word (it begins or ends with a letter or digit
    of the ASCII range), not just as a substring."""
    return (word[:1].isascii() and word[:1].isalnum()
            or word[-1:].isascii() and word[-1:].isalnum())


def _word_pattern(word: str) -> re.Pattern:
    core = re.escape(word.casefold())
    head = r"(?<![0-9a-z])" if word[:1].isascii() and word[:1].isalnum() else ""
    if word[-1:].isascii() and word[-1:].isalpha():
        tail = _ENDINGS + r"(?![0-9a-z])"
    else:
        tail = r"(?![0-9])" if word[-1:].isascii() and word[-1:].isdigit() else ""
    return re.compile(head + core + tail)


class FieldTest(NamedTuple):
    """A field condition: the field's value is one of ``allowed`` (None: not set)."""

    path: str
    allowed: tuple
    globs: tuple = ()

    def holds(self, values: dict) -> bool:
        """Whether the ticket's value passes."""
        value = get_path(values, self.path)
        candidates = value if isinstance(value, list) else [value]
        if not candidates:
            candidates = [None]
        for item in candidates:
            if item in self.allowed:
                return True
            if isinstance(item, str) and any(fnmatch.fnmatchcase(item.casefold(), g)
                                             for g in self.globs):
                return True
        return False

    def describe(self) -> str:
        """The condition as a person would write it."""
        shown = [("~" if a is None else F.dump(a)) for a in self.allowed] + list(self.globs)
        return f"{self.path} is {' or '.join(map(str, shown))}"


@dataclass(frozen=True)
class Rule:
    """One classification rule, validated and compiled."""

    name: str
    position: int
    keywords: Words = field(default_factory=Words)
    all_keywords: Words = field(default_factory=Words)
    not_keywords: Words = field(default_factory=Words)
    regex: str | None = None  # checked by compile_regex; matched by RE2, in linear time
    where: str = "text"
    tests: tuple = ()  # FieldTest
    sets: dict = field(default_factory=dict)  # dotted path -> typed value
    tags: tuple = ()
    then: int | None = None  # position of the rule to go on with; None: stop here

    @property
    def unconditional(self) -> bool:
        """Whether the rule matches every request."""
        return not (self.keywords.words or self.all_keywords.words or self.not_keywords.words
                    or self.regex or self.tests)

    def test(self, texts: dict, values: dict) -> tuple:
        """(matched, why): why is what matched, or what did not."""
        text = texts[self.where]
        reasons = []
        if self.keywords.words:
            found = self.keywords.found(text)
            if not found:
                return False, "none of its keywords occur"
            reasons.append("keywords " + ", ".join(found))
        if self.all_keywords.words:
            found = self.all_keywords.found(text)
            if len(found) < len(self.all_keywords.words):
                missing = [w for w in self.all_keywords.words if w not in found]
                return False, "missing " + ", ".join(missing)
            reasons.append("all of " + ", ".join(found))
        if self.not_keywords.words:
            found = self.not_keywords.found(text)
            if found:
                return False, "excluded by " + ", ".join(found)
        if self.regex is not None:
            match = _compiled(self.regex).search(text)
            if match is None:
                return False, f"regex {self.regex} not found"
            reasons.append(f"regex found {match.group(0)!r}")
        for item in self.tests:
            if not item.holds(values):
                return False, f"not {item.describe()}"
            reasons.append(item.describe())
        return True, "; ".join(reasons) or "always"


@dataclass
class Decision:
    """What the rules make of a request: its values and why, step by step."""

    values: dict
    changes: dict = field(default_factory=dict)  # dotted path -> value the rules set
    fired: list = field(default_factory=list)  # names of the rules that matched
    trail: list = field(default_factory=list)  # the explanation, one line per step
    warnings: list = field(default_factory=list)
    reasons: list = field(default_factory=list)  # why, for the record: what matched

    def record(self) -> str:
        """The reasons as recorded on the ticket's event."""
        return "\n".join(self.reasons)


# ---- running the rules ---------------------------------------------------------------------

def texts_of(values: dict) -> dict:
    """The text the rules read, case folded: title, description, and both."""
    title = str(values.get("title") or "").casefold()
    description = str(values.get("description") or "").casefold()
    return {"title": title, "description": description, "text": f"{title}\n{description}"}


def classify(rules: tuple, values: dict, kept=frozenset()) -> Decision:
    """Run the ordered ``rules`` on ``values``; ``kept`` names fields no rule may change."""
    decision = Decision(copy.deepcopy(values))
    texts = texts_of(values)
    setter: dict = {}
    position = 0
    while position < len(rules):
        rule = rules[position]
        matched, why = rule.test(texts, decision.values)
        if not matched:
            decision.trail.append(f"rule {rule.name}: no ({why})")
            position += 1
            continue
        decision.fired.append(rule.name)
        decision.trail.append(f"rule {rule.name}: matched ({why})")
        decision.reasons.append(f"{rule.name}: {why}")
        for path, value in rule.sets.items():
            if path in kept:
                decision.trail.append(f"  {path}: kept {_shown(get_path(values, path))} "
                                      "(given by a person)")
            elif path in setter:
                decision.trail.append(f"  {path}: already set by rule {setter[path]}")
            else:
                setter[path] = rule.name
                _set(decision, path, value)
                decision.trail.append(f"  {path} = {_shown(value)}")
        if rule.tags:
            tags = list(decision.values.get("tags") or [])
            added = [t for t in rule.tags if t not in tags]
            if added:
                _set(decision, "tags", tags + added)
                decision.trail.append(f"  tags + {', '.join(added)}")
        if rule.then is None:
            break
        position = rule.then
    return decision


def decide(rules, values: dict, kept=frozenset()) -> Decision:
    """Everything the rules decide about a request before assignment: the classification,
    the team (a rule's, else the type's) and the priority."""
    decision = classify(rules.classify, values, kept)
    kind = rules.types.get(decision.values.get("type"))
    if not decision.values.get("team") and kind is not None and kind.team:
        _set(decision, "team", kind.team)
        decision.trail.append(f"team {kind.team}: the {kind.name} type's team")
        decision.reasons.append(decision.trail[-1])
    settle_priority(decision, rules.priority_policy, kind, rules.default_priority,
                    list(rules.priorities), kept)
    return decision


def _set(decision: Decision, path: str, value) -> None:
    set_path(decision.values, path, copy.deepcopy(value))
    decision.changes[path] = value


def _shown(value) -> str:
    dumped = F.dump(value)
    return ", ".join(dumped) if isinstance(dumped, list) else str(dumped)


def settle_priority(decision: Decision, policy, kind, default: str, priorities: list,
                    kept=frozenset()) -> None:
    """Decide the priority: by hand, by a rule, by impact x urgency, or by the type; then
    raised by the customer's tier (a priority a person gave is never raised)."""
    values = decision.values
    if "priority" in kept:
        decision.trail.append(f"priority {values['priority']}: given by a person")
        return
    impact, urgency = values.get("impact"), values.get("urgency")
    if "priority" in decision.changes:
        base, why = decision.changes["priority"], "set by a rule"
    elif policy is not None and (impact or urgency):
        impact = impact or policy.default_impact
        urgency = urgency or policy.default_urgency
        base = policy.matrix[impact][urgency]
        why = f"impact {impact} x urgency {urgency}"
    elif kind is not None and kind.priority:
        base, why = kind.priority, f"the {kind.name} type's default"
    else:
        base, why = default, "the desk's default"
    raised = policy.raise_by.get(get_path(values, "customer.tier"), 0) if policy else 0
    final = priorities[max(0, priorities.index(base) - raised)]
    if final != base:
        why += f", raised {raised} for a {get_path(values, 'customer.tier')} customer"
    decision.trail.append(f"priority {final}: {why}")
    decision.reasons.append(decision.trail[-1])
    if values.get("priority") != final:
        _set(decision, "priority", final)


# ---- rules that can never match ---------------------------------------------------------------

MOST_CANDIDATES = 64  # earlier rules one rule is compared with (the check is a warning)


def never_matching(rules: tuple) -> list:
    """Warnings for rules that no request can reach: they contradict themselves, or an
    earlier rule that stops always matches first.

    An earlier rule can only match every request a rule does if each of its conditions is
    one of the rule's: it shares a word with it, or has its regex, or tests only fields the
    rule tests, or has no condition at all. So each rule is compared only with the earlier
    rules an index of those finds, the first MOST_CANDIDATES of them, not with every earlier
    rule: the time grows with the number of rules, not its square (a rule hidden only by
    the 65th earlier rule sharing a word with it goes unwarned)."""
    out = []
    by_word, by_regex, by_path, bare = {}, {}, {}, []
    jumps_to = -1  # the furthest position an earlier rule's continue goes to
    for rule in rules:
        where = f"classify[{rule.position}] {rule.name}"
        clash = set(rule.all_keywords.words) & set(rule.not_keywords.words)
        if clash or (rule.keywords.words and
                     set(rule.keywords.words) <= set(rule.not_keywords.words)):
            word = sorted(clash or rule.keywords.words)[0]
            out.append(f"{where}: can never match ({word!r} is both wanted and excluded)")
        else:
            most = MOST_CANDIDATES
            found = set(bare[:most])
            for word in _words(rule):
                found.update(by_word.get(word, ())[:most])
            if rule.regex is not None:
                found.update(by_regex.get(rule.regex, ())[:most])
            for test in rule.tests:
                found.update(by_path.get(test.path, ())[:most])
            for earlier in sorted(found)[:MOST_CANDIDATES]:
                if _implies(rule, rules[earlier]):
                    out.append(f"{where}: can never match (rule {rules[earlier].name} "
                               "matches every request it would, and stops)")
                    break
        # a rule that stops, and that no earlier rule's continue jumps past, may hide later
        # ones: file it under its conditions
        if rule.then is None and jumps_to <= rule.position:
            words = _words(rule)
            for word in words:
                by_word.setdefault(word, []).append(rule.position)
            if not words and rule.regex is not None:
                by_regex.setdefault(rule.regex, []).append(rule.position)
            elif not words and rule.tests:
                by_path.setdefault(rule.tests[0].path, []).append(rule.position)
            elif not words:
                bare.append(rule.position)
        if rule.then is not None:
            jumps_to = max(jumps_to, rule.then)
    return out


def _words(rule: Rule) -> set:
    return set(rule.keywords.words) | set(rule.all_keywords.words) | \
        set(rule.not_keywords.words)


def _implies(rule: Rule, earlier: Rule) -> bool:
    """Whether every request ``rule`` matches is matched by ``earlier`` too."""
    texts = (earlier.keywords.words or earlier.all_keywords.words
             or earlier.not_keywords.words or earlier.regex)
    if texts and earlier.where != rule.where:
        return False
    if earlier.keywords.words:
        wanted = set(earlier.keywords.words)
        if not ((rule.keywords.words and set(rule.keywords.words) <= wanted)
                or wanted & set(rule.all_keywords.words)):
            return False
    if not set(earlier.all_keywords.words) <= set(rule.all_keywords.words):
        return False
    if not set(earlier.not_keywords.words) <= set(rule.not_keywords.words):
        return False
    if earlier.regex is not None and rule.regex != earlier.regex:
        return False
    mine = {t.path: t for t in rule.tests}
    for test in earlier.tests:
        other = mine.get(test.path)
        if other is None or other.globs and set(other.globs) - set(test.globs) or \
                not set(other.allowed) <= set(test.allowed):
            return False
    return True


# ---- regular expressions: RE2, linear in the text ----------------------------------------

def compile_regex(pattern: str, path) -> str:
    """Check a rule's regex; return it. A desk's rules are user input, so regexes are matched
    by RE2, whose time grows linearly with the text whatever the pattern (no catastrophic
    backtracking, no time limit needed). RE2 refuses what it cannot match that way
    (backreferences, lookaround) and patterns too large for its memory budget."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise RulesError(f"the regex {pattern!r} does not compile: {exc}", path) from None
    try:
        _compiled(pattern)
    except ValueError as exc:
        raise RulesError(f"the regex {pattern!r} is not one RE2 can match in linear time: "
                         f"{exc} (backreferences and lookaround are not supported)",
                         path) from None
    return pattern


@cache
def _compiled(pattern: str):
    """``pattern`` compiled by RE2, case ignored (imported on first use: most commands match
    no regex). A pattern RE2 refuses raises ValueError saying why."""
    import re2

    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # its log goes to stderr: the error is said once, by us
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(str(reason)) from None
