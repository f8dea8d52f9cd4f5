#!/usr/bin/python3
"""gen_rules.py -- a realistic 1,000-rule topic set for the analyzer benchmark.

Writes bench/data/rules-1000/*.rules (1,000 rules in 10 files) and
bench/data/rules-100/topics.rules (the first 100), shaped like what a
marketing team writes: topics named after what they are about, each with
one to three match patterns of these kinds, in about these shares:

  - word lists with inflections   \\b(refund|refunds|refunded)\\b, \\bdeliver(y|ies|ed)?\\b
  - phrases                        \\bbattery\\s+life\\b, \\b(never|not)\\s+arrived\\b
  - stems                          \\bdisappoint\\w*
  - Russian stems, with "lang ru"  \\bдоставк\\w*
  - excludes and vetoes on some rules, weights on some, urgent rules (5%)

The words come from the texts the benchmark scores (VADER's movie and
product snippets, the Russian sentences), picked by frequency rank after
dropping stop words (ranks 300-1,000 for one rule in ten, the long tail
after that): the everyday words of the texts ("really", "good") are what
no topic is about, and a text gets a tag or two, most rules fire rarely. A
fixed random seed makes the output the same on every run.

  bench/gen_rules.py [--corpora ../shared/corpora] [--out bench/data]"""
import argparse
import collections
import csv
import os
import random
import re

STOP = set("""a an the and or but if then so of to in on at by for with from as is are was were be
been being it its this that these those i you he she we they me him her us them my your his our
their not no nor do does did done have has had having will would can could should may might must
shall just very too also only than more most much many some any all each every both few other such
own same what which who whom whose when where why how there here up down out over under again
further once about into through during before after above below off between because until while
s t don doesn isn wasn aren weren won wouldn couldn shouldn ve ll re d m film movie one like even
get gets got make makes made""".split())

RU_STOP = set("""и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только
ее мне было вот от меня еще нет о из ему теперь когда даже ну ли если уже или ни быть был него до
вас там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам без чего
раз тоже себе под будет тогда кто этот того потому этого какой совсем ним здесь этом один почти мой
тем чтобы нее были куда всех можно при два об другой после над больше тот через эти нас про всего
них какая много это также который которые которая которого которой году года лет более""".split())


def words_en(corpora):
    c = collections.Counter()
    for name in ("movieReviewSnippets", "amazonReviewSnippets"):
        path = os.path.join(corpora, "vader", name + "_GroundTruth.txt")
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.rstrip("\r\n").split("\t", 2)
                if len(parts) == 3:
                    for w in re.findall(r"[a-z]{4,}", parts[2].lower()):
                        if w not in STOP:
                            c[w] += 1
    return [w for w, _ in c.most_common(8000)]


def words_ru(corpora):
    c = collections.Counter()
    path = os.path.join(corpora, "ru", "opensentimentcorpus-dev.csv")
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            for w in re.findall(r"[а-яё]{5,}", row["Sentence"].lower()):
                if w not in RU_STOP:
                    c[w] += 1
    return [w for w, _ in c.most_common(1500)]


def inflect(w):
    if w.endswith("y") and len(w) > 4:
        return "%s(y|ies)" % w[:-1]
    if w.endswith("e"):
        return "%s(s|d)?" % w
    return "%s(s|ed|ing)?" % w


def pattern(rng, en, ru, kind):
    if kind == "words":
        ws = rng.sample(en, rng.randint(1, 3))
        return r"\b(%s)\b" % "|".join(inflect(w) for w in ws)
    if kind == "phrase":
        a, b = rng.sample(en, 2)
        mid = rng.choice([r"\s+", r"\s+(the|a|my|so)?\s*", r"[\s-]+"])
        return r"\b%s%s%s\b" % (a, mid, b)
    if kind == "stem":
        w = rng.choice(en)
        return r"\b%s\w*" % w[:max(4, len(w) - 2)]
    if kind == "ru":
        ws = rng.sample(ru, rng.randint(1, 3))
        return r"\b(%s)\w{0,3}\b" % "|".join(w[:max(4, len(w) - 2)] for w in ws)
    raise ValueError(kind)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpora", default="../shared/corpora")
    ap.add_argument("--out", default="bench/data")
    ap.add_argument("--rules", type=int, default=1000)
    args = ap.parse_args()
    rng = random.Random(20261122)
    en, ru = words_en(args.corpora), words_ru(args.corpora)
    # common topics draw from the frequent words, the long tail from the rest
    rules = []
    for i in range(args.rules):
        pool = en[300:1000] if i % 10 == 0 else en[1000:]
        lines = []
        is_ru = i % 10 == 7
        kind = "urgent" if i % 20 == 13 else "topic"
        name = "ru-%04d" % i if is_ru else "t-%04d-%s" % (i, pool[i % len(pool)])
        lines.append("%s %s" % (kind, name))
        if is_ru:
            lines.append("  lang  ru")
            for _ in range(rng.randint(1, 2)):
                lines.append("  match " + pattern(rng, pool, ru, "ru"))
        else:
            for _ in range(rng.randint(1, 3)):
                k = rng.choices(["words", "phrase", "stem"], [55, 30, 15])[0]
                lines.append("  match " + pattern(rng, pool, ru, k))
            if rng.random() < 0.15:
                a, b = rng.sample(en, 2)
                lines.append(r"  exclude \b%s\s+%s\b" % (a, b))
            if rng.random() < 0.05:
                lines.append(r"  veto  \b%s\b" % rng.choice(en))
        if rng.random() < 0.1:
            lines.append("  weight %d" % rng.randint(2, 5))
        rules.append("\n".join(lines))

    def write(folder, chunks):
        os.makedirs(folder, exist_ok=True)
        for old in os.listdir(folder):
            if old.endswith(".rules"):
                os.remove(os.path.join(folder, old))
        for name, body in chunks:
            with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
                f.write("# generated by bench/gen_rules.py; do not edit\n\n")
                f.write("\n\n".join(body) + "\n")

    per = 100
    write(os.path.join(args.out, "rules-1000"),
          [("topics-%02d.rules" % (k // per), rules[k:k + per]) for k in range(0, len(rules), per)])
    write(os.path.join(args.out, "rules-100"), [("topics.rules", rules[:100])])


if __name__ == "__main__":
    main()
