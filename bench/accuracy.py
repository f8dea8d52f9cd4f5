#!/usr/bin/python3
"""accuracy.py -- sentiment agreement with people, ours next to two npm peers.

Scores every text of the human-rated corpora with `ctxctl analyze --score`
(one process per file, texts on stdin) and with the peers in bench/npm
(`vader-sentiment`, VADER's JavaScript port, and `sentiment`, AFINN-165), then
prints, per file and scorer:

  English (../shared/corpora/vader/*_GroundTruth.txt: id, mean rating -4..4,
  text): Pearson r of the score with the mean rating, and the 3-class macro F1
  with people split at +-0.5 on their scale and scores at +-0.05.

  Russian (../shared/corpora/ru/opensentimentcorpus-dev.csv, "mixed" rows
  left out): 3-class accuracy and macro F1, scores split at +-0.05.

  Posts to brands (../shared/corpora/airline/airline-tweets-dev.csv, tweets to
  six US airlines labelled by people; HTML entities decoded, as a collector
  would): 3-class macro F1 and Pearson r of the score with the label (-1, 0,
  1), and complaint detection against "the person labelled it negative":
  precision, recall and F1 of our complaint tag (`ctxctl analyze`, with the
  airlines' brand rules of bench/data/brands-airline) and of every scorer's
  "compound <= -0.05"; and, for the negative posts whose reason the people
  named, how often our complaint reasons include one that means the same
  ("Late Flight" and delay...). The file is CC BY-NC-SA: read here, never
  copied.

Scores: ours and vader-sentiment give a compound in [-1, 1]; for `sentiment`
the score used is its "comparative" (AFINN sum / tokens), split at +-0.05
like the others (a plain sign test of the AFINN sum gives the same classes
for every text with a non-zero score under 20 tokens).

  bench/accuracy.py [--ctxctl bin/ctxctl] [--config etc/ctxd.json]
                    [--corpora ../shared/corpora] [--no-peers]

Run from the repository root; the peers need `npm ci` in bench/npm (done here
when node_modules is missing and npm is installed). Python standard library
only. Exit status 0 unless something could not run."""
import argparse
import csv
import html
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

CLASSES = ("positive", "negative", "neutral")


def cls(x, t):
    return "positive" if x >= t else "negative" if x <= -t else "neutral"


def pearson(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0


def macro_f1(gold, pred):
    f1 = []
    for c in CLASSES:
        tp = sum(1 for g, p in zip(gold, pred) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, pred) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, pred) if g == c and p != c)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return sum(f1) / len(f1)


def run_scores(cmd, texts_path, n):
    with open(texts_path, "rb") as f:
        out = subprocess.run(cmd, stdin=f, stdout=subprocess.PIPE, check=True).stdout
    vals = [float(x) for x in out.decode().split()]
    if len(vals) != n:
        raise RuntimeError("%s gave %d scores for %d texts" % (" ".join(cmd), len(vals), n))
    return vals


def ensure_npm(npm_dir):
    if os.path.isdir(os.path.join(npm_dir, "node_modules", "vader-sentiment")):
        return True
    if not shutil.which("npm") or not shutil.which("node"):
        return False
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=npm_dir,
                   check=True)
    return True


def prf(gold, pred):
    tp = sum(1 for g, p in zip(gold, pred) if g and p)
    fp = sum(1 for g, p in zip(gold, pred) if not g and p)
    fn = sum(1 for g, p in zip(gold, pred) if g and not p)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return prec, rec, (2 * prec * rec / (prec + rec) if prec + rec else 0.0)


def airline(args, tmp, scorers, names):
    src = os.path.join(args.corpora, "airline", "airline-tweets-dev.csv")
    if not os.path.exists(src):
        print("(no %s: brand posts skipped)" % src)
        return
    gold, texts, why = [], [], []
    with open(src, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            gold.append(row["airline_sentiment"])
            why.append(row.get("negativereason", ""))
            texts.append(html.unescape(row["text"]).replace("\r", " ").replace("\n", " "))
    path = os.path.join(tmp, "airline.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(texts) + "\n")
    rules = os.path.join("bench", "data", "brands-airline")
    cmd = [args.ctxctl, "-c", args.config, "analyze", "--rules", rules]
    with open(path, "rb") as f:
        out = subprocess.run(cmd, stdin=f, stdout=subprocess.PIPE, check=True).stdout
    tags = [json.loads(line) for line in out.decode().splitlines()]
    if len(tags) != len(texts):
        raise RuntimeError("ctxctl analyze gave %d lines for %d texts" % (len(tags), len(texts)))
    res = scorers(path, len(texts))
    res["ctx"] = [t["sentiment"]["score"] for t in tags]
    num = {"positive": 1.0, "neutral": 0.0, "negative": -1.0}
    ys = [num[g] for g in gold]
    neg = [g == "negative" for g in gold]
    print()
    print("brand posts: %s (%d tweets, %d negative)" % (os.path.basename(src), len(gold),
                                                         sum(neg)))
    print("%-34s %8s %8s %8s %8s %8s" % ("scorer", "macroF1", "r", "P", "R", "F1"))
    for who, xs in res.items():
        p, r, f = prf(neg, [x <= -0.05 for x in xs])
        print("%-34s %8.3f %8.3f %8.3f %8.3f %8.3f" % (
            names[who] + ", compound <= -0.05", macro_f1(gold, [cls(x, 0.05) for x in xs]),
            pearson(xs, ys), p, r, f))
    p, r, f = prf(neg, [t["complaint"]["label"] for t in tags])
    print("%-34s %8s %8.3f %8.3f %8.3f %8.3f" % ("ctxctl analyze, complaint tag", "",
                                                 pearson([t["complaint"]["score"] for t in tags],
                                                         ys), p, r, f))
    # The people also named each negative post's reason. Ours agree when the
    # complaint tag names one of the reasons of ours that mean the same.
    same = {"Late Flight": {"delay"}, "Cancelled Flight": {"cancelled"},
            "Lost Luggage": {"lost"}, "Damaged Luggage": {"lost", "broken"},
            "Customer Service Issue": {"staff", "waiting", "no-response"},
            "Flight Attendant Complaints": {"staff"}, "longlines": {"waiting", "delay"},
            "Flight Booking Problems": {"account", "money", "broken", "help-request"}}
    print()
    print("%-34s %8s %8s" % ("the people's reason (negative posts)", "posts", "ours"))
    n_all = hit_all = 0
    for reason, ours in same.items():
        idx = [i for i, w in enumerate(why) if w == reason and neg[i]]
        hit = sum(1 for i in idx if ours & set(tags[i]["complaint"]["reasons"]))
        n_all, hit_all = n_all + len(idx), hit_all + hit
        if idx:
            print("%-34s %8d %8.3f" % (reason, len(idx), hit / len(idx)))
    if n_all:
        print("%-34s %8d %8.3f" % ("all of these", n_all, hit_all / n_all))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ctxctl", default="bin/ctxctl")
    ap.add_argument("--config", default="etc/ctxd.json")
    ap.add_argument("--corpora", default="../shared/corpora")
    ap.add_argument("--no-peers", action="store_true")
    args = ap.parse_args()

    npm_dir = os.path.join("bench", "npm")
    peers = [] if args.no_peers else ["vader", "afinn"]
    if peers and not ensure_npm(npm_dir):
        print("(node/npm missing: peers skipped)")
        peers = []
    names = {"ctx": "ctxctl analyze --score", "vader": "vader-sentiment (JS)",
             "afinn": "sentiment (AFINN)"}

    def scorers(path, n):
        res = {"ctx": run_scores([args.ctxctl, "-c", args.config, "analyze", "--score"], path, n)}
        for p in peers:
            res[p] = run_scores(["node", os.path.join(npm_dir, "peers.js"), "score", p, path],
                                path, n)
        return res

    tmp = tempfile.mkdtemp(prefix="ctx-accuracy-")
    try:
        print("%-28s %-8s %6s %8s %8s" % ("scorer", "file", "n", "r", "macroF1"))
        for name in ("movie", "amazon"):
            src = os.path.join(args.corpora, "vader", "%sReviewSnippets_GroundTruth.txt" % name)
            human, texts = [], []
            with open(src, encoding="utf-8", errors="replace", newline="") as f:
                for line in f:
                    parts = line.rstrip("\r\n").split("\t", 2)
                    if len(parts) == 3:
                        human.append(float(parts[1]))
                        texts.append(parts[2].replace("\r", " ").replace("\n", " "))
            path = os.path.join(tmp, name + ".txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(texts) + "\n")
            gold = [cls(h, 0.5) for h in human]
            for who, xs in scorers(path, len(texts)).items():
                print("%-28s %-8s %6d %8.3f %8.3f" % (names[who], name, len(texts),
                                                      pearson(xs, human),
                                                      macro_f1(gold, [cls(x, 0.05) for x in xs])))

        src = os.path.join(args.corpora, "ru", "opensentimentcorpus-dev.csv")
        gold, texts = [], []
        with open(src, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                if row["Sentiment"] in CLASSES:
                    gold.append(row["Sentiment"])
                    texts.append(row["Sentence"].replace("\r", " ").replace("\n", " "))
        path = os.path.join(tmp, "ru.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(texts) + "\n")
        print()
        print("%-28s %-8s %6s %8s %8s" % ("scorer", "file", "n", "acc", "macroF1"))
        for who, xs in scorers(path, len(texts)).items():
            pred = [cls(x, 0.05) for x in xs]
            acc = sum(1 for g, p in zip(gold, pred) if g == p) / len(gold)
            print("%-28s %-8s %6d %8.3f %8.3f" % (names[who], "ru-dev", len(texts), acc,
                                                  macro_f1(gold, pred)))
        airline(args, tmp, scorers, names)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
