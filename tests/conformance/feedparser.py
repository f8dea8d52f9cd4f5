#!/usr/bin/python3
"""feedparser's own expectations, run against `ctxctl parse feed`.

Every file of feedparser's test suite (../shared/corpora/feedparser/tests,
BSD-2-Clause, kurtmckee/feedparser) states what feedparser makes of it in an
`Expect:` line: a Python expression over feedparser's result, such as

    not bozo and entries[0]['description'] == 'Example <b>Atom</b>'

This script selects, mechanically, the expressions that only read the fields
`ctxctl parse feed` promises (title, link, id/guid, summary/description,
content, author, published, updated, subtitle, links and bozo), parses each
selected file with `bin/ctxctl parse feed --many` the way feedparser's own
test runner serves it (the file's `Header:` lines become HTTP headers; files
with "http" in their path are fetched from http://127.0.0.1:8097/tests/...,
which is then the document's URL), and evaluates the expression over the JSON
with feedparser's key aliases. It prints how many files were excluded and
why, the pass rate, and `conformance: N of T expectations met`; it exits non-zero
when fewer than 95% pass.

Selection (mechanical, on the expression's syntax tree):
  - names: feed, entries, bozo (and feedparser's aliases channel, items),
    pure builtins (len, str, ord, sorted...), literals; any other name (encoding, version, headers, namespaces...)
    excludes the file;
  - keys read from feed or entries[i], by subscript, attribute, .get(),
    .has_key() or `in`: title, link, id, summary, content, author, published,
    updated, subtitle, links, after feedparser's aliases (guid->id,
    description->summary/subtitle, tagline->subtitle, modified/date->updated,
    issued->published); anything else (title_detail, author_detail, tags,
    *_parsed...) excludes the file;
  - under links[i]: href, rel, type, title; under content[i] and an entry's
    summary_detail: value, type;
  - a computed key, a comprehension or a lambda excludes the file.

Adaptation of our JSON to feedparser's shapes: null means absent (so that
`'author' not in entries[0]` works); an entry's "content" string becomes
feedparser's list of one {'value': ..., 'type': ...}, and its "summary" with
"summary_type" its summary_detail {'value': ..., 'type': ...}; dictionaries allow
attribute access (feed.title) and feedparser's aliases.

Usage: tests/conformance/feedparser.py [--ctxctl PATH] [--corpus DIR]
           [--write-failures] [--verbose] [--min-rate 0.95] [--per-file]
Run from anywhere; paths default relative to the repository.
"""
import argparse
import ast
import collections
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(os.path.dirname(REPO), "shared", "corpora", "feedparser", "tests")
BASE_URL = "http://127.0.0.1:8097/tests/"

# ---- feedparser's result, as Python sees it -------------------------------

# feedparser's FeedParserDict key aliases (one name may stand for several,
# tried in order).
ALIASES = {
    "channel": ["feed"], "items": ["entries"], "guid": ["id"], "date": ["updated"],
    "description": ["summary", "subtitle"], "tagline": ["subtitle"],
    "modified": ["updated"], "issued": ["published"], "url": ["href"],
}


class FPDict(dict):
    """A dict that answers like feedparser's: aliases, attribute access, and
    `updated` falling back to `published` (feedparser still does that)."""

    def _key(self, key):
        for k in ALIASES.get(key, []):
            if dict.__contains__(self, k):
                return k
        if key == "updated" and not dict.__contains__(self, "updated") \
                and dict.__contains__(self, "published"):
            return "published"
        return key

    def __getitem__(self, key):
        return dict.__getitem__(self, self._key(key))

    def __contains__(self, key):
        if key == "updated":
            return dict.__contains__(self, key)
        return dict.__contains__(self, self._key(key))

    def get(self, key, default=None):
        return self[key] if key in self else default

    def has_key(self, key):
        return key in self

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key)


def fp_value(v):
    if isinstance(v, dict):
        return FPDict((k, fp_value(x)) for k, x in v.items() if x is not None)
    if isinstance(v, list):
        return [fp_value(x) for x in v]
    return v


def fp_entry(e):
    d = fp_value(e)
    if isinstance(e.get("content"), str):
        c = FPDict(value=e["content"])
        if e.get("content_type"):
            c["type"] = e["content_type"]
        d["content"] = [c]
    d.pop("content_type", None)
    if isinstance(e.get("summary"), str):
        s = FPDict(value=e["summary"])
        if e.get("summary_type"):
            s["type"] = e["summary_type"]
        d["summary_detail"] = s
    d.pop("summary_type", None)
    return d


def environment(out):
    feed = fp_value(out.get("feed") or {})
    entries = [fp_entry(e) for e in out.get("entries") or []]
    env = {"feed": feed, "channel": feed, "entries": entries, "items": entries,
           "bozo": bool(out.get("bozo"))}
    return env


# ---- selection ------------------------------------------------------------

FIELDS = {"title", "link", "id", "summary", "content", "author", "published", "updated",
          "subtitle", "links"}
LINK_KEYS = {"href", "rel", "type", "title"}
CONTENT_KEYS = {"value", "type"}
BUILTINS = {"len", "str", "repr", "sorted", "list", "tuple", "set", "isinstance", "type",
            "dict", "int", "ord", "chr", "min", "max", "abs", "bool", "float", "any", "all"}
ROOT_NAMES = {"feed": "feed", "channel": "feed", "entries": "entries", "items": "entries",
              "bozo": "value", "True": "value", "False": "value", "None": "value"}
DICT_METHODS = {"get", "has_key"}


class Excluded(Exception):
    pass


def const_key(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int)):
        return node.value
    if isinstance(node, ast.Index):                      # Python < 3.9
        return const_key(node.value)
    return None


# Aliases used by the expression being classified, beyond the two the task
# names (description, guid): reported, so the selection can be judged.
EXTRA_ALIASES = {"tagline", "modified", "issued", "date", "channel", "items"}
aliases_seen = set()


def field_type(where, key):
    """The type of where[key] when where is feed/entry/link/content/detail."""
    if where == "entry" and key == "summary_detail":
        return "detail"
    if where in ("feed", "entry"):
        names = [key] + ALIASES.get(key, [])
        if not any(n in FIELDS for n in names):
            raise Excluded("%s[%r]" % (where, key))
        if key in EXTRA_ALIASES:
            aliases_seen.add(key)
        return {"links": "links", "content": "content"}.get(
            next(n for n in names if n in FIELDS), "value")
    allowed = LINK_KEYS if where == "link" else CONTENT_KEYS     # content, detail
    if key not in allowed:
        raise Excluded("%s[%r]" % (where, key))
    return "value"


def typeof(node):
    """Abstract type of an expression: feed, entries, entry, links, link,
    content, contentitem, value, builtin, method:<type>:<name>."""
    if isinstance(node, ast.Name):
        if node.id in ROOT_NAMES:
            if node.id in EXTRA_ALIASES:
                aliases_seen.add(node.id)
            return ROOT_NAMES[node.id]
        if node.id in BUILTINS:
            return "builtin"
        raise Excluded("name %s" % node.id)
    if isinstance(node, ast.Constant):
        return "value"
    if isinstance(node, ast.Subscript):
        t = typeof(node.value)
        sl = node.slice
        if isinstance(sl, ast.Slice):
            for part in (sl.lower, sl.upper, sl.step):
                if part is not None:
                    typeof(part)
            return t
        key = const_key(sl)
        if t == "value":
            typeof(sl.value if isinstance(sl, ast.Index) else sl)
            return "value"
        if key is None:
            raise Excluded("computed key")
        if t in ("entries", "links", "content"):
            if not isinstance(key, int):
                raise Excluded("%s[%r]" % (t, key))
            return {"entries": "entry", "links": "link", "content": "contentitem"}[t]
        if t in ("feed", "entry", "link", "contentitem", "detail"):
            if not isinstance(key, str):
                raise Excluded("%s[%r]" % (t, key))
            return field_type("content" if t == "contentitem" else t, key)
        raise Excluded("subscript of %s" % t)
    if isinstance(node, ast.Attribute):
        t = typeof(node.value)
        if t in ("feed", "entry", "link", "contentitem", "detail"):
            if node.attr in DICT_METHODS:
                return "method:%s:%s" % (t, node.attr)
            return field_type("content" if t == "contentitem" else t, node.attr)
        if t == "value":
            return "value"                      # a str method
        raise Excluded("attribute %s of %s" % (node.attr, t))
    if isinstance(node, ast.Call):
        ft = typeof(node.func)
        if ft.startswith("method:"):
            _, where, meth = ft.split(":")
            key = const_key(node.args[0]) if node.args else None
            if not isinstance(key, str):
                raise Excluded("computed key")
            for a in node.args[1:]:
                typeof(a)
            t = field_type("content" if where == "contentitem" else where, key)
            return "value" if meth == "has_key" else t
        for a in node.args:
            typeof(a)
        for kw in node.keywords:
            typeof(kw.value)
        return "value"
    if isinstance(node, ast.Compare):
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            rt = typeof(right)
            key = const_key(left)
            if isinstance(op, (ast.In, ast.NotIn)) and rt in ("feed", "entry", "link",
                                                               "contentitem", "detail"):
                if not isinstance(key, str):
                    raise Excluded("computed key")
                field_type("content" if rt == "contentitem" else rt, key)
            else:
                typeof(left)
            left = right
        return "value"
    if isinstance(node, (ast.BoolOp,)):
        for v in node.values:
            typeof(v)
        return "value"
    if isinstance(node, ast.UnaryOp):
        typeof(node.operand)
        return "value"
    if isinstance(node, ast.BinOp):
        typeof(node.left)
        typeof(node.right)
        return "value"
    if isinstance(node, ast.IfExp):
        typeof(node.test)
        typeof(node.body)
        typeof(node.orelse)
        return "value"
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        for e in node.elts:
            typeof(e)
        return "value"
    if isinstance(node, ast.Dict):
        for e in list(node.keys) + list(node.values):
            if e is not None:
                typeof(e)
        return "value"
    raise Excluded(type(node).__name__.lower())


def select(expr):
    """None when selected, else the reason it is not."""
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError:
        return "not a Python expression"
    try:
        typeof(tree.body)
    except Excluded as e:
        return "reads %s" % e
    return None


# ---- reading the corpus ---------------------------------------------------

EXPECT_RE = re.compile(r"Expect:\s*(.*?)\s*(?:-->|$)", re.M)
DESC_RE = re.compile(r"Description:\s*(.*?)\s*(?:Expect:|-->|$)", re.M)
HEADER_RE = re.compile(r"^Header:\s+([^:]+):(.+)$", re.M)


def read_case(path):
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8", "replace")
    if "\0" in text:          # the UTF-16 and UTF-32 test files
        for enc in ("utf-32", "utf-16", "utf-32-le", "utf-32-be", "utf-16-le", "utf-16-be"):
            try:
                t = raw.decode(enc)
            except UnicodeDecodeError:
                continue
            if "Expect:" in t:
                text = t
                break
    m = EXPECT_RE.search(text)
    d = DESC_RE.search(text)
    headers = [(k.strip(), v.strip()) for k, v in HEADER_RE.findall(text)]
    return (m.group(1) if m else None), (d.group(1) if d else ""), headers


def request_for(rel, path, headers):
    """How feedparser's test runner hands the file to feedparser."""
    q = {"file": path, "headers": []}
    if "http" in rel:
        # served by its test HTTP server: headers from the file, a guessed
        # Content-Type when none is given, and the URL is the document's
        if not any(k.lower() == "content-type" for k, _ in headers):
            q["headers"].append("Content-Type: application/xml")
        q["headers"] += ["%s: %s" % (k, v) for k, v in headers]
        q["url"] = BASE_URL + rel
    return q


# ---- running --------------------------------------------------------------

def run_many(ctxctl, reqs):
    """One `ctxctl parse feed --many` for all requests; results in order."""
    inp = "".join(json.dumps(q) + "\n" for q in reqs)
    p = subprocess.run([ctxctl, "parse", "feed", "--many", "--fetched", "2026-11-22T12:00:00Z"],
                       input=inp.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       cwd=REPO, timeout=300)
    lines = p.stdout.decode("utf-8").splitlines()
    if p.returncode not in (0, 1) or len(lines) != len(reqs):
        sys.exit("conformance: ctxctl parse --many failed (exit %d, %d of %d results): %s"
                 % (p.returncode, len(lines), len(reqs), p.stderr.decode()[-2000:]))
    return [json.loads(l) for l in lines]


def run_each(ctxctl, reqs):
    """One `ctxctl parse feed FILE --header ... [--url U]` per request."""
    out = []
    for q in reqs:
        args = [ctxctl, "parse", "feed", q["file"], "--fetched", "2026-11-22T12:00:00Z"]
        for h in q["headers"]:
            args += ["--header", h]
        if q.get("url"):
            args += ["--url", q["url"]]
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
                           timeout=60)
        out.append(json.loads(p.stdout) if p.returncode == 0 else
                   {"file": q["file"], "error": p.stderr.decode("utf-8", "replace").strip()})
    return out


def explain(expr, env):
    """For a failed expectation: each == comparison's two sides."""
    notes = []
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError:
        return ""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and len(node.ops) == 1 \
                and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            try:
                left = eval(compile(ast.Expression(node.left), "<expect>", "eval"), {}, env)
            except Exception as e:
                left = "<%s: %s>" % (type(e).__name__, e)
            right = ast.literal_eval(node.comparators[0]) \
                if isinstance(node.comparators[0], (ast.Constant, ast.Tuple, ast.Dict,
                                                    ast.List)) else "?"
            if left != right:
                notes.append("%s is %r, expected %r" % (ast.unparse(node.left), left, right))
    if "bozo" in expr and not notes:
        notes.append("bozo is %r" % env["bozo"])
    return "; ".join(notes)


# Why the failures that we know of fail: (path regex, reason). The first
# match wins; a failure matching nothing is reported as unexplained.
KNOWN = [
    (r"namespace/(atomsvg|atomsvgdesc|rss2\.0svg5|rss2\.0mathml)\.xml$",
     "SVG and MathML inside HTML content. feedparser keeps such islands, with "
     "whitelists of their own (SVG and MathML elements and attributes, SVG's "
     "camel-case names, implied xmlns declarations); our sanitizer has only the "
     "HTML whitelist, so it drops the unknown elements and keeps their text. Not "
     "supported on purpose: the item text a brand monitor reads is the same either way."),
]


def known_reason(rel):
    for pat, why in KNOWN:
        if re.search(pat, rel):
            return why
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ctxctl", default=os.path.join(REPO, "bin", "ctxctl"))
    ap.add_argument("--corpus", default=CORPUS)
    ap.add_argument("--write-failures", action="store_true",
                    help="rewrite tests/conformance/FAILURES.md")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every failure")
    ap.add_argument("--min-rate", type=float, default=0.95)
    ap.add_argument("--per-file", action="store_true",
                    help="one ctxctl process per file (slower; same results as --many)")
    args = ap.parse_args()
    t0 = time.monotonic()

    if not os.path.isdir(args.corpus):
        sys.exit("conformance: no corpus at %s" % args.corpus)
    files = []
    for root, _, names in os.walk(args.corpus):
        for n in names:
            files.append(os.path.relpath(os.path.join(root, n), args.corpus))
    files.sort()

    excluded = collections.Counter()
    via_alias = collections.Counter()
    cases = []
    for rel in files:
        path = os.path.join(args.corpus, rel)
        expr, desc, headers = read_case(path)
        if expr is None:
            excluded["no Expect line"] += 1
            continue
        aliases_seen.clear()
        why = select(expr)
        if why:
            excluded[why] += 1
            continue
        for a in aliases_seen:
            via_alias[a] += 1
        cases.append((rel, desc, expr, request_for(rel, path, headers)))

    reqs = [c[3] for c in cases]
    results = (run_each if args.per_file else run_many)(args.ctxctl, reqs) if cases else []
    passed, failures = 0, []
    for (rel, desc, expr, req), out in zip(cases, results):
        if "error" in out and "entries" not in out:
            failures.append((rel, expr, "ctxctl: %s" % out["error"]))
            continue
        env = environment(out)
        try:
            ok = bool(eval(expr, {"__builtins__": __builtins__}, env))
            note = "" if ok else explain(expr, env)
        except Exception as e:
            ok, note = False, "%s: %s" % (type(e).__name__, e)
        if ok:
            passed += 1
        else:
            failures.append((rel, expr, note))

    nexcl = sum(excluded.values())
    print("conformance: %d files, %d selected, %d excluded" % (len(files), len(cases), nexcl))
    by_reason = collections.Counter()
    for why, n in excluded.items():
        by_reason[re.sub(r"\[\d+\]", "[i]", why)] += n
    for why, n in sorted(by_reason.items(), key=lambda x: (-x[1], x[0])):
        print("  excluded %4d: %s" % (n, why))
    if via_alias:
        print("  selected through feedparser's other aliases: %s" % ", ".join(
            "%s %d" % (a, n) for a, n in sorted(via_alias.items())))
    total = passed + len(failures)
    rate = passed / total if total else 0.0
    for rel, expr, note in failures if args.verbose else []:
        print("FAIL %s\n     expect: %s\n     got: %s\n     why: %s"
              % (rel, expr, note, known_reason(rel) or "(unexplained)"))
    print("conformance: pass rate %.1f%% (%d of %d selected expectations, %.1f s)"
          % (100 * rate, passed, total, time.monotonic() - t0))
    if args.write_failures:
        write_failures(len(files), len(cases), by_reason, via_alias, passed, failures)
    # not in the "N passed, M failed" form: the known misses (listed in
    # FAILURES.md) are a pass rate, not failed tests; the run fails below 95%
    print("conformance: %d of %d expectations met, %d known misses (tests/conformance/FAILURES.md)"
          % (passed, passed + len(failures), len(failures)))
    return 0 if total and rate >= args.min_rate else 1


def write_failures(nfiles, nselected, by_reason, via_alias, passed, failures):
    total = passed + len(failures)
    out = [
        "# feedparser conformance: what fails and why",
        "",
        "Written by `tests/conformance/feedparser.py --write-failures`; do not edit by hand",
        "(the reasons come from the `KNOWN` table in that script).",
        "",
        "%d files in `../shared/corpora/feedparser/tests`, %d selected, %d excluded; "
        "%d of %d selected expectations pass (%.1f%%)."
        % (nfiles, nselected, nfiles - nselected, passed, total,
           100.0 * passed / total if total else 0),
        "",
        "Selected: expectations that read only title, link, id/guid, summary/description, "
        "content, author, published, updated, subtitle, links and bozo (decided on the "
        "expression's syntax tree; see the script's docstring). Among them, these used "
        "feedparser's other key aliases: %s."
        % (", ".join("`%s` %d" % (a, n) for a, n in sorted(via_alias.items())) or "none"),
        "",
        "## Excluded, by reason",
        "",
        "| files | reason |",
        "|---:|---|",
    ]
    for why, n in sorted(by_reason.items(), key=lambda x: (-x[1], x[0])):
        out.append("| %d | %s |" % (n, why.replace("|", "\\|")))
    out += ["", "## Failures", ""]
    groups = collections.OrderedDict()
    for rel, expr, note in failures:
        groups.setdefault(known_reason(rel) or "Unexplained.", []).append((rel, expr, note))
    for why, items in groups.items():
        out.append("### %s" % why)
        out.append("")
        for rel, expr, note in items:
            out.append("- `%s`  " % rel)
            out.append("  expect: `%s`  " % expr.replace("`", "'"))
            out.append("  got: %s" % (note.replace("\n", " ") or "(false)"))
        out.append("")
    with open(os.path.join(HERE, "FAILURES.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
