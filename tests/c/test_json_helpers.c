/* The JSON helpers: soidc_json_get_string/_int64/_bool/_raw with RFC 6901 pointers and
 * soidc_json_quote. Nested members, ~0/~1 escapes, array indices, absent members
 * (SOIDC_ERR_NOT_FOUND), wrong types, NULL arguments, invalid UTF-8, malformed JSON and
 * duplicate member names (SOIDC_ERR_INVALID_ARGUMENT), a 1 MB document, quoting round
 * trips, and an injection attempt that must stay one string value. No network. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soidc.h"
#include "test_util.h"

/* A non-NULL value the library must overwrite with NULL; never freed. */
static char dummy_storage;
#define DUMMY_STR ((char *)&dummy_storage)

static const char *const DOC =
    "{\n"
    "  \"sub\": \"alice\",\n"
    "  \"exp\": 1764160000,\n"
    "  \"email_verified\": true,\n"
    "  \"phone_number_verified\": false,\n"
    "  \"address\": {\"country\": \"NL\", \"street address\": \"Dam 1\"},\n"
    "  \"groups\": [\"admin\", \"ops\", {\"nested\": [10, -20]}],\n"
    "  \"a/b\": 1, \"m~n\": 2, \"~1\": 3, \"\": 4,\n"
    "  \"min\": -9223372036854775808, \"max\": 9223372036854775807,\n"
    "  \"over\": 9223372036854775808, \"frac\": 1.5, \"expo\": 1e3,\n"
    "  \"nul\": \"a\\u0000b\", \"esc\": \"q\\\"b\\\\s\\n\\u00e9\\ud83d\\ude00\",\n"
    "  \"nothing\": null, \"text_true\": \"true\", \"one\": 1\n"
    "}";

/* soidc_json_get_string: expects `expected_status`, and on success `expected`. */
static void expect_string(int line, const char *doc, const char *pointer, soidc_status expected_status,
                          const char *expected) {
    char *value = DUMMY_STR;
    soidc_status st = soidc_json_get_string(doc, pointer, &value);
    if (st != expected_status) fprintf(stderr, "  (line %d, pointer %s)\n", line, pointer ? pointer : "NULL");
    CHECK_STATUS(st, expected_status, NULL);
    CHECK(value != DUMMY_STR); /* set to NULL on entry */
    if (value == DUMMY_STR) return;
    if (expected_status == SOIDC_OK) {
        CHECK_STR_EQ(value, expected);
    } else {
        CHECK(value == NULL);
    }
    soidc_string_free(value);
}
#define EXPECT_STRING(doc, pointer, status, expected) expect_string(__LINE__, doc, pointer, status, expected)

/* soidc_json_get_int64: on failure the preset value must be left alone. */
static void expect_int(int line, const char *doc, const char *pointer, soidc_status expected_status,
                       int64_t expected) {
    int64_t value = 4242;
    soidc_status st = soidc_json_get_int64(doc, pointer, &value);
    if (st != expected_status) fprintf(stderr, "  (line %d, pointer %s)\n", line, pointer ? pointer : "NULL");
    CHECK_STATUS(st, expected_status, NULL);
    CHECK(value == (expected_status == SOIDC_OK ? expected : 4242));
}
#define EXPECT_INT(doc, pointer, status, expected) expect_int(__LINE__, doc, pointer, status, expected)

static void expect_bool(int line, const char *doc, const char *pointer, soidc_status expected_status,
                        int expected) {
    int value = 7;
    soidc_status st = soidc_json_get_bool(doc, pointer, &value);
    if (st != expected_status) fprintf(stderr, "  (line %d, pointer %s)\n", line, pointer ? pointer : "NULL");
    CHECK_STATUS(st, expected_status, NULL);
    CHECK(value == (expected_status == SOIDC_OK ? expected : 7));
}
#define EXPECT_BOOL(doc, pointer, status, expected) expect_bool(__LINE__, doc, pointer, status, expected)

static void expect_raw(int line, const char *doc, const char *pointer, soidc_status expected_status,
                       const char *expected) {
    char *value = DUMMY_STR;
    soidc_status st = soidc_json_get_raw(doc, pointer, &value);
    if (st != expected_status) fprintf(stderr, "  (line %d, pointer %s)\n", line, pointer ? pointer : "NULL");
    CHECK_STATUS(st, expected_status, NULL);
    CHECK(value != DUMMY_STR);
    if (value == DUMMY_STR) return;
    if (expected_status == SOIDC_OK) {
        CHECK_STR_EQ(value, expected);
    } else {
        CHECK(value == NULL);
    }
    soidc_string_free(value);
}
#define EXPECT_RAW(doc, pointer, status, expected) expect_raw(__LINE__, doc, pointer, status, expected)

static void test_members_and_pointers(void) {
    EXPECT_STRING(DOC, "/sub", SOIDC_OK, "alice");
    EXPECT_STRING(DOC, "/address/country", SOIDC_OK, "NL");
    EXPECT_STRING(DOC, "/address/street address", SOIDC_OK, "Dam 1");
    EXPECT_STRING(DOC, "/esc", SOIDC_OK, "q\"b\\s\n\xc3\xa9\xf0\x9f\x98\x80"); /* unescaped, UTF-8 */
    /* Array indices, nested. */
    EXPECT_STRING(DOC, "/groups/0", SOIDC_OK, "admin");
    EXPECT_STRING(DOC, "/groups/1", SOIDC_OK, "ops");
    EXPECT_INT(DOC, "/groups/2/nested/1", SOIDC_OK, -20);
    /* RFC 6901 escapes: ~1 is '/', ~0 is '~', and ~01 is "~1" (not "/"). */
    EXPECT_INT(DOC, "/a~1b", SOIDC_OK, 1);
    EXPECT_INT(DOC, "/m~0n", SOIDC_OK, 2);
    EXPECT_INT(DOC, "/~01", SOIDC_OK, 3);
    EXPECT_INT(DOC, "/", SOIDC_OK, 4); /* the member named "" */
    /* Integers: the whole int64_t range, nothing beyond, no fractions or exponents. */
    EXPECT_INT(DOC, "/exp", SOIDC_OK, 1764160000);
    EXPECT_INT(DOC, "/min", SOIDC_OK, INT64_MIN);
    EXPECT_INT(DOC, "/max", SOIDC_OK, INT64_MAX);
    EXPECT_INT(DOC, "/over", SOIDC_ERR_INVALID_ARGUMENT, 0);
    EXPECT_INT(DOC, "/frac", SOIDC_ERR_INVALID_ARGUMENT, 0);
    EXPECT_INT(DOC, "/expo", SOIDC_ERR_INVALID_ARGUMENT, 0);
    /* Booleans: only true and false. */
    EXPECT_BOOL(DOC, "/email_verified", SOIDC_OK, 1);
    EXPECT_BOOL(DOC, "/phone_number_verified", SOIDC_OK, 0);
    EXPECT_BOOL(DOC, "/one", SOIDC_ERR_INVALID_ARGUMENT, 0);
    EXPECT_BOOL(DOC, "/text_true", SOIDC_ERR_INVALID_ARGUMENT, 0);
    EXPECT_BOOL(DOC, "/nothing", SOIDC_ERR_INVALID_ARGUMENT, 0);
}

static void test_raw(void) {
    /* The value's own text: order, spacing inside and the number's spelling kept. */
    EXPECT_RAW(DOC, "/groups", SOIDC_OK, "[\"admin\", \"ops\", {\"nested\": [10, -20]}]");
    EXPECT_RAW(DOC, "/address", SOIDC_OK, "{\"country\": \"NL\", \"street address\": \"Dam 1\"}");
    EXPECT_RAW(DOC, "/expo", SOIDC_OK, "1e3");
    EXPECT_RAW(DOC, "/over", SOIDC_OK, "9223372036854775808");
    EXPECT_RAW(DOC, "/sub", SOIDC_OK, "\"alice\"");
    EXPECT_RAW(DOC, "/nothing", SOIDC_OK, "null");
    EXPECT_RAW(DOC, "/email_verified", SOIDC_OK, "true");
    EXPECT_RAW(" [1, 2]\n", "", SOIDC_OK, "[1, 2]"); /* "" is the whole document */
    EXPECT_RAW("\"x\"", "", SOIDC_OK, "\"x\"");

    /* What get_raw returns can be read again. */
    char *groups = NULL;
    CHECK_STATUS(soidc_json_get_raw(DOC, "/groups", &groups), SOIDC_OK, NULL);
    EXPECT_STRING(groups, "/1", SOIDC_OK, "ops");
    EXPECT_INT(groups, "/2/nested/0", SOIDC_OK, 10);
    EXPECT_STRING(groups, "/3", SOIDC_ERR_NOT_FOUND, NULL);
    soidc_string_free(groups);
}

static void test_not_found(void) {
    /* Absent members, indices past the end, "-", non-indices, steps into scalars. */
    const char *absent[] = {"/nope", "/address/zip", "/groups/3", "/groups/-", "/groups/01",
                            "/groups/x", "/groups/-1", "/sub/0", "/exp/x", "/nothing/x",
                            "/groups/99999999999999999999999", "/a/b", "/SUB"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        EXPECT_STRING(DOC, absent[i], SOIDC_ERR_NOT_FOUND, NULL);
        EXPECT_INT(DOC, absent[i], SOIDC_ERR_NOT_FOUND, 0);
        EXPECT_BOOL(DOC, absent[i], SOIDC_ERR_NOT_FOUND, 0);
        EXPECT_RAW(DOC, absent[i], SOIDC_ERR_NOT_FOUND, NULL);
    }
    CHECK_STR_EQ(soidc_status_name(SOIDC_ERR_NOT_FOUND), "not_found");
    CHECK(SOIDC_ERR_NOT_FOUND == 10);
}

static void test_wrong_types(void) {
    EXPECT_STRING(DOC, "/exp", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_STRING(DOC, "/email_verified", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_STRING(DOC, "/groups", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_STRING(DOC, "/address", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_STRING(DOC, "/nothing", SOIDC_ERR_INVALID_ARGUMENT, NULL); /* null is not absent */
    EXPECT_STRING(DOC, "/nul", SOIDC_ERR_INVALID_ARGUMENT, NULL);     /* no C string holds U+0000 */
    EXPECT_RAW(DOC, "/nul", SOIDC_OK, "\"a\\u0000b\"");                /* ...but its JSON text does */
    EXPECT_INT(DOC, "/sub", SOIDC_ERR_INVALID_ARGUMENT, 0);
    EXPECT_INT(DOC, "/groups", SOIDC_ERR_INVALID_ARGUMENT, 0);
    EXPECT_INT(DOC, "/email_verified", SOIDC_ERR_INVALID_ARGUMENT, 0);
    EXPECT_BOOL(DOC, "/sub", SOIDC_ERR_INVALID_ARGUMENT, 0);
    EXPECT_BOOL(DOC, "/address", SOIDC_ERR_INVALID_ARGUMENT, 0);
    EXPECT_STRING(DOC, "", SOIDC_ERR_INVALID_ARGUMENT, NULL); /* the whole object */
}

static void test_bad_pointers(void) {
    const char *bad[] = {"sub", "#/sub", "/~", "/~2", "/a~", "/~a/b", " /sub"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT_STRING(DOC, bad[i], SOIDC_ERR_INVALID_ARGUMENT, NULL);
        EXPECT_INT(DOC, bad[i], SOIDC_ERR_INVALID_ARGUMENT, 0);
        EXPECT_BOOL(DOC, bad[i], SOIDC_ERR_INVALID_ARGUMENT, 0);
        EXPECT_RAW(DOC, bad[i], SOIDC_ERR_INVALID_ARGUMENT, NULL);
    }
}

static void test_null_and_utf8(void) {
    /* NULL document, NULL pointer: invalid, the out-pointer still cleared / untouched. */
    EXPECT_STRING(NULL, "/sub", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_STRING(DOC, NULL, SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_RAW(NULL, "", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_RAW(DOC, NULL, SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_INT(NULL, "/exp", SOIDC_ERR_INVALID_ARGUMENT, 0);
    EXPECT_INT(DOC, NULL, SOIDC_ERR_INVALID_ARGUMENT, 0);
    EXPECT_BOOL(NULL, "/email_verified", SOIDC_ERR_INVALID_ARGUMENT, 0);
    EXPECT_BOOL(DOC, NULL, SOIDC_ERR_INVALID_ARGUMENT, 0);
    /* NULL out_value. */
    CHECK_STATUS(soidc_json_get_string(DOC, "/sub", NULL), SOIDC_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(soidc_json_get_int64(DOC, "/exp", NULL), SOIDC_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(soidc_json_get_bool(DOC, "/email_verified", NULL), SOIDC_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(soidc_json_get_raw(DOC, "/groups", NULL), SOIDC_ERR_INVALID_ARGUMENT, NULL);
    /* Invalid UTF-8: in the document (inside a string, or as a bare byte), in the pointer. */
    EXPECT_STRING("{\"sub\": \"al\xff" "ice\"}", "/sub", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_STRING("{\"sub\": \"alice\", \"x\": \"\xc3\x28\"}", "/sub", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_RAW("\xef\xbb\xbf{}", "", SOIDC_ERR_INVALID_ARGUMENT, NULL); /* a BOM is not JSON */
    EXPECT_STRING(DOC, "/su\xff", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_INT(DOC, "/\xed\xa0\x80", SOIDC_ERR_INVALID_ARGUMENT, 0); /* an encoded surrogate */
    /* Non-ASCII names are fine when they are UTF-8. */
    EXPECT_STRING("{\"pr\xc3\xa9nom\": \"Zo\xc3\xab\"}", "/pr\xc3\xa9nom", SOIDC_OK, "Zo\xc3\xab");
}

static void test_malformed_and_duplicates(void) {
    const char *bad[] = {
        "", " ", "{", "{\"sub\": \"alice\",}", "{\"sub\": \"alice\"} {}", "{\"sub\": \"alice\"} x",
        "{'sub': 'alice'}", "{\"sub\": \"al\nice\"}", "{\"sub\": alice}", "[1, 2,]", "nul", "01",
        /* The same member twice, at the top or deeper, even away from the pointer. */
        "{\"sub\": \"alice\", \"sub\": \"mallory\"}",
        "{\"sub\": \"alice\", \"address\": {\"country\": \"NL\", \"country\": \"BE\"}}",
        "{\"sub\": \"alice\", \"groups\": [{\"a\": 1, \"a\": 1}]}",
        "{\"sub\": \"alice\", \"s\\u0075b\": \"mallory\"}", /* the same name, escaped */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT_STRING(bad[i], "/sub", SOIDC_ERR_INVALID_ARGUMENT, NULL);
        EXPECT_RAW(bad[i], "", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    }
    /* Nesting: 64 levels are read, 65 are refused. */
    char deep[2 * 70 + 1];
    for (int depth = 64; depth <= 65; depth++) {
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        deep[2 * depth] = '\0';
        char *raw = NULL;
        soidc_status st = soidc_json_get_raw(deep, "", &raw);
        CHECK_STATUS(st, depth == 64 ? SOIDC_OK : SOIDC_ERR_INVALID_ARGUMENT, NULL);
        soidc_string_free(raw);
    }
}

/* A document of about 1 MB: a 1 MB string member, a 100000-element array, members after. */
static void test_one_megabyte(void) {
    const size_t big = 1024 * 1024;
    const int elements = 100000;
    size_t cap = big + (size_t)elements * 8 + 256;
    char *doc = malloc(cap);
    CHECK(doc != NULL);
    if (doc == NULL) return;
    size_t n = (size_t)snprintf(doc, cap, "{\"pad\": \"");
    memset(doc + n, 'x', big);
    n += big;
    n += (size_t)snprintf(doc + n, cap - n, "\", \"list\": [");
    for (int i = 0; i < elements; i++) n += (size_t)snprintf(doc + n, cap - n, i ? ",%d" : "%d", i);
    n += (size_t)snprintf(doc + n, cap - n, "], \"last\": {\"sub\": \"end\"}}");
    CHECK(n < cap && n > big);

    EXPECT_STRING(doc, "/last/sub", SOIDC_OK, "end");
    EXPECT_INT(doc, "/list/99999", SOIDC_OK, 99999);
    EXPECT_INT(doc, "/list/100000", SOIDC_ERR_NOT_FOUND, 0);
    char *pad = NULL;
    CHECK_STATUS(soidc_json_get_string(doc, "/pad", &pad), SOIDC_OK, NULL);
    CHECK(pad != NULL && strlen(pad) == big && pad[0] == 'x' && pad[big - 1] == 'x');
    soidc_string_free(pad);
    char *whole = NULL;
    CHECK_STATUS(soidc_json_get_raw(doc, "", &whole), SOIDC_OK, NULL);
    CHECK(whole != NULL && strcmp(whole, doc) == 0);
    soidc_string_free(whole);
    /* 1 MB of garbage after a valid document: refused, not read past. */
    memcpy(doc, "{}  ", 4);
    EXPECT_RAW(doc, "", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    free(doc);
}

/* quote(s), then {"v": <quoted>} must read back as exactly s, and be the only member. */
static void round_trip(int line, const char *s) {
    char *quoted = soidc_json_quote(s);
    CHECK(quoted != NULL);
    if (quoted == NULL) return;
    CHECK(quoted[0] == '"' && quoted[strlen(quoted) - 1] == '"');
    for (const unsigned char *p = (const unsigned char *)quoted; *p; p++) {
        if (*p < 0x20) {
            test_failures++;
            fprintf(stderr, "line %d: raw control byte 0x%02x in %s\n", line, *p, quoted);
            break;
        }
    }
    size_t len = strlen(quoted) + 16;
    char *doc = malloc(len);
    CHECK(doc != NULL);
    if (doc != NULL) {
        snprintf(doc, len, "{\"v\": %s}", quoted);
        char *back = NULL;
        soidc_status st = soidc_json_get_string(doc, "/v", &back);
        if (st != SOIDC_OK) fprintf(stderr, "  (round trip at line %d: %s)\n", line, doc);
        CHECK_STATUS(st, SOIDC_OK, NULL);
        CHECK_STR_EQ(back, s);
        soidc_string_free(back);
        free(doc);
    }
    soidc_string_free(quoted);
}
#define ROUND_TRIP(s) round_trip(__LINE__, s)

static void test_quoting(void) {
    /* Exact output: quotes and backslashes escaped, control characters escaped,
     * '/' and non-ASCII left as they are. */
    char *q = soidc_json_quote("a\"b\\c/d");
    CHECK_STR_EQ(q, "\"a\\\"b\\\\c/d\"");
    soidc_string_free(q);
    q = soidc_json_quote("\n\r\t\b\f\x01\x1f\x7f");
    CHECK_STR_EQ(q, "\"\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\"");
    soidc_string_free(q);
    q = soidc_json_quote("\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80");
    CHECK_STR_EQ(q, "\"\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80\"");
    soidc_string_free(q);
    q = soidc_json_quote("");
    CHECK_STR_EQ(q, "\"\"");
    soidc_string_free(q);

    /* Round trips: every control character, quotes, backslashes, non-ASCII. */
    char controls[32];
    for (int i = 1; i < 32; i++) controls[i - 1] = (char)i;
    controls[31] = '\0';
    ROUND_TRIP(controls);
    ROUND_TRIP("\"\\\"\\\\\"");
    ROUND_TRIP("\\u0041 is not A");
    ROUND_TRIP("caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac");
    ROUND_TRIP("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");

    /* NULL and invalid UTF-8: NULL. */
    CHECK(soidc_json_quote(NULL) == NULL);
    CHECK(soidc_json_quote("ab\xff") == NULL);
    CHECK(soidc_json_quote("\xc0\xaf") == NULL); /* an overlong '/' */
}

/* A login_hint that tries to add a member. Pasted between quotes it would (the strict
 * reader then sees two members); quoted it stays one string. */
static void test_injection(void) {
    const char *attack = "x\",\"redirect_uri\":\"https://evil.example/cb";
    char naive[256];
    snprintf(naive, sizeof naive, "{\"login_hint\":\"%s\"}", attack);
    EXPECT_STRING(naive, "/redirect_uri", SOIDC_OK, "https://evil.example/cb"); /* the danger */

    char *quoted = test_quote(attack);
    char options[256];
    snprintf(options, sizeof options, "{\"login_hint\":%s}", quoted);
    soidc_string_free(quoted);
    EXPECT_STRING(options, "/login_hint", SOIDC_OK, attack);
    EXPECT_RAW(options, "/redirect_uri", SOIDC_ERR_NOT_FOUND, NULL);

    /* And through the library: the authorization URL keeps the client's redirect_uri. */
    const char *metadata =
        "{\"issuer\": \"https://idp.example\", \"authorization_endpoint\": \"https://idp.example/auth\","
        " \"token_endpoint\": \"https://idp.example/token\", \"jwks_uri\": \"https://idp.example/jwks\","
        " \"subject_types_supported\": [\"public\"], \"id_token_signing_alg_values_supported\": [\"RS256\"],"
        " \"response_types_supported\": [\"code\"]}";
    soidc_client *client = NULL;
    char *doc = NULL;
    soidc_status st = soidc_client_from_issuer_config(metadata, "https://rp.example/cb", "web", NULL, NULL,
                                                      NULL, &client, &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    soidc_string_free(doc);
    if (client == NULL) return;
    doc = NULL;
    st = soidc_auth_code_start(client, options, &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    char *url = json_string_at(doc, "/url");
    CHECK_STR_CONTAINS(url, "redirect_uri=https%3A%2F%2Frp.example%2Fcb");
    CHECK(url == NULL || strstr(url, "redirect_uri=https%3A%2F%2Fevil") == NULL);
    CHECK_STR_CONTAINS(url, "login_hint=x%22%2C%22redirect_uri%22%3A%22https%3A%2F%2Fevil.example%2Fcb");
    soidc_string_free(url);
    soidc_string_free(doc);
    soidc_client_free(client);
}

int main(void) {
    test_members_and_pointers();
    test_raw();
    test_not_found();
    test_wrong_types();
    test_bad_pointers();
    test_null_and_utf8();
    test_malformed_and_duplicates();
    test_one_megabyte();
    test_quoting();
    test_injection();
    TEST_MAIN_END();
}
