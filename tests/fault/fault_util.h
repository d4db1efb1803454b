/*
 * Helpers of the soidc fault-injection tests (tests/fault/run.sh sets the environment):
 *
 *   SOIDC_TEST_ISSUER         the provider's issuer: the Toxiproxy listener in front of it
 *   SOIDC_FAULT_DIRECT        the provider itself (for its /test/... control endpoints and
 *                             for getting tokens while the proxy is down or hung)
 *   SOIDC_FAULT_TOXIPROXY     the Toxiproxy HTTP API; the proxy is named "provider"
 *   SOIDC_FAULT_PROXY_LOG     Toxiproxy's log (one JSON line per accepted connection)
 *   SOIDC_FAULT_MARGIN_MS     allowed overshoot of a call beyond its timeout_ms (500)
 *
 *   now_ms()                  monotonic milliseconds
 *   http_do(base, method, path, extra_headers, body, &status)
 *                             a blocking HTTP/1.0 request (malloc'd response body or NULL)
 *   tp_toxic_add(name, type, stream, attributes_json), tp_toxic_remove(name),
 *   tp_enable(on), tp_reset()  Toxiproxy control (each aborts the test when refused)
 *   proxy_accepts()           connections Toxiproxy has accepted so far
 *   provider_jwks_count()     GET /jwks answered by the provider so far
 *   provider_rotate()         POST /test/rotate (new keys first, old ones kept)
 *   provider_id_token(user)   a fresh ID token (conf-basic, scope openid, no nonce), fetched
 *                             directly from the provider with its test-only password grant
 */
#ifndef SOIDC_FAULT_UTIL_H
#define SOIDC_FAULT_UTIL_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "soidc.h"
#include "test_util.h"

#define FAULT_CLIENT_ID "conf-basic"
#define FAULT_CLIENT_SECRET "conf-basic-secret-0123456789abcdef"

static inline long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline long margin_ms(void) {
    const char *m = getenv("SOIDC_FAULT_MARGIN_MS");
    return (m && *m) ? atol(m) : 500;
}

static inline void fault_die(const char *what) {
    fprintf(stderr, "fault test setup failed: %s\n", what);
    exit(2);
}

/* The header length (status line and headers, with the blank line) of the last http_do answer. */
static size_t http_last_header_len;

/* A blocking HTTP/1.0 request to base ("http://127.0.0.1:PORT"). Returns the malloc'd body
 * (free() it) and sets *status, or returns NULL on a transport error. 10 s socket timeouts. */
static inline char *http_do(const char *base, const char *method, const char *path,
                            const char *extra_headers, const char *body, int *status) {
    *status = 0;
    const char *hostport = strstr(base, "://");
    hostport = hostport ? hostport + 3 : base;
    char host[64];
    const char *colon = strchr(hostport, ':');
    if (colon == NULL || (size_t)(colon - hostport) >= sizeof host) return NULL;
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    int port = atoi(colon + 1);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return NULL;
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return NULL;
    }
    size_t body_len = body ? strlen(body) : 0;
    size_t req_cap = strlen(path) + strlen(base) + (extra_headers ? strlen(extra_headers) : 0) + body_len + 256;
    char *req = malloc(req_cap);
    if (req == NULL) abort();
    int n = snprintf(req, req_cap, "%s %s HTTP/1.0\r\nHost: %s\r\n%sContent-Length: %zu\r\n\r\n%s", method, path,
                     hostport, extra_headers ? extra_headers : "", body_len, body ? body : "");
    size_t off = 0;
    while (off < (size_t)n) {
        ssize_t w = send(fd, req + off, (size_t)n - off, MSG_NOSIGNAL);
        if (w <= 0) {
            free(req);
            close(fd);
            return NULL;
        }
        off += (size_t)w;
    }
    free(req);
    size_t cap = 4096, len = 0;
    char *resp = malloc(cap);
    if (resp == NULL) abort();
    for (;;) {
        if (len + 1024 > cap) {
            cap *= 2;
            resp = realloc(resp, cap);
            if (resp == NULL) abort();
        }
        ssize_t r = recv(fd, resp + len, cap - len - 1, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r < 0) {
                free(resp);
                close(fd);
                return NULL;
            }
            break;
        }
        len += (size_t)r;
    }
    close(fd);
    resp[len] = '\0';
    char *sep = strstr(resp, "\r\n\r\n");
    if (strncmp(resp, "HTTP/1.", 7) != 0 || sep == NULL) {
        free(resp);
        return NULL;
    }
    *status = atoi(resp + 9);
    http_last_header_len = (size_t)(sep + 4 - resp);
    char *out = test_strdup(sep + 4);
    free(resp);
    return out;
}

/* The length of the body of a GET from base+path (200 required); *header_len: its headers'. */
static inline size_t http_body_size(const char *base, const char *path, size_t *header_len) {
    int st;
    char *body = http_do(base, "GET", path, NULL, NULL, &st);
    if (body == NULL || st != 200) fault_die("GET for a body size");
    size_t n = strlen(body);
    *header_len = http_last_header_len;
    free(body);
    return n;
}

/* Toxiproxy's API; any refusal ends the test (the setup, not soidc, is broken then). */
static inline void tp_call(const char *method, const char *path, const char *body, int ok1, int ok2) {
    int st;
    char *resp = http_do(test_env("SOIDC_FAULT_TOXIPROXY"), method, path,
                         "Content-Type: application/json\r\n", body, &st);
    if (resp == NULL || (st != ok1 && st != ok2)) {
        fprintf(stderr, "toxiproxy %s %s %s -> %d %s\n", method, path, body ? body : "", st, resp ? resp : "(no answer)");
        fault_die("toxiproxy API");
    }
    free(resp);
}

static inline void tp_toxic_add(const char *name, const char *type, const char *stream, const char *attributes) {
    char body[512];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"type\":\"%s\",\"stream\":\"%s\",\"toxicity\":1.0,\"attributes\":%s}",
             name, type, stream, attributes);
    tp_call("POST", "/proxies/provider/toxics", body, 200, 201);
}

static inline void tp_toxic_remove(const char *name) {
    char path[128];
    snprintf(path, sizeof path, "/proxies/provider/toxics/%s", name);
    tp_call("DELETE", path, NULL, 204, 200);
}

static inline void tp_enable(int on) {
    tp_call("POST", "/proxies/provider", on ? "{\"enabled\":true}" : "{\"enabled\":false}", 200, 201);
}

/* Re-enables every proxy and removes every toxic. */
static inline void tp_reset(void) { tp_call("POST", "/reset", NULL, 204, 200); }

static inline long proxy_accepts(void) {
    FILE *f = fopen(test_env("SOIDC_FAULT_PROXY_LOG"), "r");
    if (f == NULL) fault_die("open the toxiproxy log");
    long n = 0;
    char line[4096];
    while (fgets(line, sizeof line, f) != NULL) {
        if (strstr(line, "\"Accepted client\"") != NULL) n++;
    }
    fclose(f);
    return n;
}

static inline long provider_jwks_count(void) {
    int st;
    char *body = http_do(test_env("SOIDC_FAULT_DIRECT"), "GET", "/test/jwks-fetch-count", NULL, NULL, &st);
    const char *c = body ? strstr(body, "\"count\":") : NULL;
    if (c == NULL || st != 200) fault_die("GET /test/jwks-fetch-count");
    long n = atol(c + 8);
    free(body);
    return n;
}

static inline void provider_rotate(void) {
    int st;
    char *body = http_do(test_env("SOIDC_FAULT_DIRECT"), "POST", "/test/rotate", NULL, NULL, &st);
    if (body == NULL || st != 200) fault_die("POST /test/rotate");
    free(body);
}

static inline void b64(const char *in, char *out) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n) v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)in[i + 2];
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
}

/* A fresh ID token for `user` (conf-basic, scope openid, no nonce), from the provider
 * directly; malloc'd. */
static inline char *provider_id_token(const char *user) {
    char enc[256], headers[512], body[256];
    b64(FAULT_CLIENT_ID ":" FAULT_CLIENT_SECRET, enc);
    snprintf(headers, sizeof headers,
             "Authorization: Basic %s\r\nContent-Type: application/x-www-form-urlencoded\r\n", enc);
    snprintf(body, sizeof body, "grant_type=password&username=%s&password=%s-password&scope=openid", user, user);
    int st;
    char *resp = http_do(test_env("SOIDC_FAULT_DIRECT"), "POST", "/token", headers, body, &st);
    char *tok = NULL;
    if (resp != NULL) { /* a malloc'd copy: the callers free() it */
        char *s = json_string_at(resp, "/id_token");
        tok = s ? test_strdup(s) : NULL;
        soidc_string_free(s);
    }
    if (tok == NULL || st != 200) {
        fprintf(stderr, "POST /token -> %d %s\n", st, resp ? resp : "(no answer)");
        fault_die("password grant at the provider");
    }
    free(resp);
    return tok;
}

/* The `kid` of a compact JWS header (malloc'd), for the report. */
static inline char *token_kid(const char *token) {
    static const char *tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *dot = strchr(token, '.');
    size_t n = dot ? (size_t)(dot - token) : 0;
    char *json = calloc(n + 1, 1);
    if (json == NULL) abort();
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = strchr(tbl, token[i]);
        if (p == NULL) break;
        acc = (acc << 6) | (unsigned)(p - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            json[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    char *s = json_string_at(json, "/kid");
    free(json);
    char *kid = test_strdup(s ? s : "?");
    soidc_string_free(s);
    return kid;
}

#endif /* SOIDC_FAULT_UTIL_H */
