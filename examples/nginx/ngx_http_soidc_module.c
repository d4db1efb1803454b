/*
 * ngx_http_soidc_module: OAuth 2.0 bearer authentication (RFC 6750) of JWT access
 * tokens (RFC 9068) with soidc, without ever blocking an nginx worker on the network
 * while it serves requests.
 *
 * Design (see README.md):
 * - Every worker creates its own soidc client after fork (init_process) and fetches
 *   the provider's keys there, before it serves requests.
 * - With soidc_keys_zone, the workers share the keys through a shared-memory
 *   zone: per interval, the one worker whose timer first wins an atomic
 *   compare-and-set on the zone's "next fetch" time fetches the JWKS and
 *   publishes it there; the others import the published keys
 *   (soidc_client_import_keys, no network). One JWKS fetch per interval for the
 *   whole server instead of one per worker.
 * - A per-worker timer refreshes the keys every soidc_jwks_refresh. With
 *   soidc_thread_pool the refresh runs on an nginx thread pool and the event loop
 *   never waits; without it the refresh runs on the event loop with a short
 *   timeout (soidc_fetch_timeout), which bounds how long the worker stalls.
 * - The request path calls soidc_decode_access_token with "cache_only": true: the
 *   signature is checked against the cached keys only, and the call never touches
 *   the network (a token with an unknown kid is refused, not fetched for). The
 *   check runs at the start of the location's rewrite phase, so that "return" in
 *   a protected location is protected too and sees the claims.
 * - Responses follow RFC 6750: 401 + WWW-Authenticate: Bearer (error="invalid_token"
 *   for a bad token, no error for a missing one), 400 invalid_request for a malformed
 *   Authorization header, 403 insufficient_scope, 503 while no keys are cached
 *   (no client yet, or soidc's error document says reason "no_keys_cached").
 * - Claims are exposed as $soidc_sub, $soidc_scope and $soidc_claim_<name>, and
 *   nested ones through soidc_claim_set (claim paths turned into RFC 6901
 *   pointers at configuration time), read with soidc's JSON helpers; option
 *   values are quoted with soidc_json_quote. $soidc_reason tells the access log
 *   why a token was refused (soidc's machine-readable "reason").
 * - A token with an unknown kid schedules one rate-limited key refresh in the
 *   background (thread pool, or a timer without one) and is answered at once.
 * - soidc_require_claim becomes soidc's require_claims decode option; the
 *   options of each location are checked with soidc at nginx -t.
 * - soidc_token reads the token from any variable; several soidc_issuer URLs
 *   choose the client by the token's (unverified) iss; soidc_jwks_file installs
 *   keys from a file (soidc_client_import_keys), read again when it changes.
 * - soidc_dpop: "Authorization: DPoP" with its proof header; soidc checks the
 *   proof (no network) with the request's method and URI; RFC 9449 section 7.1
 *   challenges.
 * - Opaque tokens (soidc_introspection) are introspected on the thread pool
 *   while the request waits (NGX_DONE, r->main->blocked) and the worker does
 *   not; answers are kept in a bounded per-worker cache.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <soidc.h>


#define NGX_HTTP_SOIDC_MAX_TOKEN        16384
#define NGX_HTTP_SOIDC_MAX_DESCRIPTION  200
#define NGX_HTTP_SOIDC_RETRY_MSEC       5000
#define NGX_HTTP_SOIDC_POLL_MSEC        20

#define NGX_HTTP_SOIDC_DPOP_OFF         0
#define NGX_HTTP_SOIDC_DPOP_ON          1
#define NGX_HTTP_SOIDC_DPOP_REQUIRED    2

/* the proof algorithms soidc accepts (its dpop_verify PROOF_ALGS), for the
 * algs of the DPoP challenge when soidc's error document has none */
#define NGX_HTTP_SOIDC_DPOP_ALGS \
    "ES256 ES384 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"


/* Keys of one issuer shared by the workers (in the soidc_keys_zone zone). */
typedef struct ngx_http_soidc_shared_s  ngx_http_soidc_shared_t;

struct ngx_http_soidc_shared_s {
    ngx_http_soidc_shared_t   *next;
    u_char                    *issuer;          /* NUL-terminated, in the zone */
    ngx_atomic_t               next_fetch;      /* wall clock, ms: the claim */
    ngx_atomic_t               generation;      /* bumped on each publication */
    u_char                    *jwks;            /* NUL-terminated, may be NULL */
    size_t                     len;
};


typedef struct {
    ngx_http_soidc_shared_t   *head;
} ngx_http_soidc_shctx_t;


/* One OpenID provider (issuer + CA file) used by some location. Registered at
 * configuration time; the fields below "per worker" are set after fork. */
typedef struct {
    ngx_str_t                  issuer;          /* NUL-terminated */
    ngx_str_t                  ca_file;         /* NUL-terminated, may be empty */
    ngx_str_t                  jwks_file;       /* NUL-terminated, may be empty */
    ngx_str_t                  client_id;       /* NUL-terminated */
    ngx_str_t                  secret_file;     /* may be empty */
    char                      *client_secret;   /* read by the master, or NULL */
    char                      *client_options;  /* JSON, NUL-terminated */
    char                      *metadata;        /* with jwks_file: the client's */

    /* per worker */
    soidc_client              *client;
    ngx_msec_t                 last_success;
    unsigned                   keys_loaded:1;
    unsigned                   busy:1;
    ngx_http_soidc_shared_t   *shared;          /* NULL without a zone */
    ngx_atomic_uint_t          generation;      /* last imported/published */
#if (NGX_THREADS)
    ngx_thread_task_t         *task;
#endif
    void                      *smcf;            /* the main conf */
    ngx_event_t                kick_ev;         /* unknown-kid refresh (inline) */
    ngx_msec_t                 kick_after;      /* next unknown-kid refresh allowed */
    unsigned                   kicked:1;        /* kick_after is set */
    unsigned                   file_seen:1;     /* the file_* fields are set */
    time_t                     file_mtime;
    off_t                      file_size;
    ngx_file_uniq_t            file_uniq;
} ngx_http_soidc_provider_t;


/* One cached introspection answer (per worker; direct-mapped, bounded). */
typedef struct {
    u_char                    *token;           /* ngx_alloc'd */
    size_t                     len;
    char                      *doc;             /* ngx_alloc'd */
    ngx_msec_t                 expires;
} ngx_http_soidc_cache_slot_t;


typedef struct {
    ngx_array_t                providers;       /* ngx_http_soidc_provider_t * */
    ngx_msec_t                 refresh;
    ngx_msec_t                 timeout;
    ngx_flag_t                 use_thread_pool;
#if (NGX_THREADS)
    ngx_thread_pool_t         *thread_pool;
#endif
    ngx_str_t                  thread_pool_name;
    ngx_event_t                timer;           /* per worker */
    char                      *keys_options;    /* JSON for the refresh */
    ngx_shm_zone_t            *shm_zone;        /* soidc_keys_zone, or NULL */
    ngx_msec_t                 kid_refresh;     /* soidc_unknown_kid_refresh */
    ngx_int_t                  cache_s;         /* soidc_introspection_cache_s */
    ngx_uint_t                 cache_entries;   /* ..._cache_entries */
    ngx_http_soidc_cache_slot_t *cache;         /* per worker */
    char                      *introspect_options;
    ngx_int_t                  verified_cache;  /* soidc_verified_cache */
} ngx_http_soidc_main_conf_t;


typedef struct {
    ngx_flag_t                 bearer;
    ngx_array_t               *issuers;         /* ngx_str_t */
    ngx_str_t                  ca_file;
    ngx_str_t                  jwks_file;
    ngx_str_t                  audience;
    ngx_str_t                  realm;
    ngx_array_t               *scopes;          /* ngx_str_t */
    ngx_array_t               *rules;           /* u_char *: JSON rule objects */
    ngx_http_complex_value_t  *token;           /* soidc_token, or NULL */
    ngx_flag_t                 introspection;   /* opaque tokens: introspect */
    ngx_str_t                  client_id;
    ngx_str_t                  secret_file;
    ngx_uint_t                 unknown_kid_status; /* 401 or 503 */
    ngx_uint_t                 dpop;            /* NGX_HTTP_SOIDC_DPOP_* */
    ngx_http_complex_value_t  *client_cert;     /* soidc_client_cert, or NULL */

    /* computed when merged */
    ngx_http_soidc_provider_t *provider;        /* the first issuer's */
    ngx_array_t                providers;       /* one per issuer */
    char                      *decode_options;  /* JSON, NUL-terminated */
    ngx_str_t                  scope_attr;      /* "a b c" for scope="..." */
} ngx_http_soidc_loc_conf_t;


/* Request context: the claims document of a valid token (soidc's string, freed
 * with the request pool). */
typedef struct {
    const char                *claims;
    ngx_http_soidc_loc_conf_t *conf;            /* validated for this location */
    ngx_str_t                  reason;          /* why the token was refused */
    unsigned                   dpop_scheme:1;   /* Authorization: DPoP */

    /* introspection on the thread pool */
    unsigned                   pending:1;       /* a job runs */
    unsigned                   answered:1;      /* result below is set */
    ngx_http_soidc_loc_conf_t *job_conf;
    soidc_status               job_status;
    char                      *job_doc;         /* in the request pool */
} ngx_http_soidc_ctx_t;


/* One introspection, run on a thread-pool thread. */
typedef struct {
    ngx_http_request_t        *request;
    soidc_client              *client;
    const char                *token;           /* in the request pool */
    const char                *options;
    soidc_status               status;          /* out */
    char                      *doc;             /* out: soidc's string */
} ngx_http_soidc_introspection_t;


/* soidc_claim_set $var PATH: the claim path (NUL-terminated), read with
 * soidc_claims_get. */
typedef struct {
    u_char                    *path;
} ngx_http_soidc_claim_var_t;


/* One key refresh, filled on the event loop, run on the event loop or a thread. */
typedef struct {
    ngx_http_soidc_main_conf_t *smcf;
    ngx_http_soidc_provider_t *provider;
    const char                *issuer;
    const char                *client_id;
    const char                *client_secret;
    const char                *client_options;
    const char                *keys_options;
    soidc_client              *client;          /* in: NULL = discover first */
    soidc_client              *new_client;      /* out */
    ngx_uint_t                 fetch_keys;      /* in: 0 = discovery only */
    char                      *jwks;            /* out: the keys fetched */
    const char                *step;            /* out: what failed */
    soidc_status               status;          /* out */
    char                      *error;           /* out: error document */
    ngx_msec_t                 started;
} ngx_http_soidc_refresh_t;


static ngx_int_t ngx_http_soidc_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_soidc_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_soidc_init(ngx_conf_t *cf);
static void *ngx_http_soidc_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_soidc_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_soidc_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_soidc_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_soidc_ca_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_soidc_required_scope(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_soidc_keys_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_soidc_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_soidc_token(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_soidc_issuer(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_soidc_require_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_soidc_claim_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_soidc_unknown_kid_refresh(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_uint_t ngx_http_soidc_kick(ngx_http_soidc_provider_t *pv,
    ngx_log_t *log);
static void ngx_http_soidc_kick_handler(ngx_event_t *ev);
static ngx_uint_t ngx_http_soidc_jwks_file_load(ngx_http_soidc_provider_t *pv,
    ngx_log_t *log);
static ngx_int_t ngx_http_soidc_init_process(ngx_cycle_t *cycle);
static void ngx_http_soidc_exit_process(ngx_cycle_t *cycle);
static void ngx_http_soidc_timer_handler(ngx_event_t *ev);
static void ngx_http_soidc_refresh_work(ngx_http_soidc_refresh_t *rf);
static void ngx_http_soidc_refresh_done(ngx_http_soidc_refresh_t *rf,
    ngx_log_t *log);


static ngx_conf_enum_t  ngx_http_soidc_unknown_kid_statuses[] = {
    { ngx_string("401"), NGX_HTTP_UNAUTHORIZED },
    { ngx_string("503"), NGX_HTTP_SERVICE_UNAVAILABLE },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_soidc_dpop_modes[] = {
    { ngx_string("off"), NGX_HTTP_SOIDC_DPOP_OFF },
    { ngx_string("on"), NGX_HTTP_SOIDC_DPOP_ON },
    { ngx_string("required"), NGX_HTTP_SOIDC_DPOP_REQUIRED },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_soidc_commands[] = {

    { ngx_string("soidc_bearer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_soidc_loc_conf_t, bearer),
      NULL },

    { ngx_string("soidc_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_soidc_issuer,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("soidc_jwks_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_soidc_ca_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_soidc_loc_conf_t, jwks_file),
      NULL },

    { ngx_string("soidc_ca_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_soidc_ca_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_soidc_loc_conf_t, ca_file),
      NULL },

    { ngx_string("soidc_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_soidc_loc_conf_t, audience),
      NULL },

    { ngx_string("soidc_realm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_soidc_loc_conf_t, realm),
      NULL },

    { ngx_string("soidc_required_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_soidc_required_scope,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("soidc_jwks_refresh"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_soidc_main_conf_t, refresh),
      NULL },

    { ngx_string("soidc_fetch_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_soidc_main_conf_t, timeout),
      NULL },

    { ngx_string("soidc_keys_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_soidc_keys_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("soidc_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_soidc_thread_pool,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("soidc_introspection"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_soidc_loc_conf_t, introspection),
      NULL },

    { ngx_string("soidc_client_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_soidc_loc_conf_t, client_id),
      NULL },

    { ngx_string("soidc_client_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_soidc_ca_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_soidc_loc_conf_t, secret_file),
      NULL },

    { ngx_string("soidc_introspection_cache_s"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_soidc_main_conf_t, cache_s),
      NULL },

    { ngx_string("soidc_introspection_cache_entries"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_soidc_main_conf_t, cache_entries),
      NULL },

    { ngx_string("soidc_verified_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_soidc_main_conf_t, verified_cache),
      NULL },

    { ngx_string("soidc_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_soidc_token,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_soidc_loc_conf_t, token),
      NULL },

    { ngx_string("soidc_client_cert"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_soidc_token,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_soidc_loc_conf_t, client_cert),
      NULL },

    { ngx_string("soidc_require_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_soidc_require_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("soidc_claim_set"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_soidc_claim_set,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("soidc_unknown_kid_refresh"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_soidc_unknown_kid_refresh,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("soidc_dpop"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_soidc_loc_conf_t, dpop),
      &ngx_http_soidc_dpop_modes },

    { ngx_string("soidc_unknown_kid_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_soidc_loc_conf_t, unknown_kid_status),
      &ngx_http_soidc_unknown_kid_statuses },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_soidc_module_ctx = {
    ngx_http_soidc_add_variables,          /* preconfiguration */
    ngx_http_soidc_init,                   /* postconfiguration */

    ngx_http_soidc_create_main_conf,       /* create main configuration */
    ngx_http_soidc_init_main_conf,         /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_soidc_create_loc_conf,        /* create location configuration */
    ngx_http_soidc_merge_loc_conf          /* merge location configuration */
};


ngx_module_t  ngx_http_soidc_module = {
    NGX_MODULE_V1,
    &ngx_http_soidc_module_ctx,            /* module context */
    ngx_http_soidc_commands,               /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_soidc_init_process,           /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_soidc_exit_process,           /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_soidc_sub = ngx_string("sub");
static ngx_str_t  ngx_http_soidc_scope = ngx_string("scope");
static ngx_str_t  ngx_http_soidc_claim_prefix = ngx_string("soidc_claim_");


/* ------------------------------------------------------------------------ */
/* JSON: soidc's helpers read its documents (soidc_json_get_*, RFC 6901      */
/* pointers) and quote the values of option documents (soidc_json_quote).   */
/* ------------------------------------------------------------------------ */

/*
 * Copies a NUL-terminated string from soidc into the pool, with control
 * characters (U+0000..U+001F, U+007F) written as \u00XX so that a value can
 * never split a header or log line. In JSON text this changes nothing (JSON
 * escapes control characters in strings and allows \u007f for DEL).
 */
static ngx_int_t
ngx_http_soidc_copy_safe(ngx_pool_t *pool, const char *s, ngx_str_t *out)
{
    u_char        *d;
    size_t         n;
    const u_char  *p;

    n = ngx_strlen(s);

    d = ngx_pnalloc(pool, 6 * n + 1);
    if (d == NULL) {
        return NGX_ERROR;
    }

    out->data = d;

    for (p = (const u_char *) s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            d = ngx_sprintf(d, "\\u%04xD", (uint32_t) *p);

        } else {
            *d++ = *p;
        }
    }

    out->len = d - out->data;
    *d = '\0';

    return NGX_OK;
}


/*
 * The string at JSON pointer `pointer` of the soidc document `doc`, decoded and
 * copied into the pool as by ngx_http_soidc_copy_safe. NGX_DECLINED: absent,
 * not a string, or `doc` is not JSON.
 */
static ngx_int_t
ngx_http_soidc_json_string(ngx_pool_t *pool, const char *doc,
    const char *pointer, ngx_str_t *out)
{
    char       *value;
    ngx_int_t   rc;

    value = NULL;

    if (soidc_json_get_string(doc, pointer, &value) != SOIDC_OK) {
        return NGX_DECLINED;
    }

    rc = ngx_http_soidc_copy_safe(pool, value, out);
    soidc_string_free(value);

    return rc;
}


/*
 * A string of the configuration as a JSON string literal (soidc_json_quote:
 * quotes, backslashes and control characters escaped), NUL-terminated, in the
 * pool; NULL if it is not UTF-8 or memory ran out.
 */
static u_char *
ngx_http_soidc_json_quote(ngx_pool_t *pool, ngx_str_t *s)
{
    char    *quoted;
    u_char  *z, *copy;
    size_t   n;

    z = ngx_pnalloc(pool, s->len + 1);
    if (z == NULL) {
        return NULL;
    }

    *ngx_cpymem(z, s->data, s->len) = '\0';

    quoted = soidc_json_quote((const char *) z);
    if (quoted == NULL) {
        return NULL;
    }

    n = ngx_strlen(quoted);

    copy = ngx_pnalloc(pool, n + 1);
    if (copy != NULL) {
        ngx_memcpy(copy, quoted, n + 1);
    }

    soidc_string_free(quoted);

    return copy;
}


/* ------------------------------------------------------------------------ */
/* Logging: soidc's diagnostics go to the cycle's error log.                 */
/* ------------------------------------------------------------------------ */

static void
ngx_http_soidc_log(int level, const char *message, void *user_data)
{
    ngx_log_t   *log = user_data;
    ngx_uint_t   l;

    switch (level) {
    case SOIDC_LOG_ERROR:
        l = NGX_LOG_ERR;
        break;
    case SOIDC_LOG_WARN:
        l = NGX_LOG_WARN;
        break;
    case SOIDC_LOG_INFO:
        l = NGX_LOG_INFO;
        break;
    default:
        l = NGX_LOG_DEBUG;
        break;
    }

    /* may run on a thread-pool thread: ngx_log_error only formats into a stack
     * buffer and write()s, as nginx's own thread pool code does */
    ngx_log_error(l, log, 0, "soidc: %s", message);
}


static int
ngx_http_soidc_log_max_level(ngx_log_t *log)
{
    ngx_uint_t  max;

    for (max = 0; log; log = log->next) {
        if (log->log_level > max) {
            max = log->log_level;
        }
    }

    if (max >= NGX_LOG_DEBUG) {
        return SOIDC_LOG_DEBUG;
    }

    if (max >= NGX_LOG_INFO) {
        return SOIDC_LOG_INFO;
    }

    if (max >= NGX_LOG_WARN) {
        return SOIDC_LOG_WARN;
    }

    return SOIDC_LOG_ERROR;
}


/* ------------------------------------------------------------------------ */
/* Request path                                                              */
/* ------------------------------------------------------------------------ */

/* RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" /
 * "/" ) *"=". A table of the b64token characters, since every request's token
 * is checked byte by byte (a comparison chain was 5 % of a worker's time with
 * 700-byte tokens). */
static const u_char  ngx_http_soidc_b64token_char[256] = {
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
    ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
    ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
    ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['+'] = 1, ['/'] = 1
};


static ngx_int_t
ngx_http_soidc_is_b64token(ngx_str_t *t)
{
    size_t  i;

    for (i = 0; i < t->len && ngx_http_soidc_b64token_char[t->data[i]]; i++) {
        /* void */
    }

    if (i == 0) {
        return 0;
    }

    while (i < t->len && t->data[i] == '=') {
        i++;
    }

    return i == t->len;
}


/* Copies a message into an RFC 6750 error_description: %x20-21 / %x23-5B /
 * %x5D-7E only, shortened. */
static void
ngx_http_soidc_description(ngx_pool_t *pool, ngx_str_t *msg, ngx_str_t *out)
{
    size_t   i, n;
    u_char  *d, c;

    n = ngx_min(msg->len, NGX_HTTP_SOIDC_MAX_DESCRIPTION);

    d = ngx_pnalloc(pool, n + 3);
    if (d == NULL) {
        ngx_str_null(out);
        return;
    }

    out->data = d;

    for (i = 0; i < n; i++) {
        c = msg->data[i];

        if (c == '"') {
            c = '\'';
        } else if (c == '\\' || c < 0x20 || c > 0x7e) {
            c = '?';
        }

        *d++ = c;
    }

    if (n < msg->len) {
        d = ngx_cpymem(d, "...", 3);
    }

    out->len = d - out->data;
}


/* One WWW-Authenticate header: "Bearer realm=..." or, for DPoP (RFC 9449
 * section 7.1), "DPoP realm=..., algs=...", with the error attributes. */
static ngx_int_t
ngx_http_soidc_push_challenge(ngx_http_request_t *r,
    ngx_http_soidc_loc_conf_t *slcf, ngx_uint_t dpop, const char *error,
    ngx_str_t *description, ngx_uint_t with_scope)
{
    size_t            len;
    u_char           *p;
    ngx_table_elt_t  *h;

    with_scope = with_scope && slcf->scope_attr.len;

    len = sizeof("Bearer realm=\"\"") - 1 + slcf->realm.len;

    if (dpop) {
        len += sizeof(", algs=\"\"") - 1 + sizeof(NGX_HTTP_SOIDC_DPOP_ALGS);
    }

    if (error) {
        len += sizeof(", error=\"\"") - 1 + ngx_strlen(error);
    }

    if (description && description->len) {
        len += sizeof(", error_description=\"\"") - 1 + description->len;
    }

    if (with_scope) {
        len += sizeof(", scope=\"\"") - 1 + slcf->scope_attr.len;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;

    if (dpop) {
        p = ngx_sprintf(p, "DPoP realm=\"%V\", algs=\"%s\"", &slcf->realm,
                        NGX_HTTP_SOIDC_DPOP_ALGS);

    } else {
        p = ngx_sprintf(p, "Bearer realm=\"%V\"", &slcf->realm);
    }

    if (error) {
        p = ngx_sprintf(p, ", error=\"%s\"", error);
    }

    if (description && description->len) {
        p = ngx_sprintf(p, ", error_description=\"%V\"", description);
    }

    if (with_scope) {
        p = ngx_sprintf(p, ", scope=\"%V\"", &slcf->scope_attr);
    }

    h->value.len = p - h->value.data;

    if (r->headers_out.www_authenticate == NULL) {
        r->headers_out.www_authenticate = h;
    }

    return NGX_OK;
}


/*
 * The challenges of a refusal (RFC 6750 section 3, RFC 9449 section 7.1): the
 * error goes into the challenge of the scheme the request used; with
 * soidc_dpop on, the other scheme's challenge is added without an error, so
 * that a client learns both; with soidc_dpop required, only DPoP is offered.
 */
static ngx_int_t
ngx_http_soidc_challenge(ngx_http_request_t *r, ngx_http_soidc_loc_conf_t *slcf,
    ngx_int_t status, const char *error, ngx_str_t *description,
    ngx_uint_t with_scope)
{
    ngx_uint_t             dpop_used;
    ngx_http_soidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_soidc_module);
    dpop_used = ctx && ctx->dpop_scheme;

    if (slcf->dpop == NGX_HTTP_SOIDC_DPOP_OFF) {
        dpop_used = 0;
    }

    if (slcf->dpop != NGX_HTTP_SOIDC_DPOP_REQUIRED
        && ngx_http_soidc_push_challenge(r, slcf, 0,
                                         dpop_used ? NULL : error,
                                         dpop_used ? NULL : description,
                                         dpop_used ? 0 : with_scope)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (slcf->dpop != NGX_HTTP_SOIDC_DPOP_OFF
        && ngx_http_soidc_push_challenge(r, slcf, 1,
                     (dpop_used || slcf->dpop == NGX_HTTP_SOIDC_DPOP_REQUIRED)
                     ? error : NULL,
                     (dpop_used || slcf->dpop == NGX_HTTP_SOIDC_DPOP_REQUIRED)
                     ? description : NULL,
                     (dpop_used || slcf->dpop == NGX_HTTP_SOIDC_DPOP_REQUIRED)
                     ? with_scope : 0)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return status;
}


static void
ngx_http_soidc_string_cleanup(void *data)
{
    soidc_string_free(data);
}


/* Records why the request's token was refused, for $soidc_reason: `reason`
 * (a static string) or, when NULL, `rs` (in the request pool). */
static ngx_int_t
ngx_http_soidc_set_reason(ngx_http_request_t *r, const char *reason,
    ngx_str_t *rs)
{
    ngx_http_soidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_soidc_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_soidc_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_soidc_module);
    }

    ctx->claims = NULL;
    ctx->conf = NULL;

    if (reason) {
        ctx->reason.data = (u_char *) reason;
        ctx->reason.len = ngx_strlen(reason);

    } else {
        ctx->reason = *rs;
    }

    return NGX_OK;
}


/* 503 + Retry-After: this worker cannot validate the token now (no client, no
 * keys cached, or a key refresh for an unknown kid is on its way). */
static ngx_int_t
ngx_http_soidc_unavailable(ngx_http_request_t *r, ngx_http_soidc_provider_t *pv,
    const char *why, ngx_uint_t retry_after)
{
    u_char           *p;
    ngx_table_elt_t  *h;

    if (why && *why == '\0') {
        /* logged by the caller */

    } else if (why) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "soidc: no signing keys of \"%V\" are cached yet (%s); "
                      "answering 503", &pv->issuer, why);

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "soidc: token with an unknown kid while the keys of "
                      "\"%V\" are being refreshed; answering 503", &pv->issuer);
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    h = ngx_list_push(&r->headers_out.headers);
    if (h != NULL && p != NULL) {
        h->hash = 1;
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
        ngx_str_set(&h->key, "Retry-After");
        h->value.data = p;
        h->value.len = ngx_sprintf(p, "%ui", retry_after) - p;
    }

    return NGX_HTTP_SERVICE_UNAVAILABLE;
}


static ngx_uint_t
ngx_http_soidc_str_is(ngx_str_t *s, const char *lit)
{
    size_t  n = ngx_strlen(lit);

    return s->len == n && ngx_strncmp(s->data, lit, n) == 0;
}


/* ------------------------------------------------------------------------ */
/* Opaque tokens: introspection on the thread pool, bounded per-worker cache */
/* ------------------------------------------------------------------------ */

#define NGX_HTTP_SOIDC_MAX_CACHED_TOKEN  1024

/* A compact JWS has exactly two dots; anything else is treated as opaque. */
static ngx_uint_t
ngx_http_soidc_is_jws(ngx_str_t *tok)
{
    size_t      i;
    ngx_uint_t  dots;

    for (i = 0, dots = 0; i < tok->len; i++) {
        if (tok->data[i] == '.') {
            dots++;
        }
    }

    return dots == 2;
}


/* Compares without stopping at the first difference (a cached token must not
 * be guessable from lookup times). */
static ngx_uint_t
ngx_http_soidc_same_token(const u_char *a, const u_char *b, size_t len)
{
    size_t  i;
    u_char  d;

    for (i = 0, d = 0; i < len; i++) {
        d |= a[i] ^ b[i];
    }

    return d == 0;
}


static ngx_http_soidc_cache_slot_t *
ngx_http_soidc_cache_slot(ngx_http_soidc_main_conf_t *smcf, ngx_str_t *tok)
{
    return &smcf->cache[ngx_hash_key(tok->data, tok->len)
                        % smcf->cache_entries];
}


static const char *
ngx_http_soidc_cache_find(ngx_http_soidc_main_conf_t *smcf, ngx_str_t *tok)
{
    ngx_http_soidc_cache_slot_t  *slot;

    if (smcf->cache == NULL || tok->len > NGX_HTTP_SOIDC_MAX_CACHED_TOKEN) {
        return NULL;
    }

    slot = ngx_http_soidc_cache_slot(smcf, tok);

    if (slot->token == NULL || slot->len != tok->len
        || (ngx_msec_int_t) (slot->expires - ngx_current_msec) <= 0
        || !ngx_http_soidc_same_token(slot->token, tok->data, tok->len))
    {
        return NULL;
    }

    return slot->doc;
}


/* Keeps an introspection answer for soidc_introspection_cache_s, and an
 * active token's at most until its exp; one slot per hash value, so the cache
 * never holds more than soidc_introspection_cache_entries answers. */
static void
ngx_http_soidc_cache_store(ngx_http_soidc_main_conf_t *smcf, ngx_str_t *tok,
    const char *doc, ngx_log_t *log)
{
    int                           active;
    char                         *d;
    u_char                       *t;
    size_t                        n;
    int64_t                       exp;
    ngx_msec_t                    ttl;
    ngx_http_soidc_cache_slot_t  *slot;

    if (smcf->cache == NULL || tok->len > NGX_HTTP_SOIDC_MAX_CACHED_TOKEN) {
        return;
    }

    ttl = (ngx_msec_t) smcf->cache_s * 1000;

    if (soidc_json_get_bool(doc, "/active", &active) == SOIDC_OK && active
        && soidc_json_get_int64(doc, "/exp", &exp) == SOIDC_OK)
    {
        if (exp <= (int64_t) ngx_time()) {
            return;
        }

        if ((exp - (int64_t) ngx_time()) * 1000 < (int64_t) ttl) {
            ttl = (ngx_msec_t) (exp - (int64_t) ngx_time()) * 1000;
        }
    }

    n = ngx_strlen(doc);

    t = ngx_alloc(tok->len, log);
    d = ngx_alloc(n + 1, log);
    if (t == NULL || d == NULL) {
        ngx_free(t);
        ngx_free(d);
        return;
    }

    ngx_memcpy(t, tok->data, tok->len);
    ngx_memcpy(d, doc, n + 1);

    slot = ngx_http_soidc_cache_slot(smcf, tok);

    if (slot->token) {
        ngx_free(slot->token);
        ngx_free(slot->doc);
    }

    slot->token = t;
    slot->len = tok->len;
    slot->doc = d;
    slot->expires = ngx_current_msec + ttl;
}


/* An introspection answer against the location's audience and scopes. */
static ngx_int_t
ngx_http_soidc_introspection_result(ngx_http_request_t *r,
    ngx_http_soidc_loc_conf_t *slcf, const char *doc)
{
    int                     active;
    char                   *value, *raw;
    u_char                  pointer[32], *p, *end;
    ngx_str_t               desc, sc, *scope;
    ngx_uint_t              i, found;
    ngx_http_soidc_ctx_t   *ctx;

    if (soidc_json_get_bool(doc, "/active", &active) != SOIDC_OK || !active) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "soidc: bearer token rejected: introspection says it "
                      "is not active");
        if (ngx_http_soidc_set_reason(r, "inactive", NULL) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_str_set(&desc, "the token is not active");
        return ngx_http_soidc_challenge(r, slcf, NGX_HTTP_UNAUTHORIZED,
                                        "invalid_token", &desc, 0);
    }

    /* aud, when the answer has one (RFC 7662 section 2.2): a string or an
     * array holding soidc_audience */
    raw = NULL;
    if (soidc_json_get_raw(doc, "/aud", &raw) == SOIDC_OK) {
        soidc_string_free(raw);
        found = 0;

        /* "/aud" itself when a string, else "/aud/0", "/aud/1", ... */
        for (i = 0; i <= 64 && !found; i++) {
            if (i == 0) {
                p = ngx_cpymem(pointer, "/aud", 4);
            } else {
                p = ngx_sprintf(pointer, "/aud/%ui", i - 1);
            }

            *p = '\0';
            value = NULL;

            if (soidc_json_get_string(doc, (char *) pointer, &value)
                != SOIDC_OK)
            {
                if (i == 0) {
                    continue;
                }

                break;
            }

            found = ngx_strlen(value) == slcf->audience.len
                    && ngx_strncmp(value, slcf->audience.data,
                                   slcf->audience.len) == 0;
            soidc_string_free(value);
        }

        if (!found) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "soidc: bearer token rejected: its introspected "
                          "aud does not hold \"%V\"", &slcf->audience);
            if (ngx_http_soidc_set_reason(r, "audience", NULL) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_str_set(&desc, "the token's aud does not name this resource "
                               "server");
            return ngx_http_soidc_challenge(r, slcf, NGX_HTTP_UNAUTHORIZED,
                                            "invalid_token", &desc, 0);
        }
    }

    /* the required scopes, all in the space-separated "scope" */
    if (slcf->scopes && slcf->scopes->nelts) {
        if (ngx_http_soidc_json_string(r->pool, doc, "/scope", &sc) != NGX_OK) {
            ngx_str_null(&sc);
        }

        scope = slcf->scopes->elts;

        for (i = 0; i < slcf->scopes->nelts; i++) {
            found = 0;
            p = sc.data;
            end = sc.data + sc.len;

            while (p && p < end && !found) {
                u_char *e = ngx_strlchr(p, end, ' ');

                if (e == NULL) {
                    e = end;
                }

                found = (size_t) (e - p) == scope[i].len
                        && ngx_strncmp(p, scope[i].data, scope[i].len) == 0;
                p = e + 1;
            }

            if (!found) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "soidc: insufficient scope: the introspected "
                              "token lacks \"%V\"", &scope[i]);
                if (ngx_http_soidc_set_reason(r, "scope", NULL) != NGX_OK) {
                    return NGX_HTTP_INTERNAL_SERVER_ERROR;
                }

                ngx_str_set(&desc, "the token lacks a required scope");
                return ngx_http_soidc_challenge(r, slcf, NGX_HTTP_FORBIDDEN,
                                                "insufficient_scope", &desc, 1);
            }
        }
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_soidc_module);
    ctx->claims = doc;
    ctx->conf = slcf;
    ngx_str_null(&ctx->reason);

    return NGX_DECLINED;
}


#if (NGX_THREADS)

static void
ngx_http_soidc_introspect_thread(void *data, ngx_log_t *log)
{
    ngx_http_soidc_introspection_t  *job = data;

    job->doc = NULL;
    job->status = soidc_introspect_token(job->client, job->token,
                                         "access_token", job->options,
                                         &job->doc);
}


/* On the event loop: the answer is in; the request goes on in its phase
 * handler, which finds it in the context. */
static void
ngx_http_soidc_introspect_event(ngx_event_t *ev)
{
    size_t                           n;
    ngx_str_t                        tok;
    ngx_thread_task_t               *task = ev->data;
    ngx_connection_t                *c;
    ngx_http_request_t              *r;
    ngx_http_soidc_ctx_t            *ctx;
    ngx_http_soidc_main_conf_t      *smcf;
    ngx_http_soidc_introspection_t  *job = task->ctx;

    r = job->request;
    c = r->connection;

    r->main->blocked--;
    r->aio = 0;

    ctx = ngx_http_get_module_ctx(r, ngx_http_soidc_module);
    ctx->pending = 0;
    ctx->answered = 1;
    ctx->job_status = job->status;
    ctx->job_doc = NULL;

    if (job->doc) {
        n = ngx_strlen(job->doc);
        ctx->job_doc = ngx_pnalloc(r->pool, n + 1);
        if (ctx->job_doc) {
            ngx_memcpy(ctx->job_doc, job->doc, n + 1);
        }
    }

    if (job->status == SOIDC_OK && job->doc) {
        smcf = ngx_http_get_module_main_conf(r, ngx_http_soidc_module);
        tok.data = (u_char *) job->token;
        tok.len = ngx_strlen(job->token);
        ngx_http_soidc_cache_store(smcf, &tok, job->doc, c->log);
    }

    soidc_string_free(job->doc);
    job->doc = NULL;

    r->write_event_handler(r);
    ngx_http_run_posted_requests(c);
}

#endif


/* The opaque-token path: a cached answer, the answer of this request's job,
 * or a job posted to the thread pool (NGX_DONE: the request waits, the worker
 * does not). */
static ngx_int_t
ngx_http_soidc_introspect(ngx_http_request_t *r, ngx_http_soidc_loc_conf_t *slcf,
    ngx_http_soidc_provider_t *pv, ngx_str_t *tok)
{
#if (NGX_THREADS)
    char                            *copy;
    const char                      *cached;
    size_t                           n;
    ngx_thread_task_t               *task;
    ngx_http_soidc_ctx_t            *ctx;
    ngx_http_soidc_main_conf_t      *smcf;
    ngx_http_soidc_introspection_t  *job;

    smcf = pv->smcf;
    ctx = ngx_http_get_module_ctx(r, ngx_http_soidc_module);

    if (ctx && ctx->pending) {
        return NGX_DONE;        /* woken up early: the job still runs */
    }

    if (ctx && ctx->answered && ctx->job_conf == slcf) {
        ctx->answered = 0;

        if (ctx->job_status != SOIDC_OK || ctx->job_doc == NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "soidc: introspection at \"%V\" failed (%s): %s; "
                          "answering 503", &pv->issuer,
                          soidc_status_name(ctx->job_status),
                          ctx->job_doc ? ctx->job_doc : "(no document)");
            if (ngx_http_soidc_set_reason(r, "introspection_failed", NULL)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_soidc_unavailable(r, pv, "",
                                              NGX_HTTP_SOIDC_RETRY_MSEC / 1000);
        }

        return ngx_http_soidc_introspection_result(r, slcf, ctx->job_doc);
    }

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_soidc_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_soidc_module);
    }

    cached = ngx_http_soidc_cache_find(smcf, tok);

    if (cached) {
        n = ngx_strlen(cached);
        copy = ngx_pnalloc(r->pool, n + 1);
        if (copy == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(copy, cached, n + 1);

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "soidc: introspection cache hit");

        return ngx_http_soidc_introspection_result(r, slcf, copy);
    }

    task = ngx_thread_task_alloc(r->pool,
                                 sizeof(ngx_http_soidc_introspection_t));
    if (task == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job = task->ctx;
    job->request = r;
    job->client = pv->client;
    job->options = smcf->introspect_options;
    job->doc = NULL;

    copy = ngx_pnalloc(r->pool, tok->len + 1);
    if (copy == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ngx_cpymem(copy, tok->data, tok->len) = '\0';
    job->token = copy;

    task->handler = ngx_http_soidc_introspect_thread;
    task->event.handler = ngx_http_soidc_introspect_event;
    task->event.data = task;
    task->event.log = r->connection->log;

    if (ngx_thread_task_post(smcf->thread_pool, task) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->pending = 1;
    ctx->answered = 0;
    ctx->job_conf = slcf;

    r->main->blocked++;
    r->aio = 1;

    return NGX_DONE;

#else

    return NGX_HTTP_INTERNAL_SERVER_ERROR;      /* refused at configuration */

#endif
}


/*
 * soidc_client_cert: the request's client certificate (PEM, e.g.
 * $ssl_client_raw_cert) as the decode option client_cert_pem, for
 * certificate-bound tokens (RFC 8705 section 3). The tab nginx's legacy
 * $ssl_client_cert puts after each newline is dropped. An empty value adds
 * nothing (a bound token then fails with reason cnf_x5t).
 */
static const char *
ngx_http_soidc_cert_options(ngx_http_request_t *r,
    ngx_http_soidc_loc_conf_t *slcf, const char *base)
{
    u_char     *p, *q, *pem;
    size_t      i, len;
    ngx_str_t   v, clean;

    if (ngx_http_complex_value(r, slcf->client_cert, &v) != NGX_OK) {
        return NULL;
    }

    if (v.len == 0) {
        return base;
    }

    clean.data = ngx_pnalloc(r->pool, v.len);
    if (clean.data == NULL) {
        return NULL;
    }

    q = clean.data;
    for (i = 0; i < v.len; i++) {
        if (v.data[i] == '\t' && i > 0 && v.data[i - 1] == '\n') {
            continue;
        }
        *q++ = v.data[i];
    }
    clean.len = q - clean.data;

    pem = ngx_http_soidc_json_quote(r->pool, &clean);
    if (pem == NULL) {
        return base;        /* not UTF-8: no certificate */
    }

    len = ngx_strlen(base) + sizeof(",\"client_cert_pem\":") + ngx_strlen(pem);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NULL;
    }

    q = ngx_cpymem(p, base, ngx_strlen(base) - 1);
    q = ngx_sprintf(q, ",\"client_cert_pem\":%s}", pem);
    *q = '\0';

    return (const char *) p;
}


/*
 * The decode options of a request with "Authorization: DPoP": the location's
 * options plus "dpop": "required" (only a DPoP-bound token with a valid proof),
 * the DPoP header's proof, the request's method and its URI (scheme, Host
 * header, path; soidc drops the query when it compares htu). NULL: out of
 * memory; (char *) -1: more than one DPoP header, or one that is not UTF-8.
 */
static const char *
ngx_http_soidc_dpop_options(ngx_http_request_t *r,
    ngx_http_soidc_loc_conf_t *slcf, const char *base)
{
    u_char           *p, *method, *uri, *proof;
    size_t            len;
    ngx_str_t         s, host;
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *found;

    found = NULL;
    n = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == 4
            && ngx_strncasecmp(h[i].key.data, (u_char *) "DPoP", 4) == 0)
        {
            found = &h[i];
            n++;
        }
    }

    if (n > 1) {
        return (const char *) -1;
    }

    proof = NULL;

    if (found) {
        proof = ngx_http_soidc_json_quote(r->pool, &found->value);
        if (proof == NULL) {
            return (const char *) -1;
        }
    }

    method = ngx_http_soidc_json_quote(r->pool, &r->method_name);

    if (r->headers_in.host) {
        host = r->headers_in.host->value;
    } else {
        host = r->headers_in.server;
    }

    s.len = sizeof("https://") - 1 + host.len + r->unparsed_uri.len;
    s.data = ngx_pnalloc(r->pool, s.len);
    if (s.data == NULL || method == NULL) {
        return NULL;
    }

    p = ngx_sprintf(s.data, "%s://%V%V",
#if (NGX_HTTP_SSL)
                    r->connection->ssl ? "https" : "http",
#else
                    "http",
#endif
                    &host, &r->unparsed_uri);
    s.len = p - s.data;

    uri = ngx_http_soidc_json_quote(r->pool, &s);
    if (uri == NULL) {
        return (const char *) -1;
    }

    len = ngx_strlen(base)
          + sizeof(",\"dpop\":\"required\",\"http_method\":,\"http_uri\":"
                   ",\"dpop_proof\":")
          + ngx_strlen(method) + ngx_strlen(uri)
          + (proof ? ngx_strlen(proof) : 0);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NULL;
    }

    s.data = p;

    /* the location's options without their closing brace */
    p = ngx_cpymem(p, base, ngx_strlen(base) - 1);
    p = ngx_sprintf(p, ",\"dpop\":\"required\",\"http_method\":%s,"
                    "\"http_uri\":%s", method, uri);

    if (proof) {
        p = ngx_sprintf(p, ",\"dpop_proof\":%s", proof);
    }

    *p++ = '}';
    *p = '\0';

    return (const char *) s.data;
}


/*
 * The provider to check the token with: the location's only issuer, or the
 * one whose URL equals the token's "iss" (read from the unverified payload:
 * it only chooses the keys; soidc then verifies the signature with that
 * issuer's keys and checks "iss" itself). A token that cannot be read goes to
 * the first issuer, whose check reports what is wrong with it. NULL: the
 * token names an issuer the location does not accept.
 */
static ngx_http_soidc_provider_t *
ngx_http_soidc_select_provider(ngx_http_request_t *r,
    ngx_http_soidc_loc_conf_t *slcf, ngx_str_t *tok)
{
    char                        *iss;
    u_char                      *p1, *p2, *end;
    ngx_str_t                    src, dst;
    ngx_uint_t                   i;
    ngx_http_soidc_provider_t  **pvp, *found;

    pvp = slcf->providers.elts;

    if (slcf->providers.nelts == 1) {
        return pvp[0];
    }

    end = tok->data + tok->len;

    p1 = ngx_strlchr(tok->data, end, '.');
    if (p1 == NULL) {
        return pvp[0];
    }

    p2 = ngx_strlchr(p1 + 1, end, '.');
    if (p2 == NULL) {
        return pvp[0];
    }

    src.data = p1 + 1;
    src.len = p2 - src.data;

    dst.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(src.len) + 1);
    if (dst.data == NULL) {
        return pvp[0];
    }

    if (ngx_decode_base64url(&dst, &src) != NGX_OK) {
        return pvp[0];
    }

    dst.data[dst.len] = '\0';

    iss = NULL;
    if (soidc_json_get_string((const char *) dst.data, "/iss", &iss)
        != SOIDC_OK)
    {
        return pvp[0];
    }

    found = NULL;

    for (i = 0; i < slcf->providers.nelts; i++) {
        if (ngx_strcmp(pvp[i]->issuer.data, iss) == 0) {
            found = pvp[i];
            break;
        }
    }

    soidc_string_free(iss);

    return found;
}


/* An unknown kid with soidc_jwks_file: reads the file now if it changed (a
 * local file, no network; rate-limited like the refresh). 1 if new keys were
 * imported, so that the token is checked once more. */
static ngx_uint_t
ngx_http_soidc_file_kick(ngx_http_soidc_provider_t *pv, ngx_log_t *log)
{
    ngx_http_soidc_main_conf_t  *smcf = pv->smcf;

    if (smcf->kid_refresh == 0
        || (pv->kicked
            && (ngx_msec_int_t) (ngx_current_msec - pv->kick_after) < 0))
    {
        return 0;
    }

    pv->kicked = 1;
    pv->kick_after = ngx_current_msec + smcf->kid_refresh;

    return ngx_http_soidc_jwks_file_load(pv, ngx_cycle->log);
}


static ngx_int_t
ngx_http_soidc_handler(ngx_http_request_t *r)
{
    char                       *doc, *token;
    size_t                      i;
    ngx_str_t                   value, tok, msg, err, reason, desc;
    ngx_uint_t                  pending, retry, again, scheme;
    const char                 *options;
    soidc_status                rc;
    ngx_table_elt_t            *auth;
    ngx_pool_cleanup_t         *cln;
    ngx_http_soidc_ctx_t       *ctx;
    ngx_http_soidc_provider_t  *pv;
    ngx_http_soidc_loc_conf_t  *slcf;
    ngx_http_soidc_main_conf_t *smcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_soidc_module);

    if (!slcf->bearer) {
        return NGX_DECLINED;
    }

    ngx_str_null(&value);

    /* the rewrite phase runs again after "rewrite ... last": validate once per
     * location configuration */
    ctx = ngx_http_get_module_ctx(r, ngx_http_soidc_module);
    if (ctx && ctx->conf == slcf) {
        return NGX_DECLINED;
    }

    if (slcf->token) {
        /* soidc_token: the token is the value of a variable (a cookie, ...);
         * empty means no token */
        if (ngx_http_complex_value(r, slcf->token, &tok) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (tok.len == 0) {
            if (ngx_http_soidc_set_reason(r, "no_token", NULL) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_soidc_challenge(r, slcf, NGX_HTTP_UNAUTHORIZED,
                                            NULL, NULL, 0);
        }

        goto check;
    }

    auth = r->headers_in.authorization;

    /* RFC 6750 §3.1: no credentials, or another scheme: a challenge without
     * an error code */
    if (auth == NULL) {
        if (ngx_http_soidc_set_reason(r, "no_token", NULL) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_soidc_challenge(r, slcf, NGX_HTTP_UNAUTHORIZED, NULL,
                                        NULL, 0);
    }

    value = auth->value;
    scheme = 0;

    if (value.len >= 6
        && ngx_strncasecmp(value.data, (u_char *) "Bearer", 6) == 0
        && (value.len == 6 || value.data[6] == ' ' || value.data[6] == '\t')
        && slcf->dpop != NGX_HTTP_SOIDC_DPOP_REQUIRED)
    {
        scheme = 6;

    } else if (slcf->dpop != NGX_HTTP_SOIDC_DPOP_OFF
               && value.len >= 4
               && ngx_strncasecmp(value.data, (u_char *) "DPoP", 4) == 0
               && (value.len == 4 || value.data[4] == ' '
                   || value.data[4] == '\t'))
    {
        /* RFC 9449 section 7.1: a DPoP-bound token with its proof */
        scheme = 4;

        if (ngx_http_soidc_set_reason(r, "", NULL) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx = ngx_http_get_module_ctx(r, ngx_http_soidc_module);
        ctx->dpop_scheme = 1;
    }

    if (scheme == 0) {
        if (ngx_http_soidc_set_reason(r, "no_token", NULL) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_soidc_challenge(r, slcf, NGX_HTTP_UNAUTHORIZED, NULL,
                                        NULL, 0);
    }

    for (i = scheme;
         i < value.len && (value.data[i] == ' ' || value.data[i] == '\t');
         i++)
    {
        /* void */
    }

    tok.data = value.data + i;
    tok.len = value.len - i;

    while (tok.len
           && (tok.data[tok.len - 1] == ' ' || tok.data[tok.len - 1] == '\t'))
    {
        tok.len--;
    }

check:

    /* The b64token check (RFC 6750 section 2.1, a 400 otherwise) of a JWT is
     * made only when soidc refuses the token (see "malformed" below): a token
     * soidc accepts is a compact JWS, three strict base64url parts and two
     * dots, which is a b64token; scanning 700 bytes through the table was as
     * much worker CPU as soidc's base64 decoding. A NUL would cut the C string
     * (a header cannot carry one; a soidc_token variable might), so it is
     * looked for here (memchr), and an opaque token is checked before it is
     * sent to the introspection endpoint. */
    if (tok.len > NGX_HTTP_SOIDC_MAX_TOKEN
        || tok.len == 0
        || ngx_strlchr(tok.data, tok.data + tok.len, '\0') != NULL
        || (slcf->introspection && !ngx_http_soidc_is_b64token(&tok)))
    {
        goto malformed;
    }

    pv = ngx_http_soidc_select_provider(r, slcf, &tok);

    if (pv == NULL) {
        if (!ngx_http_soidc_is_b64token(&tok)) {
            goto malformed;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "soidc: bearer token rejected: its \"iss\" is none of "
                      "this location's issuers");

        if (ngx_http_soidc_set_reason(r, "issuer", NULL) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_str_set(&desc, "the token's issuer is not accepted here");
        return ngx_http_soidc_challenge(r, slcf, NGX_HTTP_UNAUTHORIZED,
                                        "invalid_token", &desc, 0);
    }

    if (pv->client == NULL) {
        if (!ngx_http_soidc_is_b64token(&tok)) {
            goto malformed;
        }

        /* discovery has not succeeded yet: nothing to validate with */
        if (ngx_http_soidc_set_reason(r, "no_client", NULL) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_soidc_unavailable(r, pv,
                       "no client yet: discovery has not succeeded",
                       NGX_HTTP_SOIDC_RETRY_MSEC / 1000);
    }

    if (!slcf->token
        && r->http_version <= NGX_HTTP_VERSION_11
        && tok.data + tok.len == value.data + value.len
        && value.data[value.len] == '\0')
    {
        /* HTTP/1.x: nginx ends every request header value with a NUL (where
         * its CR or LF was), so the token needs no copy */
        token = (char *) tok.data;

    } else {
        token = ngx_pnalloc(r->pool, tok.len + 1);
        if (token == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(token, tok.data, tok.len);
        token[tok.len] = '\0';
    }

    if (0) {

malformed:

        if (slcf->token) {
            ngx_str_set(&desc, "the token is not one b64token "
                               "(RFC 6750 section 2.1)");
        } else {
            ngx_str_set(&desc, "the Authorization header does not carry one "
                               "bearer token (RFC 6750 section 2.1)");
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "soidc: malformed bearer token (%s)",
                      slcf->token ? "soidc_token" : "Authorization header");

        if (ngx_http_soidc_set_reason(r, "invalid_request", NULL) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_soidc_challenge(r, slcf, NGX_HTTP_BAD_REQUEST,
                                        "invalid_request", &desc, 0);
    }

    if (slcf->introspection && !ngx_http_soidc_is_jws(&tok)) {
        return ngx_http_soidc_introspect(r, slcf, pv, &tok);
    }

    options = slcf->decode_options;

    if (slcf->client_cert) {
        options = ngx_http_soidc_cert_options(r, slcf, options);
        if (options == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_soidc_module);

    if (ctx && ctx->dpop_scheme) {
        options = ngx_http_soidc_dpop_options(r, slcf, options);

        if (options == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (options == (const char *) -1) {
            if (!ngx_http_soidc_is_b64token(&tok)) {
                goto malformed;
            }

            ngx_str_set(&desc, "the request does not carry exactly one DPoP "
                               "proof (RFC 9449 section 4.3)");
            if (ngx_http_soidc_set_reason(r, "dpop_invalid", NULL) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_soidc_challenge(r, slcf, NGX_HTTP_UNAUTHORIZED,
                                            "invalid_dpop_proof", &desc, 0);
        }
    }

    again = 0;

decode:

    /* never blocks: cache_only validates against the cached keys only (a DPoP
     * proof is checked locally too) */
    doc = NULL;
    rc = soidc_decode_access_token(pv->client, token, options, &doc);

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        soidc_string_free(doc);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_soidc_string_cleanup;
    cln->data = doc;

    if (doc == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "soidc: soidc_decode_access_token returned %s without "
                      "a document", soidc_status_name(rc));
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == SOIDC_OK) {
        if (ctx == NULL) {
            ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_soidc_ctx_t));
            if (ctx == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_http_set_ctx(r, ctx, ngx_http_soidc_module);
        }

        ctx->claims = doc;
        ctx->conf = slcf;
        ngx_str_null(&ctx->reason);

        /* on to the next handler: in the rewrite phase NGX_OK would end the
         * request */
        return NGX_DECLINED;
    }

    /* refused: a token that is not one b64token is a malformed request (400),
     * whatever soidc says (not UTF-8, ...) */
    if (!ngx_http_soidc_is_b64token(&tok)) {
        goto malformed;
    }

    if (ngx_http_soidc_json_string(r->pool, doc, "/message", &msg) != NGX_OK) {
        ngx_str_set(&msg, "(no message)");
    }

    if (rc != SOIDC_ERR_VALIDATION) {
        /* with cache_only nothing else should happen: a bug or a bad option */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "soidc: soidc_decode_access_token failed (%s): %V",
                      soidc_status_name(rc), &msg);
        (void) ngx_http_soidc_set_reason(r, "internal_error", NULL);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* soidc says why in "reason" (its "error" when there is none) */
    if (ngx_http_soidc_json_string(r->pool, doc, "/reason", &reason) != NGX_OK
        && ngx_http_soidc_json_string(r->pool, doc, "/error", &reason) != NGX_OK)
    {
        ngx_str_set(&reason, "invalid_token");
    }

    if (ngx_http_soidc_set_reason(r, NULL, &reason) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* no keys cached yet is the server's state, not the client's fault */
    if (ngx_http_soidc_str_is(&reason, "no_keys_cached")) {
        return ngx_http_soidc_unavailable(r, pv,
                       "reason no_keys_cached",
                       NGX_HTTP_SOIDC_RETRY_MSEC / 1000);
    }

    ngx_http_soidc_description(r->pool, &msg, &desc);

    if (ngx_http_soidc_str_is(&reason, "unknown_kid") && pv->jwks_file.len) {
        /* the file may hold a newer key: read it if it changed, and check
         * the token once more with its keys */
        if (!again && ngx_http_soidc_file_kick(pv, r->connection->log)) {
            again = 1;
            goto decode;
        }

    } else if (ngx_http_soidc_str_is(&reason, "unknown_kid")) {
        /* perhaps signed with a key newer than the cached JWKS: one
         * rate-limited refresh in the background, never on this request */
        pending = ngx_http_soidc_kick(pv, r->connection->log);

        if (pending && slcf->unknown_kid_status == NGX_HTTP_SERVICE_UNAVAILABLE)
        {
            smcf = pv->smcf;
            retry = (smcf->timeout + 999) / 1000;
            return ngx_http_soidc_unavailable(r, pv, NULL, retry ? retry : 1);
        }
    }

    if (ngx_http_soidc_json_string(r->pool, doc, "/error", &err) == NGX_OK
        && ngx_http_soidc_str_is(&err, "insufficient_scope"))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "soidc: insufficient scope: %V", &msg);
        return ngx_http_soidc_challenge(r, slcf, NGX_HTTP_FORBIDDEN,
                                        "insufficient_scope", &desc, 1);
    }

    if (ngx_http_soidc_str_is(&reason, "claim_rule")) {
        /* a valid token whose claims fail a soidc_require_claim rule: it does
         * not grant this location (RFC 6750 section 3.1, insufficient_scope:
         * the request requires higher privileges) */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "soidc: claim rule failed: %V", &msg);
        return ngx_http_soidc_challenge(r, slcf, NGX_HTTP_FORBIDDEN,
                                        "insufficient_scope", &desc, 0);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "soidc: bearer token rejected: %V", &msg);

    /* DPoP failures: soidc's "error" is the RFC 9449 section 7.1 code */
    if (reason.len > 5 && ngx_strncmp(reason.data, "dpop_", 5) == 0
        && ngx_http_soidc_json_string(r->pool, doc, "/error", &err) == NGX_OK
        && (ngx_http_soidc_str_is(&err, "invalid_dpop_proof")
            || ngx_http_soidc_str_is(&err, "use_dpop_nonce")))
    {
        return ngx_http_soidc_challenge(r, slcf, NGX_HTTP_UNAUTHORIZED,
                                        (char *) err.data, &desc, 0);
    }

    return ngx_http_soidc_challenge(r, slcf, NGX_HTTP_UNAUTHORIZED,
                                    "invalid_token", &desc, 0);
}


/* ------------------------------------------------------------------------ */
/* Variables                                                                 */
/* ------------------------------------------------------------------------ */

/* The request's context: its own, or else the main request's (a subrequest
 * sees the claims of the main request). */
static ngx_http_soidc_ctx_t *
ngx_http_soidc_get_ctx(ngx_http_request_t *r)
{
    ngx_http_soidc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_soidc_module);
    if (ctx == NULL) {
        ctx = ngx_http_get_module_ctx(r->main, ngx_http_soidc_module);
    }

    return ctx;
}


/* Sets v from `raw`, the JSON text of one claim value, and frees it: not found
 * for null; strings decoded; numbers and booleans as written; arrays and objects
 * as their compact JSON (soidc emits JSON without newlines). A string that holds
 * U+0000 cannot be decoded into a C string: its JSON text is used. */
static ngx_int_t
ngx_http_soidc_set_json_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, char *raw)
{
    char       *text;
    ngx_int_t   rc;
    ngx_str_t   s;

    if (ngx_strcmp(raw, "null") == 0) {
        soidc_string_free(raw);
        v->not_found = 1;
        return NGX_OK;
    }

    text = NULL;

    if (raw[0] == '"' && soidc_json_get_string(raw, "", &text) == SOIDC_OK) {
        rc = ngx_http_soidc_copy_safe(r->pool, text, &s);
        soidc_string_free(text);

    } else {
        rc = ngx_http_soidc_copy_safe(r->pool, raw, &s);
    }

    soidc_string_free(raw);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    v->data = s.data;
    v->len = s.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/* The claim at the RFC 6901 pointer `pointer` of the validated claims. */
static ngx_int_t
ngx_http_soidc_claim_at(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    const u_char *pointer)
{
    char                  *raw;
    ngx_http_soidc_ctx_t  *ctx;

    ctx = ngx_http_soidc_get_ctx(r);

    raw = NULL;

    if (ctx == NULL || ctx->claims == NULL
        || soidc_json_get_raw(ctx->claims, (const char *) pointer, &raw)
           != SOIDC_OK)
    {
        soidc_string_free(raw);
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_soidc_set_json_value(r, v, raw);
}


static ngx_int_t
ngx_http_soidc_claim(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    ngx_str_t *name)
{
    u_char      *pointer, *p;
    size_t       i;

    /* the JSON pointer "/NAME", with '~' and '/' escaped (RFC 6901) */
    pointer = ngx_pnalloc(r->pool, 2 * name->len + 2);
    if (pointer == NULL) {
        return NGX_ERROR;
    }

    p = pointer;
    *p++ = '/';

    for (i = 0; i < name->len; i++) {
        if (name->data[i] == '~' || name->data[i] == '/') {
            *p++ = '~';
            *p++ = name->data[i] == '~' ? '0' : '1';

        } else {
            *p++ = name->data[i];
        }
    }

    *p = '\0';

    return ngx_http_soidc_claim_at(r, v, pointer);
}


/* soidc_claim_set $var PATH: soidc_claims_get reads the path with the
 * semantics of require_claims (a name applied to an array collects the
 * elements' members); the value is formatted as $soidc_claim_NAME. */
static ngx_int_t
ngx_http_soidc_claim_set_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_soidc_claim_var_t  *cv = (ngx_http_soidc_claim_var_t *) data;

    char                  *raw;
    ngx_http_soidc_ctx_t  *ctx;

    ctx = ngx_http_soidc_get_ctx(r);

    raw = NULL;

    if (ctx == NULL || ctx->claims == NULL
        || soidc_claims_get(ctx->claims, (const char *) cv->path, &raw)
           != SOIDC_OK)
    {
        soidc_string_free(raw);
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_soidc_set_json_value(r, v, raw);
}


/* $soidc_reason: why the token was refused (soidc's "reason", or the module's
 * own: no_token, invalid_request, no_client); not found after a success or
 * when the location does not check tokens. */
static ngx_int_t
ngx_http_soidc_reason_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_soidc_ctx_t  *ctx;

    ctx = ngx_http_soidc_get_ctx(r);

    if (ctx == NULL || ctx->reason.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = ctx->reason.data;
    v->len = ctx->reason.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_soidc_fixed_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_soidc_claim(r, v, (ngx_str_t *) data);
}


static ngx_int_t
ngx_http_soidc_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t  *var = (ngx_str_t *) data;
    ngx_str_t   name;

    name.data = var->data + ngx_http_soidc_claim_prefix.len;
    name.len = var->len - ngx_http_soidc_claim_prefix.len;

    return ngx_http_soidc_claim(r, v, &name);
}


static ngx_http_variable_t  ngx_http_soidc_vars[] = {

    { ngx_string("soidc_sub"), NULL, ngx_http_soidc_fixed_variable,
      (uintptr_t) &ngx_http_soidc_sub, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("soidc_scope"), NULL, ngx_http_soidc_fixed_variable,
      (uintptr_t) &ngx_http_soidc_scope, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("soidc_claim_"), NULL, ngx_http_soidc_prefix_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("soidc_reason"), NULL, ngx_http_soidc_reason_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_soidc_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_soidc_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

static void *
ngx_http_soidc_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_soidc_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_soidc_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&smcf->providers, cf->pool, 2,
                       sizeof(ngx_http_soidc_provider_t *))
        != NGX_OK)
    {
        return NULL;
    }

    smcf->refresh = NGX_CONF_UNSET_MSEC;
    smcf->timeout = NGX_CONF_UNSET_MSEC;
    smcf->use_thread_pool = NGX_CONF_UNSET;
    smcf->kid_refresh = NGX_CONF_UNSET_MSEC;
    smcf->cache_s = NGX_CONF_UNSET;
    smcf->cache_entries = NGX_CONF_UNSET_UINT;
    smcf->verified_cache = NGX_CONF_UNSET;

    return smcf;
}


static char *
ngx_http_soidc_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_soidc_main_conf_t  *smcf = conf;

    u_char  *p;

    ngx_conf_init_msec_value(smcf->refresh, 60000);
    ngx_conf_init_msec_value(smcf->timeout, 2000);
    ngx_conf_init_value(smcf->use_thread_pool, 0);
    ngx_conf_init_msec_value(smcf->kid_refresh, 5000);
    ngx_conf_init_value(smcf->cache_s, 30);
    ngx_conf_init_uint_value(smcf->cache_entries, 1024);
    ngx_conf_init_value(smcf->verified_cache, 0);

    if (smcf->verified_cache < 0 || smcf->verified_cache > 1000000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_verified_cache must be 0 (off) to 1000000");
        return NGX_CONF_ERROR;
    }

    if (smcf->cache_s < 0 || smcf->cache_s > 86400) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_introspection_cache_s must be 0 (no cache) "
                           "to 86400");
        return NGX_CONF_ERROR;
    }

    if (smcf->cache_entries == 0 || smcf->cache_entries > 1048576) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_introspection_cache_entries must be 1 to "
                           "1048576");
        return NGX_CONF_ERROR;
    }

    p = ngx_pnalloc(cf->pool, sizeof("{\"timeout_ms\":}") + NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    smcf->introspect_options = (char *) p;
    p = ngx_sprintf(p, "{\"timeout_ms\":%M}", smcf->timeout);
    *p = '\0';

    if (smcf->refresh < 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_jwks_refresh must be at least 1s");
        return NGX_CONF_ERROR;
    }

    if (smcf->timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_fetch_timeout must not be 0");
        return NGX_CONF_ERROR;
    }

    p = ngx_pnalloc(cf->pool, sizeof("{\"force_refresh\":true,\"timeout_ms\":}")
                              + NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    smcf->keys_options = (char *) p;
    p = ngx_sprintf(p, "{\"force_refresh\":true,\"timeout_ms\":%M}",
                    smcf->timeout);
    *p = '\0';

    return NGX_CONF_OK;
}


static void *
ngx_http_soidc_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_soidc_loc_conf_t  *slcf;

    slcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_soidc_loc_conf_t));
    if (slcf == NULL) {
        return NULL;
    }

    /* set by pcalloc: issuer, ca_file, audience, realm = unset (NULL data);
     * provider, decode_options, scope_attr = NULL */

    slcf->bearer = NGX_CONF_UNSET;
    slcf->scopes = NGX_CONF_UNSET_PTR;
    slcf->rules = NGX_CONF_UNSET_PTR;
    slcf->token = NGX_CONF_UNSET_PTR;
    slcf->issuers = NGX_CONF_UNSET_PTR;
    slcf->introspection = NGX_CONF_UNSET;
    slcf->unknown_kid_status = NGX_CONF_UNSET_UINT;
    slcf->dpop = NGX_CONF_UNSET_UINT;
    slcf->client_cert = NGX_CONF_UNSET_PTR;

    return slcf;
}


/* Whether s is valid UTF-8 without control characters. */
static ngx_int_t
ngx_http_soidc_is_clean_utf8(ngx_str_t *s)
{
    u_char    *p, *end;
    uint32_t   c;

    p = s->data;
    end = s->data + s->len;

    while (p < end) {
        if (*p < 0x80) {
            if (*p < 0x20 || *p == 0x7f) {
                return 0;
            }
            p++;
            continue;
        }

        c = ngx_utf8_decode(&p, end - p);
        if (c > 0x10ffff) {
            return 0;
        }
    }

    return 1;
}


/* ------------------------------------------------------------------------ */
/* soidc_jwks_file: keys from a local file, reloaded when it changes         */
/* ------------------------------------------------------------------------ */

#define NGX_HTTP_SOIDC_MAX_JWKS_FILE  (1024 * 1024)

/*
 * Reads the provider's JWKS file if it changed since the last look (inode,
 * size, modification time), or in any case with `force`: NGX_OK with *out
 * (ngx_alloc'd, NUL-terminated, freed by the caller with ngx_free),
 * NGX_DECLINED when unchanged, NGX_ERROR with *err and *eno.
 */
static ngx_int_t
ngx_http_soidc_jwks_file_read(ngx_http_soidc_provider_t *pv, ngx_uint_t force,
    char **out, const char **err, ngx_err_t *eno, ngx_log_t *log)
{
    char             *buf;
    size_t            size, got;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_file_info_t   fi;

    *eno = 0;
    *out = NULL;

    fd = ngx_open_file(pv->jwks_file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        *eno = ngx_errno;
        *err = "cannot be opened";
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        *eno = ngx_errno;
        *err = "cannot be read";
        goto failed;
    }

    if (!ngx_is_file(&fi)) {
        *err = "is not a regular file";
        goto failed;
    }

    size = (size_t) ngx_file_size(&fi);

    if (size > NGX_HTTP_SOIDC_MAX_JWKS_FILE) {
        *err = "is larger than 1 MiB";
        goto failed;
    }

    if (!force && pv->file_seen
        && pv->file_uniq == ngx_file_uniq(&fi)
        && pv->file_size == ngx_file_size(&fi)
        && pv->file_mtime == ngx_file_mtime(&fi))
    {
        (void) ngx_close_file(fd);
        return NGX_DECLINED;
    }

    buf = ngx_alloc(size + 1, log);
    if (buf == NULL) {
        *err = "could not be read (out of memory)";
        goto failed;
    }

    for (got = 0; got < size; got += n) {
        n = ngx_read_fd(fd, buf + got, size - got);
        if (n <= 0) {
            *eno = n < 0 ? ngx_errno : 0;
            *err = "could not be read to its end (changed while read?)";
            ngx_free(buf);
            goto failed;
        }
    }

    buf[size] = '\0';
    (void) ngx_close_file(fd);

    /* a file that fails is not read again until it changes */
    pv->file_seen = 1;
    pv->file_uniq = ngx_file_uniq(&fi);
    pv->file_size = ngx_file_size(&fi);
    pv->file_mtime = ngx_file_mtime(&fi);

    *out = buf;

    return NGX_OK;

failed:

    (void) ngx_close_file(fd);
    return NGX_ERROR;
}


/* nginx -t: the file exists and soidc accepts its keys for the issuer. */
static ngx_int_t
ngx_http_soidc_jwks_file_check(ngx_conf_t *cf, ngx_http_soidc_provider_t *pv)
{
    char          *buf, *doc, *msg;
    ngx_err_t      eno;
    const char    *err;
    soidc_client  *client;
    soidc_status   st;

    if (ngx_http_soidc_jwks_file_read(pv, 1, &buf, &err, &eno, cf->log)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, eno, "soidc_jwks_file \"%V\" %s",
                           &pv->jwks_file, err);
        return NGX_ERROR;
    }

    pv->file_seen = 0;      /* each worker loads it at start */

    client = NULL;
    doc = NULL;

    st = soidc_client_from_issuer_config(pv->metadata, NULL,
                                         "ngx_http_soidc_module", NULL, NULL,
                                         NULL, &client, &doc);
    if (st == SOIDC_OK) {
        st = soidc_client_import_keys(client, buf, NULL, &doc);
        soidc_client_free(client);
    }

    ngx_free(buf);

    if (st != SOIDC_OK) {
        msg = NULL;
        (void) soidc_json_get_string(doc, "/message", &msg);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_jwks_file \"%V\" (issuer \"%V\"): soidc "
                           "refuses it (%s): %s", &pv->jwks_file, &pv->issuer,
                           soidc_status_name(st), msg ? msg : "(no message)");
        soidc_string_free(msg);
        soidc_string_free(doc);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* In a worker, on the event loop (a local file, no network): creates the
 * client if needed and imports the file's keys if it changed. Returns 1 if
 * new keys were imported. */
static ngx_uint_t
ngx_http_soidc_jwks_file_load(ngx_http_soidc_provider_t *pv, ngx_log_t *log)
{
    char          *buf, *doc, *msg;
    ngx_err_t      eno;
    const char    *err;
    soidc_status   st;

    if (pv->client == NULL) {
        doc = NULL;
        st = soidc_client_from_issuer_config(pv->metadata, NULL,
                                             "ngx_http_soidc_module", NULL,
                                             NULL, pv->client_options,
                                             &pv->client, &doc);
        if (st != SOIDC_OK) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "soidc: client for issuer \"%V\" (soidc_jwks_file) "
                          "could not be created (%s): %s", &pv->issuer,
                          soidc_status_name(st), doc ? doc : "(no document)");
            soidc_string_free(doc);
            return 0;
        }

        pv->file_seen = 0;
    }

    switch (ngx_http_soidc_jwks_file_read(pv, 0, &buf, &err, &eno, log)) {

    case NGX_DECLINED:
        return 0;

    case NGX_ERROR:
        ngx_log_error(NGX_LOG_WARN, log, eno, "soidc: soidc_jwks_file \"%V\" "
                      "%s; %s", &pv->jwks_file, err,
                      pv->keys_loaded ? "the cached keys stay in use"
                                      : "requests get 503 until it is readable");
        return 0;

    default:
        break;
    }

    doc = NULL;
    st = soidc_client_import_keys(pv->client, buf,
                                  "{\"max_age_s\":86400}", &doc);
    ngx_free(buf);

    if (st != SOIDC_OK) {
        msg = NULL;
        (void) soidc_json_get_string(doc, "/message", &msg);
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "soidc: soidc_jwks_file \"%V\" refused (%s): %s; %s",
                      &pv->jwks_file, soidc_status_name(st),
                      msg ? msg : "(no message)",
                      pv->keys_loaded ? "the cached keys stay in use"
                                      : "requests get 503 until it is fixed");
        soidc_string_free(msg);
        soidc_string_free(doc);
        return 0;
    }

    pv->keys_loaded = 1;
    pv->last_success = ngx_current_msec;

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "soidc: keys of \"%V\" loaded from soidc_jwks_file \"%V\"",
                  &pv->issuer, &pv->jwks_file);

    return 1;
}


/*
 * soidc_client_secret_file: a regular file not accessible by group or others
 * (mode 0600 or 0400, like soidc's client_secret_file), at most 4 KiB; the
 * secret is its content without a trailing newline. NULL after logging.
 */
static char *
ngx_http_soidc_read_secret(ngx_conf_t *cf, ngx_str_t *path)
{
    char             *buf;
    size_t            size, got;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_file_info_t   fi;

    fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "soidc_client_secret_file \"%V\" cannot be opened",
                           path);
        return NULL;
    }

    buf = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR || !ngx_is_file(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_client_secret_file \"%V\" is not a regular "
                           "file", path);
        goto done;
    }

    if (fi.st_mode & 077) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_client_secret_file \"%V\" is accessible by "
                           "group or others (mode 0%ui%ui%ui); make it 0600 or "
                           "0400", path, (ngx_uint_t) (fi.st_mode >> 6) & 7,
                           (ngx_uint_t) (fi.st_mode >> 3) & 7,
                           (ngx_uint_t) fi.st_mode & 7);
        goto done;
    }

    size = (size_t) ngx_file_size(&fi);

    if (size == 0 || size > 4096) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_client_secret_file \"%V\" must hold 1 to "
                           "4096 bytes", path);
        goto done;
    }

    buf = ngx_pnalloc(cf->pool, size + 1);
    if (buf == NULL) {
        goto done;
    }

    for (got = 0; got < size; got += n) {
        n = ngx_read_fd(fd, buf + got, size - got);
        if (n <= 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "soidc_client_secret_file \"%V\" could not be "
                               "read", path);
            buf = NULL;
            goto done;
        }
    }

    while (size && (buf[size - 1] == '\n' || buf[size - 1] == '\r')) {
        size--;
    }

    buf[size] = '\0';

    if (size == 0 || ngx_strlen(buf) != size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_client_secret_file \"%V\" holds no secret "
                           "(empty, or a NUL byte)", path);
        buf = NULL;
    }

done:

    (void) ngx_close_file(fd);

    return buf;
}


static ngx_uint_t
ngx_http_soidc_str_eq(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len && ngx_strncmp(a->data, b->data, a->len) == 0;
}


static ngx_int_t
ngx_http_soidc_copy_z(ngx_pool_t *pool, ngx_str_t *src, ngx_str_t *dst)
{
    dst->data = ngx_pnalloc(pool, src->len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    dst->len = src->len;
    *ngx_cpymem(dst->data, src->data, src->len) = '\0';

    return NGX_OK;
}


/* One provider per (issuer, soidc_ca_file, soidc_jwks_file). */
static ngx_http_soidc_provider_t *
ngx_http_soidc_register_provider(ngx_conf_t *cf, ngx_str_t *issuer,
    ngx_http_soidc_loc_conf_t *conf)
{
    u_char                       *p, *ca, *iss;
    size_t                        len;
    ngx_uint_t                    i;
    ngx_http_soidc_provider_t    *pv, **pvp;
    ngx_http_soidc_main_conf_t   *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_soidc_module);

    pvp = smcf->providers.elts;

    for (i = 0; i < smcf->providers.nelts; i++) {
        if (ngx_http_soidc_str_eq(&pvp[i]->issuer, issuer)
            && ngx_http_soidc_str_eq(&pvp[i]->ca_file, &conf->ca_file)
            && ngx_http_soidc_str_eq(&pvp[i]->jwks_file, &conf->jwks_file)
            && ngx_http_soidc_str_eq(&pvp[i]->secret_file, &conf->secret_file)
            && (ngx_http_soidc_str_eq(&pvp[i]->client_id, &conf->client_id)
                || (conf->client_id.len == 0
                    && ngx_strcmp(pvp[i]->client_id.data,
                                  "ngx_http_soidc_module") == 0)))
        {
            return pvp[i];
        }
    }

    pv = ngx_pcalloc(cf->pool, sizeof(ngx_http_soidc_provider_t));
    if (pv == NULL) {
        return NULL;
    }

    /* NUL-terminated copies */
    if (ngx_http_soidc_copy_z(cf->pool, issuer, &pv->issuer) != NGX_OK
        || ngx_http_soidc_copy_z(cf->pool, &conf->ca_file, &pv->ca_file)
           != NGX_OK
        || ngx_http_soidc_copy_z(cf->pool, &conf->jwks_file, &pv->jwks_file)
           != NGX_OK
        || ngx_http_soidc_copy_z(cf->pool, &conf->secret_file,
                                 &pv->secret_file)
           != NGX_OK)
    {
        return NULL;
    }

    if (conf->client_id.len) {
        if (ngx_http_soidc_copy_z(cf->pool, &conf->client_id, &pv->client_id)
            != NGX_OK)
        {
            return NULL;
        }

    } else {
        ngx_str_set(&pv->client_id, "ngx_http_soidc_module");
    }

    if (pv->secret_file.len) {
        /* read here, by the master (as root, like ssl_certificate_key), so
         * that the file can stay readable by root only */
        pv->client_secret = ngx_http_soidc_read_secret(cf, &pv->secret_file);
        if (pv->client_secret == NULL) {
            return NULL;
        }
    }

    pv->smcf = smcf;

    if (pv->jwks_file.len) {
        /* keys from a file: the client is made from this metadata document
         * (no discovery, no network); its jwks_uri is never fetched, since
         * every decode is cache_only */
        iss = ngx_http_soidc_json_quote(cf->pool, &pv->issuer);
        if (iss == NULL) {
            return NULL;
        }

        len = sizeof("{\"issuer\":,\"authorization_endpoint\":,\"jwks_uri\":,"
                     "\"response_types_supported\":[\"code\"],"
                     "\"subject_types_supported\":[\"public\"],"
                     "\"id_token_signing_alg_values_supported\":[\"RS256\","
                     "\"RS384\",\"RS512\",\"PS256\",\"PS384\",\"PS512\","
                     "\"ES256\",\"ES384\",\"ES512\",\"EdDSA\"]}")
              + 3 * ngx_strlen(iss);

        p = ngx_pnalloc(cf->pool, len);
        if (p == NULL) {
            return NULL;
        }

        pv->metadata = (char *) p;
        p = ngx_sprintf(p, "{\"issuer\":%s,\"authorization_endpoint\":%s,"
                        "\"jwks_uri\":%s,"
                        "\"response_types_supported\":[\"code\"],"
                        "\"subject_types_supported\":[\"public\"],"
                        "\"id_token_signing_alg_values_supported\":[\"RS256\","
                        "\"RS384\",\"RS512\",\"PS256\",\"PS384\",\"PS512\","
                        "\"ES256\",\"ES384\",\"ES512\",\"EdDSA\"]}",
                        iss, iss, iss);
        *p = '\0';

        if (ngx_http_soidc_jwks_file_check(cf, pv) != NGX_OK) {
            return NULL;
        }
    }

    /* client options: the fetch timeout for discovery and JWKS, the CA file
     * (quoted by soidc_json_quote) */
    ca = NULL;

    if (pv->ca_file.len) {
        ca = ngx_http_soidc_json_quote(cf->pool, &pv->ca_file);
        if (ca == NULL) {
            return NULL;
        }
    }

    len = sizeof("{\"timeout_ms\":,\"connect_timeout_ms\":,\"ca_file\":"
                 ",\"verified_cache_entries\":}")
          + 3 * NGX_INT_T_LEN + (ca ? ngx_strlen(ca) : 0);

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NULL;
    }

    pv->client_options = (char *) p;

    p = ngx_sprintf(p, "{\"timeout_ms\":%M,\"connect_timeout_ms\":%M",
                    smcf->timeout, smcf->timeout);

    if (ca) {
        p = ngx_sprintf(p, ",\"ca_file\":%s", ca);
    }

    /* soidc_verified_cache: each worker's client has its own cache (workers
     * are processes); a hit skips only the signature check */
    if (smcf->verified_cache > 0) {
        p = ngx_sprintf(p, ",\"verified_cache_entries\":%i",
                        smcf->verified_cache);
    }

    *p++ = '}';
    *p = '\0';

    pvp = ngx_array_push(&smcf->providers);
    if (pvp == NULL) {
        return NULL;
    }

    *pvp = pv;

    return pv;
}


/*
 * Checks a location's decode options at configuration time (nginx -t), with a
 * throwaway client made from a fixed metadata document (no network): soidc
 * parses the options before the token, so a "not a JWS" validation error
 * means it accepted them, and an invalid-argument error names what it refused
 * (an operator or value of soidc_require_claim, or a libsoidc without
 * require_claims).
 */
static ngx_int_t
ngx_http_soidc_check_decode_options(ngx_conf_t *cf, const char *options)
{
    char          *doc, *msg;
    soidc_client  *client;
    soidc_status   st;

    static const char  metadata[] =
        "{\"issuer\":\"https://config-check.soidc.invalid\","
        "\"authorization_endpoint\":\"https://config-check.soidc.invalid/a\","
        "\"jwks_uri\":\"https://config-check.soidc.invalid/jwks\","
        "\"response_types_supported\":[\"code\"],"
        "\"subject_types_supported\":[\"public\"],"
        "\"id_token_signing_alg_values_supported\":[\"RS256\"]}";

    client = NULL;
    doc = NULL;

    st = soidc_client_from_issuer_config(metadata, NULL,
                                         "ngx_http_soidc_module", NULL, NULL,
                                         NULL, &client, &doc);
    if (st != SOIDC_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc: the configuration check client could not "
                           "be created (%s): %s", soidc_status_name(st),
                           doc ? doc : "(no error document)");
        soidc_string_free(doc);
        return NGX_ERROR;
    }

    st = soidc_decode_access_token(client, "not-a-token", options, &doc);
    soidc_client_free(client);

    if (st == SOIDC_ERR_INVALID_ARGUMENT) {
        msg = NULL;
        (void) soidc_json_get_string(doc, "/message", &msg);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc refuses this location's token checks "
                           "(soidc_require_claim needs a libsoidc with the "
                           "\"require_claims\" decode option): %s",
                           msg ? msg : "(no message)");
        soidc_string_free(msg);
        soidc_string_free(doc);
        return NGX_ERROR;
    }

    soidc_string_free(doc);

    return NGX_OK;
}


/*
 * A claim path of soidc_require_claim / soidc_claim_set as the RFC 6901 JSON
 * pointer soidc's JSON helpers take (NUL-terminated, in the pool), or NULL
 * with the reason in *err. The syntax is soidc's (require_claims): a path
 * starting with "/" is a JSON pointer already; otherwise dot-separated names,
 * "\." a dot inside a name (and "\\" a backslash), array elements by their
 * index ("groups.0").
 */
static u_char *
ngx_http_soidc_path_pointer(ngx_pool_t *pool, ngx_str_t *path, char **err)
{
    u_char  *pointer, *p, c;
    size_t   i, seg;

    if (path->len == 0) {
        *err = "is empty";
        return NULL;
    }

    pointer = ngx_pnalloc(pool, 2 * path->len + 2);
    if (pointer == NULL) {
        *err = "could not be stored";
        return NULL;
    }

    if (path->data[0] == '/') {
        for (i = 0; i < path->len; i++) {
            if (path->data[i] == '~'
                && (i + 1 == path->len
                    || (path->data[i + 1] != '0' && path->data[i + 1] != '1')))
            {
                *err = "has a \"~\" not followed by 0 or 1 (RFC 6901)";
                return NULL;
            }
        }

        *ngx_cpymem(pointer, path->data, path->len) = '\0';
        return pointer;
    }

    p = pointer;
    *p++ = '/';
    seg = 0;

    for (i = 0; i < path->len; i++) {
        c = path->data[i];

        if (c == '\\') {
            if (i + 1 == path->len
                || (path->data[i + 1] != '.' && path->data[i + 1] != '\\'))
            {
                *err = "has a \"\\\" that escapes neither \".\" nor \"\\\"";
                return NULL;
            }

            c = path->data[++i];

        } else if (c == '.') {
            if (seg == 0) {
                *err = "has an empty name (\"..\", or a leading or trailing "
                       "\".\")";
                return NULL;
            }

            *p++ = '/';
            seg = 0;
            continue;
        }

        if (c == '~' || c == '/') {
            *p++ = '~';
            *p++ = c == '~' ? '0' : '1';

        } else {
            *p++ = c;
        }

        seg++;
    }

    if (seg == 0) {
        *err = "has an empty name (\"..\", or a leading or trailing \".\")";
        return NULL;
    }

    *p = '\0';

    return pointer;
}


/* soidc_token, soidc_client_cert: a value with a variable, or "off" */
static char *
ngx_http_soidc_token(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                         *value;
    ngx_http_complex_value_t         **cvp;
    ngx_http_compile_complex_value_t   ccv;

    cvp = (ngx_http_complex_value_t **) ((char *) conf + cmd->offset);

    if (*cvp != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        *cvp = NULL;
        return NGX_CONF_OK;
    }

    *cvp = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (*cvp == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = *cvp;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if ((*cvp)->lengths == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V \"%V\" holds no variable: it takes the "
                           "variable the value is read from (e.g. "
                           "$cookie_access_token, $ssl_client_raw_cert), or "
                           "\"off\"", &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* A value of soidc_require_claim as JSON: a string (quoted by soidc), or with
 * the prefix "json:" a JSON value checked by soidc's parser. */
static u_char *
ngx_http_soidc_rule_value(ngx_conf_t *cf, ngx_str_t *v)
{
    char       *raw;
    u_char     *z, *copy;
    ngx_str_t   s;

    if (v->len >= 5 && ngx_strncmp(v->data, "json:", 5) == 0) {
        z = ngx_pnalloc(cf->pool, v->len - 5 + 1);
        if (z == NULL) {
            return NULL;
        }

        *ngx_cpymem(z, v->data + 5, v->len - 5) = '\0';

        raw = NULL;
        if (soidc_json_get_raw((const char *) z, "", &raw) != SOIDC_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "soidc_require_claim: \"%V\" is not a JSON "
                               "value after \"json:\"", v);
            return NULL;
        }

        /* the compact text soidc wrote, without the caller's whitespace */
        copy = ngx_pnalloc(cf->pool, ngx_strlen(raw) + 1);
        if (copy != NULL) {
            ngx_memcpy(copy, raw, ngx_strlen(raw) + 1);
        }

        soidc_string_free(raw);
        return copy;
    }

    s = *v;

    if (!ngx_http_soidc_is_clean_utf8(&s)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_require_claim: values must be UTF-8 without "
                           "control characters");
        return NULL;
    }

    return ngx_http_soidc_json_quote(cf->pool, &s);
}


/* soidc_require_claim PATH OP [VALUE ...]: one rule of soidc's require_claims
 * ({"claim": PATH, "op": OP, "value": ...}); the rules of a location replace
 * the inherited ones, like soidc_required_scope. */
static char *
ngx_http_soidc_require_claim(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_soidc_loc_conf_t *slcf = conf;

    char        *err;
    u_char      *path, **rule, *p, **values;
    size_t       len;
    ngx_str_t   *value, op;
    ngx_uint_t   i, nvalues, multi;

    value = cf->args->elts;

    if (ngx_http_soidc_path_pointer(cf->pool, &value[1], &err) == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_require_claim: the claim path \"%V\" %s",
                           &value[1], err);
        return NGX_CONF_ERROR;
    }

    if (!ngx_http_soidc_is_clean_utf8(&value[1])) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_require_claim: the claim path must be UTF-8 "
                           "without control characters");
        return NGX_CONF_ERROR;
    }

    op = value[2];
    nvalues = cf->args->nelts - 3;

    if (ngx_strcmp(op.data, "exists") == 0) {
        if (nvalues != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "soidc_require_claim: \"exists\" takes no "
                               "value");
            return NGX_CONF_ERROR;
        }
        multi = 0;

    } else if (ngx_strcmp(op.data, "eq") == 0
               || ngx_strcmp(op.data, "contains") == 0)
    {
        if (nvalues != 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "soidc_require_claim: \"%V\" takes exactly one "
                               "value", &op);
            return NGX_CONF_ERROR;
        }
        multi = 0;

    } else if (ngx_strcmp(op.data, "in") == 0
               || ngx_strcmp(op.data, "contains_any") == 0)
    {
        if (nvalues == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "soidc_require_claim: \"%V\" takes one or more "
                               "values", &op);
            return NGX_CONF_ERROR;
        }
        multi = 1;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_require_claim: unknown operator \"%V\" "
                           "(eq, in, contains, contains_any or exists)", &op);
        return NGX_CONF_ERROR;
    }

    path = ngx_http_soidc_json_quote(cf->pool, &value[1]);
    if (path == NULL) {
        return NGX_CONF_ERROR;
    }

    len = sizeof("{\"claim\":,\"op\":\"\",\"value\":[]}") + ngx_strlen(path)
          + op.len;

    values = NULL;

    if (nvalues) {
        values = ngx_palloc(cf->pool, nvalues * sizeof(u_char *));
        if (values == NULL) {
            return NGX_CONF_ERROR;
        }

        for (i = 0; i < nvalues; i++) {
            values[i] = ngx_http_soidc_rule_value(cf, &value[3 + i]);
            if (values[i] == NULL) {
                return NGX_CONF_ERROR;
            }

            len += ngx_strlen(values[i]) + 1;
        }
    }

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    if (slcf->rules == NGX_CONF_UNSET_PTR) {
        slcf->rules = ngx_array_create(cf->pool, 2, sizeof(u_char *));
        if (slcf->rules == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    rule = ngx_array_push(slcf->rules);
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    *rule = p;

    p = ngx_sprintf(p, "{\"claim\":%s,\"op\":\"%V\"", path, &op);

    if (nvalues) {
        p = ngx_cpymem(p, ",\"value\":", sizeof(",\"value\":") - 1);

        if (multi) {
            *p++ = '[';
        }

        for (i = 0; i < nvalues; i++) {
            p = ngx_sprintf(p, "%s%s", i ? "," : "", values[i]);
        }

        if (multi) {
            *p++ = ']';
        }
    }

    *p++ = '}';
    *p = '\0';

    return NGX_CONF_OK;
}


/* soidc_claim_set $var PATH: a variable holding a (nested) claim of the
 * validated token, formatted as $soidc_claim_NAME. */
static char *
ngx_http_soidc_claim_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                        *err, *raw;
    ngx_str_t                   *value, name;
    ngx_http_variable_t         *var;
    ngx_http_soidc_claim_var_t  *cv;

    value = cf->args->elts;

    if (value[1].len < 2 || value[1].data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_claim_set: invalid variable name \"%V\" "
                           "(write it with \"$\")", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data + 1;
    name.len = value[1].len - 1;

    cv = ngx_palloc(cf->pool, sizeof(ngx_http_soidc_claim_var_t));
    if (cv == NULL) {
        return NGX_CONF_ERROR;
    }

    if (!ngx_http_soidc_is_clean_utf8(&value[2])) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_claim_set: the claim path must be UTF-8 "
                           "without control characters");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_soidc_path_pointer(cf->pool, &value[2], &err) == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_claim_set: the claim path \"%V\" %s",
                           &value[2], err);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_soidc_copy_z(cf->pool, &value[2], &name) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cv->path = name.data;

    /* soidc's own check of the path (lengths, escapes): NOT_FOUND in "{}"
     * means it accepted the path */
    raw = NULL;
    if (soidc_claims_get("{}", (const char *) cv->path, &raw)
        == SOIDC_ERR_INVALID_ARGUMENT)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "soidc_claim_set: soidc refuses the claim path "
                           "\"%V\" (at most 512 bytes and 32 names)",
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    soidc_string_free(raw);

    name.data = value[1].data + 1;
    name.len = value[1].len - 1;

    /* not changeable: a second definition of the name is refused by nginx */
    var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_CONF_ERROR;
    }

    var->get_handler = ngx_http_soidc_claim_set_variable;
    var->data = (uintptr_t) cv;

    return NGX_CONF_OK;
}


static char *
ngx_http_soidc_unknown_kid_refresh(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_soidc_main_conf_t *smcf = conf;

    ngx_str_t   *value;
    ngx_msec_t   ms;

    if (smcf->kid_refresh != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        smcf->kid_refresh = 0;
        return NGX_CONF_OK;
    }

    ms = ngx_parse_time(&value[1], 0);
    if (ms == (ngx_msec_t) NGX_ERROR || ms < 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid soidc_unknown_kid_refresh \"%V\" (a time "
                           "of at least 1s, or \"off\")", &value[1]);
        return NGX_CONF_ERROR;
    }

    smcf->kid_refresh = ms;

    return NGX_CONF_OK;
}


static char *
ngx_http_soidc_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_soidc_loc_conf_t *prev = parent;
    ngx_http_soidc_loc_conf_t *conf = child;

    u_char      *p, *audience, **quoted, **rule;
    size_t       len;
    ngx_str_t   *scope, *issuer;
    ngx_http_soidc_provider_t  **pvp;
    ngx_http_soidc_main_conf_t  *smcf;
    ngx_uint_t   i, n;

    ngx_conf_merge_value(conf->bearer, prev->bearer, 0);
    ngx_conf_merge_ptr_value(conf->issuers, prev->issuers, NULL);
    ngx_conf_merge_str_value(conf->ca_file, prev->ca_file, "");
    ngx_conf_merge_str_value(conf->jwks_file, prev->jwks_file, "");
    ngx_conf_merge_str_value(conf->client_id, prev->client_id, "");
    ngx_conf_merge_str_value(conf->secret_file, prev->secret_file, "");
    ngx_conf_merge_value(conf->introspection, prev->introspection, 0);
    ngx_conf_merge_str_value(conf->audience, prev->audience, "");
    ngx_conf_merge_str_value(conf->realm, prev->realm, "api");
    ngx_conf_merge_ptr_value(conf->scopes, prev->scopes, NULL);
    ngx_conf_merge_ptr_value(conf->rules, prev->rules, NULL);
    ngx_conf_merge_ptr_value(conf->token, prev->token, NULL);
    ngx_conf_merge_ptr_value(conf->client_cert, prev->client_cert, NULL);
    ngx_conf_merge_uint_value(conf->unknown_kid_status,
                              prev->unknown_kid_status, NGX_HTTP_UNAUTHORIZED);
    ngx_conf_merge_uint_value(conf->dpop, prev->dpop, NGX_HTTP_SOIDC_DPOP_OFF);

    if (!conf->bearer) {
        return NGX_CONF_OK;
    }

    if (conf->issuers == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"soidc_bearer on\" needs \"soidc_issuer\"");
        return NGX_CONF_ERROR;
    }

    if (conf->audience.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"soidc_bearer on\" needs \"soidc_audience\" "
                           "(the resource server's identifier in the tokens' "
                           "\"aud\")");
        return NGX_CONF_ERROR;
    }

    issuer = conf->issuers->elts;
    for (i = 0; i < conf->issuers->nelts; i++) {
        if (!ngx_http_soidc_is_clean_utf8(&issuer[i])) {
            goto not_clean;
        }
    }

    if (!ngx_http_soidc_is_clean_utf8(&conf->audience)
        || !ngx_http_soidc_is_clean_utf8(&conf->ca_file)
        || !ngx_http_soidc_is_clean_utf8(&conf->jwks_file))
    {
        goto not_clean;
    }

    if (!ngx_http_soidc_is_clean_utf8(&conf->client_id)
        || !ngx_http_soidc_is_clean_utf8(&conf->secret_file))
    {
        goto not_clean;
    }

    if (conf->secret_file.len && conf->client_id.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"soidc_client_secret_file\" needs "
                           "\"soidc_client_id\"");
        return NGX_CONF_ERROR;
    }

    if (conf->introspection) {
        if (conf->client_id.len == 0 || conf->secret_file.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"soidc_introspection on\" needs "
                               "\"soidc_client_id\" and "
                               "\"soidc_client_secret_file\" (the "
                               "credentials of the introspection requests)");
            return NGX_CONF_ERROR;
        }

        if (conf->rules && conf->rules->nelts) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"soidc_require_claim\" applies to JWT access "
                               "tokens (soidc's require_claims); it does not "
                               "combine with \"soidc_introspection on\"");
            return NGX_CONF_ERROR;
        }

        if (conf->jwks_file.len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"soidc_introspection on\" needs the "
                               "provider's metadata; it does not combine "
                               "with \"soidc_jwks_file\"");
            return NGX_CONF_ERROR;
        }

        smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_soidc_module);

        if (smcf->use_thread_pool != 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"soidc_introspection on\" needs "
                               "\"soidc_thread_pool\" (introspection is a "
                               "network call, which never runs on the event "
                               "loop)");
            return NGX_CONF_ERROR;
        }
    }

    if (conf->jwks_file.len && conf->issuers->nelts > 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"soidc_jwks_file\" holds the keys of one issuer, "
                           "but \"soidc_issuer\" names %ui here",
                           conf->issuers->nelts);
        return NGX_CONF_ERROR;
    }

    /* RFC 6750 §3: realm is a quoted-string; keep it to plain characters */
    for (i = 0; i < conf->realm.len; i++) {
        if (conf->realm.data[i] < 0x20 || conf->realm.data[i] > 0x7e
            || conf->realm.data[i] == '"' || conf->realm.data[i] == '\\')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "soidc_realm \"%V\" may only contain printable "
                               "ASCII without '\"' and '\\'", &conf->realm);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_array_init(&conf->providers, cf->pool, conf->issuers->nelts,
                       sizeof(ngx_http_soidc_provider_t *))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < conf->issuers->nelts; i++) {
        pvp = ngx_array_push(&conf->providers);
        if (pvp == NULL) {
            return NGX_CONF_ERROR;
        }

        *pvp = ngx_http_soidc_register_provider(cf, &issuer[i], conf);
        if (*pvp == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    conf->provider = ((ngx_http_soidc_provider_t **) conf->providers.elts)[0];

    /* the options of soidc_decode_access_token, built once; every string
     * value quoted by soidc_json_quote */
    audience = ngx_http_soidc_json_quote(cf->pool, &conf->audience);
    if (audience == NULL) {
        return NGX_CONF_ERROR;
    }

    len = sizeof("{\"cache_only\":true,\"audience\":,\"required_scopes\":[]"
                 ",\"require_claims\":[]}")
          + ngx_strlen(audience);

    if (conf->rules) {
        rule = conf->rules->elts;
        for (i = 0; i < conf->rules->nelts; i++) {
            len += ngx_strlen(rule[i]) + 1;
        }
    }

    n = conf->scopes ? conf->scopes->nelts : 0;

    if (n) {
        quoted = ngx_palloc(cf->pool, n * sizeof(u_char *));
        if (quoted == NULL) {
            return NGX_CONF_ERROR;
        }

        scope = conf->scopes->elts;
        for (i = 0; i < n; i++) {
            quoted[i] = ngx_http_soidc_json_quote(cf->pool, &scope[i]);
            if (quoted[i] == NULL) {
                return NGX_CONF_ERROR;
            }

            len += ngx_strlen(quoted[i]) + 1;
        }
    }

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->decode_options = (char *) p;

    p = ngx_sprintf(p, "{\"cache_only\":true,\"audience\":%s", audience);

    if (n) {
        p = ngx_cpymem(p, ",\"required_scopes\":[",
                       sizeof(",\"required_scopes\":[") - 1);

        for (i = 0; i < n; i++) {
            p = ngx_sprintf(p, "%s%s", i ? "," : "", quoted[i]);
        }

        *p++ = ']';
    }

    if (conf->rules && conf->rules->nelts) {
        p = ngx_cpymem(p, ",\"require_claims\":[",
                       sizeof(",\"require_claims\":[") - 1);

        rule = conf->rules->elts;
        for (i = 0; i < conf->rules->nelts; i++) {
            p = ngx_sprintf(p, "%s%s", i ? "," : "", rule[i]);
        }

        *p++ = ']';
    }

    *p++ = '}';
    *p = '\0';

    if (conf->rules && conf->rules->nelts
        && ngx_http_soidc_check_decode_options(cf, conf->decode_options)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* the scope="..." attribute of 403 challenges */
    if (conf->scopes && conf->scopes->nelts) {
        scope = conf->scopes->elts;

        len = 0;
        for (i = 0; i < conf->scopes->nelts; i++) {
            len += scope[i].len + 1;
        }

        p = ngx_pnalloc(cf->pool, len);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        conf->scope_attr.data = p;

        for (i = 0; i < conf->scopes->nelts; i++) {
            p = ngx_sprintf(p, "%s%V", i ? " " : "", &scope[i]);
        }

        conf->scope_attr.len = p - conf->scope_attr.data;
    }

    return NGX_CONF_OK;

not_clean:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "soidc_issuer, soidc_audience, soidc_ca_file and "
                       "soidc_jwks_file must be UTF-8 without control "
                       "characters");
    return NGX_CONF_ERROR;
}


/* The file exists, is a regular file and can be opened for reading (by the
 * master; workers may run as another user). */
static ngx_int_t
ngx_http_soidc_check_path(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *path)
{
    ngx_fd_t         fd;
    ngx_file_info_t  fi;

    fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "%V \"%V\" cannot be opened", directive, path);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR || !ngx_is_file(&fi)) {
        (void) ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V \"%V\" is not a regular file", directive, path);
        return NGX_ERROR;
    }

    (void) ngx_close_file(fd);

    return NGX_OK;
}


/* soidc_ca_file, soidc_jwks_file, soidc_client_secret_file: a path relative
 * to the configuration prefix, as ssl_trusted_certificate */
static char *
ngx_http_soidc_ca_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *value, *path;

    path = (ngx_str_t *) ((char *) conf + cmd->offset);

    if (path->data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *path = value[1];

    if (path->len == 0) {
        return "must not be empty";
    }

    if (ngx_conf_full_name(cf->cycle, path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* a bad path fails here, at nginx -t, rather than in every worker */
    if (ngx_http_soidc_check_path(cf, &cmd->name, path) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* soidc_issuer URL ...: several issuers; a token is checked against the one
 * its (unverified) "iss" names */
static char *
ngx_http_soidc_issuer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_soidc_loc_conf_t *slcf = conf;

    ngx_str_t   *value, *s;
    ngx_uint_t   i, j;

    if (slcf->issuers != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    slcf->issuers = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                     sizeof(ngx_str_t));
    if (slcf->issuers == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            return "has an empty issuer";
        }

        for (j = 1; j < i; j++) {
            if (value[j].len == value[i].len
                && ngx_strncmp(value[j].data, value[i].data, value[i].len) == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "soidc_issuer \"%V\" is given twice",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        s = ngx_array_push(slcf->issuers);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_soidc_required_scope(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_soidc_loc_conf_t *slcf = conf;

    size_t       j;
    u_char       c;
    ngx_str_t   *value, *s;
    ngx_uint_t   i;

    if (slcf->scopes == NGX_CONF_UNSET_PTR) {
        slcf->scopes = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (slcf->scopes == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        /* RFC 6749 §3.3: scope-token = 1*NQCHAR, %x21 / %x23-5B / %x5D-7E */
        if (value[i].len == 0) {
            return "has an empty scope";
        }

        for (j = 0; j < value[i].len; j++) {
            c = value[i].data[j];

            if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid scope \"%V\" (RFC 6749 section "
                                   "3.3 allows printable ASCII without space, "
                                   "'\"' and '\\')", &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        s = ngx_array_push(slcf->scopes);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_soidc_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t         *shpool;
    ngx_http_soidc_shctx_t  *ctx;

    if (data) {             /* reload with the same zone: keep what it holds */
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    ctx = ngx_slab_alloc(shpool, sizeof(ngx_http_soidc_shctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->head = NULL;
    shpool->data = ctx;
    shm_zone->data = ctx;

    return NGX_OK;
}


static char *
ngx_http_soidc_keys_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_soidc_main_conf_t *smcf = conf;

    ssize_t     size;
    ngx_str_t  *value, name = ngx_string("soidc_keys");

    if (smcf->shm_zone != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = ngx_parse_size(&value[1]);
    if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid soidc_keys_zone size \"%V\" "
                           "(at least %uz)", &value[1], 8 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    smcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_soidc_module);
    if (smcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    smcf->shm_zone->init = ngx_http_soidc_init_zone;

    return NGX_CONF_OK;
}


static char *
ngx_http_soidc_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_soidc_main_conf_t *smcf = conf;

    ngx_str_t  *value;

    if (smcf->use_thread_pool != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        smcf->use_thread_pool = 0;
        return NGX_CONF_OK;
    }

#if (NGX_THREADS)

    smcf->thread_pool_name = value[1];
    smcf->thread_pool = ngx_thread_pool_add(cf, &value[1]);
    if (smcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    smcf->use_thread_pool = 1;

    return NGX_CONF_OK;

#else

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"soidc_thread_pool\" needs nginx built with "
                       "--with-threads");
    return NGX_CONF_ERROR;

#endif
}


static ngx_int_t
ngx_http_soidc_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /*
     * The rewrite phase, not the access phase: the rewrite module's directives
     * ("return", "rewrite", "set", "if") run in the rewrite phase, before any
     * access handler, so an access handler would never see a request that a
     * location answers with "return". Handlers of one phase run in the reverse
     * order of registration, and this module's postconfiguration runs after
     * ngx_http_rewrite_module's (a dynamic module is loaded after the built-in
     * ones), so this handler runs before the location's rewrite directives.
     */
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_soidc_handler;

    return NGX_OK;
}


/* ------------------------------------------------------------------------ */
/* Workers: client creation, key refresh                                     */
/* ------------------------------------------------------------------------ */

/* Runs on the event loop (inline mode, worker start) or on a thread-pool
 * thread: touches nothing but the refresh structure and soidc. */
static void
ngx_http_soidc_refresh_work(ngx_http_soidc_refresh_t *rf)
{
    char  *doc;

    rf->new_client = NULL;
    rf->error = NULL;

    if (rf->client == NULL) {
        rf->step = "discovery";
        rf->status = soidc_client_from_issuer_url(rf->issuer, NULL,
                                                  rf->client_id,
                                                  rf->client_secret, NULL,
                                                  rf->client_options,
                                                  &rf->new_client, &rf->error);
        if (rf->status != SOIDC_OK) {
            return;
        }

        rf->client = rf->new_client;
    }

    if (!rf->fetch_keys) {
        return;
    }

    rf->step = "JWKS refresh";
    doc = NULL;
    rf->status = soidc_client_provider_keys(rf->client, rf->keys_options, &doc);

    if (rf->status == SOIDC_OK) {
        rf->jwks = doc;       /* published by refresh_done with a zone */
    } else {
        rf->error = doc;
    }
}


/* Shared keys (soidc_keys_zone). All of these run on the event loop. */

static ngx_msec_t
ngx_http_soidc_wall_msec(void)
{
    ngx_time_t  *tp;

    ngx_time_update();
    tp = ngx_timeofday();

    return (ngx_msec_t) tp->sec * 1000 + tp->msec;
}


/* The zone's entry of this provider, created by the first worker asking. */
static ngx_int_t
ngx_http_soidc_shared_attach(ngx_http_soidc_main_conf_t *smcf,
    ngx_http_soidc_provider_t *pv, ngx_log_t *log)
{
    ngx_slab_pool_t          *shpool;
    ngx_http_soidc_shctx_t   *ctx;
    ngx_http_soidc_shared_t  *sh;

    shpool = (ngx_slab_pool_t *) smcf->shm_zone->shm.addr;
    ctx = smcf->shm_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    for (sh = ctx->head; sh; sh = sh->next) {
        if (ngx_strcmp(sh->issuer, pv->issuer.data) == 0) {
            break;
        }
    }

    if (sh == NULL) {
        sh = ngx_slab_calloc_locked(shpool, sizeof(ngx_http_soidc_shared_t));
        if (sh != NULL) {
            sh->issuer = ngx_slab_alloc_locked(shpool, pv->issuer.len + 1);
            if (sh->issuer == NULL) {
                ngx_slab_free_locked(shpool, sh);
                sh = NULL;

            } else {
                ngx_memcpy(sh->issuer, pv->issuer.data, pv->issuer.len + 1);
                sh->next = ctx->head;
                ctx->head = sh;
            }
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (sh == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "soidc: soidc_keys_zone is full; the keys of \"%V\" "
                      "are fetched by each worker", &pv->issuer);
        return NGX_ERROR;
    }

    pv->shared = sh;
    return NGX_OK;
}


/* Claims this interval's fetch: 1 if this worker fetches now. */
static ngx_uint_t
ngx_http_soidc_shared_claim(ngx_http_soidc_main_conf_t *smcf,
    ngx_http_soidc_provider_t *pv)
{
    ngx_msec_t          now;
    ngx_atomic_uint_t   next;

    now = ngx_http_soidc_wall_msec();
    next = pv->shared->next_fetch;

    if ((ngx_atomic_uint_t) now < next && next - now <= 2 * smcf->refresh) {
        return 0;       /* another worker fetched in this interval */
    }

    /* (a "next" far ahead means the wall clock went back: claim anew) */
    return ngx_atomic_cmp_set(&pv->shared->next_fetch, next,
                              (ngx_atomic_uint_t) (now + smcf->refresh));
}


static void
ngx_http_soidc_shared_publish(ngx_http_soidc_main_conf_t *smcf,
    ngx_http_soidc_provider_t *pv, const char *jwks, ngx_log_t *log)
{
    size_t                    len;
    u_char                   *p;
    ngx_slab_pool_t          *shpool;
    ngx_http_soidc_shared_t  *sh = pv->shared;

    shpool = (ngx_slab_pool_t *) smcf->shm_zone->shm.addr;
    len = ngx_strlen(jwks);

    ngx_shmtx_lock(&shpool->mutex);

    p = ngx_slab_alloc_locked(shpool, len + 1);
    if (p != NULL) {
        ngx_memcpy(p, jwks, len + 1);
        if (sh->jwks) {
            ngx_slab_free_locked(shpool, sh->jwks);
        }
        sh->jwks = p;
        sh->len = len;
        pv->generation = ++sh->generation;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (p == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "soidc: soidc_keys_zone is too small for the keys of "
                      "\"%V\" (%uz bytes); the other workers keep theirs",
                      &pv->issuer, len);
    }
}


/* Imports the published keys if they are newer than this worker's: 1 if it
 * has keys from the zone now (or had them already). No network. */
static ngx_uint_t
ngx_http_soidc_shared_import(ngx_http_soidc_main_conf_t *smcf,
    ngx_http_soidc_provider_t *pv, ngx_log_t *log)
{
    char                     *buf, *err;
    ngx_slab_pool_t          *shpool;
    soidc_status              st;
    ngx_atomic_uint_t         gen;
    ngx_http_soidc_shared_t  *sh = pv->shared;

    if (pv->client == NULL) {
        return 0;
    }

    shpool = (ngx_slab_pool_t *) smcf->shm_zone->shm.addr;
    buf = NULL;

    ngx_shmtx_lock(&shpool->mutex);

    gen = sh->generation;
    if (sh->jwks != NULL && gen != pv->generation) {
        buf = ngx_alloc(sh->len + 1, log);
        if (buf != NULL) {
            ngx_memcpy(buf, sh->jwks, sh->len + 1);
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (buf == NULL) {
        return pv->keys_loaded && pv->generation != 0;
    }

    err = NULL;
    st = soidc_client_import_keys(pv->client, buf, NULL, &err);
    ngx_free(buf);

    if (st != SOIDC_OK) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "soidc: importing the shared keys of \"%V\" failed "
                      "(%s): %s", &pv->issuer, soidc_status_name(st),
                      err ? err : "(no error document)");
        soidc_string_free(err);
        return 0;
    }

    pv->generation = gen;
    pv->keys_loaded = 1;
    pv->last_success = ngx_current_msec;

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "soidc: keys of \"%V\" imported from soidc_keys_zone "
                  "(generation %uA)", &pv->issuer, gen);

    return 1;
}


/* Runs on the event loop. */
static void
ngx_http_soidc_refresh_done(ngx_http_soidc_refresh_t *rf, ngx_log_t *log)
{
    ngx_http_soidc_provider_t  *pv = rf->provider;

    if (rf->new_client) {
        pv->client = rf->new_client;
    }

    if (rf->status == SOIDC_OK && !rf->fetch_keys) {
        /* discovery only: the keys come from the zone */
        (void) ngx_http_soidc_shared_import(rf->smcf, pv, log);

    } else if (rf->status == SOIDC_OK) {
        pv->keys_loaded = 1;
        pv->last_success = ngx_current_msec;

        if (pv->shared && rf->jwks) {
            ngx_http_soidc_shared_publish(rf->smcf, pv, rf->jwks, log);
        }

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                       "soidc: keys of \"%V\" refreshed in %M ms",
                       &pv->issuer, ngx_current_msec - rf->started);

    } else {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "soidc: %s for \"%V\" failed after %M ms (%s): %s; %s",
                      rf->step, &pv->issuer, ngx_current_msec - rf->started,
                      soidc_status_name(rf->status),
                      rf->error ? rf->error : "(no error document)",
                      pv->keys_loaded
                      ? "the cached keys stay in use"
                      : "requests get 503 until keys are fetched");
    }

    if (rf->status != SOIDC_OK && rf->fetch_keys && pv->shared) {
        /* let the next worker timer of any worker try again */
        pv->shared->next_fetch = 0;
    }

    soidc_string_free(rf->jwks);
    rf->jwks = NULL;
    soidc_string_free(rf->error);
    rf->error = NULL;
    pv->busy = 0;
}


#if (NGX_THREADS)

static void
ngx_http_soidc_refresh_thread(void *data, ngx_log_t *log)
{
    ngx_http_soidc_refresh_work(data);
}


static void
ngx_http_soidc_refresh_event(ngx_event_t *ev)
{
    ngx_thread_task_t  *task = ev->data;

    ngx_http_soidc_refresh_done(task->ctx, ev->log);
}

#endif


static void
ngx_http_soidc_refresh(ngx_http_soidc_main_conf_t *smcf,
    ngx_http_soidc_provider_t *pv, ngx_uint_t may_use_threads, ngx_uint_t force,
    ngx_log_t *log)
{
    ngx_uint_t                 fetch_keys;
    ngx_http_soidc_refresh_t   local, *rf;

    if (pv->jwks_file.len) {
        /* keys from a local file: read when it changed, no network */
        (void) ngx_http_soidc_jwks_file_load(pv, log);
        return;
    }

    if (pv->busy) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "soidc: the previous key refresh for \"%V\" still runs",
                      &pv->issuer);
        return;
    }

    fetch_keys = 1;

    if (pv->shared && !force) {
        /* one worker per interval fetches; the others import its keys */
        fetch_keys = ngx_http_soidc_shared_claim(smcf, pv);

        if (!fetch_keys && pv->client != NULL) {
            (void) ngx_http_soidc_shared_import(smcf, pv, log);
            return;
        }
    }

#if (NGX_THREADS)
    rf = (may_use_threads && smcf->use_thread_pool) ? pv->task->ctx : &local;
#else
    rf = &local;
#endif

    rf->smcf = smcf;
    rf->provider = pv;
    rf->issuer = (const char *) pv->issuer.data;
    rf->client_id = (const char *) pv->client_id.data;
    rf->client_secret = pv->client_secret;
    rf->client_options = pv->client_options;
    rf->keys_options = smcf->keys_options;
    rf->client = pv->client;
    rf->new_client = NULL;
    rf->fetch_keys = fetch_keys;
    rf->jwks = NULL;
    rf->error = NULL;
    rf->started = ngx_current_msec;

#if (NGX_THREADS)
    if (rf != &local) {
        pv->task->handler = ngx_http_soidc_refresh_thread;
        pv->task->event.handler = ngx_http_soidc_refresh_event;
        pv->task->event.data = pv->task;
        pv->task->event.log = log;

        if (ngx_thread_task_post(smcf->thread_pool, pv->task) != NGX_OK) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "soidc: could not post the key refresh for \"%V\" "
                          "to thread pool \"%V\"",
                          &pv->issuer, &smcf->thread_pool_name);
            if (fetch_keys && pv->shared) {
                pv->shared->next_fetch = 0;     /* give the claim back */
            }
            return;
        }

        pv->busy = 1;
        return;
    }
#endif

    /* inline: blocks this worker for at most soidc_fetch_timeout (twice when
     * discovery runs too) */
    pv->busy = 1;
    ngx_http_soidc_refresh_work(rf);
    ngx_time_update();
    ngx_http_soidc_refresh_done(rf, log);
}


/* Worker start with a zone, discovery done, no keys yet: another worker is
 * fetching them (its discovery and its JWKS fetch take at most
 * soidc_fetch_timeout each). Wait for its publication for at most
 * 2 * soidc_fetch_timeout, then fetch them here. */
static void
ngx_http_soidc_shared_wait(ngx_http_soidc_main_conf_t *smcf,
    ngx_http_soidc_provider_t *pv, ngx_log_t *log)
{
    ngx_msec_t  waited;

    for (waited = 0; waited < 2 * smcf->timeout;
         waited += NGX_HTTP_SOIDC_POLL_MSEC)
    {
        if (ngx_http_soidc_shared_import(smcf, pv, log)) {
            return;
        }
        ngx_msleep(NGX_HTTP_SOIDC_POLL_MSEC);
    }

    if (ngx_http_soidc_shared_import(smcf, pv, log)) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "soidc: no shared keys of \"%V\" after %M ms, fetching them",
                  &pv->issuer, 2 * smcf->timeout);

    pv->shared->next_fetch = 0;
    ngx_http_soidc_refresh(smcf, pv, 0, 0, log);
}


/* The inline unknown-kid refresh (no thread pool): runs from a timer on the
 * event loop, like the periodic refresh, never inside a request. */
static void
ngx_http_soidc_kick_handler(ngx_event_t *ev)
{
    ngx_http_soidc_provider_t  *pv = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_http_soidc_refresh(pv->smcf, pv, 0, 1, ev->log);
}


/*
 * A token with a kid the cached keys do not have (the provider may have
 * started signing with a new key): schedules one key refresh, at most one per
 * soidc_unknown_kid_refresh interval per worker, on the thread pool (or from a
 * timer without one). Returns 1 if a refresh is scheduled or running now.
 * Never waits: the request that triggered it is answered at once.
 */
static ngx_uint_t
ngx_http_soidc_kick(ngx_http_soidc_provider_t *pv, ngx_log_t *log)
{
    ngx_http_soidc_main_conf_t  *smcf = pv->smcf;

    if (pv->busy || pv->kick_ev.timer_set) {
        return 1;
    }

    if (smcf->kid_refresh == 0 || ngx_exiting || ngx_quit || ngx_terminate) {
        return 0;
    }

    if (pv->kicked
        && (ngx_msec_int_t) (ngx_current_msec - pv->kick_after) < 0)
    {
        return 0;       /* rate limit: refreshed for an unknown kid lately */
    }

    pv->kicked = 1;
    pv->kick_after = ngx_current_msec + smcf->kid_refresh;

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "soidc: token with an unknown kid: refreshing the keys of "
                  "\"%V\" in the background (next such refresh in %M ms at "
                  "the earliest)", &pv->issuer, smcf->kid_refresh);

#if (NGX_THREADS)
    if (smcf->use_thread_pool) {
        ngx_http_soidc_refresh(smcf, pv, 1, 1, ngx_cycle->log);
        return pv->busy;
    }
#endif

    ngx_add_timer(&pv->kick_ev, 1);

    return 1;
}


static ngx_msec_t
ngx_http_soidc_next_delay(ngx_http_soidc_main_conf_t *smcf)
{
    ngx_uint_t                   i;
    ngx_msec_t                   delay;
    ngx_http_soidc_provider_t  **pvp;

    delay = smcf->refresh;

    /* retry sooner while some provider has no keys at all */
    pvp = smcf->providers.elts;
    for (i = 0; i < smcf->providers.nelts; i++) {
        if (!pvp[i]->keys_loaded && delay > NGX_HTTP_SOIDC_RETRY_MSEC) {
            delay = NGX_HTTP_SOIDC_RETRY_MSEC;
        }
    }

    /* up to 10% jitter so that the workers do not all refresh at once */
    return delay + (ngx_msec_t) ngx_random() % (delay / 10 + 1);
}


static void
ngx_http_soidc_timer_handler(ngx_event_t *ev)
{
    ngx_http_soidc_main_conf_t  *smcf = ev->data;

    ngx_uint_t                   i;
    ngx_http_soidc_provider_t  **pvp;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    pvp = smcf->providers.elts;
    for (i = 0; i < smcf->providers.nelts; i++) {
        ngx_http_soidc_refresh(smcf, pvp[i], 1, 0, ev->log);
    }

    ngx_add_timer(ev, ngx_http_soidc_next_delay(smcf));
}


static ngx_int_t
ngx_http_soidc_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                   i;
    ngx_http_soidc_provider_t  **pvp;
    ngx_http_soidc_main_conf_t  *smcf;

    if (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE) {
        return NGX_OK;   /* cache manager and loader have no requests */
    }

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_soidc_module);
    if (smcf == NULL || smcf->providers.nelts == 0) {
        return NGX_OK;
    }

    soidc_set_log_callback(ngx_http_soidc_log,
                           ngx_http_soidc_log_max_level(cycle->log),
                           cycle->log);

    if (smcf->use_thread_pool && smcf->cache_s > 0) {
        smcf->cache = ngx_calloc(smcf->cache_entries
                                 * sizeof(ngx_http_soidc_cache_slot_t),
                                 cycle->log);
        if (smcf->cache == NULL) {
            return NGX_ERROR;
        }
    }

    pvp = smcf->providers.elts;

    for (i = 0; i < smcf->providers.nelts; i++) {

#if (NGX_THREADS)
        if (smcf->use_thread_pool) {
            pvp[i]->task = ngx_thread_task_alloc(cycle->pool,
                                                sizeof(ngx_http_soidc_refresh_t));
            if (pvp[i]->task == NULL) {
                return NGX_ERROR;
            }
        }
#endif

        if (smcf->shm_zone && pvp[i]->jwks_file.len == 0) {
            (void) ngx_http_soidc_shared_attach(smcf, pvp[i], cycle->log);
        }

        pvp[i]->kick_ev.handler = ngx_http_soidc_kick_handler;
        pvp[i]->kick_ev.data = pvp[i];
        pvp[i]->kick_ev.log = cycle->log;
        pvp[i]->kick_ev.cancelable = 1;

        /* before the first request: discovery and the first keys, blocking for
         * at most 2 * soidc_fetch_timeout; a failure is retried by the timer */
        ngx_http_soidc_refresh(smcf, pvp[i], 0, 0, cycle->log);

        if (pvp[i]->shared && pvp[i]->client && !pvp[i]->keys_loaded) {
            ngx_http_soidc_shared_wait(smcf, pvp[i], cycle->log);
        }
    }

    smcf->timer.handler = ngx_http_soidc_timer_handler;
    smcf->timer.data = smcf;
    smcf->timer.log = cycle->log;
    smcf->timer.cancelable = 1;

    ngx_add_timer(&smcf->timer, ngx_http_soidc_next_delay(smcf));

    return NGX_OK;
}


static void
ngx_http_soidc_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                   i;
    ngx_http_soidc_provider_t  **pvp;
    ngx_http_soidc_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_soidc_module);
    if (smcf == NULL) {
        return;
    }

    /* the thread pools were destroyed before (core modules exit first), so no
     * refresh runs any more */
    pvp = smcf->providers.elts;
    for (i = 0; i < smcf->providers.nelts; i++) {
        soidc_client_free(pvp[i]->client);
        pvp[i]->client = NULL;
    }

    soidc_set_log_callback(NULL, 0, NULL);
}
