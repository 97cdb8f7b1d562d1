/* The word loop of webapp/insights/terms/extract.py in C: the same terms, without a Python
   step per chunk.

   terms(text, stop, table, chunk, max_words, max_pairs, max_triples, max_term, head) -> list[str]

   `text` is a text as it came, of which the first `head` characters (all of them: -1) are read
   as extract._prepared makes them, one chunk at a time (a chunk of ASCII lower-cased here, any
   other by str.lower and its ’ made '; a space never changes, so the chunks are _prepared's),
   without making the whole copy first; `stop` the stopword set
   (a frozenset), `table` extract._tokens and `chunk` extract._chunk (a chunk -> (tokens,
   pieces), remembered in the table). It reads the text one space-separated chunk at a time,
   as extract's Python loop does (which stays as the reference, and runs when this module was
   not built): a chunk of letters only is a word as it stands; any other chunk's tokens come
   from the table (or `chunk`), each (word, bare) for a word, (hashtag, None) for a hashtag and
   (None, None) for a break. tests/insights/test_terms_extract_same.py checks both loops against
   the replaced extractor on a varied and hostile sample. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    PyObject *stop;
    PyObject *words, *pairs, *triples;   /* dicts used as ordered sets */
    PyObject *w1, *w2;                   /* the two words before this one (owned; NULL: none) */
    int k1, k2;                          /* whether they may start or end a phrase */
    Py_ssize_t max_words, max_pairs, max_triples, max_term;
} Loop;

static void end_run(Loop *s) {
    Py_CLEAR(s->w1);
    Py_CLEAR(s->w2);
    s->k1 = s->k2 = 0;
}

static int full(Loop *s) {
    return PyDict_GET_SIZE(s->words) >= s->max_words && PyDict_GET_SIZE(s->pairs) >= s->max_pairs
           && PyDict_GET_SIZE(s->triples) >= s->max_triples;
}

/* "a b" or "a b c" (c NULL: two words) into `set`. */
static int add_phrase(PyObject *set, PyObject *a, PyObject *b, PyObject *c) {
    PyObject *parts[3] = {a, b, c};
    int n = c ? 3 : 2;
    Py_ssize_t size = n - 1;
    Py_UCS4 widest = 127;     /* the parts are canonical: the widest part's kind is the phrase's */
    for (int i = 0; i < n; i++) {
        size += PyUnicode_GET_LENGTH(parts[i]);
        if (PyUnicode_MAX_CHAR_VALUE(parts[i]) > widest)
            widest = PyUnicode_MAX_CHAR_VALUE(parts[i]);
    }
    PyObject *phrase = PyUnicode_New(size, widest);
    if (!phrase)
        return -1;
    Py_ssize_t at = 0;
    for (int i = 0; i < n; i++) {
        if (i) {
            PyUnicode_WRITE(PyUnicode_KIND(phrase), PyUnicode_DATA(phrase), at, ' ');
            at++;
        }
        if (PyUnicode_CopyCharacters(phrase, at, parts[i], 0, PyUnicode_GET_LENGTH(parts[i])) < 0) {
            Py_DECREF(phrase);
            return -1;
        }
        at += PyUnicode_GET_LENGTH(parts[i]);
    }
    int failed = PyDict_SetItem(set, phrase, Py_None);
    Py_DECREF(phrase);
    return failed;
}

/* One word and its bare form (the same object when it has no "'s"). Returns 1 when every cap
   is full, 0 to go on, -1 on an error. */
static int on_word(Loop *s, PyObject *word, PyObject *bare) {
    int keep = 0;
    if (PyUnicode_GET_LENGTH(word) > 1) {
        int in = PySet_Contains(s->stop, word);
        if (in < 0)
            return -1;
        if (!in && bare != word) {
            in = PySet_Contains(s->stop, bare);
            if (in < 0)
                return -1;
        }
        keep = !in;
    }
    if (keep) {
        if (PyDict_GET_SIZE(s->words) < s->max_words && PyUnicode_GET_LENGTH(bare) <= s->max_term
            && PyDict_SetItem(s->words, bare, Py_None) < 0)
            return -1;
        if (s->k1 && PyDict_GET_SIZE(s->pairs) < s->max_pairs && add_phrase(s->pairs, s->w1, word, NULL) < 0)
            return -1;
        if (s->k2 && PyDict_GET_SIZE(s->triples) < s->max_triples
            && add_phrase(s->triples, s->w2, s->w1, word) < 0)
            return -1;
        if (full(s))
            return 1;
    }
    Py_XSETREF(s->w2, s->w1);    /* w2, k2, w1, k1 = w1, k1, word, keep */
    s->k2 = s->k1;
    Py_INCREF(word);
    s->w1 = word;
    s->k1 = keep;
    return 0;
}

/* The tokens of a chunk that is not letters only. Returns as on_word. */
static int on_tokens(Loop *s, PyObject *tokens) {
    Py_ssize_t n = PyTuple_GET_SIZE(tokens);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *token = PyTuple_GET_ITEM(tokens, i);
        PyObject *w = PyTuple_GET_ITEM(token, 0), *bare = PyTuple_GET_ITEM(token, 1);
        if (bare == Py_None) {             /* a break or a hashtag: ends the run */
            if (w != Py_None && PyDict_GET_SIZE(s->words) < s->max_words
                && PyDict_SetItem(s->words, w, Py_None) < 0)
                return -1;
            end_run(s);
            continue;
        }
        int done = on_word(s, w, bare);
        if (done)
            return done;
    }
    return 0;
}

/* tokens: a tuple of 2-tuples (what extract._chunk gives). */
static int well_formed(PyObject *tokens) {
    if (!PyTuple_Check(tokens))
        return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tokens); i++) {
        PyObject *token = PyTuple_GET_ITEM(tokens, i);
        if (!PyTuple_Check(token) || PyTuple_GET_SIZE(token) != 2)
            return 0;
        PyObject *w = PyTuple_GET_ITEM(token, 0), *bare = PyTuple_GET_ITEM(token, 1);
        if ((w != Py_None && !PyUnicode_Check(w)) || (bare != Py_None && !PyUnicode_Check(bare))
            || (w == Py_None && bare != Py_None))
            return 0;
    }
    return 1;
}

/* text[start:end] as extract._prepared makes it: ASCII lower-cased here (str.lower of ASCII
   changes A-Z only), anything else by str.lower, then ’ made ' (`ascii`: every character of the
   chunk is below 128). */
static PyObject *prepared_chunk(PyObject *text, int kind, const void *data, Py_ssize_t start, Py_ssize_t end,
                                int ascii) {
    if (ascii) {
        PyObject *out = PyUnicode_New(end - start, 127);
        if (!out)
            return NULL;
        Py_UCS1 *to = PyUnicode_1BYTE_DATA(out);
        for (Py_ssize_t i = start; i < end; i++)
            to[i - start] = (Py_UCS1)Py_TOLOWER(PyUnicode_READ(kind, data, i));
        return out;
    }
    PyObject *raw = PyUnicode_Substring(text, start, end);
    if (!raw)
        return NULL;
    PyObject *lowered = PyObject_CallMethod(raw, "lower", NULL);
    Py_DECREF(raw);
    if (!lowered || PyUnicode_FindChar(lowered, 0x2019, 0, PyUnicode_GET_LENGTH(lowered), 1) < 0)
        return lowered;     /* (-2, an error, cannot happen for a str in range) */
    PyObject *curly = PyUnicode_FromOrdinal(0x2019), *straight = PyUnicode_FromOrdinal('\'');
    PyObject *out = curly && straight ? PyUnicode_Replace(lowered, curly, straight, -1) : NULL;
    Py_XDECREF(curly);
    Py_XDECREF(straight);
    Py_DECREF(lowered);
    return out;
}

static int is_alpha(PyObject *chunk) {
    int kind = PyUnicode_KIND(chunk);
    const void *data = PyUnicode_DATA(chunk);
    Py_ssize_t n = PyUnicode_GET_LENGTH(chunk);
    if (n == 0)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (!Py_UNICODE_ISALPHA(PyUnicode_READ(kind, data, i)))
            return 0;
    return 1;
}

/* The end of the chunk that starts at `start` (the next space, or n), whether it is letters
   only (str.isalpha) and whether it is ASCII. */
static Py_ssize_t chunk_end(int kind, const void *data, Py_ssize_t n, Py_ssize_t start, int *letters, int *ascii) {
    Py_ssize_t end = start;
    *letters = 1;
    *ascii = 1;
    for (; end < n; end++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, end);
        if (ch == ' ')
            break;
        if (ch >= 128)
            *ascii = 0;
        if (*letters && !(ch < 128 ? Py_ISALPHA(ch) : Py_UNICODE_ISALPHA(ch)))
            *letters = 0;
    }
    if (end == start)
        *letters = 0;
    return end;
}

/* What the table (or `chunker`) gives for a chunk, (tokens, pieces): a new reference, or NULL
   with an error set (also when it is not a 2-tuple). */
static PyObject *looked_up(PyObject *table, PyObject *chunker, PyObject *chunk) {
    PyObject *found = PyDict_GetItemWithError(table, chunk);
    if (found)
        Py_INCREF(found);
    else if (!PyErr_Occurred())
        found = PyObject_CallOneArg(chunker, chunk);
    if (found && !(PyTuple_Check(found) && PyTuple_GET_SIZE(found) == 2)) {
        Py_DECREF(found);
        PyErr_SetString(PyExc_TypeError, "a chunk's entry must be (tokens, pieces)");
        return NULL;
    }
    return found;
}

/* The list extract._terms makes: words, then the phrases that fit `max_term`. */
static PyObject *result(Loop *s) {
    PyObject *out = PyDict_Keys(s->words);
    if (!out)
        return NULL;
    PyObject *sets[2] = {s->pairs, s->triples};
    for (int k = 0; k < 2; k++) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(sets[k], &pos, &key, &value)) {
            if (PyUnicode_GET_LENGTH(key) <= s->max_term && PyList_Append(out, key) < 0) {
                Py_DECREF(out);
                return NULL;
            }
        }
    }
    return out;
}

static PyObject *terms(PyObject *module, PyObject *args) {
    PyObject *text, *stop, *table, *chunker;
    Py_ssize_t head;
    Loop s = {0};
    if (!PyArg_ParseTuple(args, "UO!O!Onnnnn:terms", &text, &PyFrozenSet_Type, &stop, &PyDict_Type, &table,
                          &chunker, &s.max_words, &s.max_pairs, &s.max_triples, &s.max_term, &head))
        return NULL;
    s.stop = stop;
    s.words = PyDict_New();
    s.pairs = PyDict_New();
    s.triples = PyDict_New();
    PyObject *out = NULL;
    if (!s.words || !s.pairs || !s.triples)
        goto done;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), start = 0;
    if (head >= 0 && head < n)
        n = head;
    for (;;) {
        int letters, ascii;
        Py_ssize_t end = chunk_end(kind, data, n, start, &letters, &ascii);
        PyObject *chunk = prepared_chunk(text, kind, data, start, end, ascii);
        if (!chunk)
            goto done;
        if (!ascii)      /* lower-casing may change what is a letter ("İ" -> "i̇") */
            letters = is_alpha(chunk);
        int state;
        if (letters) {
            state = on_word(&s, chunk, chunk);
        } else {
            PyObject *found = looked_up(table, chunker, chunk);
            if (!found) {
                Py_DECREF(chunk);
                goto done;
            }
            if (well_formed(PyTuple_GET_ITEM(found, 0))) {
                state = on_tokens(&s, PyTuple_GET_ITEM(found, 0));
            } else {
                PyErr_SetString(PyExc_TypeError, "a chunk's tokens must be a tuple of (word, bare) pairs");
                state = -1;
            }
            Py_DECREF(found);
        }
        Py_DECREF(chunk);
        if (state < 0)
            goto done;
        if (state > 0 || end >= n)
            break;
        start = end + 1;
    }
    out = result(&s);
done:
    end_run(&s);
    Py_XDECREF(s.words);
    Py_XDECREF(s.pairs);
    Py_XDECREF(s.triples);
    return out;
}

/* head(prepared, table, chunk, n) -> set: the first n pieces of prepared text whose only
   whitespace is single spaces inside it (extract._head's common case): a chunk of letters only is
   its own piece, any other chunk's pieces come from the table (or `chunk`), in order. */
static PyObject *head(PyObject *module, PyObject *args) {
    PyObject *text, *table, *chunker;
    Py_ssize_t wanted;
    if (!PyArg_ParseTuple(args, "UO!On:head", &text, &PyDict_Type, &table, &chunker, &wanted))
        return NULL;
    PyObject *out = PySet_New(NULL);
    if (!out)
        return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), start = 0, taken = 0;
    while (taken < wanted) {
        int letters, ascii;
        Py_ssize_t end = chunk_end(kind, data, n, start, &letters, &ascii);
        PyObject *chunk = PyUnicode_Substring(text, start, end);
        if (!chunk)
            goto failed;
        if (letters) {
            int failed = PySet_Add(out, chunk);
            Py_DECREF(chunk);
            if (failed < 0)
                goto failed;
            taken++;
        } else {
            PyObject *found = looked_up(table, chunker, chunk);
            Py_DECREF(chunk);
            if (!found)
                goto failed;
            PyObject *pieces = PyTuple_GET_ITEM(found, 1);
            if (!PyTuple_Check(pieces)) {
                Py_DECREF(found);
                PyErr_SetString(PyExc_TypeError, "a chunk's pieces must be a tuple of str");
                goto failed;
            }
            for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(pieces) && taken < wanted; i++, taken++) {
                if (PySet_Add(out, PyTuple_GET_ITEM(pieces, i)) < 0) {
                    Py_DECREF(found);
                    goto failed;
                }
            }
            Py_DECREF(found);
        }
        if (end >= n)
            break;
        start = end + 1;
    }
    return out;
failed:
    Py_DECREF(out);
    return NULL;
}

static PyMethodDef methods[] = {
    {"terms", terms, METH_VARARGS, "The terms of prepared text (webapp/insights/terms/extract.py's loop)."},
    {"head", head, METH_VARARGS, "The first pieces of prepared text as a set (extract._head's common case)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_extract_loop", NULL, -1, methods};

PyMODINIT_FUNC PyInit__extract_loop(void) {
    return PyModule_Create(&module);
}
