/*
 * soidc through its C ABI, for `make bench` (bench/run.sh). Not a test: it prints
 * figures as "R <key> <value>" lines and fails only when soidc rejects a token or a
 * request (which would make every figure meaningless).
 *
 *   decode_bench decode    DIR SECS      ID/access token decode rates, 1 and 2 threads, timed in
 *                                        alternating 0.1 s slices with the limit (bench/rust's
 *                                        libsoidc_bench_limit.so) in this one process
 *   decode_bench nettest   DIR N         JWKS requests at the stub before/after N cached decodes
 *   decode_bench footprint DIR N         VmRSS growth per client handle (N clients)
 *   decode_bench cc        DIR SECS      client credentials round trips: rate, CPU/request, connections
 *   decode_bench profile   DIR ALG N     N decodes of one token, nothing else (for callgrind/perf)
 *
 * DIR holds what bench/run.sh prepared: metadata.json, params.json, jwks*.json, RS256.jwt,
 * ES256.jwt, EdDSA.jwt, at.jwt, at-dpop.jwt + dpop-proofs.txt (DPoP, RFC 9449), and `port`
 * (the local stub server).
 */
#define _GNU_SOURCE
#include "soidc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *const ALGS[] = {"RS256", "ES256", "EdDSA"};
enum { NALGS = 3 };
/* The first NALGS3 algorithms have their token's key in jwks3.json (RS256, ES256). */
enum { NALGS3 = 2 };

static const char *dir;

static void die(const char *what, const char *detail) {
    fprintf(stderr, "decode_bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static char *slurp(const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) die("cannot read", path);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) n--;
    buf[n] = '\0';
    return buf;
}

/* The value of a top-level string member of a flat JSON document we wrote ourselves. */
static char *json_str(const char *doc, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(doc, pat);
    if (!p) die("missing member", key);
    p += strlen(pat);
    const char *e = strchr(p, '"');
    return strndup(p, (size_t)(e - p));
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* GET /stats from the stub server; returns the integer member `key`. */
static long stub_stat(const char *key) {
    char *port = slurp("port");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    free(port);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("cannot reach the stub server", NULL);
    const char *req = "GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) die("stats request failed", NULL);
    char buf[4096];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof buf - 1 && (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0) len += (size_t)r;
    close(fd);
    buf[len] = '\0';
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(buf, pat);
    if (!p) die("stats lack", key);
    return strtol(p + strlen(pat), NULL, 10);
}

static soidc_client *make_client_with(const char *secret, const char *options) {
    char *metadata = slurp("metadata.json");
    char *params = slurp("params.json");
    char *client_id = json_str(params, "client_id");
    soidc_client *c = NULL;
    char *err = NULL;
    soidc_status st = soidc_client_from_issuer_config(metadata, NULL, client_id, secret, NULL, options, &c, &err);
    if (st != SOIDC_OK) die("soidc_client_from_issuer_config", err);
    free(metadata);
    free(params);
    free(client_id);
    return c;
}

static soidc_client *make_client(const char *secret) { return make_client_with(secret, NULL); }

/* A client whose jwks_uri is the stub's /JWKS_FILE (jwks1-<ALG>.json: the token's key alone;
   jwks3.json: three keys, the token's not first) instead of /jwks.json. */
static soidc_client *make_client_jwks(const char *jwks_file) {
    char *metadata = slurp("metadata.json");
    const char *at = strstr(metadata, "/jwks.json");
    if (!at) die("metadata.json has no /jwks.json", NULL);
    size_t len = strlen(metadata) + strlen(jwks_file) + 2;
    char *m = malloc(len);
    snprintf(m, len, "%.*s/%s%s", (int)(at - metadata), metadata, jwks_file, at + strlen("/jwks.json"));
    char *params = slurp("params.json");
    char *client_id = json_str(params, "client_id");
    soidc_client *c = NULL;
    char *err = NULL;
    if (soidc_client_from_issuer_config(m, NULL, client_id, NULL, NULL, NULL, &c, &err) != SOIDC_OK)
        die("soidc_client_from_issuer_config", err);
    free(m);
    free(metadata);
    free(params);
    free(client_id);
    return c;
}

/* The client of the DPoP figures: its replay cache holds 1024 proof jtis, a quarter of the
   4096 proofs in dpop-proofs.txt, so every proof has been evicted when it comes round again
   (each decode pays a full cache's insert and eviction), and the window is an hour, so that
   proofs signed when the tokens were generated stay acceptable for the whole run. */
static const char DPOP_CLIENT_OPTS[] = "{\"dpop_replay_cache_entries\":1024,\"dpop_replay_window_s\":3600}";

/* ------------------------------------------------------------------ decoding */

/* DPoP proofs (dpop-proofs.txt), presented in turn; one counter for all threads. */
static struct {
    char **proofs;
    int n;
    atomic_uint next;
    char aud[200];
} dpop;

static void dpop_load(const char *aud) {
    char *all = slurp("dpop-proofs.txt");
    int cap = 8192;
    dpop.proofs = malloc(sizeof(char *) * (size_t)cap);
    for (char *line = strtok(all, "\n"); line && dpop.n < cap; line = strtok(NULL, "\n")) dpop.proofs[dpop.n++] = line;
    if (dpop.n < 2048) die("too few DPoP proofs", NULL);
    snprintf(dpop.aud, sizeof dpop.aud, "%s", aud);
}

/* The limit, from bench/rust (libsoidc_bench_limit.so): aws-lc-rs ParsedPublicKey::verify_sig
   on the same tokens, keys parsed once. Index: 0 RS256, 1 ES256, 2 EdDSA. */
int soidc_bench_limit_load(const char *dir);
int soidc_bench_limit_verify(int index);

enum kind { ID_TOKEN, ACCESS_TOKEN, ACCESS_TOKEN_DPOP };

struct job {
    const soidc_client *client;
    enum kind kind;
    const char *token;
    const char *options; /* nullable */
};

static void decode_once(const struct job *j) {
    char *out = NULL;
    soidc_status st;
    if (j->kind == ACCESS_TOKEN_DPOP) {
        /* What a resource server does per request: its options with the request's proof. */
        char opts[4096];
        const char *proof = dpop.proofs[atomic_fetch_add(&dpop.next, 1) % (unsigned)dpop.n];
        snprintf(opts, sizeof opts,
                 "{\"audience\":\"%s\",\"http_method\":\"GET\",\"http_uri\":\"https://api.bench.soidc.test/items\","
                 "\"dpop_max_age_s\":3600,\"dpop_proof\":\"%s\"}", dpop.aud, proof);
        st = soidc_decode_access_token(j->client, j->token, opts, &out);
    } else {
        st = j->kind == ID_TOKEN ? soidc_decode_id_token(j->client, j->token, j->options, NULL, NULL, &out)
                                 : soidc_decode_access_token(j->client, j->token, j->options, &out);
    }
    if (st != SOIDC_OK) die("soidc rejected a benchmark token", out);
    soidc_string_free(out);
}

/* One thing to time: soidc decoding a token (job != NULL) or the raw verify (limit index). */
enum { MAX_SLICES = 64 };
struct workload {
    const char *key;
    const struct job *job;
    int limit_index;
    int threads;
    double wall[MAX_SLICES]; /* per slice: operations per wall-clock second (summed over threads) */
    double cpu[MAX_SLICES];  /* per slice: operations per CPU-second of each thread, summed */
};

static void op(const struct workload *w) {
    if (w->job) {
        decode_once(w->job);
    } else if (soidc_bench_limit_verify(w->limit_index) != 0) {
        die("raw verify failed", w->key);
    }
}

static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct slice_thread {
    const struct workload *w;
    double secs;
    long n;
    double wall, cpu;
};

static void *slice_main(void *arg) {
    struct slice_thread *t = arg;
    long n = 0;
    double c0 = thread_cpu_s(), start = now_s(), el;
    do {
        op(t->w);
        n++;
    } while ((el = now_s() - start) < t->secs);
    t->n = n;
    t->wall = el;
    t->cpu = thread_cpu_s() - c0;
    return NULL;
}

/* Runs one slice of `w` (its threads in parallel) and records slice `s`. */
static void run_slice(struct workload *w, int s, double secs) {
    struct slice_thread ts[8];
    pthread_t th[8];
    for (int i = 0; i < w->threads; i++) {
        ts[i] = (struct slice_thread){.w = w, .secs = secs};
        if (pthread_create(&th[i], NULL, slice_main, &ts[i]) != 0) die("pthread_create", NULL);
    }
    w->wall[s] = w->cpu[s] = 0;
    for (int i = 0; i < w->threads; i++) {
        pthread_join(th[i], NULL);
        w->wall[s] += (double)ts[i].n / ts[i].wall;
        w->cpu[s] += ts[i].cpu > 0 ? (double)ts[i].n / ts[i].cpu : 0;
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n) {
    double tmp[MAX_SLICES];
    memcpy(tmp, v, sizeof(double) * (size_t)n);
    qsort(tmp, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/* A paired ratio: the median over the cycles of a's slice rate / b's slice rate. */
static void print_pair(const char *name, const struct workload *a, const struct workload *b, int cycles) {
    double rw[MAX_SLICES], rc[MAX_SLICES];
    for (int c = 0; c < cycles; c++) {
        rw[c] = a->wall[c] / b->wall[c];
        rc[c] = a->cpu[c] / b->cpu[c];
    }
    printf("R %s %.4f\n", name, median(rw, cycles));
    printf("R %s.cpu %.4f\n", name, median(rc, cycles));
}

/* Times the workloads of one group in alternating slices: `cycles` cycles, each running
   one slice of every workload (the order rotating from cycle to cycle), so that whatever
   else the machine does hits all of them alike. Prints per workload the median slice rate
   per wall-clock second (R <key>) and per CPU-second (R <key>.cpu). */
static void run_group(struct workload *ws, int k, int cycles, double slice) {
    for (int j = 0; j < k; j++) { /* warm-up: 150 ms each */
        double t0 = now_s();
        while (now_s() - t0 < 0.15) op(&ws[j]);
    }
    for (int c = 0; c < cycles; c++)
        for (int j = 0; j < k; j++) run_slice(&ws[(c + j) % k], c, slice);
    for (int j = 0; j < k; j++) {
        printf("R %s %.1f\n", ws[j].key, median(ws[j].wall, cycles));
        printf("R %s.cpu %.1f\n", ws[j].key, median(ws[j].cpu, cycles));
    }
}

static char *token_file(const char *alg) {
    char name[64];
    snprintf(name, sizeof name, "%s.jwt", alg);
    return slurp(name);
}

/* The bench tokens carry a nonce; the figures without the nonce check skip it explicitly
 * (a token with a nonce is refused when none is expected). */
static const char IGNORE_NONCE[] = "{\"ignore_nonce\":true}";

static void warm(const soidc_client *c, char **tokens, const char *at, const char *at_opts) {
    for (int i = 0; i < NALGS; i++) {
        char *out = NULL;
        soidc_status st = soidc_decode_id_token(c, tokens[i], IGNORE_NONCE, NULL, NULL, &out);
        if (st != SOIDC_OK) die("warm-up decode failed", out);
        if (!strstr(out, "\"sub\":\"248289761001\"") || !strstr(out, "\"email\":")) die("unexpected claims", out);
        soidc_string_free(out);
    }
    char *out = NULL;
    if (soidc_decode_access_token(c, at, at_opts, &out) != SOIDC_OK) die("warm-up access token decode failed", out);
    soidc_string_free(out);
}

/* Per algorithm, one group: the limit and soidc with 1 and 2 threads, soidc with the nonce
   option (with the key set of the token's key alone and, RS256 and ES256, with jwks3.json),
   and (RS256) the access token; `secs` of slices per workload. */
static void mode_decode(double secs) {
    char *params = slurp("params.json");
    char *nonce = json_str(params, "nonce");
    char *aud = json_str(params, "api_audience");
    char nonce_opts[256], at_opts[256];
    snprintf(nonce_opts, sizeof nonce_opts, "{\"nonce\":\"%s\"}", nonce);
    snprintf(at_opts, sizeof at_opts, "{\"audience\":\"%s\"}", aud);
    char *tokens[NALGS];
    for (int i = 0; i < NALGS; i++) tokens[i] = token_file(ALGS[i]);
    char *at = slurp("at.jwt");
    char *at_dpop = slurp("at-dpop.jwt");
    dpop_load(aud);
    if (soidc_bench_limit_load(dir) != 0) die("cannot load the limit's keys and tokens", dir);
    soidc_client *c = make_client(NULL); /* one shared client for every figure */
    warm(c, tokens, at, at_opts);        /* the JWKS is fetched once here and cached */
    soidc_client *cd = make_client_with(NULL, DPOP_CLIENT_OPTS);
    warm(cd, tokens, at, at_opts);
    /* The figures the peers are compared with: the nonce checked, the key set what the peer
       has in that row (jwks1-<ALG>.json, the token's key alone; jwks3.json, three keys). */
    soidc_client *c1[NALGS], *c3 = make_client_jwks("jwks3.json");
    for (int i = 0; i < NALGS; i++) {
        char f[64];
        snprintf(f, sizeof f, "jwks1-%s.json", ALGS[i]);
        c1[i] = make_client_jwks(f);
        struct job w1 = {.client = c1[i], .kind = ID_TOKEN, .token = tokens[i], .options = nonce_opts};
        decode_once(&w1); /* fetches that key set once */
        if (i < NALGS3) {
            struct job w3 = {.client = c3, .kind = ID_TOKEN, .token = tokens[i], .options = nonce_opts};
            decode_once(&w3);
        }
    }
    double slice = 0.1;
    int cycles = (int)(secs / slice + 0.5);
    if (cycles < 3) cycles = 3;
    if (cycles > MAX_SLICES) cycles = MAX_SLICES;
    static char keys[6][64];
    for (int i = 0; i < NALGS; i++) {
        struct job id = {.client = c, .kind = ID_TOKEN, .token = tokens[i], .options = IGNORE_NONCE};
        struct job idn = {.client = c1[i], .kind = ID_TOKEN, .token = tokens[i], .options = nonce_opts};
        struct job idn3 = {.client = c3, .kind = ID_TOKEN, .token = tokens[i], .options = nonce_opts};
        struct job atj = {.client = c, .kind = ACCESS_TOKEN, .token = at, .options = at_opts};
        struct job dpj = {.client = cd, .kind = ACCESS_TOKEN_DPOP, .token = at_dpop};
        snprintf(keys[0], 64, "raw.%s.t1", ALGS[i]);
        snprintf(keys[1], 64, "soidc.id.%s.t1", ALGS[i]);
        snprintf(keys[2], 64, "soidc.idnonce.%s.t1", ALGS[i]);
        snprintf(keys[3], 64, "raw.%s.t2", ALGS[i]);
        snprintf(keys[4], 64, "soidc.id.%s.t2", ALGS[i]);
        snprintf(keys[5], 64, "soidc.idnonce3.%s.t1", ALGS[i]);
        struct workload ws[8] = {
            {.key = keys[0], .limit_index = i, .threads = 1},
            {.key = keys[1], .job = &id, .threads = 1},
            {.key = keys[2], .job = &idn, .threads = 1},
            {.key = keys[3], .limit_index = i, .threads = 2},
            {.key = keys[4], .job = &id, .threads = 2},
            {.key = keys[5], .job = &idn3, .threads = 1},
            {.key = "soidc.at.RS256.t1", .job = &atj, .threads = 1},
            {.key = "soidc.atdpop.RS256.t1", .job = &dpj, .threads = 1},
        };
        int k = i == 0 ? 8 : i < NALGS3 ? 6 : 5;
        run_group(ws, k, cycles, slice);
        char name[96];
        snprintf(name, sizeof name, "pair.soidc_vs_limit.%s", ALGS[i]);
        print_pair(name, &ws[1], &ws[0], cycles);
        snprintf(name, sizeof name, "pair.soidcnonce_vs_limit.%s", ALGS[i]);
        print_pair(name, &ws[2], &ws[0], cycles);
        snprintf(name, sizeof name, "pair.limit_2t_vs_1t.%s", ALGS[i]);
        print_pair(name, &ws[3], &ws[0], cycles);
        snprintf(name, sizeof name, "pair.soidc_2t_vs_1t.%s", ALGS[i]);
        print_pair(name, &ws[4], &ws[1], cycles);
        if (i < NALGS3) {
            snprintf(name, sizeof name, "pair.soidcnonce3_vs_limit.%s", ALGS[i]);
            print_pair(name, &ws[5], &ws[0], cycles);
        }
        if (i == 0) {
            print_pair("pair.at_vs_limit.RS256", &ws[6], &ws[0], cycles);
            print_pair("pair.atdpop_vs_at.RS256", &ws[7], &ws[6], cycles);
        }
        fflush(stdout);
    }
    soidc_client_free(c);
    soidc_client_free(cd);
    soidc_client_free(c3);
    for (int i = 0; i < NALGS; i++) soidc_client_free(c1[i]);
    for (int i = 0; i < NALGS; i++) free(tokens[i]);
    free(at);
    free(at_dpop);
    free(params);
    free(nonce);
    free(aud);
}

static void mode_nettest(long n) {
    char *params = slurp("params.json");
    char *aud = json_str(params, "api_audience");
    char at_opts[256];
    snprintf(at_opts, sizeof at_opts, "{\"audience\":\"%s\"}", aud);
    char *tokens[NALGS];
    for (int i = 0; i < NALGS; i++) tokens[i] = token_file(ALGS[i]);
    char *at = slurp("at.jwt");
    char *at_dpop = slurp("at-dpop.jwt");
    dpop_load(aud);
    long j0 = stub_stat("jwks_requests");
    soidc_client *c = make_client_with(NULL, DPOP_CLIENT_OPTS);
    warm(c, tokens, at, at_opts);
    long j1 = stub_stat("jwks_requests");
    long decodes = 0;
    for (long k = 0; k < n; k++) {
        for (int i = 0; i < NALGS; i++) {
            struct job j = {.client = c, .kind = ID_TOKEN, .token = tokens[i], .options = IGNORE_NONCE};
            decode_once(&j);
            decodes++;
        }
        struct job j = {.client = c, .kind = ACCESS_TOKEN, .token = at, .options = at_opts};
        decode_once(&j);
        struct job d = {.client = c, .kind = ACCESS_TOKEN_DPOP, .token = at_dpop};
        decode_once(&d); /* DPoP-bound token + proof: no network either */
        decodes += 2;
    }
    long j2 = stub_stat("jwks_requests");
    printf("R net.jwks_requests_warmup %ld\n", j1 - j0);
    printf("R net.decodes %ld\n", decodes);
    printf("R net.jwks_requests_after %ld\n", j2 - j1);
    soidc_client_free(c);
    for (int i = 0; i < NALGS; i++) free(tokens[i]);
    free(at);
    free(at_dpop);
    free(params);
    free(aud);
}

static long vmrss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
    if (f) fclose(f);
    return kb;
}

static void mode_footprint(long n) {
    /* The first client loads process-wide state (the system trust store); that is
       paid once per process, so it is measured separately from the per-handle cost. */
    long r0 = vmrss_kb();
    soidc_client *first = make_client(NULL);
    long r1 = vmrss_kb();
    char *metadata = slurp("metadata.json");
    soidc_client **cs = calloc((size_t)n, sizeof *cs);
    long before = vmrss_kb();
    for (long i = 0; i < n; i++) {
        char *err = NULL;
        if (soidc_client_from_issuer_config(metadata, NULL, "soidc-bench-client", NULL, NULL, NULL, &cs[i], &err) !=
            SOIDC_OK)
            die("client creation failed", err);
    }
    long after = vmrss_kb();
    printf("R footprint.first_client_kb %ld\n", r1 - r0);
    printf("R footprint.clients %ld\n", n);
    printf("R footprint.rss_per_client_kb %.1f\n", (double)(after - before) / (double)n);
    for (long i = 0; i < n; i++) soidc_client_free(cs[i]);
    soidc_client_free(first);
    free(cs);
    free(metadata);
}

static void mode_cc(double secs) {
    char *params = slurp("params.json");
    char *secret = json_str(params, "client_secret");
    long conn0 = stub_stat("token_connections");
    long req0 = stub_stat("token_requests");
    soidc_client *c = make_client(secret);
    char *out = NULL;
    for (int i = 0; i < 200; i++) { /* warm-up, and a check of the answer */
        if (soidc_client_credentials_grant(c, "api:read", NULL, &out) != SOIDC_OK) die("client credentials failed", out);
        if (!strstr(out, "\"access_token\"")) die("unexpected token response", out);
        soidc_string_free(out);
    }
    double cpu0 = cpu_s(), start = now_s(), el;
    long n = 0;
    do {
        if (soidc_client_credentials_grant(c, "api:read", NULL, &out) != SOIDC_OK) die("client credentials failed", out);
        soidc_string_free(out);
        n++;
    } while ((el = now_s() - start) < secs);
    double cpu = cpu_s() - cpu0;
    long conn1 = stub_stat("token_connections");
    long req1 = stub_stat("token_requests");
    printf("R http.soidc.rps %.1f\n", (double)n / el);
    printf("R http.soidc.cpu_us %.2f\n", cpu / (double)n * 1e6);
    printf("R http.soidc.requests %ld\n", req1 - req0);
    printf("R http.soidc.connections %ld\n", conn1 - conn0);
    soidc_client_free(c);
    free(params);
    free(secret);
}

static void mode_profile(const char *alg, long n) {
    char *token = strcmp(alg, "at") == 0 ? slurp("at.jwt") : token_file(alg);
    char *params = slurp("params.json");
    char *aud = json_str(params, "api_audience");
    char at_opts[256];
    snprintf(at_opts, sizeof at_opts, "{\"audience\":\"%s\"}", aud);
    soidc_client *c = make_client(NULL);
    struct job j = {.client = c, .kind = strcmp(alg, "at") == 0 ? ACCESS_TOKEN : ID_TOKEN, .token = token};
    j.options = j.kind == ACCESS_TOKEN ? at_opts : IGNORE_NONCE;
    decode_once(&j); /* fetches the JWKS */
    for (long i = 0; i < n; i++) decode_once(&j);
    soidc_client_free(c);
    free(token);
    free(params);
    free(aud);
}

int main(int argc, char **argv) {
    if (argc < 4) die("usage: decode_bench MODE DIR ARG [ARG]", NULL);
    dir = argv[2];
    const char *mode = argv[1];
    if (strcmp(mode, "decode") == 0) mode_decode(atof(argv[3]));
    else if (strcmp(mode, "nettest") == 0) mode_nettest(atol(argv[3]));
    else if (strcmp(mode, "footprint") == 0) mode_footprint(atol(argv[3]));
    else if (strcmp(mode, "cc") == 0) mode_cc(atof(argv[3]));
    else if (strcmp(mode, "profile") == 0 && argc >= 5) mode_profile(argv[3], atol(argv[4]));
    else die("unknown mode", mode);
    return 0;
}
