/* test_prefilter_plain.c -- the prefilter as it builds where eight-byte
 * words are not used: analyzer/prefilter.c is compiled here with
 * PREFILTER_NO_SWAR (its functions stand in for the library's), and
 * test_prefilter.c's cases run on it, so that the plain byte loops are
 * built and checked on every unit run. Run from the repository root. */
#define PREFILTER_NO_SWAR 1
#include "analyzer/prefilter.c"
#include "tests/analyzer/test_prefilter.c"
