"""`ctxctl --help` is printed from ctxctl's command table; the README and
docs/ must not offer a command or an option it does not list, and the
README must mention every command it lists."""
import glob
import os
import re
import subprocess

from harness import ROOT
from test_collect import CTXCTL


def help_rows():
    """{command name: usage text (all its forms)} from ctxctl --help."""
    p = subprocess.run([CTXCTL, "--help"], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    rows, name = {}, None
    for line in p.stdout.splitlines()[3:]:
        if line.startswith("      "):          # help text, or a usage continuation
            if name and line.lstrip().startswith("["):
                rows[name] += " " + line.strip()
            continue
        words = line.split()
        n = 2 if len(words) > 1 and re.fullmatch(r"[a-z]+", words[1]) else 1
        name = " ".join(words[:n])
        rows[name] = rows.get(name, "") + " " + " ".join(words[n:])
    return rows


def code_snippets(path):
    """(line number, text) of the code in a markdown file: lines of fenced
    blocks (a trailing backslash joins the next) and inline code spans."""
    text = open(path, encoding="utf-8").read()
    out, fenced, prose = [], False, []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            fenced = not fenced
            prose.append((i + 1, ""))
        elif fenced:
            prose.append((i + 1, ""))      # keeps the prose's line numbers
            start = i
            while line.endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line[:-1] + " " + lines[i]
            out.append((start + 1, line))
            prose.extend((j + 1, "") for j in range(start + 1, i))
        else:
            prose.append((i + 1, line))
        i += 1
    joined = "\n".join(l for _, l in prose)
    for m in re.finditer(r"`([^`]+)`", joined):
        out.append((joined.count("\n", 0, m.start()) + 1, m.group(1).replace("\n", " ")))
    return out


def invocations(path):
    """(line, [words after ctxctl]) for every ctxctl command line in path."""
    for line, code in code_snippets(path):
        for m in re.finditer(r"(?:^|[\s/])ctxctl(?=\s|$)(.*)", code):
            args = re.split(r"\s#|\||<|>|;|&&|\)", m.group(1))[0].split()
            if not args or args[0].endswith(":"):   # `ctxctl`, or a message "ctxctl parse: ..."
                continue
            if args[0] == "-c":
                args = args[2:]
            if args and args[0] in ("--help", "-h"):
                args[0] = "help"
            if args and args[0] not in ("[-c", "COMMAND"):
                yield line, args


def command_of(rows, args):
    for n in (2, 1):
        name = " ".join(args[:n])
        if name in rows:
            return name
    return None


def test_docs_use_only_what_help_lists():
    rows = help_rows()
    docs = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs/*.md")))
    problems, seen = [], 0
    for path in docs:
        rel = os.path.relpath(path, ROOT)
        for line, args in invocations(path):
            seen += 1
            name = command_of(rows, args)
            if not name:
                problems.append("%s:%d: ctxctl %s: no such command in --help"
                                % (rel, line, " ".join(args)))
                continue
            for a in args:
                opt = a.strip("[]").split("=")[0]
                if opt.startswith("--") and not re.search(re.escape(opt) + r"\b", rows[name]):
                    problems.append("%s:%d: ctxctl %s: %s is not in its --help line (%s)"
                                    % (rel, line, name, opt, rows[name].strip()))
    assert not problems, "\n".join(problems)
    assert seen >= 20, seen


def test_readme_mentions_every_command():
    rows = help_rows()
    used = {command_of(rows, args) for _, args in invocations(os.path.join(ROOT, "README.md"))}
    missing = sorted(set(rows) - used - {"help"})
    assert not missing, "commands of ctxctl --help the README never shows: %s" % missing


def test_help_comes_from_the_table():
    rows = help_rows()
    for name in ("analyze", "agent add", "rules check", "rules reload", "parse", "simulate"):
        assert name in rows, (name, sorted(rows))
    assert "--explain" in rows["analyze"]
    assert "--role" in rows["agent add"] and "--supervisor" not in rows["agent add"]
    assert "--many" in rows["parse"]
    # a usage error prints the same rows
    p = subprocess.run([CTXCTL, "rules"], capture_output=True, text=True, timeout=20)
    assert p.returncode == 2 and "ctxctl rules check DIR" in p.stderr, p.stderr
    assert "ctxctl rules reload" in p.stderr, p.stderr
