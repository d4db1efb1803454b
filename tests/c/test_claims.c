/* Claim paths and claim rules from C: soidc_claims_get (dotted paths with \. escapes,
 * JSON pointers, arrays of objects, absent claims, NULL arguments, invalid UTF-8, garbage
 * documents, a 1 MB document, 1 MB of rules) and the require_claims option of
 * soidc_decode_id_token on real ID tokens of the provider (alice and bob). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soidc.h"
#include "test_util.h"

/* A non-NULL value the library must overwrite with NULL; never freed. */
static char dummy_storage;
#define DUMMY_STR ((char *)&dummy_storage)

static const char *const CLAIMS =
    "{\"sub\": \"alice\", \"scope\": \"openid email\","
    " \"realm_access\": {\"roles\": [\"ssh-login\", \"dev\"]},"
    " \"https://example.com/claims\": {\"tenant\": \"acme\"},"
    " \"orgs\": [{\"id\": \"org-1\"}, {\"id\": \"org-2\", \"roles\": [\"billing\"]}],"
    " \"a/b\": {\"~c\": 1}}";

static void expect_get(int line, const char *doc, const char *path, soidc_status want, const char *value) {
    char *out = DUMMY_STR;
    soidc_status st = soidc_claims_get(doc, path, &out);
    if (st != want) fprintf(stderr, "  (line %d, path %s)\n", line, path ? path : "NULL");
    CHECK_STATUS(st, want, NULL);
    CHECK(out != DUMMY_STR);
    if (out == DUMMY_STR) return;
    if (want == SOIDC_OK) {
        CHECK_STR_EQ(out, value);
    } else {
        CHECK(out == NULL);
    }
    soidc_string_free(out);
}
#define EXPECT_GET(doc, path, want, value) expect_get(__LINE__, doc, path, want, value)

static void test_paths(void) {
    EXPECT_GET(CLAIMS, "sub", SOIDC_OK, "\"alice\"");
    EXPECT_GET(CLAIMS, "realm_access.roles", SOIDC_OK, "[\"ssh-login\",\"dev\"]");
    EXPECT_GET(CLAIMS, "/realm_access/roles/1", SOIDC_OK, "\"dev\"");
    EXPECT_GET(CLAIMS, "https://example\\.com/claims.tenant", SOIDC_OK, "\"acme\"");
    EXPECT_GET(CLAIMS, "/https:~1~1example.com~1claims/tenant", SOIDC_OK, "\"acme\"");
    EXPECT_GET(CLAIMS, "orgs.id", SOIDC_OK, "[\"org-1\",\"org-2\"]");
    EXPECT_GET(CLAIMS, "orgs.roles", SOIDC_OK, "[[\"billing\"]]");
    EXPECT_GET(CLAIMS, "/a~1b/~0c", SOIDC_OK, "1");
    EXPECT_GET(CLAIMS, "realm_access", SOIDC_OK, "{\"roles\":[\"ssh-login\",\"dev\"]}");
    /* absent */
    EXPECT_GET(CLAIMS, "email", SOIDC_ERR_NOT_FOUND, NULL);
    EXPECT_GET(CLAIMS, "sub.x", SOIDC_ERR_NOT_FOUND, NULL);
    EXPECT_GET(CLAIMS, "orgs.name", SOIDC_ERR_NOT_FOUND, NULL);
    EXPECT_GET(CLAIMS, "https://example.com/claims.tenant", SOIDC_ERR_NOT_FOUND, NULL); /* unescaped dots */
    /* bad paths */
    EXPECT_GET(CLAIMS, "", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_GET(CLAIMS, "a..b", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_GET(CLAIMS, "a\\b", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_GET(CLAIMS, "/~2", SOIDC_ERR_INVALID_ARGUMENT, NULL);
}

static void test_hostile(void) {
    static const char bad_utf8[] = {(char)0xff, (char)0xfe, 0};
    EXPECT_GET(NULL, "sub", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_GET(CLAIMS, NULL, SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_GET(bad_utf8, "sub", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_GET(CLAIMS, bad_utf8, SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_GET("[1,2]", "sub", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_GET("{\"sub\":1,\"sub\":2}", "sub", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_GET("{\"sub\":", "sub", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    EXPECT_GET("garbage", "sub", SOIDC_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(soidc_claims_get(CLAIMS, "sub", NULL), SOIDC_ERR_INVALID_ARGUMENT, NULL);

    /* A 1 MB document and a 1 MB path. */
    size_t n = 1024 * 1024;
    char *big = malloc(n + 64);
    CHECK(big != NULL);
    if (big == NULL) return;
    strcpy(big, "{\"pad\":\"");
    memset(big + 8, 'x', n);
    strcpy(big + 8 + n, "\",\"n\":{\"v\":7}}");
    EXPECT_GET(big, "n.v", SOIDC_OK, "7");
    memset(big, 'a', n);
    big[n] = '\0';
    EXPECT_GET(CLAIMS, big, SOIDC_ERR_INVALID_ARGUMENT, NULL);
    free(big);
}

static soidc_client *discover(void) {
    soidc_client *client = NULL;
    char *err = NULL;
    soidc_status st = soidc_client_from_issuer_url(test_env("SOIDC_TEST_ISSUER"), NULL, test_env("SOIDC_TEST_CLIENT_ID"),
                                                   test_env("SOIDC_TEST_CLIENT_SECRET"), NULL, NULL, &client, &err);
    CHECK_STATUS(st, SOIDC_OK, err);
    soidc_string_free(err);
    return client;
}

static void test_require_claims(void) {
    soidc_client *client = discover();
    if (client == NULL) return;
    const char *alice = test_env("SOIDC_TEST_ID_TOKEN");
    const char *bob = test_env("SOIDC_TEST_ID_TOKEN_BOB");
    char *nonce = test_quote(test_env("SOIDC_TEST_NONCE"));
    char options[1024];
    int len = snprintf(options, sizeof options,
                       "{\"nonce\": %s, \"require_claims\": ["
                       "{\"claim\": \"email_verified\", \"op\": \"eq\", \"value\": true},"
                       "{\"claim\": \"/email\", \"op\": \"in\", \"value\": [\"alice@example.test\", \"carol@example.test\"],"
                       " \"name\": \"known users\"}]}",
                       nonce);
    CHECK(len > 0 && (size_t)len < sizeof options);

    char *claims = NULL;
    CHECK_STATUS(soidc_decode_id_token(client, alice, options, NULL, NULL, &claims), SOIDC_OK, claims);
    char *email = NULL;
    CHECK_STATUS(soidc_claims_get(claims, "email", &email), SOIDC_OK, NULL);
    CHECK_STR_EQ(email, "\"alice@example.test\"");
    soidc_string_free(email);
    soidc_string_free(claims);

    /* Bob passes the first rule and fails the named one; his email is not shown. */
    char *err = NULL;
    CHECK_STATUS(soidc_decode_id_token(client, bob, options, NULL, NULL, &err), SOIDC_ERR_VALIDATION, err);
    char *reason = json_string_at(err, "/reason");
    char *rule = json_string_at(err, "/rule");
    CHECK_STR_EQ(reason, "claim_rule");
    CHECK_STR_EQ(rule, "known users");
    CHECK(err != NULL && strstr(err, "bob@") == NULL);
    soidc_string_free(reason);
    soidc_string_free(rule);
    soidc_string_free(err);

    /* A malformed rule is refused before the token is looked at. */
    err = NULL;
    CHECK_STATUS(soidc_decode_id_token(client, "not-a-token", "{\"require_claims\": [{\"claim\": \"sub\", \"op\": \"like\", \"value\": 1}]}",
                                       NULL, NULL, &err),
                 SOIDC_ERR_INVALID_ARGUMENT, err);
    CHECK_STR_CONTAINS(err, "require_claims");
    soidc_string_free(err);

    /* 1 MB of rules: refused (over the 64-rule limit), quickly, without leaks. */
    size_t rules_bytes = 1024 * 1024;
    char *many = malloc(rules_bytes + 64);
    CHECK(many != NULL);
    if (many != NULL) {
        size_t at = (size_t)sprintf(many, "{\"require_claims\": [");
        const char *one = "{\"claim\":\"sub\",\"op\":\"exists\"},";
        while (at + strlen(one) + 4 < rules_bytes) {
            memcpy(many + at, one, strlen(one));
            at += strlen(one);
        }
        strcpy(many + at - 1, "]}"); /* replaces the last comma */
        err = NULL;
        CHECK_STATUS(soidc_decode_id_token(client, alice, many, NULL, NULL, &err), SOIDC_ERR_INVALID_ARGUMENT, err);
        CHECK_STR_CONTAINS(err, "limit of 64");
        soidc_string_free(err);
        free(many);
    }
    soidc_string_free(nonce);
    soidc_client_free(client);
}

int main(void) {
    test_paths();
    test_hostile();
    test_require_claims();
    TEST_MAIN_END();
}
