/*
 * Just enough JSON for the soidc C tests: a strict validator (RFC 8259 grammar)
 * and a reader for one top-level member of an object. Not a general JSON library.
 *
 *   json_valid(doc)                 1 if doc is exactly one JSON value
 *   json_get_string(doc, key)       malloc'd decoded copy of the top-level string
 *                                   member `key` (free() it), or NULL
 *   json_has_member(doc, key)       1 if the top-level object has member `key`
 */
#ifndef SOIDC_TEST_JSON_H
#define SOIDC_TEST_JSON_H

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p;
    char *out;      /* when parsing a string: decoded bytes go here (may be NULL) */
    size_t out_len;
} json_cursor;

static inline void json_ws(json_cursor *c) {
    while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r') c->p++;
}

static inline int json_hex4(const char *p, unsigned *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        unsigned d;
        if (ch >= '0' && ch <= '9') d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f') d = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F') d = (unsigned)(ch - 'A' + 10);
        else return 0;
        *v = *v * 16 + d;
    }
    return 1;
}

static inline void json_put(json_cursor *c, unsigned char b) {
    if (c->out) c->out[c->out_len] = (char)b;
    c->out_len++;
}

static inline void json_put_utf8(json_cursor *c, unsigned cp) {
    if (cp < 0x80) json_put(c, (unsigned char)cp);
    else if (cp < 0x800) { json_put(c, (unsigned char)(0xC0 | (cp >> 6))); json_put(c, (unsigned char)(0x80 | (cp & 0x3F))); }
    else if (cp < 0x10000) { json_put(c, (unsigned char)(0xE0 | (cp >> 12))); json_put(c, (unsigned char)(0x80 | ((cp >> 6) & 0x3F))); json_put(c, (unsigned char)(0x80 | (cp & 0x3F))); }
    else { json_put(c, (unsigned char)(0xF0 | (cp >> 18))); json_put(c, (unsigned char)(0x80 | ((cp >> 12) & 0x3F))); json_put(c, (unsigned char)(0x80 | ((cp >> 6) & 0x3F))); json_put(c, (unsigned char)(0x80 | (cp & 0x3F))); }
}

/* At '"': parses a string, decoding it into c->out (if set); counts bytes in out_len. */
static inline int json_string(json_cursor *c) {
    if (*c->p != '"') return 0;
    c->p++;
    c->out_len = 0;
    for (;;) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') { c->p++; return 1; }
        if (ch < 0x20) return 0; /* NUL (end of input) or a raw control character */
        if (ch != '\\') { json_put(c, ch); c->p++; continue; }
        c->p++;
        switch (*c->p) {
        case '"': json_put(c, '"'); break;
        case '\\': json_put(c, '\\'); break;
        case '/': json_put(c, '/'); break;
        case 'b': json_put(c, '\b'); break;
        case 'f': json_put(c, '\f'); break;
        case 'n': json_put(c, '\n'); break;
        case 'r': json_put(c, '\r'); break;
        case 't': json_put(c, '\t'); break;
        case 'u': {
            unsigned cp, lo;
            if (!json_hex4(c->p + 1, &cp)) return 0;
            c->p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && c->p[1] == '\\' && c->p[2] == 'u'
                && json_hex4(c->p + 3, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                c->p += 6;
            }
            json_put_utf8(c, cp);
            break;
        }
        default: return 0;
        }
        c->p++;
    }
}

static inline int json_digits(json_cursor *c) {
    const char *start = c->p;
    while (*c->p >= '0' && *c->p <= '9') c->p++;
    return c->p > start;
}

static inline int json_number(json_cursor *c) {
    if (*c->p == '-') c->p++;
    if (*c->p == '0') c->p++;
    else if (!json_digits(c)) return 0;
    if (*c->p == '.') { c->p++; if (!json_digits(c)) return 0; }
    if (*c->p == 'e' || *c->p == 'E') {
        c->p++;
        if (*c->p == '+' || *c->p == '-') c->p++;
        if (!json_digits(c)) return 0;
    }
    return 1;
}

static inline int json_value(json_cursor *c, int depth) {
    if (depth > 64) return 0;
    json_ws(c);
    switch (*c->p) {
    case '{':
        c->p++; json_ws(c);
        if (*c->p == '}') { c->p++; return 1; }
        for (;;) {
            json_ws(c);
            if (!json_string(c)) return 0;
            json_ws(c);
            if (*c->p++ != ':') return 0;
            if (!json_value(c, depth + 1)) return 0;
            json_ws(c);
            if (*c->p == '}') { c->p++; return 1; }
            if (*c->p++ != ',') return 0;
        }
    case '[':
        c->p++; json_ws(c);
        if (*c->p == ']') { c->p++; return 1; }
        for (;;) {
            if (!json_value(c, depth + 1)) return 0;
            json_ws(c);
            if (*c->p == ']') { c->p++; return 1; }
            if (*c->p++ != ',') return 0;
        }
    case '"': return json_string(c);
    case 't': if (strncmp(c->p, "true", 4) == 0) { c->p += 4; return 1; } return 0;
    case 'f': if (strncmp(c->p, "false", 5) == 0) { c->p += 5; return 1; } return 0;
    case 'n': if (strncmp(c->p, "null", 4) == 0) { c->p += 4; return 1; } return 0;
    default: return json_number(c);
    }
}

static inline int json_valid(const char *doc) {
    if (doc == NULL) return 0;
    json_cursor c = {doc, NULL, 0};
    if (!json_value(&c, 0)) return 0;
    json_ws(&c);
    return *c.p == '\0';
}

/* Finds top-level member `key` of the object `doc`; leaves c->p at its value. */
static inline int json_find_member(json_cursor *c, const char *key) {
    size_t key_len = strlen(key);
    json_ws(c);
    if (*c->p++ != '{') return 0;
    json_ws(c);
    if (*c->p == '}') return 0;
    for (;;) {
        json_ws(c);
        const char *key_start = c->p;
        if (!json_string(c)) return 0;
        /* Decode the key again, this time into a buffer, to compare it. */
        char *decoded = malloc(c->out_len + 1);
        if (decoded == NULL) return 0;
        json_cursor k = {key_start, decoded, 0};
        json_string(&k);
        int match = k.out_len == key_len && memcmp(decoded, key, key_len) == 0;
        free(decoded);
        json_ws(c);
        if (*c->p++ != ':') return 0;
        json_ws(c);
        if (match) return 1;
        if (!json_value(c, 1)) return 0;
        json_ws(c);
        if (*c->p++ != ',') return 0;
    }
}

static inline int json_has_member(const char *doc, const char *key) {
    if (doc == NULL || !json_valid(doc)) return 0;
    json_cursor c = {doc, NULL, 0};
    return json_find_member(&c, key);
}

static inline char *json_get_string(const char *doc, const char *key) {
    if (doc == NULL || !json_valid(doc)) return NULL;
    json_cursor c = {doc, NULL, 0};
    if (!json_find_member(&c, key) || *c.p != '"') return NULL;
    const char *value_start = c.p;
    json_string(&c); /* measure */
    char *out = malloc(c.out_len + 1);
    if (out == NULL) return NULL;
    json_cursor v = {value_start, out, 0};
    json_string(&v);
    out[v.out_len] = '\0';
    return out;
}

#endif /* SOIDC_TEST_JSON_H */
