/* fork(): a client created (and used) before fork() keeps working in the child, which
 * opens its own connections, and in the parent afterwards (the nginx/Apache prefork
 * pattern). A deadlock in the child is turned into a failure by alarm(). */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "soidc.h"
#include "test_util.h"

/* Uses the client the way a worker would: a decode, a forced key refresh (network),
 * and a discovery of a new client. */
static void use_client(const soidc_client *client, const char *who) {
    char options[256];
    char *nonce = test_quote(test_env("SOIDC_TEST_NONCE"));
    snprintf(options, sizeof options, "{\"nonce\": %s}", nonce);
    soidc_string_free(nonce);
    char *doc = NULL;
    soidc_status st = soidc_decode_id_token(client, test_env("SOIDC_TEST_ID_TOKEN"), options, NULL, NULL, &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    char *sub = json_string_at(doc, "/sub");
    CHECK_STR_EQ(sub, "alice");
    soidc_string_free(sub);
    soidc_string_free(doc);

    doc = NULL;
    st = soidc_client_provider_keys(client, "{\"force_refresh\": true, \"timeout_ms\": 5000}", &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    CHECK(json_has(doc, "/keys"));
    soidc_string_free(doc);

    soidc_client *fresh = NULL;
    doc = NULL;
    st = soidc_client_from_issuer_url(test_env("SOIDC_TEST_ISSUER"), NULL, "public-pkce", NULL, NULL,
                                      "{\"timeout_ms\": 5000}", &fresh, &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    soidc_string_free(doc);
    soidc_client_free(fresh);
    printf("%s: client works\n", who);
    fflush(stdout);
}

int main(void) {
    soidc_client *client = NULL;
    char *doc = NULL;
    soidc_status st = soidc_client_from_issuer_url(test_env("SOIDC_TEST_ISSUER"), NULL,
                                                   test_env("SOIDC_TEST_CLIENT_ID"),
                                                   test_env("SOIDC_TEST_CLIENT_SECRET"), NULL, NULL,
                                                   &client, &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    soidc_string_free(doc);
    if (client == NULL) TEST_MAIN_END();

    use_client(client, "parent before fork"); /* keys cached, connections pooled */

    for (int round = 0; round < 2; round++) {
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            alarm(30); /* a deadlock in the child fails the test instead of hanging it */
            use_client(client, "child");
            soidc_client_free(client);
            /* exit(), not _exit(): LeakSanitizer checks the child too. The library
             * replaced the inherited connection pool on the child's first request and
             * freed the old one (closing only the child's copies of the descriptors), so
             * nothing may leak here either. */
            fflush(stdout);
            exit(test_failures == 0 ? 0 : 1);
        }
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status));
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (WIFSIGNALED(status)) fprintf(stderr, "child killed by signal %d\n", WTERMSIG(status));
        use_client(client, "parent after fork");
    }

    soidc_client_free(client);
    TEST_MAIN_END();
}
