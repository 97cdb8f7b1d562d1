/* The fold's tally of joined term deltas in C (webapp/ingest/term_deltas.py: `summed`).

   tally_joined(texts, lengths, compounds, sep) -> (terms, counts, scored, sums)

   `texts` are term_deltas.terms values of one (monitor, hour): every term of their mentions in
   order, joined by `sep` (one character); `lengths` how many terms each mention has and
   `compounds` each one's compound (NaN: not scored), for all texts in order. The answer is each
   distinct term, first seen first, with how many mentions hold it, how many of those are scored
   and the sum of their compounds, added in the mentions' order: what term_rollups.tally gives
   for the same terms split apart (its numpy bincounts add in the same order), without making a
   string of every term first: the terms are read in place and hashed as code points, and only
   the distinct ones become strings. tests/ingest/test_term_tally.py compares the two. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    Py_ssize_t text, start, size;   /* the term's first occurrence: texts[text][start:start + size] */
    uint64_t hash;
    Py_ssize_t count, scored;
    double sum;
} Entry;

typedef struct {
    int kind;
    const void *data;
} Text;

static uint64_t span_hash(const Text *t, Py_ssize_t start, Py_ssize_t end) {
    uint64_t h = 1469598103934665603ULL;      /* FNV-1a over the code points */
    for (Py_ssize_t i = start; i < end; i++) {
        h ^= (uint64_t)PyUnicode_READ(t->kind, t->data, i);
        h *= 1099511628211ULL;
    }
    return h;
}

static int same_span(const Text *a, Py_ssize_t a_start, const Text *b, Py_ssize_t b_start, Py_ssize_t size) {
    if (a->kind == b->kind)
        return memcmp((const char *)a->data + a_start * a->kind, (const char *)b->data + b_start * b->kind,
                      (size_t)size * a->kind) == 0;
    for (Py_ssize_t i = 0; i < size; i++)
        if (PyUnicode_READ(a->kind, a->data, a_start + i) != PyUnicode_READ(b->kind, b->data, b_start + i))
            return 0;
    return 1;
}

static PyObject *tally_joined(PyObject *module, PyObject *args) {
    PyObject *texts, *lengths, *compounds, *sep_object;
    if (!PyArg_ParseTuple(args, "O!O!O!U:tally_joined", &PyList_Type, &texts, &PyList_Type, &lengths,
                          &PyList_Type, &compounds, &sep_object))
        return NULL;
    if (PyUnicode_GET_LENGTH(sep_object) != 1) {
        PyErr_SetString(PyExc_ValueError, "sep must be one character");
        return NULL;
    }
    Py_UCS4 sep = PyUnicode_READ_CHAR(sep_object, 0);
    Py_ssize_t n_texts = PyList_GET_SIZE(texts), n_mentions = PyList_GET_SIZE(lengths);
    if (PyList_GET_SIZE(compounds) != n_mentions) {
        PyErr_SetString(PyExc_ValueError, "lengths and compounds differ in length");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n_texts; i++) {
        if (!PyUnicode_Check(PyList_GET_ITEM(texts, i))) {
            PyErr_SetString(PyExc_TypeError, "texts must be str");
            return NULL;
        }
    }
    /* sized by the distinct terms found (an hour's vocabulary), not by the terms read: both
       arrays double as they fill, the slots at half full */
    Py_ssize_t capacity = 1024, room = 512;
    Text *views = PyMem_Malloc(sizeof(Text) * (n_texts ? n_texts : 1));
    Py_ssize_t *slots = PyMem_Malloc(sizeof(Py_ssize_t) * capacity);   /* -1: empty, else an entry */
    Entry *entries = PyMem_Malloc(sizeof(Entry) * room);
    PyObject *out = NULL;
    if (!views || !slots || !entries) {
        PyErr_NoMemory();
        goto done;
    }
    memset(slots, 0xff, sizeof(Py_ssize_t) * capacity);
    Py_ssize_t n_entries = 0, mention = -1, left = 0;
    double compound = 0.0;
    int is_scored = 0;
    for (Py_ssize_t i = 0; i < n_texts; i++) {
        PyObject *text = PyList_GET_ITEM(texts, i);
        Text *t = &views[i];
        t->kind = PyUnicode_KIND(text);
        t->data = PyUnicode_DATA(text);
        Py_ssize_t size = PyUnicode_GET_LENGTH(text), start = 0;
        if (size == 0)
            continue;                    /* a row without terms (never written, but harmless) */
        for (;;) {
            Py_ssize_t end = start;
            while (end < size && PyUnicode_READ(t->kind, t->data, end) != sep)
                end++;
            while (left == 0) {          /* the next mention that has terms */
                if (++mention >= n_mentions) {
                    PyErr_SetString(PyExc_ValueError, "more terms than the lengths say");
                    goto done;
                }
                PyObject *length = PyList_GET_ITEM(lengths, mention);
                left = PyLong_AsSsize_t(length);
                if (left < 0) {
                    if (!PyErr_Occurred())
                        PyErr_SetString(PyExc_ValueError, "a negative length");
                    goto done;
                }
                compound = PyFloat_AsDouble(PyList_GET_ITEM(compounds, mention));
                if (compound == -1.0 && PyErr_Occurred())
                    goto done;
                is_scored = !isnan(compound);
            }
            left--;
            uint64_t h = span_hash(t, start, end);
            Py_ssize_t slot = (Py_ssize_t)(h & (uint64_t)(capacity - 1));
            Entry *e = NULL;
            while (slots[slot] >= 0) {
                Entry *candidate = &entries[slots[slot]];
                if (candidate->hash == h && candidate->size == end - start
                    && same_span(&views[candidate->text], candidate->start, t, start, end - start)) {
                    e = candidate;
                    break;
                }
                slot = (slot + 1) & (capacity - 1);
            }
            if (!e) {
                if (n_entries == room) {
                    Entry *grown = PyMem_Realloc(entries, sizeof(Entry) * room * 2);
                    if (!grown) {
                        PyErr_NoMemory();
                        goto done;
                    }
                    entries = grown;
                    room *= 2;
                }
                slots[slot] = n_entries;
                e = &entries[n_entries++];
                e->text = i;
                e->start = start;
                e->size = end - start;
                e->hash = h;
                e->count = e->scored = 0;
                e->sum = 0.0;
            }
            e->count++;
            if (is_scored) {
                e->scored++;
                e->sum += compound;
            }
            if (2 * n_entries > capacity) {      /* half full: twice the slots, every entry placed again */
                Py_ssize_t *grown = PyMem_Malloc(sizeof(Py_ssize_t) * capacity * 2);
                if (!grown) {
                    PyErr_NoMemory();
                    goto done;
                }
                capacity *= 2;
                memset(grown, 0xff, sizeof(Py_ssize_t) * capacity);
                for (Py_ssize_t k = 0; k < n_entries; k++) {
                    Py_ssize_t at = (Py_ssize_t)(entries[k].hash & (uint64_t)(capacity - 1));
                    while (grown[at] >= 0)
                        at = (at + 1) & (capacity - 1);
                    grown[at] = k;
                }
                PyMem_Free(slots);
                slots = grown;
            }
            if (end >= size)
                break;
            start = end + 1;
        }
    }
    if (left != 0) {
        PyErr_SetString(PyExc_ValueError, "fewer terms than the lengths say");
        goto done;
    }
    for (Py_ssize_t m = mention + 1; m < n_mentions; m++) {     /* the rest must have no terms */
        Py_ssize_t rest = PyLong_AsSsize_t(PyList_GET_ITEM(lengths, m));
        if (rest != 0) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "fewer terms than the lengths say");
            goto done;
        }
    }
    PyObject *terms = PyList_New(n_entries), *counts = PyList_New(n_entries);
    PyObject *scored = PyList_New(n_entries), *sums = PyList_New(n_entries);
    if (terms && counts && scored && sums) {
        Py_ssize_t k = 0;
        for (; k < n_entries; k++) {
            Entry *e = &entries[k];
            PyObject *term = PyUnicode_Substring(PyList_GET_ITEM(texts, e->text), e->start, e->start + e->size);
            PyObject *count = PyLong_FromSsize_t(e->count), *n_scored = PyLong_FromSsize_t(e->scored);
            PyObject *sum = PyFloat_FromDouble(e->sum);
            if (!term || !count || !n_scored || !sum) {
                Py_XDECREF(term);
                Py_XDECREF(count);
                Py_XDECREF(n_scored);
                Py_XDECREF(sum);
                break;
            }
            PyList_SET_ITEM(terms, k, term);
            PyList_SET_ITEM(counts, k, count);
            PyList_SET_ITEM(scored, k, n_scored);
            PyList_SET_ITEM(sums, k, sum);
        }
        if (k == n_entries)
            out = PyTuple_Pack(4, terms, counts, scored, sums);
    }
    Py_XDECREF(terms);
    Py_XDECREF(counts);
    Py_XDECREF(scored);
    Py_XDECREF(sums);
done:
    PyMem_Free(views);
    PyMem_Free(slots);
    PyMem_Free(entries);
    return out;
}

static PyMethodDef methods[] = {
    {"tally_joined", tally_joined, METH_VARARGS, "Each distinct term of joined term deltas with its sums."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_term_tally", NULL, -1, methods};

PyMODINIT_FUNC PyInit__term_tally(void) {
    return PyModule_Create(&module);
}
