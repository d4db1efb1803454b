/* Provider state through the C API, under ASan/UBSan: export, create from the state,
 * decode with the imported keys only, import keys handed in by the host, refused
 * states and keys, and two clients sharing a cache_dir. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soidc.h"
#include "test_util.h"

static soidc_client *discover(const char *options) {
    soidc_client *client = NULL;
    char *err = NULL;
    soidc_status st = soidc_client_from_issuer_url(test_env("SOIDC_TEST_ISSUER"), NULL,
                                                   test_env("SOIDC_TEST_CLIENT_ID"),
                                                   test_env("SOIDC_TEST_CLIENT_SECRET"), NULL,
                                                   options, &client, &err);
    CHECK_STATUS(st, SOIDC_OK, err);
    soidc_string_free(err);
    return client;
}

/* Decodes alice's ID token with cached keys only; checks the subject. */
static void decode_cache_only(const soidc_client *client) {
    char options[256];
    snprintf(options, sizeof options, "{\"nonce\":\"%s\",\"cache_only\":true}", test_env("SOIDC_TEST_NONCE"));
    char *claims = NULL;
    soidc_status st = soidc_decode_id_token(client, test_env("SOIDC_TEST_ID_TOKEN"), options, NULL, NULL, &claims);
    CHECK_STATUS(st, SOIDC_OK, claims);
    CHECK_STR_CONTAINS(claims, "\"sub\":\"alice\"");
    soidc_string_free(claims);
}

static soidc_client *from_state(const char *state, soidc_status expected, const char *fragment) {
    char options[512];
    snprintf(options, sizeof options, "{\"issuer\":\"%s\"}", test_env("SOIDC_TEST_ISSUER"));
    soidc_client *client = NULL;
    char *err = NULL;
    soidc_status st = soidc_client_from_state(state, NULL, test_env("SOIDC_TEST_CLIENT_ID"),
                                              test_env("SOIDC_TEST_CLIENT_SECRET"), NULL, options,
                                              &client, &err);
    CHECK_STATUS(st, expected, err);
    if (expected == SOIDC_OK) {
        CHECK(client != NULL);
        CHECK(err == NULL);
    } else {
        CHECK(client == NULL);
        CHECK_STR_CONTAINS(err, fragment);
    }
    soidc_string_free(err);
    return client;
}

static void test_round_trip(void) {
    soidc_client *first = discover(NULL);
    char *keys = NULL;
    CHECK_STATUS(soidc_client_provider_keys(first, NULL, &keys), SOIDC_OK, keys);
    char *state = NULL;
    CHECK_STATUS(soidc_client_export_state(first, NULL, &state), SOIDC_OK, state);
    CHECK_STR_CONTAINS(state, "\"soidc_state\":1");
    CHECK_STR_CONTAINS(state, "\"jwks_expires_at\":");
    CHECK(strstr(state, test_env("SOIDC_TEST_CLIENT_SECRET")) == NULL); /* no secret */

    soidc_client *replica = from_state(state, SOIDC_OK, NULL);
    decode_cache_only(replica);
    char *again = NULL;
    CHECK_STATUS(soidc_client_export_state(replica, NULL, &again), SOIDC_OK, again);
    CHECK_STR_EQ(again, state);

    /* A truncated state and one of another version are refused whole. */
    char *cut = test_strdup(state);
    cut[strlen(cut) / 2] = '\0';
    CHECK(from_state(cut, SOIDC_ERR_INVALID_ARGUMENT, "malformed JSON") == NULL);
    free(cut);
    char *v2 = test_strdup(state);
    char *version = strstr(v2, "\"soidc_state\":1");
    if (version != NULL) {
        version[strlen("\"soidc_state\":")] = '2';
        CHECK(from_state(v2, SOIDC_ERR_INVALID_ARGUMENT, "version 2") == NULL);
    }
    free(v2);

    /* Keys handed in by the host: a fresh client uses them without fetching; garbage
     * changes nothing. */
    soidc_client *fresh = discover(NULL);
    char *err = NULL;
    CHECK_STATUS(soidc_client_import_keys(fresh, keys, "{\"max_age_s\":600}", &err), SOIDC_OK, err);
    CHECK(err == NULL);
    decode_cache_only(fresh);
    CHECK_STATUS(soidc_client_import_keys(fresh, "{\"keys\":[]}", NULL, &err), SOIDC_ERR_INVALID_ARGUMENT, err);
    CHECK_STR_CONTAINS(err, "no key usable");
    soidc_string_free(err);
    err = NULL;
    CHECK_STATUS(soidc_client_import_keys(fresh, "{\"keys\":", NULL, NULL), SOIDC_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(soidc_client_import_keys(NULL, keys, NULL, &err), SOIDC_ERR_INVALID_ARGUMENT, err);
    soidc_string_free(err);
    decode_cache_only(fresh);
    CHECK_STATUS(soidc_client_export_state(NULL, NULL, NULL), SOIDC_ERR_INVALID_ARGUMENT, NULL);

    soidc_client_free(fresh);
    soidc_string_free(again);
    soidc_client_free(replica);
    soidc_string_free(state);
    soidc_string_free(keys);
    soidc_client_free(first);
}

static void test_cache_dir(void) {
    char dir[] = "/tmp/soidc-c-state-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char options[512];
    snprintf(options, sizeof options, "{\"cache_dir\":\"%s/cache\"}", dir);
    soidc_client *writer = discover(options); /* discovers, fetches the keys, writes the file */
    soidc_client *reader = discover(options); /* reads the file */
    decode_cache_only(reader);
    soidc_client_free(reader);
    soidc_client_free(writer);
    char command[600];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    CHECK(system(command) == 0);
}

int main(void) {
    test_round_trip();
    test_cache_dir();
    TEST_MAIN_END();
}
