/* Error paths of discovery and key fetching: unreachable provider, no answer (timeout),
 * HTTP errors, redirects (never followed), non-JSON bodies, issuer mismatch. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "soidc.h"
#include "test_util.h"

/* A listening socket on 127.0.0.1 with an ephemeral port; returns the fd. */
static int listen_loopback(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        perror("listen_loopback");
        exit(2);
    }
    *port = ntohs(addr.sin_port);
    return fd;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Discovery must fail with `expected`; the error document must be JSON whose status is
 * the code's name and whose message contains `word` (NULL: any). */
static void expect_discovery_error(const char *issuer, const char *options, soidc_status expected,
                                   const char *word) {
    const char *secret = test_env("SOIDC_TEST_CLIENT_SECRET");
    soidc_client *client = NULL;
    char *err = NULL;
    soidc_status st = soidc_client_from_issuer_url(issuer, NULL, test_env("SOIDC_TEST_CLIENT_ID"),
                                                   secret, NULL, options, &client, &err);
    CHECK_STATUS(st, expected, err);
    CHECK(client == NULL);
    CHECK(json_is_valid(err));
    char *status = json_string_at(err, "/status");
    CHECK_STR_EQ(status, soidc_status_name(expected));
    char *message = json_string_at(err, "/message");
    CHECK(message != NULL && *message != '\0');
    if (word != NULL) CHECK_STR_CONTAINS(message, word);
    CHECK(err == NULL || strstr(err, secret) == NULL);
    soidc_string_free(status);
    soidc_string_free(message);
    soidc_string_free(err);
    soidc_client_free(client);
}

static void test_unreachable(void) {
    /* A port that was just free: nothing listens there, connect() is refused. */
    int port;
    close(listen_loopback(&port));
    char issuer[64];
    snprintf(issuer, sizeof issuer, "http://127.0.0.1:%d", port);
    expect_discovery_error(issuer, NULL, SOIDC_ERR_NETWORK, NULL);
}

static void test_timeout(void) {
    /* The kernel accepts the connection, nobody ever answers: timeout_ms must end it. */
    int port;
    int fd = listen_loopback(&port);
    char issuer[64];
    snprintf(issuer, sizeof issuer, "http://127.0.0.1:%d", port);
    double start = now_s();
    expect_discovery_error(issuer, "{\"timeout_ms\": 500}", SOIDC_ERR_NETWORK, NULL);
    double elapsed = now_s() - start;
    CHECK(elapsed >= 0.4);
    CHECK(elapsed < 5.0);
    close(fd);
}

/* A one-connection HTTP server answering every request with a canned response. */
struct stub {
    int fd;
    const char *response;
    int served;
};

static void *stub_serve(void *arg) {
    struct stub *s = arg;
    for (;;) {
        int conn = accept(s->fd, NULL, NULL);
        if (conn < 0) return NULL; /* the listening socket was shut down */
        char buf[4096];
        size_t got = 0;
        ssize_t n;
        while (got < sizeof buf - 1 && (n = read(conn, buf + got, sizeof buf - 1 - got)) > 0) {
            got += (size_t)n;
            buf[got] = '\0';
            if (strstr(buf, "\r\n\r\n")) break;
        }
        size_t len = strlen(s->response);
        if (write(conn, s->response, len) != (ssize_t)len) perror("stub write");
        s->served++;
        close(conn);
    }
}

static void with_stub(const char *response, soidc_status expected, const char *word) {
    struct stub s = {0, response, 0};
    int port;
    s.fd = listen_loopback(&port);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, stub_serve, &s) == 0);
    char issuer[64];
    snprintf(issuer, sizeof issuer, "http://127.0.0.1:%d", port);
    expect_discovery_error(issuer, "{\"timeout_ms\": 5000}", expected, word);
    shutdown(s.fd, SHUT_RDWR);
    pthread_join(thread, NULL);
    close(s.fd);
    CHECK(s.served >= 1);
}

static void test_http_errors(void) {
    const char *issuer = test_env("SOIDC_TEST_ISSUER");
    char url[256];

    /* The provider answers 404 for a discovery document under an unknown path. */
    snprintf(url, sizeof url, "%s/no-such-tenant", issuer);
    expect_discovery_error(url, NULL, SOIDC_ERR_HTTP, "404");

    with_stub("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
              SOIDC_ERR_HTTP, "500");
    /* Redirects are never followed. */
    with_stub("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/x\r\nContent-Length: 0\r\n"
              "Connection: close\r\n\r\n", SOIDC_ERR_HTTP, "302");
    /* 200, but not JSON. */
    with_stub("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n"
              "Connection: close\r\n\r\n<html></html>", SOIDC_ERR_HTTP, NULL);
}

static void test_issuer_mismatch(void) {
    /* The provider's issuer has no trailing slash; discovery must compare exactly. */
    char url[256];
    snprintf(url, sizeof url, "%s/", test_env("SOIDC_TEST_ISSUER"));
    expect_discovery_error(url, NULL, SOIDC_ERR_PROTOCOL, "issuer");
}

static void test_keys_unreachable(void) {
    /* Metadata whose jwks_uri points to a closed port: decoding cannot get keys. */
    const char *issuer = test_env("SOIDC_TEST_ISSUER");
    int port;
    close(listen_loopback(&port));
    /* Every string value quoted by soidc_json_quote, never pasted between quotes. */
    char auth[512], token[512];
    snprintf(auth, sizeof auth, "%s/auth", issuer);
    snprintf(token, sizeof token, "%s/token", issuer);
    char *q_issuer = test_quote(issuer), *q_auth = test_quote(auth), *q_token = test_quote(token);
    char metadata[2048];
    snprintf(metadata, sizeof metadata,
             "{\"issuer\": %s, \"authorization_endpoint\": %s, \"token_endpoint\": %s,"
             " \"jwks_uri\": \"http://127.0.0.1:%d/jwks\", \"subject_types_supported\": [\"public\"],"
             " \"id_token_signing_alg_values_supported\": [\"RS256\"]}",
             q_issuer, q_auth, q_token, port);
    soidc_string_free(q_issuer);
    soidc_string_free(q_auth);
    soidc_string_free(q_token);
    soidc_client *client = NULL;
    char *doc = NULL;
    soidc_status st = soidc_client_from_issuer_config(metadata, NULL, test_env("SOIDC_TEST_CLIENT_ID"),
                                                      test_env("SOIDC_TEST_CLIENT_SECRET"), NULL, NULL,
                                                      &client, &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    soidc_string_free(doc);
    if (client == NULL) return;

    doc = NULL;
    st = soidc_decode_id_token(client, test_env("SOIDC_TEST_ID_TOKEN"), NULL, NULL, NULL, &doc);
    CHECK_STATUS(st, SOIDC_ERR_NETWORK, doc);
    soidc_string_free(doc);

    doc = NULL;
    st = soidc_client_provider_keys(client, NULL, &doc);
    CHECK_STATUS(st, SOIDC_ERR_NETWORK, doc);
    soidc_string_free(doc);

    /* cache_only with nothing cached: a validation error, no network. */
    doc = NULL;
    st = soidc_client_provider_keys(client, "{\"cache_only\": true}", &doc);
    CHECK_STATUS(st, SOIDC_ERR_VALIDATION, doc);
    soidc_string_free(doc);

    soidc_client_free(client);
}

int main(void) {
    test_unreachable();
    test_timeout();
    test_http_errors();
    test_issuer_mismatch();
    test_keys_unreachable();
    TEST_MAIN_END();
}
