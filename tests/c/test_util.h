/*
 * Minimal assertion helpers for the soidc C tests.
 *
 * CHECK(expr)            fails (and carries on) when expr is false.
 * CHECK_STATUS(got, exp) compares two soidc_status values and prints both by name.
 * CHECK_STR_CONTAINS(haystack, needle), CHECK_STR_EQ(a, b)
 *
 * JSON is read and quoted with soidc's own helpers (soidc_json_*), never by hand:
 * json_is_valid(doc), json_string_at(doc, pointer), json_has(doc, pointer), test_quote(s).
 *
 * Every failure prints "file:line: FAILED: <expression>" to stderr and increments
 * test_failures; TEST_MAIN_END() returns non-zero from main if anything failed.
 */
#ifndef SOIDC_TEST_UTIL_H
#define SOIDC_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soidc.h"

static int test_failures;
static int test_checks;

#define CHECK(expr)                                                              \
    do {                                                                         \
        test_checks++;                                                           \
        if (!(expr)) {                                                           \
            test_failures++;                                                     \
            fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #expr);   \
        }                                                                        \
    } while (0)

/* `doc` (may be NULL) is printed on failure: usually the error document. */
#define CHECK_STATUS(got, expected, doc)                                         \
    do {                                                                         \
        soidc_status got_ = (got), exp_ = (expected);                            \
        const char *doc_ = (doc);                                                \
        test_checks++;                                                           \
        if (got_ != exp_) {                                                      \
            test_failures++;                                                     \
            fprintf(stderr, "%s:%d: FAILED: %s == %s (got %d %s, expected %d %s)\n" \
                    "    document: %s\n", __FILE__, __LINE__, #got, #expected,  \
                    got_, soidc_status_name(got_), exp_, soidc_status_name(exp_), \
                    doc_ ? doc_ : "(null)");                                     \
        }                                                                        \
    } while (0)

#define CHECK_STR_CONTAINS(haystack, needle)                                     \
    do {                                                                         \
        const char *h_ = (haystack), *n_ = (needle);                             \
        test_checks++;                                                           \
        if (h_ == NULL || strstr(h_, n_) == NULL) {                              \
            test_failures++;                                                     \
            fprintf(stderr, "%s:%d: FAILED: %s contains %s\n    \"%s\" does not contain \"%s\"\n", \
                    __FILE__, __LINE__, #haystack, #needle, h_ ? h_ : "(null)", n_); \
        }                                                                        \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                       \
    do {                                                                         \
        const char *a_ = (a), *b_ = (b);                                         \
        test_checks++;                                                           \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                   \
            test_failures++;                                                     \
            fprintf(stderr, "%s:%d: FAILED: %s == %s\n    \"%s\" != \"%s\"\n",   \
                    __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
        }                                                                        \
    } while (0)

/* A required environment variable (set by run.sh); exits the test if missing. */
static inline const char *test_env(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        fprintf(stderr, "environment variable %s is not set (run the tests via tests/c/run.sh)\n", name);
        exit(2);
    }
    return v;
}

/* strdup is not C11; abort on allocation failure. */
static inline char *test_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy == NULL) abort();
    return memcpy(copy, s, n);
}

/* 1 if `doc` is exactly one JSON value (strictly: no duplicate member names). */
static inline int json_is_valid(const char *doc) {
    char *raw = NULL;
    soidc_status st = soidc_json_get_raw(doc, "", &raw);
    soidc_string_free(raw);
    return st == SOIDC_OK;
}

/* The string at the JSON pointer `pointer` of `doc` ("/status", "/address/country"),
 * or NULL when absent, not a string, or `doc` is not valid JSON. soidc_string_free() it. */
static inline char *json_string_at(const char *doc, const char *pointer) {
    char *value = NULL;
    (void)soidc_json_get_string(doc, pointer, &value);
    return value;
}

/* 1 if `doc` is valid JSON with a value (of any type) at the JSON pointer `pointer`. */
static inline int json_has(const char *doc, const char *pointer) {
    char *raw = NULL;
    soidc_status st = soidc_json_get_raw(doc, pointer, &raw);
    soidc_string_free(raw);
    return st == SOIDC_OK;
}

/* `s` as a JSON string literal (soidc_json_quote), to put into options; aborts if `s`
 * is NULL or not UTF-8 (a bug in the test). soidc_string_free() it. */
static inline char *test_quote(const char *s) {
    char *quoted = soidc_json_quote(s);
    if (quoted == NULL) {
        fprintf(stderr, "soidc_json_quote refused a test string\n");
        abort();
    }
    return quoted;
}

#define TEST_MAIN_END()                                                          \
    do {                                                                         \
        printf("%d checks, %d failed\n", test_checks, test_failures);           \
        fflush(stdout); /* before LeakSanitizer may abort at exit */             \
        return test_failures == 0 ? 0 : 1;                                       \
    } while (0)

#endif /* SOIDC_TEST_UTIL_H */
