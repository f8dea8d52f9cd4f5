/* lang.c -- which language a text is in: script, telltale letters, stop words.
 *
 * The guess picks the sentiment lexicon and lets rules say "lang ru", so it
 * has to be right on short posts and cheap enough to run on every one. It
 * works in two steps:
 *
 *   1. the script: the text is Latin when most of its letters are Latin,
 *      Cyrillic when most are Cyrillic, else unknown (no letters, mixed, or
 *      other scripts: Greek, Arabic, CJK...);
 *   2. within the script, votes: each stop word (the most frequent function
 *      words of a language: "the", "und", "est", "que"; "и", "що") is worth
 *      two, each letter only one of the candidates writes (ß ä ö ü for
 *      German, ñ ¿ ¡ for Spanish, ç œ è ê à ù for French; ы э ъ ё for
 *      Russian, і ї є ґ for Ukrainian) one. The most votes win; without any,
 *      Latin text is English and Cyrillic text Russian, the likeliest
 *      readers of a brand monitor here.
 *
 * The stop words are not looked up here: lexicon.c flags them on the entries
 * of its word table, so the sentiment tokenizer, which looks every token up
 * anyway, counts them in passing (struct lang_votes) and the guess costs one
 * pass over the letters. analyzer_lang_decide() is the pure decision. */
#include "analyzer/analyzer_internal.h"

/* Short lists of frequent words that are rare in the other candidates of the
 * same script (a word in two lists votes for both). */
static const char *const stop_en[] = {
    "the", "and", "is", "are", "was", "were", "of", "to", "in", "it", "that", "this", "with",
    "for", "not", "you", "my", "on", "have", "has", "be", "but", "they", "we", "at", "me",
    "so", "just", "very", "what", "would", "been", "an", "i", "it's", "i'm", "don't", "can't",
    "your", "from", "will", "there", "their", "about", "all", "or", "if", "do", "did", NULL,
};
static const char *const stop_de[] = {
    "der", "die", "das", "und", "ist", "nicht", "ich", "sie", "es", "ein", "eine", "einen",
    "mit", "auf", "den", "dem", "zu", "von", "sich", "auch", "war", "sind", "wir", "aber",
    "noch", "wie", "bei", "nach", "oder", "mein", "meine", "kein", "keine", "sehr", "schon",
    "für", "über", "dass", "ist's", "wird", "haben", "hat", "nur", "wenn", "doch", "mir",
    "mich", "ihr", "zum", "zur", "im", "vom", "gibt", NULL,
};
static const char *const stop_fr[] = {
    "le", "la", "les", "et", "est", "une", "des", "du", "que", "qui", "pas", "je", "il",
    "elle", "nous", "vous", "ce", "cette", "pour", "dans", "avec", "sur", "mais", "sont",
    "au", "aux", "ne", "très", "mon", "ma", "mes", "c'est", "j'ai", "n'est", "qu'il", "d'un",
    "d'une", "l'a", "être", "avoir", "fait", "plus", "tout", "ça", "été", "leur", "ou", "où",
    "encore", "sans", NULL,
};
static const char *const stop_es[] = {
    "el", "la", "los", "las", "y", "es", "una", "del", "que", "por", "con", "para", "pero",
    "muy", "esta", "está", "este", "mi", "lo", "se", "su", "al", "como", "más", "son", "yo",
    "tiene", "hay", "fue", "ya", "también", "porque", "cuando", "sin", "sobre", "todo",
    "nada", "nunca", "estoy", "tengo", "gracias", "hola", "ni", NULL,
};
static const char *const stop_ru[] = {
    "и", "в", "во", "не", "что", "он", "на", "я", "с", "со", "как", "а", "то", "все", "она",
    "так", "его", "но", "да", "ты", "к", "у", "же", "вы", "за", "бы", "по", "только", "ее",
    "мне", "было", "вот", "от", "меня", "еще", "нет", "о", "из", "ему", "теперь", "когда",
    "уже", "или", "ни", "был", "была", "были", "до", "вас", "нибудь", "уж", "вам", "ведь",
    "там", "потом", "себя", "ей", "может", "они", "тут", "где", "есть", "надо", "ней", "для",
    "мы", "тебя", "их", "чем", "сам", "чтоб", "без", "чего", "раз", "тоже", "себе", "под",
    "будет", "ж", "тогда", "кто", "этот", "того", "потому", "этого", "какой", "ним", "здесь",
    "этом", "мой", "тем", "чтобы", "нее", "сейчас", "куда", "зачем", "всех", "можно", "при",
    "об", "хоть", "после", "над", "через", "эти", "нас", "про", "всего", "них", "какая",
    "разве", "эту", "моя", "свою", "этой", "перед", "нельзя", "это", "также", "который",
    "которые", "которая", "которого", "которой", "котором", "которых", "которую", "ваш",
    "наш", "свой", "всё", "ещё", "её", "неё", "ли", "если", NULL,
};
static const char *const stop_uk[] = {
    "і", "й", "та", "що", "не", "це", "як", "але", "від", "до", "він", "вона", "ми", "ви",
    "вони", "був", "була", "було", "дуже", "мені", "мене", "тому", "який", "яка", "які",
    "щоб", "із", "з", "у", "в", "є", "також", "ще", "вже", "тільки", "цей", "ця", "ці",
    "його", "її", "їх", "для", "на", "про", "коли", "якщо", "або", "чи", "так", "ні", "немає",
    "можна", "треба", "все", "свій", "свою", NULL,
};

const char *const *const analyzer_lang_stopwords[LANG__COUNT] = {
    [LANG_EN] = stop_en, [LANG_RU] = stop_ru, [LANG_UK] = stop_uk,
    [LANG_DE] = stop_de, [LANG_FR] = stop_fr, [LANG_ES] = stop_es,
};

static const char *const codes[LANG__COUNT] = {
    [LANG_EN] = "en", [LANG_RU] = "ru", [LANG_UK] = "uk",
    [LANG_DE] = "de", [LANG_FR] = "fr", [LANG_ES] = "es",
};

const char *analyzer_lang_code(enum lang_id l)
{
    return l > LANG_NONE && l < LANG__COUNT ? codes[l] : NULL;
}

enum script { SC_NONE, SC_LATIN, SC_CYRILLIC, SC_OTHER };

static enum script script_of(uint32_t c)
{
    if (c < 0x80)
        return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? SC_LATIN : SC_NONE;
    if (c < 0xC0)
        return SC_NONE;
    if (c <= 0x24F)
        return (c == 0xD7 || c == 0xF7) ? SC_NONE : SC_LATIN;
    if (c < 0x370)
        return SC_NONE;              /* IPA, modifiers, combining marks */
    if (c >= 0x400 && c <= 0x52F)
        return SC_CYRILLIC;
    if (c >= 0x1E00 && c <= 0x1EFF)
        return SC_LATIN;             /* Latin Extended Additional */
    if (c < 0x2000)
        return SC_OTHER;             /* Greek, Armenian, Hebrew, Arabic, Indic... */
    if ((c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x9FFF) ||
        (c >= 0xAC00 && c <= 0xD7A3))
        return SC_OTHER;             /* kana, CJK, Hangul */
    return SC_NONE;                  /* punctuation, symbols, emoji */
}

/* The language a letter outside ASCII points to, or LANG_NONE. */
static enum lang_id letter_lang(uint32_t c)
{
    switch (c) {
    case 0xDF: case 0xE4: case 0xF6: case 0xFC: case 0xC4: case 0xD6: case 0xDC:
        return LANG_DE;                                   /* ß ä ö ü */
    case 0xF1: case 0xD1: case 0xBF: case 0xA1:
        return LANG_ES;                                   /* ñ ¿ ¡ */
    case 0xE7: case 0xC7: case 0x153: case 0xE8: case 0xEA: case 0xE0: case 0xF9:
    case 0xE2: case 0xEE: case 0xF4: case 0xFB: case 0xEB: case 0xEF:
        return LANG_FR;                                   /* ç œ è ê à ù â î ô û ë ï */
    case 0x44B: case 0x42B: case 0x44D: case 0x42D: case 0x44A: case 0x42A: case 0x451:
    case 0x401:
        return LANG_RU;                                   /* ы э ъ ё */
    case 0x456: case 0x406: case 0x457: case 0x407: case 0x454: case 0x404: case 0x491:
    case 0x490:
        return LANG_UK;                                   /* і ї є ґ */
    default:
        return LANG_NONE;
    }
}

/* The telltale letters of U+0400..U+047F (lead bytes D0 and D1: most
 * letters of a Cyrillic text), by cp - 0x400, as a count that adds up
 * without overflow in a block of text (below): 1 for Russian, 1 << 16 for
 * Ukrainian. ґ and Ґ (U+0490, U+0491) are past it. */
#define MARK_RU 1u
#define MARK_UK (1u << 16)
static const uint32_t cyr_mark[0x80] = {
    [0x4B] = MARK_RU, [0x2B] = MARK_RU, [0x4D] = MARK_RU, [0x2D] = MARK_RU,   /* ы Ы э Э */
    [0x4A] = MARK_RU, [0x2A] = MARK_RU, [0x51] = MARK_RU, [0x01] = MARK_RU,   /* ъ Ъ ё Ё */
    [0x56] = MARK_UK, [0x06] = MARK_UK, [0x57] = MARK_UK, [0x07] = MARK_UK,   /* і І ї Ї */
    [0x54] = MARK_UK, [0x04] = MARK_UK,                                       /* є Є */
};

/* The counts of a text, kept in registers while its letters are read and
 * added to struct lang_votes once. */
struct tally {
    uint32_t latin, cyrillic, other, rare, ru, uk;
};

/* One character at s[0..len), len > 0, the general way; returns its bytes.
 * The telltale letters outside U+0400..U+047F, rare, go to v directly. */
static size_t letter_at(const unsigned char *s, size_t len, struct tally *t,
                        struct lang_votes *v)
{
    unsigned c = s[0];
    if (c < 0x80) {
        t->latin += ((c | 0x20) - 'a') < 26u;
        return 1;
    }
    if ((c == 0xD0 || c == 0xD1) && len > 1 && (s[1] & 0xC0) == 0x80) {
        uint32_t m = cyr_mark[((c & 1u) << 6) | (s[1] & 0x3Fu)];
        t->cyrillic++;
        t->ru += m & 0xFFFF;
        t->uk += m >> 16;
        return 2;
    }
    size_t adv;
    uint32_t cp;
    t->rare++;
    if (c >= 0xC2 && c < 0xE0 && len > 1 && (s[1] & 0xC0) == 0x80) {
        cp = ((c & 0x1Fu) << 6) | (s[1] & 0x3Fu);      /* two bytes: most letters */
        adv = 2;
    } else {
        cp = ctx_utf8_decode(s, len, &adv);
    }
    switch (script_of(cp)) {
    case SC_LATIN: t->latin++; break;
    case SC_CYRILLIC: t->cyrillic++; break;
    case SC_OTHER: t->other++; break;
    default: break;
    }
    enum lang_id l = letter_lang(cp);
    if (l != LANG_NONE)
        v->letter[l]++;
    return adv;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* What eight-byte words add up, lane by lane: a lane counts one at most a
 * word, so 255 words fit a byte. */
struct lanes {
    uint64_t latin, cyrillic;
    uint32_t marks;             /* cyr_mark[]'s: at most 4 a word */
};
/* Text is read in blocks of at most 254 words of seven bytes or more, and
 * a padded last word. */
#define BLOCK (254 * 7)

/* The eight bytes w from a character boundary, when they are ASCII and
 * letters of U+0400..U+047F in any mix (Russian words and the spaces and
 * punctuation between them): counted into n, with no branch on which byte
 * is which, and their length returned: 8, or 7 when the last is a lead
 * whose continuation is the next byte. Anything else: 0, and *bad the
 * lane of the first byte that is neither. */
static inline __attribute__((always_inline)) size_t letters8(uint64_t w, struct lanes *n,
                                                             unsigned *bad)
{
    uint64_t high = w & HIGHS, up = w << 1;
    uint64_t cont = high & ~up;                             /* 10xxxxxx */
    uint64_t lead = high & up;                              /* 11xxxxxx */
    /* a lead other than D0 and D1 differs from D0 in bits 1..5 */
    uint64_t other = (((w ^ ONES * 0xD0) & ONES * 0x3E) + ONES * 0x7E) & lead;
    /* ... and each continuation right after a lead, each lead before one
     * (a lead in the last lane: its continuation is not here) */
    uint64_t odd = other | (cont ^ (lead << 8));
    if (odd) {
        *bad = (unsigned)__builtin_ctzll(odd) >> 3;
        return 0;
    }
    /* ASCII letters, upper-cased: with their high bits clear, adding never
     * carries (the other lanes are masked by ~w) */
    uint64_t u = w & ONES * 0x5F;
    uint64_t latin = ((u + ONES * (0x80 - 'A')) ^ (u + ONES * (0x7F - 'Z'))) & ~w & HIGHS;
    n->latin += latin >> 7;
    n->cyrillic += cont >> 7;          /* a Cyrillic letter: its continuation */
    /* each letter's cp - 0x400 in its continuation's lane; as two
     * continuations are never neighbours, lanes 1, 3, 5 and 7 of the word
     * ORed with itself shifted by a lane hold them all */
    uint64_t key = (w & ((cont >> 7) * 0x3F)) | ((up << 13) & (cont >> 1));
    key |= key >> 8;
    n->marks += cyr_mark[(key >> 8) & 0x7F] + cyr_mark[(key >> 24) & 0x7F] +
                cyr_mark[(key >> 40) & 0x7F] + cyr_mark[key >> 56];
    return 8 - (size_t)(lead >> 63);
}

/* The sum of the eight byte lanes of x. */
static inline uint32_t lane_sum(uint64_t x)
{
    x = (x & 0x00FF00FF00FF00FFull) + ((x >> 8) & 0x00FF00FF00FF00FFull);
    return (uint32_t)((x * 0x0001000100010001ull) >> 48);
}
#define LETTERS_SWAR 1
#else
#define LETTERS_SWAR 0
#endif

/* Eight bytes at a time whatever their mix, one branch a word: a loop that
 * took four Cyrillic letters at a time and fell to single bytes at every
 * space and short word missed some 39 branches a Russian text. */
void analyzer_lang_letters(const unsigned char *s, size_t len, struct lang_votes *v)
{
    struct tally t = {0};
    size_t i = 0;
    while (i < len) {
#if LETTERS_SWAR
        struct lanes n = {0};
        size_t end = i + (len - i < BLOCK ? len - i : BLOCK), k;
        unsigned bad = 0;
        uint64_t w;
        while (i + 8 <= end && (memcpy(&w, s + i, 8), k = letters8(w, &n, &bad)))
            i += k;
        int odd = i + 8 <= end;
        if (!odd && end == len && i < len) {
            /* the last bytes, followed by zeros (no letters): the text's
             * last eight bytes shifted down, or the short text copied */
            if (len >= 8) {
                memcpy(&w, s + len - 8, 8);
                w >>= 8 * (8 - (len - i));
            } else {
                w = 0;
                memcpy(&w, s + i, len - i);
            }
            if (letters8(w, &n, &bad))
                i = len;
            else
                odd = 1;
        }
        t.latin += lane_sum(n.latin);
        t.cyrillic += lane_sum(n.cyrillic);
        t.ru += n.marks & 0xFFFF;
        t.uk += n.marks >> 16;
        /* the characters before the odd byte, and the one it is in */
        for (size_t stop = i + bad + 1; odd && i < stop && i < len;)
            i += letter_at(s + i, len - i, &t, v);
#else
        i += letter_at(s + i, len - i, &t, v);
#endif
    }
    v->latin += t.latin;
    v->cyrillic += t.cyrillic;
    v->other += t.other;
    v->rare += t.rare;
    v->letter[LANG_RU] += t.ru;
    v->letter[LANG_UK] += t.uk;
}

static enum lang_id best_of(const struct lang_votes *v, const enum lang_id *cand, size_t n)
{
    enum lang_id best = cand[0];
    uint32_t top = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t score = 2 * v->stop[cand[k]] + v->letter[cand[k]];
        if (score > top) {       /* ties go to the earlier, likelier candidate */
            top = score;
            best = cand[k];
        }
    }
    return best;
}

enum lang_id analyzer_lang_decide(const struct lang_votes *v)
{
    uint64_t letters = (uint64_t)v->latin + v->cyrillic + v->other;
    if (letters == 0)
        return LANG_NONE;
    if ((uint64_t)v->latin * 2 > letters) {
        static const enum lang_id latin[] = {LANG_EN, LANG_DE, LANG_FR, LANG_ES};
        return best_of(v, latin, CTX_ARRAY_LEN(latin));
    }
    if ((uint64_t)v->cyrillic * 2 > letters) {
        static const enum lang_id cyr[] = {LANG_RU, LANG_UK};
        return best_of(v, cyr, CTX_ARRAY_LEN(cyr));
    }
    return LANG_NONE;
}
