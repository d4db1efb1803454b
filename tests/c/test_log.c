/* The log callback: messages arrive at level 5 (trace) for discovery and for failing
 * and succeeding decodes, carry the user_data, respect max_level, never contain the
 * client secret or a token, and stop after the callback is removed. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soidc.h"
#include "test_util.h"

/* Everything the callback received; it may be called from several threads. */
struct log_capture {
    pthread_mutex_t lock;
    int count;
    int bad_level;        /* level outside 1..max_level */
    int max_level;
    char *messages[1024]; /* copies of the first 1024 messages */
};

static void capture(int level, const char *message, void *user_data) {
    struct log_capture *cap = user_data;
    pthread_mutex_lock(&cap->lock);
    if (level < SOIDC_LOG_ERROR || level > cap->max_level) cap->bad_level++;
    if (cap->count < (int)(sizeof cap->messages / sizeof cap->messages[0])) {
        cap->messages[cap->count] = test_strdup(message ? message : "(null message)");
    }
    cap->count++;
    pthread_mutex_unlock(&cap->lock);
}

static void capture_reset(struct log_capture *cap, int max_level) {
    for (int i = 0; i < cap->count && i < 1024; i++) free(cap->messages[i]);
    cap->count = 0;
    cap->bad_level = 0;
    cap->max_level = max_level;
}

/* No captured message may contain `secret` (nor, for long values, its last 20 chars). */
static void check_no_leak(const struct log_capture *cap, const char *what, const char *secret) {
    size_t n = strlen(secret);
    const char *tail = n > 20 ? secret + n - 20 : secret;
    for (int i = 0; i < cap->count && i < 1024; i++) {
        if (strstr(cap->messages[i], tail) != NULL) {
            test_failures++;
            fprintf(stderr, "%s:%d: FAILED: log message %d contains the %s: %s\n", __FILE__, __LINE__, i,
                    what, cap->messages[i]);
        }
    }
    test_checks++;
}

int main(void) {
    const char *issuer = test_env("SOIDC_TEST_ISSUER");
    const char *secret = test_env("SOIDC_TEST_CLIENT_SECRET");
    const char *token = test_env("SOIDC_TEST_ID_TOKEN");
    const char *access_token = test_env("SOIDC_TEST_ACCESS_TOKEN");
    const char *signature = strrchr(token, '.') + 1;

    static struct log_capture cap = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, {0}};
    capture_reset(&cap, SOIDC_LOG_TRACE);
    soidc_set_log_callback(capture, SOIDC_LOG_TRACE, &cap);

    /* Discovery (the secret is in hand), a key refresh, a good decode that also checks
     * at_hash against the access token, and failing decodes. */
    soidc_client *client = NULL;
    char *doc = NULL;
    soidc_status st = soidc_client_from_issuer_url(issuer, NULL, test_env("SOIDC_TEST_CLIENT_ID"),
                                                   secret, NULL, NULL, &client, &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    soidc_string_free(doc);
    int after_discovery = cap.count;
    CHECK(after_discovery >= 1);

    doc = NULL;
    st = soidc_client_provider_keys(client, "{\"force_refresh\": true}", &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    soidc_string_free(doc);

    char options[1024];
    char *nonce = test_quote(test_env("SOIDC_TEST_NONCE"));
    char *quoted_at = test_quote(access_token);
    snprintf(options, sizeof options, "{\"nonce\": %s, \"access_token\": %s}", nonce, quoted_at);
    soidc_string_free(nonce);
    soidc_string_free(quoted_at);
    doc = NULL;
    st = soidc_decode_id_token(client, token, options, NULL, NULL, &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    soidc_string_free(doc);

    int before_failure = cap.count;
    doc = NULL;
    st = soidc_decode_id_token(client, token, "{\"nonce\": \"wrong\"}", NULL, NULL, &doc);
    CHECK_STATUS(st, SOIDC_ERR_VALIDATION, doc);
    soidc_string_free(doc);
    CHECK(cap.count > before_failure); /* the rejection is logged */

    char *tampered = test_strdup(token);
    char *sig = strrchr(tampered, '.') + 20;
    *sig = (*sig == 'A') ? 'B' : 'A';
    doc = NULL;
    st = soidc_decode_id_token(client, tampered, NULL, NULL, NULL, &doc);
    CHECK_STATUS(st, SOIDC_ERR_VALIDATION, doc);
    soidc_string_free(doc);

    CHECK(cap.count >= 1);
    CHECK(cap.bad_level == 0);
    check_no_leak(&cap, "client secret", secret);
    check_no_leak(&cap, "ID token", token);
    check_no_leak(&cap, "ID token signature", signature);
    check_no_leak(&cap, "tampered token signature", strrchr(tampered, '.') + 1);
    check_no_leak(&cap, "access token", access_token);
    printf("%d log messages at level <= 5, e.g.:\n", cap.count);
    for (int i = 0; i < cap.count && i < 8; i++) printf("  %s\n", cap.messages[i]);

    /* max_level 1: nothing above errors arrives (a failing decode is not an error of
     * the library, so typically nothing arrives at all). */
    capture_reset(&cap, SOIDC_LOG_ERROR);
    soidc_set_log_callback(capture, SOIDC_LOG_ERROR, &cap);
    st = soidc_decode_id_token(client, tampered, NULL, NULL, NULL, NULL);
    CHECK_STATUS(st, SOIDC_ERR_VALIDATION, NULL);
    CHECK(cap.bad_level == 0);

    /* Removed: nothing more arrives. */
    soidc_set_log_callback(NULL, SOIDC_LOG_TRACE, NULL);
    capture_reset(&cap, SOIDC_LOG_TRACE);
    st = soidc_decode_id_token(client, tampered, "{\"nonce\": \"wrong\"}", NULL, NULL, NULL);
    CHECK_STATUS(st, SOIDC_ERR_VALIDATION, NULL);
    soidc_client *other = NULL;
    st = soidc_client_from_issuer_url(issuer, NULL, "public-pkce", NULL, NULL, NULL, &other, NULL);
    CHECK_STATUS(st, SOIDC_OK, NULL);
    CHECK(cap.count == 0);

    soidc_client_free(other);
    free(tampered);
    capture_reset(&cap, 0);
    soidc_client_free(client);
    TEST_MAIN_END();
}
