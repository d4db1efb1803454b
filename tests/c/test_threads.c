/* Thread safety: 8 threads share one client and decode the real ID token 200 times
 * each. The client is fresh, so the threads also race for the first JWKS fetch.
 * Every 20th decode uses a wrong nonce (and must fail), so that the log callback is
 * called from all threads while the main thread keeps replacing it. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "soidc.h"
#include "test_util.h"

enum { THREADS = 8, ROUNDS = 200, FAIL_EVERY = 20 };

/* A log sink; called concurrently from the worker threads. */
struct log_sink {
    pthread_mutex_t lock;
    long messages;
};
static struct log_sink sink_a = {PTHREAD_MUTEX_INITIALIZER, 0};
static struct log_sink sink_b = {PTHREAD_MUTEX_INITIALIZER, 0};

static void on_log(int level, const char *message, void *user_data) {
    struct log_sink *sink = user_data;
    (void)level;
    (void)message;
    pthread_mutex_lock(&sink->lock);
    sink->messages++;
    pthread_mutex_unlock(&sink->lock);
}

struct worker {
    const soidc_client *client;
    const char *token;
    const char *options;
    int ok;          /* decodes that succeeded with the right subject */
    int rejected;    /* wrong-nonce decodes that failed with SOIDC_ERR_VALIDATION */
    soidc_status first_error;
    char *first_error_doc;
};

static void *work(void *arg) {
    struct worker *w = arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (i % FAIL_EVERY == FAIL_EVERY - 1) {
            if (soidc_decode_id_token(w->client, w->token, "{\"nonce\": \"wrong\"}", NULL, NULL, NULL) ==
                SOIDC_ERR_VALIDATION) {
                w->rejected++;
            }
            continue;
        }
        char *claims = NULL;
        soidc_status st = soidc_decode_id_token(w->client, w->token, w->options, NULL, NULL, &claims);
        char *sub = json_string_at(claims, "/sub");
        int is_alice = sub != NULL && strcmp(sub, "alice") == 0;
        soidc_string_free(sub);
        if (st == SOIDC_OK && is_alice) {
            w->ok++;
            soidc_string_free(claims);
        } else if (w->first_error_doc == NULL) {
            w->first_error = st;
            w->first_error_doc = claims; /* kept for the report, freed by main */
        } else {
            soidc_string_free(claims);
        }
    }
    return NULL;
}

int main(void) {
    soidc_client *client = NULL;
    char *err = NULL;
    soidc_status st = soidc_client_from_issuer_url(test_env("SOIDC_TEST_ISSUER"), NULL,
                                                   test_env("SOIDC_TEST_CLIENT_ID"),
                                                   test_env("SOIDC_TEST_CLIENT_SECRET"), NULL, NULL,
                                                   &client, &err);
    CHECK_STATUS(st, SOIDC_OK, err);
    soidc_string_free(err);
    if (client == NULL) TEST_MAIN_END();

    char options[256];
    char *nonce = test_quote(test_env("SOIDC_TEST_NONCE"));
    snprintf(options, sizeof options, "{\"nonce\": %s}", nonce);
    soidc_string_free(nonce);

    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (struct worker){client, test_env("SOIDC_TEST_ID_TOKEN"), options, 0, 0, SOIDC_OK, NULL};
        CHECK(pthread_create(&threads[t], NULL, work, &workers[t]) == 0);
    }
    /* Meanwhile: replace the log callback again and again (documented as safe). */
    soidc_set_log_callback(on_log, SOIDC_LOG_TRACE, &sink_a);
    for (int i = 0; i < 200; i++) {
        soidc_set_log_callback(on_log, SOIDC_LOG_TRACE, (i % 2) ? &sink_a : &sink_b);
    }

    const int expected_ok = ROUNDS - ROUNDS / FAIL_EVERY;
    int total = 0;
    for (int t = 0; t < THREADS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
        total += workers[t].ok;
        CHECK(workers[t].rejected == ROUNDS / FAIL_EVERY);
        if (workers[t].ok != expected_ok) {
            fprintf(stderr, "thread %d: %d of %d decodes succeeded; first failure: %s %s\n", t,
                    workers[t].ok, expected_ok, soidc_status_name(workers[t].first_error),
                    workers[t].first_error_doc ? workers[t].first_error_doc : "(no document)");
        }
        CHECK(workers[t].ok == expected_ok);
        soidc_string_free(workers[t].first_error_doc);
    }
    CHECK(total == THREADS * expected_ok);
    soidc_set_log_callback(NULL, 0, NULL);
    /* Read after the workers were joined and the callback removed (no race). */
    printf("%d good and %d rejected decodes in %d threads, %ld log messages\n", total,
           THREADS * (ROUNDS / FAIL_EVERY), THREADS, sink_a.messages + sink_b.messages);
    CHECK(sink_a.messages + sink_b.messages >= 1);

    soidc_client_free(client);
    TEST_MAIN_END();
}
