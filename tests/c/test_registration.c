/* Dynamic client registration (RFC 7591) and management (RFC 7592) from C, under
 * ASan/UBSan: bad input of every kind refused with SOIDC_ERR_INVALID_ARGUMENT and a JSON
 * error document (never the token), out-pointers overwritten; then a real registration at
 * the test provider (SOIDC_TEST_ISSUER): register, read, delete, read again refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soidc.h"
#include "test_util.h"

static char dummy_storage;
#define DUMMY_STR ((char *)&dummy_storage)
#define BAD SOIDC_ERR_INVALID_ARGUMENT

static const char *const token = "registration-access-token-0123456789";

/* Checks one outcome: the status, that the document was written, is JSON with the status
 * name and `fragment` in its message, and does not hold the token. Frees the document. */
static void check(int line, soidc_status st, char *doc, soidc_status want, const char *fragment) {
    if (st != want || doc == DUMMY_STR) {
        test_failures++;
        fprintf(stderr, "line %d: got %s, expected %s; document %s\n", line, soidc_status_name(st),
                soidc_status_name(want), doc == DUMMY_STR ? "(not overwritten)" : (doc ? doc : "(null)"));
    }
    test_checks++;
    if (doc == DUMMY_STR || doc == NULL) return;
    char *status = NULL, *message = NULL;
    CHECK_STATUS(soidc_json_get_string(doc, "/status", &status), SOIDC_OK, doc);
    CHECK_STATUS(soidc_json_get_string(doc, "/message", &message), SOIDC_OK, doc);
    CHECK_STR_EQ(status, soidc_status_name(want));
    if (fragment != NULL) CHECK_STR_CONTAINS(message, fragment);
    CHECK(strstr(doc, token) == NULL);
    soidc_string_free(status);
    soidc_string_free(message);
    soidc_string_free(doc);
}

/* The call is made in a statement of its own, before `doc` is read (the order in which a
 * function's arguments are evaluated is unspecified). */
#define REG(t, m, o, want, frag)                                                    \
    do {                                                                            \
        char *doc = DUMMY_STR;                                                      \
        soidc_status st_ = soidc_register_client(t, m, o, &doc);                \
        check(__LINE__, st_, doc, want, frag);     \
    } while (0)
#define READ(u, k, o, want, frag)                                                   \
    do {                                                                            \
        char *doc = DUMMY_STR;                                                      \
        soidc_status st_ = soidc_client_read_registration(u, k, o, &doc);                \
        check(__LINE__, st_, doc, want, frag); \
    } while (0)
#define UPDATE(u, k, m, o, want, frag)                                              \
    do {                                                                            \
        char *doc = DUMMY_STR;                                                      \
        soidc_status st_ = soidc_client_update_registration(u, k, m, o, &doc);                \
        check(__LINE__, st_, doc, want, frag); \
    } while (0)
#define DELETE(u, k, o, want, frag)                                                 \
    do {                                                                            \
        char *doc = DUMMY_STR;                                                      \
        soidc_status st_ = soidc_client_delete_registration(u, k, o, &doc);                \
        check(__LINE__, st_, doc, want, frag); \
    } while (0)

int main(void) {
    const char *issuer = getenv("SOIDC_TEST_ISSUER");
    if (issuer == NULL) {
        fprintf(stderr, "SOIDC_TEST_ISSUER is not set (run through tests/c/run.sh)\n");
        return 1;
    }
    const char *md = "{\"client_name\": \"c-dcr\", \"grant_types\": [\"client_credentials\"],"
                     " \"response_types\": [], \"redirect_uris\": []}";
    const char *dead = "http://127.0.0.1:9/reg";
    const char *dead_uri = "http://127.0.0.1:9/reg/c1";
    const char *ep = "{\"endpoint\": true, \"timeout_ms\": 3000}";

    /* NULL where a value is needed. */
    REG(NULL, md, NULL, BAD, "issuer_or_registration_endpoint is NULL");
    REG(dead, NULL, ep, BAD, "metadata_json is NULL");
    READ(NULL, token, NULL, BAD, "registration_client_uri is NULL");
    READ(dead_uri, NULL, NULL, BAD, "registration_access_token is NULL");
    UPDATE(dead_uri, token, NULL, NULL, BAD, "metadata_json is NULL");
    DELETE(dead_uri, NULL, NULL, BAD, "registration_access_token is NULL");
    CHECK_STATUS(soidc_register_client(NULL, NULL, NULL, NULL), BAD, "(no document)");
    /* Malformed metadata, unknown and wrong options. */
    REG(dead, "{", ep, BAD, "metadata_json");
    REG(dead, "[1]", ep, BAD, "metadata_json");
    REG(dead, "{\"a\": 1, \"a\": 2}", ep, BAD, "metadata_json");
    REG(dead, md, "{\"endpiont\": true}", BAD, "endpiont");
    REG(dead, md, "{\"endpoint\": 1}", BAD, "endpoint");
    REG(dead, md, "{\"initial_access_token\": \"\", \"endpoint\": true}", BAD, "initial_access_token is empty");
    READ(dead_uri, token, "{\"endpoint\": true}", BAD, "endpoint");
    READ(dead_uri, "", NULL, BAD, "registration_access_token is empty");
    UPDATE(dead_uri, token, md, NULL, BAD, "client_id");
    REG("http://op.example/reg", md, ep, BAD, "https is required");
    /* A 1 MB metadata document and a 1 MB token. */
    size_t huge_len = 1024 * 1024;
    char *huge = malloc(huge_len + 32);
    if (huge == NULL) abort();
    strcpy(huge, "{\"client_name\": \"");
    size_t n = strlen(huge);
    memset(huge + n, 'x', huge_len);
    strcpy(huge + n + huge_len, "\"}");
    REG(dead, huge, ep, BAD, "limit");
    huge[n + huge_len] = '\0';
    READ(dead_uri, huge + n, NULL, BAD, "limit");
    free(huge);
    /* Everything valid, nobody listening: SOIDC_ERR_NETWORK. */
    REG(dead, md, "{\"endpoint\": true, \"timeout_ms\": 3000, \"initial_access_token\": \"registration-access-token-0123456789\"}",
        SOIDC_ERR_NETWORK, NULL);
    DELETE(dead_uri, token, "{\"timeout_ms\": 3000}", SOIDC_ERR_NETWORK, NULL);

    /* A real registration at the test provider. */
    char *reg = NULL;
    CHECK_STATUS(soidc_register_client(issuer, md, NULL, &reg), SOIDC_OK, reg);
    char *client_id = NULL, *uri = NULL, *rat = NULL;
    CHECK_STATUS(soidc_json_get_string(reg, "/client_id", &client_id), SOIDC_OK, reg);
    CHECK_STATUS(soidc_json_get_string(reg, "/registration_client_uri", &uri), SOIDC_OK, reg);
    CHECK_STATUS(soidc_json_get_string(reg, "/registration_access_token", &rat), SOIDC_OK, reg);
    if (client_id && uri && rat) {
        char *read = NULL, *read_id = NULL;
        CHECK_STATUS(soidc_client_read_registration(uri, rat, NULL, &read), SOIDC_OK, read);
        CHECK_STATUS(soidc_json_get_string(read, "/client_id", &read_id), SOIDC_OK, read);
        CHECK_STR_EQ(read_id, client_id);
        char *del = NULL;
        CHECK_STATUS(soidc_client_delete_registration(uri, rat, NULL, &del), SOIDC_OK, del);
        CHECK_STR_EQ(del, "{}");
        char *gone = NULL;
        CHECK_STATUS(soidc_client_read_registration(uri, rat, NULL, &gone), SOIDC_ERR_PROVIDER, gone);
        soidc_string_free(read);
        soidc_string_free(read_id);
        soidc_string_free(del);
        soidc_string_free(gone);
    }
    soidc_string_free(client_id);
    soidc_string_free(uri);
    soidc_string_free(rat);
    soidc_string_free(reg);
    TEST_MAIN_END();
}
