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

/* letter_lang() of U+0400..U+047F (lead bytes D0 and D1: most letters of a
 * Cyrillic text), by cp - 0x400; ґ and Ґ (U+0490, U+0491) are past it. */
static const uint8_t cyr_lang[0x80] = {
    [0x4B] = LANG_RU, [0x2B] = LANG_RU, [0x4D] = LANG_RU, [0x2D] = LANG_RU,   /* ы Ы э Э */
    [0x4A] = LANG_RU, [0x2A] = LANG_RU, [0x51] = LANG_RU, [0x01] = LANG_RU,   /* ъ Ъ ё Ё */
    [0x56] = LANG_UK, [0x06] = LANG_UK, [0x57] = LANG_UK, [0x07] = LANG_UK,   /* і І ї Ї */
    [0x54] = LANG_UK, [0x04] = LANG_UK,                                       /* є Є */
};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* How many of eight ASCII bytes are letters: bytes below 0x80 plus at most
 * 0x80 never carry into the next byte. */
static inline unsigned ascii_letters8(uint64_t w)
{
    uint64_t l = w | ONES * 0x20;            /* 'A'..'Z' -> 'a'..'z' (others stay out) */
    uint64_t m = (l + ONES * (0x80 - 'a')) & ~(l + ONES * (0x80 - 'z' - 1)) & HIGHS;
    return (unsigned)__builtin_popcountll(m);
}
#define LETTERS_SWAR 1
#else
#define LETTERS_SWAR 0
#endif

void analyzer_lang_letters(const unsigned char *s, size_t len, struct lang_votes *v)
{
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        if (c < 0x80) {
#if LETTERS_SWAR
            uint64_t w;
            if (i + 8 <= len && (memcpy(&w, s + i, 8), !(w & HIGHS))) {
                v->latin += ascii_letters8(w);
                i += 8;
                continue;
            }
#endif
            v->latin += ((c | 0x20) - 'a') < 26u;
            i++;
            continue;
        }
        size_t adv;
        uint32_t cp;
        if ((c == 0xD0 || c == 0xD1) && i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
            /* U+0400..U+047F: Cyrillic letters, most of a Russian text */
#if LETTERS_SWAR
            uint64_t w;
            while (i + 8 <= len && (memcpy(&w, s + i, 8),
                                    (w & 0xC0FEC0FEC0FEC0FEull) == 0x80D080D080D080D0ull)) {
                /* four of them at once: lead byte D0/D1, then a continuation */
                for (unsigned k = 0; k < 64; k += 16)
                    v->letter[cyr_lang[((w >> k) & 1u) << 6 | ((w >> (k + 8)) & 0x3Fu)]]++;
                v->cyrillic += 4;
                i += 8;
            }
            if (i + 1 >= len || (s[i] != 0xD0 && s[i] != 0xD1) || (s[i + 1] & 0xC0) != 0x80)
                continue;
            c = s[i];
#endif
            unsigned l = cyr_lang[((c & 1u) << 6) | (s[i + 1] & 0x3Fu)];
            i += 2;
            v->cyrillic++;
            v->letter[l]++;          /* LANG_NONE's count is never read */
            continue;
        }
        v->rare++;
        if (c >= 0xC2 && c < 0xE0 && i + 1 < len && (s[i + 1] & 0xC0) == 0x80) {
            cp = ((c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);      /* two bytes: most letters */
            adv = 2;
        } else {
            cp = ctx_utf8_decode(s + i, len - i, &adv);
        }
        i += adv;
        switch (script_of(cp)) {
        case SC_LATIN: v->latin++; break;
        case SC_CYRILLIC: v->cyrillic++; break;
        case SC_OTHER: v->other++; break;
        default: break;
        }
        enum lang_id l = letter_lang(cp);
        if (l != LANG_NONE)
            v->letter[l]++;
    }
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
