#!/usr/bin/python3
"""build_ru_lexicon.py -- etc/lexicons/ru_polsentilex.tsv from PolSentiLex.

PolSentiLex (hse-scila/PolSentiLex, LINIS Crowd; CC BY 4.0, see
PolSentiLex-LICENSE here) ships raw annotator marks: one "word,score" row per
mark, score -2..2, three to thirteen marks per word. This script aggregates
them into one row per word:

    word<TAB>mean mark (3 decimals)<TAB>number of marks

Words are lower-cased and "ё" is written "е" (as the analyzer normalises
text); rows for the same word after that are merged. Nothing is dropped or
re-weighted here: how marks become valences (which means count as polar,
the scale) is the analyzer's policy, described in docs/analyzer.md and
applied when the file is loaded (analyzer/lexicon.c).

  etc/lexicons/build_ru_lexicon.py [PolSentiLex-raw.csv] > etc/lexicons/ru_polsentilex.tsv

Default input: ../shared/corpora/ru/PolSentiLex-raw.csv. Standard library only;
the output is sorted, so rebuilding gives the same bytes."""
import collections
import sys


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "../shared/corpora/ru/PolSentiLex-raw.csv"
    marks = collections.defaultdict(list)
    with open(src, encoding="utf-8-sig") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            word, _, score = line.rpartition(",")
            word = word.strip().lower().replace("ё", "е")
            if not word or not score.strip().lstrip("-").isdigit():
                sys.exit("%s:%d: expected word,score" % (src, n))
            marks[word].append(int(score))
    out = sys.stdout
    out.write("# Russian sentiment lexicon aggregated from PolSentiLex (CC BY 4.0), see README.\n")
    out.write("# word<TAB>mean of the annotators' marks (-2..2)<TAB>number of marks\n")
    for word in sorted(marks):
        v = marks[word]
        out.write("%s\t%.3f\t%d\n" % (word, sum(v) / len(v), len(v)))


if __name__ == "__main__":
    main()
