/*
 * pam_soidc: a PAM authentication module that checks users against an OpenID
 * provider with libsoidc. An example of using soidc correctly from a PAM module;
 * see README.md next to this file for installation and the security notes.
 *
 * Module arguments (one per word; put values with spaces in [brackets]):
 *   issuer=URL              required; the provider's issuer (discovery is done per call)
 *   client_id=ID            required
 *   client_secret_file=PATH the client secret, read from a file that only its owner
 *                           (root or the effective uid) can read; never on the command line
 *   ca_file=PATH            PEM bundle trusted in addition to the system roots
 *   mode=password|token|device   default password
 *   scope=SCOPES            password/device: default "openid" (must contain openid)
 *   username_claim=NAME     the claim that names the local user, default preferred_username
 *                           (token mode: sub when the token has no such claim)
 *   strip_domain=DOMAIN     the claim must end in @DOMAIN (ASCII case ignored), which is
 *                           removed: alice@example.com -> alice; any other domain is refused
 *   lowercase               ASCII letters of the name are lower-cased (after strip_domain)
 *   map_file=PATH           map from the (transformed) claim to local users, one
 *                           "IDENTITY LOCAL_USER" pair a line (see README.md); the PAM user
 *                           must be one that the identity maps to. Absolute path, a regular
 *                           file owned by root or the effective uid, not writable by group or
 *                           others
 *   require_claim=[PATH OP VALUE]  repeatable: a claim rule of the validated ID token (token
 *                           mode: the JWT access token), soidc's require_claims decode option;
 *                           OP eq|in|contains|contains_any|exists (see README.md)
 *   require_acr=ACR[,ACR]   password/device: sent as acr_values, and the ID token's acr must
 *                           be one of them (soidc's acr_values_allowed)
 *   max_age=SECONDS         password/device: the ID token's auth_time must be at most this old
 *   qr=unicode|ascii|off    device mode: how the QR code of verification_uri_complete is drawn
 *                           after the code (default unicode: half blocks; ascii: '#')
 *   audience=URI            token mode: required, the access token audience (RFC 9068)
 *   timeout_ms=N            network budget per authentication, default 10000
 *   cache_dir=PATH          where soidc keeps the provider's discovery document and keys
 *                           between authentications (soidc's client option cache_dir),
 *                           default /var/cache/soidc; an absolute path
 *   no_cache                no cache: discovery and keys are fetched at every authentication
 *   provider_down_backoff_s=N  with the cache: after the provider failed to answer (unreachable,
 *                           or no answer within timeout_ms), logins fail at once with
 *                           PAM_AUTHINFO_UNAVAIL for N seconds instead of waiting out the
 *                           timeout again (soidc's provider_down_backoff_s, recorded in
 *                           cache_dir for every process); default 30, 0 turns it off
 *   device_prompt           device mode: after showing the code, also ask the user to
 *                           press Enter (for hosts such as sshd that only show messages
 *                           together with a prompt)
 *   debug                   log soidc's debug messages too
 *   use_first_pass          password/token mode: only use the password an earlier module
 *                           stored (PAM_AUTHTOK), never ask
 *   try_first_pass          password/token mode: use the stored password if there is
 *                           one, else ask
 *
 * Return codes: PAM_SUCCESS; PAM_AUTH_ERR (wrong password, unknown user at the
 * provider, invalid/foreign/expired token, denied or expired device authorization,
 * username claim missing or different, mapped to another local user, acr or auth_time
 * refused); PAM_PERM_DENIED (the provider proved an identity, but a require_claim= rule
 * failed or map_file= has no entry for it); PAM_AUTHINFO_UNAVAIL (provider unreachable,
 * too slow, or answering outside the protocol); PAM_SERVICE_ERR (bad module
 * arguments, unusable secret file, client registration rejected by the provider);
 * PAM_CONV_ERR (the conversation failed); PAM_USER_UNKNOWN (no usable PAM user
 * name); PAM_BUF_ERR (out of memory).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <qrencode.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "soidc.h"

#define EXPORT __attribute__((visibility("default")))

/* pam_set_data key: the user this module authenticated in this PAM handle. */
#define DATA_KEY "pam_soidc.authenticated_user"

#define DEFAULT_TIMEOUT_MS 10000L
#define DEFAULT_CACHE_DIR "/var/cache/soidc"
#define MAX_TIMEOUT_MS 600000L
#define MAX_SECRET_BYTES 4096
#define MAX_LOG_CHARS 400
#define MAX_RULES 16
#define DEFAULT_DOWN_BACKOFF_S 30L
#define MAX_MAP_BYTES (1024 * 1024)
#define MAX_LOCAL_USER 32

enum qr_style { QR_UNICODE, QR_ASCII, QR_OFF };

enum mode { MODE_PASSWORD, MODE_TOKEN, MODE_DEVICE };

struct config {
    const char *issuer;
    const char *client_id;
    const char *client_secret_file;
    const char *ca_file;
    const char *scope;
    const char *username_claim;
    const char *audience;
    enum mode mode;
    long timeout_ms;
    const char *cache_dir; /* NULL: no_cache */
    int debug;
    int device_prompt;
    int use_first_pass;
    int try_first_pass;
    const char *strip_domain;
    int lowercase;
    const char *map_file;
    const char *require_acr;
    long max_age; /* -1: none */
    long down_backoff_s; /* 0: off */
    enum qr_style qr;
    /* require_claim= as soidc's require_claims JSON array (malloc'd; NULL: none) */
    char *require_claims;
};

/* map_file=: "IDENTITY LOCAL_USER" pairs, pointing into `text`. */
struct map_entry {
    const char *identity;
    const char *user;
};
struct user_map {
    char *text;
    struct map_entry *entries;
    size_t n;
};

/* ------------------------------------------------------------------------ */
/* Logging                                                                  */
/* ------------------------------------------------------------------------ */

/* Copies `in` into `out` with control characters replaced and the length capped,
 * so that nothing read from the network or typed by the user can forge log lines. */
static void sanitize(const char *in, char *out, size_t out_size)
{
    size_t i = 0;
    if (in == NULL)
        in = "(null)";
    for (; *in != '\0' && i + 4 < out_size; in++) {
        unsigned char ch = (unsigned char)*in;
        out[i++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    if (*in != '\0') {
        out[i++] = '.';
        out[i++] = '.';
        out[i++] = '.';
    }
    out[i] = '\0';
}

/* soidc log callback. user_data is the pam_handle_t of the call in progress. */
static void log_cb(int level, const char *message, void *user_data)
{
    char clean[MAX_LOG_CHARS + 8];
    int prio;
    switch (level) {
    case SOIDC_LOG_ERROR: prio = LOG_ERR; break;
    case SOIDC_LOG_WARN: prio = LOG_WARNING; break;
    case SOIDC_LOG_INFO: prio = LOG_INFO; break;
    default: prio = LOG_DEBUG; break;
    }
    sanitize(message, clean, sizeof clean);
    pam_syslog((pam_handle_t *)user_data, prio, "soidc: %s", clean);
}

/* ------------------------------------------------------------------------ */
/* Reading soidc's JSON documents                                           */
/* ------------------------------------------------------------------------ */
/* soidc's own helpers read them (soidc_json_get_*, RFC 6901 JSON pointers): strings
 * come back decoded, so claim values are compared as decoded text, and anything
 * unexpected (absent, another type) is a status the callers below fail closed on. */

/* The JSON pointer "<parent>/<name>" for a member name from the configuration
 * (username_claim=), with '~' and '/' escaped as RFC 6901 requires ("~0", "~1").
 * malloc'd; NULL when out of memory. */
static char *member_pointer(const char *parent, const char *name)
{
    size_t n = strlen(parent) + 2;
    char *out, *o;
    for (const char *c = name; *c != '\0'; c++)
        n += (*c == '~' || *c == '/') ? 2 : 1;
    out = malloc(n);
    if (out == NULL)
        return NULL;
    o = out + strlen(strcpy(out, parent));
    *o++ = '/';
    for (const char *c = name; *c != '\0'; c++) {
        if (*c == '~' || *c == '/') {
            *o++ = '~';
            *o++ = *c == '~' ? '0' : '1';
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    return out;
}

/* The string at `pointer` in `doc`, decoded (free with soidc_string_free), or NULL if
 * absent, not a string, or a string holding a NUL. */
static char *json_string_at(const char *doc, const char *pointer)
{
    char *value = NULL;
    (void)soidc_json_get_string(doc, pointer, &value); /* value stays NULL on failure */
    return value;
}

/* The string member `name` (from the configuration) of the object at `parent`. */
static char *json_claim(const char *doc, const char *parent, const char *name)
{
    char *pointer = member_pointer(parent, name);
    char *value = pointer != NULL ? json_string_at(doc, pointer) : NULL;
    free(pointer);
    return value;
}

/* A non-negative integer at `pointer`; returns 0 and stores it, or -1. */
static int json_uint_at(const char *doc, const char *pointer, long long *out)
{
    int64_t v;
    if (soidc_json_get_int64(doc, pointer, &v) != SOIDC_OK || v < 0)
        return -1;
    *out = (long long)v;
    return 0;
}

/* Whether the value at `pointer` (a string or an array of strings) contains `want`.
 * Returns 1 yes, 0 no (or not a string/array of strings), -1 when absent. */
static int json_contains_at(const char *doc, const char *pointer, const char *want)
{
    char *s = NULL, element[64];
    soidc_status st = soidc_json_get_string(doc, pointer, &s);
    int yes = 0;
    if (st == SOIDC_ERR_NOT_FOUND)
        return -1;
    if (st == SOIDC_OK) {
        yes = strcmp(s, want) == 0;
        soidc_string_free(s);
        return yes;
    }
    for (int i = 0; !yes; i++) {
        snprintf(element, sizeof element, "%s/%d", pointer, i);
        if (soidc_json_get_string(doc, element, &s) != SOIDC_OK)
            return 0; /* past the end, not an array, or an element that is not a string */
        yes = strcmp(s, want) == 0;
        soidc_string_free(s);
    }
    return 1;
}

/* ------------------------------------------------------------------------ */
/* A growable string for the options JSON                                    */
/* ------------------------------------------------------------------------ */

struct buf {
    char *s;
    size_t len, cap;
    int failed; /* out of memory, or a value that is not UTF-8 */
};

static void buf_add(struct buf *b, const char *text, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        char *s;
        while (b->len + n + 1 > cap)
            cap *= 2;
        s = realloc(b->s, cap);
        if (s == NULL) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, text, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *text) { buf_add(b, text, strlen(text)); }

/* Appends `text` as a JSON string literal, quoted by soidc_json_quote: a value never
 * ends its string early or adds a member, whatever it holds. */
static void buf_json_string(struct buf *b, const char *text)
{
    char *quoted = soidc_json_quote(text); /* NULL: not UTF-8 (or out of memory) */
    if (quoted == NULL) {
        b->failed = 1;
        return;
    }
    buf_str(b, quoted);
    soidc_string_free(quoted);
}

/* `key` is one of this file's literal option names (no character needs escaping). */
static void buf_key(struct buf *b, const char *key)
{
    buf_str(b, b->len > 1 ? ",\"" : "\"");
    buf_str(b, key);
    buf_str(b, "\":");
}

static void buf_key_long(struct buf *b, const char *key, long long v)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", v);
    buf_key(b, key);
    buf_str(b, num);
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */
/* ------------------------------------------------------------------------ */

static int utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        int extra;
        if (*p < 0x80) { p++; continue; }
        if ((*p & 0xE0) == 0xC0) { cp = *p & 0x1F; extra = 1; }
        else if ((*p & 0xF0) == 0xE0) { cp = *p & 0x0F; extra = 2; }
        else if ((*p & 0xF8) == 0xF0) { cp = *p & 0x07; extra = 3; }
        else return 0;
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (*p & 0x3F);
        }
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
    }
    return 1;
}

/* Whether the space-separated list `list` contains `word`. */
static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    const char *p = list;
    while (*p) {
        while (*p == ' ')
            p++;
        if (strncmp(p, word, n) == 0 && (p[n] == ' ' || p[n] == '\0'))
            return 1;
        while (*p && *p != ' ')
            p++;
    }
    return 0;
}

/* A require_claim= value: true, false or an integer is that JSON literal, anything
 * else a string. */
static void rule_value(struct buf *b, const char *v)
{
    const char *d = v + (*v == '-');
    size_t digits = strspn(d, "0123456789");
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0 ||
        (digits > 0 && digits <= 15 && d[digits] == '\0' && (d[0] != '0' || digits == 1)))
        buf_str(b, v);
    else
        buf_json_string(b, v);
}

/* Appends require_claim=TEXT ("PATH OP [VALUE]") to the require_claims array being built
 * in `b` as one rule object of soidc's require_claims decode option. in and contains_any
 * take a comma-separated list. soidc checks PATH itself (at the first decode). */
static int parse_rule(pam_handle_t *pamh, const char *text, struct buf *b)
{
    static const char *const ops[] = {"eq", "in", "contains", "contains_any", "exists"};
    char *copy = strdup(text), *path, *op, *value, *save = NULL;
    char clean[MAX_LOG_CHARS + 8];
    size_t k;
    int rc = PAM_SERVICE_ERR;

    if (copy == NULL)
        return PAM_BUF_ERR;
    sanitize(text, clean, 200);
    path = strtok_r(copy, " ", &save);
    op = path != NULL ? strtok_r(NULL, " ", &save) : NULL;
    value = op != NULL ? strtok_r(NULL, "", &save) : NULL;
    while (value != NULL && *value == ' ')
        value++;
    if (value != NULL && *value == '\0')
        value = NULL;
    if (path == NULL || op == NULL) {
        pam_syslog(pamh, LOG_ERR, "require_claim=%s: expected \"PATH OP VALUE\" (e.g. [require_claim=groups contains "
                                  "admins])", clean);
        goto out;
    }
    for (k = 0; k < sizeof ops / sizeof ops[0]; k++)
        if (strcmp(op, ops[k]) == 0)
            break;
    if (k == sizeof ops / sizeof ops[0]) {
        pam_syslog(pamh, LOG_ERR, "require_claim=%s: unknown operator; expected eq, in, contains, contains_any or "
                                  "exists", clean);
        goto out;
    }
    if ((strcmp(op, "exists") == 0) != (value == NULL)) {
        pam_syslog(pamh, LOG_ERR, "require_claim=%s: %s", clean,
                   value == NULL ? "this operator needs a value" : "exists takes no value");
        goto out;
    }
    buf_str(b, b->len > 1 ? ",{\"claim\":" : "{\"claim\":");
    buf_json_string(b, path);
    buf_str(b, ",\"op\":");
    buf_json_string(b, op);
    if (value != NULL) {
        buf_str(b, ",\"value\":");
        if (strcmp(op, "in") == 0 || strcmp(op, "contains_any") == 0) {
            char *item, *save2 = NULL;
            int first = 1;
            buf_str(b, "[");
            for (item = strtok_r(value, ",", &save2); item != NULL; item = strtok_r(NULL, ",", &save2)) {
                if (!first)
                    buf_str(b, ",");
                rule_value(b, item);
                first = 0;
            }
            buf_str(b, "]");
            if (first || value[strlen(value) - 1] == ',' || strstr(text, ",,") != NULL || value[0] == ',') {
                pam_syslog(pamh, LOG_ERR, "require_claim=%s: an empty item in the comma-separated list", clean);
                goto out;
            }
        } else {
            rule_value(b, value);
        }
    }
    buf_str(b, "}");
    rc = b->failed ? PAM_BUF_ERR : PAM_SUCCESS;
out:
    free(copy);
    return rc;
}

static void free_config(struct config *cfg)
{
    free(cfg->require_claims);
    cfg->require_claims = NULL;
}

/* parse_args() without the require_claim= array, which it builds in `rules`. */
static int parse_args_inner(pam_handle_t *pamh, int argc, const char **argv, struct config *cfg, struct buf *rules)
{
    static const char *const keys[] = {"issuer", "client_id", "client_secret_file", "ca_file", "scope",
                                       "username_claim", "audience", "mode", "timeout_ms", "cache_dir",
                                       "strip_domain", "map_file", "require_acr", "max_age", "qr",
                                       "provider_down_backoff_s"};
    const char **slots[] = {&cfg->issuer, &cfg->client_id, &cfg->client_secret_file, &cfg->ca_file,
                            &cfg->scope, &cfg->username_claim, &cfg->audience, NULL, NULL, &cfg->cache_dir,
                            &cfg->strip_domain, &cfg->map_file, &cfg->require_acr, NULL, NULL, NULL};
    const char *mode = NULL, *timeout = NULL, *max_age = NULL, *qr = NULL, *backoff = NULL;
    int no_cache = 0, rc;
    char clean[MAX_LOG_CHARS + 8];
    int n_rules = 0;

    memset(cfg, 0, sizeof *cfg);
    slots[7] = &mode;
    slots[8] = &timeout;
    slots[13] = &max_age;
    slots[14] = &qr;
    slots[15] = &backoff;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
        size_t k;
        if (eq == NULL) {
            if (strcmp(arg, "debug") == 0) { cfg->debug = 1; continue; }
            if (strcmp(arg, "device_prompt") == 0) { cfg->device_prompt = 1; continue; }
            if (strcmp(arg, "use_first_pass") == 0) { cfg->use_first_pass = 1; continue; }
            if (strcmp(arg, "try_first_pass") == 0) { cfg->try_first_pass = 1; continue; }
            if (strcmp(arg, "no_cache") == 0) { no_cache = 1; continue; }
            if (strcmp(arg, "lowercase") == 0) { cfg->lowercase = 1; continue; }
        }
        if (eq != NULL && klen == strlen("require_claim") && strncmp(arg, "require_claim", klen) == 0) {
            if (++n_rules > MAX_RULES) {
                pam_syslog(pamh, LOG_ERR, "more than %d require_claim= arguments", MAX_RULES);
                return PAM_SERVICE_ERR;
            }
            if (!utf8_valid(eq + 1)) {
                pam_syslog(pamh, LOG_ERR, "module argument require_claim= is not UTF-8");
                return PAM_SERVICE_ERR;
            }
            if ((rc = parse_rule(pamh, eq + 1, rules)) != PAM_SUCCESS)
                return rc;
            continue;
        }
        if (eq != NULL && klen == strlen("client_secret") && strncmp(arg, "client_secret", klen) == 0) {
            /* Not even the value is logged. */
            pam_syslog(pamh, LOG_ERR, "client_secret= is refused: a secret on the command line is visible "
                                      "in the PAM configuration; use client_secret_file=");
            return PAM_SERVICE_ERR;
        }
        for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (eq != NULL && strlen(keys[k]) == klen && strncmp(arg, keys[k], klen) == 0)
                break;
        if (k == sizeof keys / sizeof keys[0]) {
            /* The name only: a misspelt client_secret=... must not log its value. */
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(klen < 48 ? klen : 48), arg);
            sanitize(name, clean, 64);
            pam_syslog(pamh, LOG_ERR, "unknown module argument \"%s%s\"", clean, eq ? "=..." : "");
            return PAM_SERVICE_ERR;
        }
        if (*slots[k] != NULL) {
            pam_syslog(pamh, LOG_ERR, "module argument %s= given twice", keys[k]);
            return PAM_SERVICE_ERR;
        }
        if (eq[1] == '\0' || !utf8_valid(eq + 1)) {
            pam_syslog(pamh, LOG_ERR, "module argument %s= is empty or not UTF-8", keys[k]);
            return PAM_SERVICE_ERR;
        }
        *slots[k] = eq + 1;
    }

    if (cfg->issuer == NULL || cfg->client_id == NULL) {
        pam_syslog(pamh, LOG_ERR, "issuer= and client_id= are required");
        return PAM_SERVICE_ERR;
    }
    if (mode == NULL || strcmp(mode, "password") == 0) {
        cfg->mode = MODE_PASSWORD;
    } else if (strcmp(mode, "token") == 0) {
        cfg->mode = MODE_TOKEN;
    } else if (strcmp(mode, "device") == 0) {
        cfg->mode = MODE_DEVICE;
    } else {
        sanitize(mode, clean, 64);
        pam_syslog(pamh, LOG_ERR, "mode=%s: expected password, token or device", clean);
        return PAM_SERVICE_ERR;
    }
    cfg->timeout_ms = DEFAULT_TIMEOUT_MS;
    if (timeout != NULL) {
        char *end = NULL;
        errno = 0;
        cfg->timeout_ms = strtol(timeout, &end, 10);
        if (errno != 0 || end == timeout || *end != '\0' || cfg->timeout_ms < 1 || cfg->timeout_ms > MAX_TIMEOUT_MS) {
            pam_syslog(pamh, LOG_ERR, "timeout_ms= must be a number of milliseconds from 1 to %ld", MAX_TIMEOUT_MS);
            return PAM_SERVICE_ERR;
        }
    }
    cfg->max_age = -1;
    if (max_age != NULL) {
        char *end = NULL;
        errno = 0;
        cfg->max_age = strtol(max_age, &end, 10);
        if (errno != 0 || end == max_age || *end != '\0' || cfg->max_age < 0 || cfg->max_age > 100000000L) {
            pam_syslog(pamh, LOG_ERR, "max_age= must be a number of seconds from 0 to 100000000");
            return PAM_SERVICE_ERR;
        }
    }
    cfg->down_backoff_s = -1;
    if (backoff != NULL) {
        char *end = NULL;
        errno = 0;
        cfg->down_backoff_s = strtol(backoff, &end, 10);
        if (errno != 0 || end == backoff || *end != '\0' || cfg->down_backoff_s < 0 || cfg->down_backoff_s > 3600) {
            pam_syslog(pamh, LOG_ERR, "provider_down_backoff_s= must be a number of seconds from 0 (off) to 3600");
            return PAM_SERVICE_ERR;
        }
        if (no_cache && cfg->down_backoff_s > 0) {
            pam_syslog(pamh, LOG_ERR, "provider_down_backoff_s= needs the cache (the outage is recorded in cache_dir); "
                                      "remove no_cache or set it to 0");
            return PAM_SERVICE_ERR;
        }
    }
    if (cfg->down_backoff_s < 0)
        cfg->down_backoff_s = no_cache ? 0 : DEFAULT_DOWN_BACKOFF_S;
    if (qr == NULL || strcmp(qr, "unicode") == 0) {
        cfg->qr = QR_UNICODE;
    } else if (strcmp(qr, "ascii") == 0) {
        cfg->qr = QR_ASCII;
    } else if (strcmp(qr, "off") == 0) {
        cfg->qr = QR_OFF;
    } else {
        sanitize(qr, clean, 64);
        pam_syslog(pamh, LOG_ERR, "qr=%s: expected unicode, ascii or off", clean);
        return PAM_SERVICE_ERR;
    }
    if (qr != NULL && cfg->mode != MODE_DEVICE) {
        pam_syslog(pamh, LOG_ERR, "qr= only applies to mode=device");
        return PAM_SERVICE_ERR;
    }
    if ((cfg->require_acr != NULL || cfg->max_age >= 0) && cfg->mode == MODE_TOKEN) {
        pam_syslog(pamh, LOG_ERR, "require_acr= and max_age= apply to the ID token of mode=password and mode=device");
        return PAM_SERVICE_ERR;
    }
    if (cfg->require_acr != NULL) {
        const char *p = cfg->require_acr;
        if (*p == ',' || p[strlen(p) - 1] == ',' || strstr(p, ",,") != NULL || strpbrk(p, " \"\\") != NULL) {
            sanitize(p, clean, 200);
            pam_syslog(pamh, LOG_ERR, "require_acr=%s: expected a comma-separated list of acr values (no spaces, "
                                      "no empty item)", clean);
            return PAM_SERVICE_ERR;
        }
    }
    if (cfg->strip_domain != NULL && (strchr(cfg->strip_domain, '@') != NULL || strchr(cfg->strip_domain, ' ') != NULL)) {
        sanitize(cfg->strip_domain, clean, 200);
        pam_syslog(pamh, LOG_ERR, "strip_domain=%s: expected a domain name such as example.com (no @, no space)", clean);
        return PAM_SERVICE_ERR;
    }
    if (cfg->map_file != NULL && cfg->map_file[0] != '/') {
        pam_syslog(pamh, LOG_ERR, "map_file= must be an absolute path");
        return PAM_SERVICE_ERR;
    }
    if (no_cache && cfg->cache_dir != NULL) {
        pam_syslog(pamh, LOG_ERR, "cache_dir= and no_cache exclude each other");
        return PAM_SERVICE_ERR;
    }
    if (cfg->cache_dir != NULL && cfg->cache_dir[0] != '/') {
        pam_syslog(pamh, LOG_ERR, "cache_dir= must be an absolute path");
        return PAM_SERVICE_ERR;
    }
    if (!no_cache && cfg->cache_dir == NULL)
        cfg->cache_dir = DEFAULT_CACHE_DIR;
    if (cfg->username_claim == NULL)
        cfg->username_claim = "preferred_username";
    if (cfg->scope == NULL)
        cfg->scope = "openid";
    if (cfg->mode != MODE_TOKEN && !has_word(cfg->scope, "openid")) {
        pam_syslog(pamh, LOG_ERR, "scope= must contain openid: the ID token is what proves the user");
        return PAM_SERVICE_ERR;
    }
    if (cfg->mode == MODE_TOKEN && cfg->audience == NULL) {
        pam_syslog(pamh, LOG_ERR, "mode=token needs audience= (the resource the access tokens are issued for)");
        return PAM_SERVICE_ERR;
    }
    if (cfg->mode != MODE_TOKEN && cfg->audience != NULL) {
        pam_syslog(pamh, LOG_ERR, "audience= only applies to mode=token");
        return PAM_SERVICE_ERR;
    }
    if ((cfg->use_first_pass || cfg->try_first_pass) && cfg->mode == MODE_DEVICE) {
        pam_syslog(pamh, LOG_ERR, "use_first_pass/try_first_pass do not apply to mode=device");
        return PAM_SERVICE_ERR;
    }
    if (cfg->device_prompt && cfg->mode != MODE_DEVICE) {
        pam_syslog(pamh, LOG_ERR, "device_prompt only applies to mode=device");
        return PAM_SERVICE_ERR;
    }
    return PAM_SUCCESS;
}

/* Parses the module arguments. Unknown or repeated arguments are errors, so that
 * a typo never silently weakens a check. Returns PAM_SUCCESS or PAM_SERVICE_ERR;
 * free_config() afterwards in either case. */
static int parse_args(pam_handle_t *pamh, int argc, const char **argv, struct config *cfg)
{
    struct buf rules = {0};
    int rc;
    buf_str(&rules, "[");
    rc = parse_args_inner(pamh, argc, argv, cfg, &rules);
    buf_str(&rules, "]");
    if (rc == PAM_SUCCESS && rules.failed)
        rc = PAM_BUF_ERR;
    if (rc == PAM_SUCCESS && rules.len > 2)
        cfg->require_claims = rules.s;
    else
        free(rules.s);
    return rc;
}

/* Reads the client secret: an absolute path to a regular file (symlinks are not
 * followed), owned by root or the effective uid, without any group or other
 * permission, at most MAX_SECRET_BYTES, one line (a trailing newline is removed).
 * On success *out is a malloc'd string the caller must explicit_bzero and free. */
static int read_secret_file(pam_handle_t *pamh, const char *path, char **out)
{
    struct stat st;
    char *secret = NULL;
    size_t len = 0;
    int fd;
    *out = NULL;
    if (path[0] != '/') {
        pam_syslog(pamh, LOG_ERR, "client_secret_file= must be an absolute path");
        return PAM_SERVICE_ERR;
    }
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        pam_syslog(pamh, LOG_ERR, "cannot open client_secret_file: %m");
        return PAM_SERVICE_ERR;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        pam_syslog(pamh, LOG_ERR, "client_secret_file is not a regular file");
        goto fail;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        pam_syslog(pamh, LOG_ERR, "client_secret_file must be owned by root or uid %u, not uid %u",
                   (unsigned)geteuid(), (unsigned)st.st_uid);
        goto fail;
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        pam_syslog(pamh, LOG_ERR, "client_secret_file has mode %04o: refusing a secret that group or others "
                                  "can access (chmod 600)", (unsigned)(st.st_mode & 07777));
        goto fail;
    }
    secret = calloc(1, MAX_SECRET_BYTES + 2);
    if (secret == NULL) {
        close(fd);
        return PAM_BUF_ERR;
    }
    for (;;) {
        ssize_t n = read(fd, secret + len, MAX_SECRET_BYTES + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            pam_syslog(pamh, LOG_ERR, "cannot read client_secret_file: %m");
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > MAX_SECRET_BYTES) {
            pam_syslog(pamh, LOG_ERR, "client_secret_file is larger than %d bytes", MAX_SECRET_BYTES);
            goto fail;
        }
    }
    close(fd);
    fd = -1;
    while (len > 0 && (secret[len - 1] == '\n' || secret[len - 1] == '\r'))
        secret[--len] = '\0';
    if (len == 0 || strlen(secret) != len || strchr(secret, '\n') != NULL || !utf8_valid(secret)) {
        pam_syslog(pamh, LOG_ERR, "client_secret_file must hold the secret on one line (UTF-8, no NUL)");
        goto fail;
    }
    *out = secret;
    return PAM_SUCCESS;
fail:
    if (fd >= 0)
        close(fd);
    if (secret != NULL) {
        explicit_bzero(secret, MAX_SECRET_BYTES + 2);
        free(secret);
    }
    return PAM_SERVICE_ERR;
}

/* A local user name as map_file= may name it: 1 to MAX_LOCAL_USER of [A-Za-z0-9._-],
 * not starting with '-' (what useradd accepts, without the trailing '$'). */
static int local_user_valid(const char *u)
{
    size_t n = strlen(u);
    if (n == 0 || n > MAX_LOCAL_USER || u[0] == '-')
        return 0;
    return strspn(u, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static void free_map(struct user_map *m)
{
    free(m->text);
    free(m->entries);
    memset(m, 0, sizeof *m);
}

/* Reads map_file=: a regular file (symlinks are not followed) owned by root or the
 * effective uid, not writable by group or others (readable is fine: it holds no secret),
 * at most MAX_MAP_BYTES, UTF-8. Each line is empty, a comment (first non-blank
 * character '#'), or "IDENTITY LOCAL_USER" separated by blanks: IDENTITY is the value
 * of username_claim= after strip_domain=/lowercase, LOCAL_USER a user name. An identity
 * may have several lines (several local users). Any other line is an error naming
 * its number: a map that does not say what the administrator meant is never half-used. */
static int read_map_file(pam_handle_t *pamh, const char *path, struct user_map *out)
{
    struct stat st;
    struct user_map m = {0};
    size_t len = 0, cap = 0, line_no = 0;
    char *line, *next;
    int fd;

    memset(out, 0, sizeof *out);
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        pam_syslog(pamh, LOG_ERR, "cannot open map_file: %m");
        return PAM_SERVICE_ERR;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        pam_syslog(pamh, LOG_ERR, "map_file is not a regular file");
        goto fail;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        pam_syslog(pamh, LOG_ERR, "map_file must be owned by root or uid %u, not uid %u", (unsigned)geteuid(),
                   (unsigned)st.st_uid);
        goto fail;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        pam_syslog(pamh, LOG_ERR, "map_file has mode %04o: refusing a map that group or others can change "
                                  "(chmod 644)", (unsigned)(st.st_mode & 07777));
        goto fail;
    }
    if (st.st_size > MAX_MAP_BYTES) {
        pam_syslog(pamh, LOG_ERR, "map_file is larger than %d bytes", MAX_MAP_BYTES);
        goto fail;
    }
    m.text = calloc(1, (size_t)st.st_size + 2);
    if (m.text == NULL)
        goto oom;
    for (;;) {
        ssize_t n = read(fd, m.text + len, (size_t)st.st_size + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            pam_syslog(pamh, LOG_ERR, "cannot read map_file: %m");
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > (size_t)st.st_size) {
            pam_syslog(pamh, LOG_ERR, "map_file changed while it was read");
            goto fail;
        }
    }
    close(fd);
    fd = -1;
    if (strlen(m.text) != len || !utf8_valid(m.text)) {
        pam_syslog(pamh, LOG_ERR, "map_file is not UTF-8 text (or holds a NUL)");
        goto fail;
    }
    for (line = m.text; line != NULL && *line != '\0'; line = next) {
        char *identity, *user, *extra, *save = NULL;
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        line_no++;
        identity = strtok_r(line, " \t\r", &save);
        if (identity == NULL || identity[0] == '#')
            continue;
        user = strtok_r(NULL, " \t\r", &save);
        extra = user != NULL ? strtok_r(NULL, " \t\r", &save) : NULL;
        if (user == NULL || (extra != NULL && extra[0] != '#')) {
            pam_syslog(pamh, LOG_ERR, "map_file line %zu: expected \"IDENTITY LOCAL_USER\"", line_no);
            goto fail;
        }
        for (const char *c = identity; *c; c++) {
            if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                pam_syslog(pamh, LOG_ERR, "map_file line %zu: a control character in the identity", line_no);
                goto fail;
            }
        }
        if (!local_user_valid(user)) {
            pam_syslog(pamh, LOG_ERR, "map_file line %zu: the local user name must be 1 to %d of A-Z a-z 0-9 . _ - "
                                      "(not starting with -)", line_no, MAX_LOCAL_USER);
            goto fail;
        }
        if (m.n == cap) {
            struct map_entry *e;
            cap = cap ? cap * 2 : 16;
            e = realloc(m.entries, cap * sizeof *e);
            if (e == NULL)
                goto oom;
            m.entries = e;
        }
        m.entries[m.n].identity = identity;
        m.entries[m.n].user = user;
        m.n++;
    }
    *out = m;
    return PAM_SUCCESS;
oom:
    if (fd >= 0)
        close(fd);
    free_map(&m);
    return PAM_BUF_ERR;
fail:
    if (fd >= 0)
        close(fd);
    free_map(&m);
    return PAM_SERVICE_ERR;
}

/* ------------------------------------------------------------------------ */
/* One authentication                                                       */
/* ------------------------------------------------------------------------ */

struct auth {
    pam_handle_t *pamh;
    const struct config *cfg;
    const char *user;
    soidc_client *client;
    struct timespec deadline;
    struct user_map map;
    /* From the validated token, for the log line (soidc strings; NULL when absent). */
    char *iss, *sub, *acr;
    /* The identity after strip_domain=/lowercase (malloc'd). */
    char *identity;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts the options object of one network call with the time left of the budget
 * (timeout_ms covers the whole authentication, not each request). The caller adds
 * members and calls options_end(). PAM_AUTHINFO_UNAVAIL when the budget is spent. */
static int options_begin(const struct auth *a, long long deadline_ms, struct buf *b)
{
    long long left = deadline_ms - now_ms();
    memset(b, 0, sizeof *b);
    if (left < 1) {
        pam_syslog(a->pamh, LOG_ERR, "timeout_ms (%ld ms) spent before the provider answered", a->cfg->timeout_ms);
        return PAM_AUTHINFO_UNAVAIL;
    }
    buf_str(b, "{");
    buf_key_long(b, "timeout_ms", left);
    return PAM_SUCCESS;
}

static int options_end(struct buf *b)
{
    buf_str(b, "}");
    if (b->failed) { /* every value was checked to be UTF-8: out of memory */
        free(b->s);
        b->s = NULL;
        return PAM_BUF_ERR;
    }
    return PAM_SUCCESS;
}

/* Maps a failed soidc call to a PAM code and logs why. `what` names the step.
 * `input_is_credential`: an invalid argument can only be the user's input
 * (a token that is not one), so it is PAM_AUTH_ERR rather than PAM_SERVICE_ERR. */
static int fail(const struct auth *a, const char *what, soidc_status st, const char *err_json, int input_is_credential)
{
    char *message = json_string_at(err_json, "/message");
    char *error = json_string_at(err_json, "/error");
    char *reason = json_string_at(err_json, "/reason");
    char clean_msg[MAX_LOG_CHARS + 8], clean_user[80], clean_err[80];
    int rc;

    switch (st) {
    case SOIDC_ERR_NETWORK:
    case SOIDC_ERR_HTTP:
    case SOIDC_ERR_PROTOCOL:
    case SOIDC_ERR_UNSUPPORTED_BY_PROVIDER:
        rc = PAM_AUTHINFO_UNAVAIL;
        break;
    case SOIDC_ERR_VALIDATION:
        /* A failed require_claim= rule: the user is known, but not allowed here. */
        rc = reason != NULL && strcmp(reason, "claim_rule") == 0 ? PAM_PERM_DENIED : PAM_AUTH_ERR;
        break;
    case SOIDC_ERR_AUTHENTICATION_FAILED:
    case SOIDC_ERR_PENDING:
        rc = PAM_AUTH_ERR;
        break;
    case SOIDC_ERR_INVALID_ARGUMENT:
        rc = input_is_credential ? PAM_AUTH_ERR : PAM_SERVICE_ERR;
        break;
    case SOIDC_ERR_PROVIDER:
        if (error == NULL) {
            rc = PAM_AUTHINFO_UNAVAIL;
        } else if (strcmp(error, "invalid_grant") == 0 || strcmp(error, "access_denied") == 0 ||
                   strcmp(error, "expired_token") == 0 || strcmp(error, "invalid_token") == 0) {
            rc = PAM_AUTH_ERR; /* the user's credential or decision */
        } else if (strcmp(error, "invalid_client") == 0 || strcmp(error, "unauthorized_client") == 0 ||
                   strcmp(error, "unsupported_grant_type") == 0 || strcmp(error, "invalid_scope") == 0 ||
                   strcmp(error, "invalid_target") == 0 || strcmp(error, "invalid_request") == 0) {
            rc = PAM_SERVICE_ERR; /* our registration or arguments do not fit the provider */
        } else {
            rc = PAM_AUTHINFO_UNAVAIL; /* server_error, temporarily_unavailable, ... */
        }
        break;
    default: /* SOIDC_ERR_INTERNAL and unknown codes */
        rc = PAM_SERVICE_ERR;
        break;
    }
    sanitize(message ? message : "(no message)", clean_msg, sizeof clean_msg);
    sanitize(a->user ? a->user : "(unknown)", clean_user, sizeof clean_user);
    sanitize(error ? error : "-", clean_err, sizeof clean_err);
    pam_syslog(a->pamh, rc == PAM_AUTH_ERR || rc == PAM_PERM_DENIED ? LOG_NOTICE : LOG_ERR,
               "%s failed for user \"%s\": %s (soidc %s, error %s) -> %s", what, clean_user, clean_msg,
               soidc_status_name(st), clean_err, pam_strerror(a->pamh, rc));
    soidc_string_free(message);
    soidc_string_free(error);
    soidc_string_free(reason);
    return rc;
}

static int deny(const struct auth *a, const char *why)
{
    char clean_user[80];
    sanitize(a->user, clean_user, sizeof clean_user);
    pam_syslog(a->pamh, LOG_NOTICE, "authentication failed for user \"%s\": %s", clean_user, why);
    return PAM_AUTH_ERR;
}

/* Logs a refusal with the validated token's iss and sub (never the token) and returns rc. */
static int refuse(const struct auth *a, int rc, const char *why)
{
    char clean_user[80], clean_iss[200], clean_sub[120];
    sanitize(a->user, clean_user, sizeof clean_user);
    sanitize(a->iss ? a->iss : "-", clean_iss, sizeof clean_iss);
    sanitize(a->sub ? a->sub : "-", clean_sub, sizeof clean_sub);
    pam_syslog(a->pamh, LOG_NOTICE, "authentication failed for user \"%s\": %s (iss \"%s\", sub \"%s\") -> %s",
               clean_user, why, clean_iss, clean_sub, pam_strerror(a->pamh, rc));
    return rc;
}

/* Keeps iss, sub and acr of the validated claims object for the log lines. */
static void record_claims(struct auth *a, const char *claims)
{
    soidc_string_free(a->iss);
    soidc_string_free(a->sub);
    soidc_string_free(a->acr);
    a->iss = json_string_at(claims, "/iss");
    a->sub = json_string_at(claims, "/sub");
    a->acr = json_string_at(claims, "/acr");
}

/* Identity mapping: `name` (the username claim's value) goes through strip_domain= and
 * lowercase, then must be the PAM user, or, with map_file=, map to it. A name that
 * proves another user is PAM_AUTH_ERR; an identity map_file= does not list is
 * PAM_PERM_DENIED (known to the provider, not allowed here). */
static int map_identity(struct auth *a, const char *name)
{
    const struct config *cfg = a->cfg;
    char *id = strdup(name);
    int known = 0;

    if (id == NULL)
        return PAM_BUF_ERR;
    free(a->identity);
    a->identity = id;
    if (cfg->strip_domain != NULL) {
        char *at = strrchr(id, '@');
        if (at == NULL || strcasecmp(at + 1, cfg->strip_domain) != 0)
            return refuse(a, PAM_AUTH_ERR, "the username claim is not a name in the domain of strip_domain=");
        *at = '\0';
        if (id[0] == '\0')
            return refuse(a, PAM_AUTH_ERR, "the username claim is empty before the domain");
    }
    if (cfg->lowercase) {
        for (char *c = id; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
    }
    if (cfg->map_file == NULL)
        return strcmp(id, a->user) == 0 ? PAM_SUCCESS : refuse(a, PAM_AUTH_ERR, "the username claim names another user");
    for (size_t i = 0; i < a->map.n; i++) {
        if (strcmp(a->map.entries[i].identity, id) == 0) {
            known = 1;
            if (strcmp(a->map.entries[i].user, a->user) == 0)
                return PAM_SUCCESS;
        }
    }
    return known ? refuse(a, PAM_AUTH_ERR, "map_file maps this identity to other local users")
                 : refuse(a, PAM_PERM_DENIED, "map_file has no entry for this identity");
}

/* Appends `list` (comma-separated, checked by parse_args) as a JSON array of strings. */
static void buf_list(struct buf *b, const char *list)
{
    char *copy = strdup(list), *item, *save = NULL;
    int first = 1;
    if (copy == NULL) {
        b->failed = 1;
        return;
    }
    buf_str(b, "[");
    for (item = strtok_r(copy, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        if (!first)
            buf_str(b, ",");
        buf_json_string(b, item);
        first = 0;
    }
    buf_str(b, "]");
    free(copy);
}

/* Appends "acr_values":"A B" (require_acr= with spaces): soidc's own option of the password
 * grant and the device start, which sends it as the acr_values parameter. */
static void buf_acr_values(struct buf *b, const char *list)
{
    char *copy = strdup(list);
    if (copy == NULL) {
        b->failed = 1;
        return;
    }
    for (char *c = copy; *c; c++)
        if (*c == ',')
            *c = ' ';
    buf_str(b, "\"acr_values\":");
    buf_json_string(b, copy);
    free(copy);
}

/* Password and device modes: the validated ID token's username claim must be the
 * PAM user (through the identity mapping). With require_claim=, require_acr= or
 * max_age=, the ID token is decoded once more with those checks (soidc's
 * require_claims, acr_values_allowed and max_age decode options, against the keys the
 * token response was just validated with: cache_only). `response` is the token
 * response soidc returned. */
static int check_id_token_user(struct auth *a, const char *response)
{
    const struct config *cfg = a->cfg;
    char *claims = NULL, *name, *raw;
    int rc;
    if (soidc_json_get_raw(response, "/id_token_claims", &claims) != SOIDC_OK || claims[0] != '{') {
        /* With openid in the scope an OpenID provider must return an ID token. */
        soidc_string_free(claims);
        pam_syslog(a->pamh, LOG_ERR, "the token response has no (validated) ID token; is openid in scope=?");
        return PAM_AUTHINFO_UNAVAIL;
    }
    record_claims(a, claims);
    if (cfg->require_claims != NULL || cfg->require_acr != NULL || cfg->max_age >= 0) {
        struct buf opts = {0};
        soidc_status st;
        soidc_string_free(claims);
        claims = NULL;
        raw = json_string_at(response, "/id_token");
        if (raw == NULL) {
            pam_syslog(a->pamh, LOG_ERR, "the token response has no id_token");
            return PAM_AUTHINFO_UNAVAIL;
        }
        /* The nonce was checked when soidc validated the token response. */
        buf_str(&opts, "{\"cache_only\":true,\"ignore_nonce\":true");
        if (cfg->require_acr != NULL) {
            buf_key(&opts, "acr_values_allowed");
            buf_list(&opts, cfg->require_acr);
        }
        if (cfg->max_age >= 0)
            buf_key_long(&opts, "max_age", cfg->max_age);
        if (cfg->require_claims != NULL) {
            buf_key(&opts, "require_claims");
            buf_str(&opts, cfg->require_claims);
        }
        if ((rc = options_end(&opts)) != PAM_SUCCESS) {
            soidc_string_free(raw);
            return rc;
        }
        st = soidc_decode_id_token(a->client, raw, opts.s, NULL, NULL, &claims);
        free(opts.s);
        explicit_bzero(raw, strlen(raw));
        soidc_string_free(raw);
        if (st != SOIDC_OK) {
            rc = fail(a, "ID token checks (require_claim=, require_acr=, max_age=)", st, claims, 0);
            soidc_string_free(claims);
            return rc;
        }
    }
    name = json_claim(claims, "", cfg->username_claim);
    soidc_string_free(claims);
    if (name == NULL) {
        char why[200];
        snprintf(why, sizeof why, "the ID token has no string claim \"%.64s\" (username_claim=; does scope= "
                                  "request it, e.g. profile for preferred_username?)", cfg->username_claim);
        return refuse(a, PAM_AUTH_ERR, why);
    }
    rc = map_identity(a, name);
    soidc_string_free(name);
    return rc;
}

/* Token mode: the token's user (username_claim if present, else sub) must be the
 * PAM user (through the identity mapping), and the token must have been issued to a
 * user, not to a client. */
static int check_token_user(struct auth *a, const char *claims)
{
    char *client_id = json_string_at(claims, "/client_id");
    char *name = json_claim(claims, "", a->cfg->username_claim);
    int rc;
    record_claims(a, claims);
    if (a->sub != NULL && client_id != NULL && strcmp(a->sub, client_id) == 0) {
        /* RFC 9068 §2.2: without a resource owner (client credentials) sub is the client. */
        rc = refuse(a, PAM_AUTH_ERR, "the token was issued to a client (client credentials), not to a user");
    } else if (name == NULL && a->sub == NULL) {
        rc = refuse(a, PAM_AUTH_ERR, "the token names no subject");
    } else {
        rc = map_identity(a, name != NULL ? name : a->sub);
    }
    soidc_string_free(client_id);
    soidc_string_free(name);
    return rc;
}

static int random_nonce(char *out, size_t out_size)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[32];
    size_t n = out_size - 1 < sizeof raw ? out_size - 1 : sizeof raw;
    if (getrandom(raw, n, 0) != (ssize_t)n)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[raw[i] & 63];
    out[n] = '\0';
    return 0;
}

static int do_password(struct auth *a, const char *password, long long deadline)
{
    struct buf opts;
    char nonce[33];
    char *result = NULL;
    soidc_status st;
    int rc;

    if (random_nonce(nonce, sizeof nonce) != 0) {
        pam_syslog(a->pamh, LOG_ERR, "getrandom failed: %m");
        return PAM_SERVICE_ERR;
    }
    if ((rc = options_begin(a, deadline, &opts)) != PAM_SUCCESS)
        return rc;
    /* `nonce` makes soidc require it in the ID token; extra_params sends it. */
    buf_key(&opts, "nonce");
    buf_json_string(&opts, nonce);
    buf_key(&opts, "extra_params");
    buf_str(&opts, "{\"nonce\":");
    buf_json_string(&opts, nonce);
    buf_str(&opts, "}");
    if (a->cfg->require_acr != NULL) {
        buf_str(&opts, ",");
        buf_acr_values(&opts, a->cfg->require_acr);
    }
    if ((rc = options_end(&opts)) != PAM_SUCCESS)
        return rc;
    st = soidc_direct_access_grant(a->client, a->user, password, NULL, opts.s, &result);
    free(opts.s);
    if (st != SOIDC_OK)
        rc = fail(a, "password grant", st, result, 0);
    else
        rc = check_id_token_user(a, result);
    soidc_string_free(result);
    return rc;
}

static int looks_like_jwt(const char *t)
{
    int dots = 0;
    for (; *t; t++) {
        if (*t == '.')
            dots++;
    }
    return dots == 2;
}

static int do_token(struct auth *a, const char *token, long long deadline)
{
    struct buf opts;
    char *result = NULL;
    soidc_status st;
    int rc, active = 0;

    if ((rc = options_begin(a, deadline, &opts)) != PAM_SUCCESS)
        return rc;
    if (looks_like_jwt(token)) {
        /* RFC 9068: signature, iss, exp/nbf/iat, aud = our audience, sub, jti. No
         * fallback to introspection: a JWT that fails here is refused. */
        buf_key(&opts, "audience");
        buf_json_string(&opts, a->cfg->audience);
        if (a->cfg->require_claims != NULL) {
            buf_key(&opts, "require_claims");
            buf_str(&opts, a->cfg->require_claims);
        }
        if ((rc = options_end(&opts)) != PAM_SUCCESS)
            return rc;
        st = soidc_decode_access_token(a->client, token, opts.s, &result);
        free(opts.s);
        if (st == SOIDC_ERR_INVALID_ARGUMENT && a->cfg->require_claims != NULL) {
            /* The token or our require_claims option? Without the rules, a token that
             * decodes proves the option was refused: a configuration error. */
            char *plain = NULL, *o = NULL;
            size_t need = strlen(a->cfg->audience) * 6 + 32;
            if ((o = malloc(need)) != NULL) {
                char *q = soidc_json_quote(a->cfg->audience);
                snprintf(o, need, "{\"cache_only\":true,\"audience\":%s}", q ? q : "\"\"");
                soidc_string_free(q);
                if (soidc_decode_access_token(a->client, token, o, &plain) == SOIDC_OK) {
                    soidc_string_free(plain);
                    free(o);
                    rc = fail(a, "require_claim= (soidc's require_claims)", st, result, 0);
                    soidc_string_free(result);
                    return rc;
                }
                soidc_string_free(plain);
                free(o);
            }
        }
        if (st != SOIDC_OK)
            rc = fail(a, "JWT access token validation", st, result, 1);
        else
            rc = check_token_user(a, result);
        soidc_string_free(result);
        return rc;
    }

    if (a->cfg->require_claims != NULL) {
        /* soidc's claim rules are decode options: an introspection answer is not a
         * token soidc decodes, so a gate that cannot be checked refuses. */
        free(opts.s);
        return refuse(a, PAM_PERM_DENIED, "require_claim= needs a JWT access token; an opaque token is refused");
    }
    if ((rc = options_end(&opts)) != PAM_SUCCESS)
        return rc;
    st = soidc_introspect_token(a->client, token, "access_token", opts.s, &result);
    free(opts.s);
    if (st != SOIDC_OK) {
        rc = fail(a, "token introspection", st, result, 1);
    } else if (soidc_json_get_bool(result, "/active", &active) != SOIDC_OK || !active) {
        rc = deny(a, "introspection: the token is not active (unknown, expired or revoked)");
    } else {
        char *token_type = json_string_at(result, "/token_type");
        long long exp;
        if (json_contains_at(result, "/aud", a->cfg->audience) == 0)
            rc = deny(a, "introspection: the token's aud does not contain audience=");
        else if (token_type != NULL && strcasecmp(token_type, "Bearer") != 0 && strcmp(token_type, "access_token") != 0)
            rc = deny(a, "introspection: not an access token");
        else if (json_uint_at(result, "/exp", &exp) == 0 && exp <= (long long)time(NULL))
            rc = deny(a, "introspection: the token has expired");
        else
            rc = check_token_user(a, result);
        soidc_string_free(token_type);
    }
    soidc_string_free(result);
    return rc;
}

/* A QR code of `uri`, drawn as text for the conversation: QR_UNICODE packs two module
 * rows into one line with the half blocks U+2580/U+2584 and the full block U+2588,
 * QR_ASCII draws each module as two characters ("##" or spaces). Light modules are the
 * drawn ones and the quiet zone (2 modules) is drawn too, so the code stands out on the
 * dark background of most terminals, which plays the dark modules. Returns a malloc'd
 * string of lines separated by '\n' (no final '\n'), or NULL (out of memory, or a URI
 * libqrencode cannot encode). */
#define QR_MARGIN 2
static char *qr_text(const char *uri, enum qr_style style)
{
    QRcode *qr = QRcode_encodeString(uri, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    struct buf b = {0};
    int w, size;
    if (qr == NULL)
        return NULL;
    w = qr->width;
    size = w + 2 * QR_MARGIN;
#define LIGHT(x, y)                                                                                              \
    ((y) < size && ((x) < QR_MARGIN || (y) < QR_MARGIN || (x) >= QR_MARGIN + w || (y) >= QR_MARGIN + w ||       \
                    !(qr->data[((y)-QR_MARGIN) * w + ((x)-QR_MARGIN)] & 1)))
    for (int y = 0; y < size; y += style == QR_UNICODE ? 2 : 1) {
        if (y > 0)
            buf_str(&b, "\n");
        for (int x = 0; x < size; x++) {
            if (style == QR_ASCII) {
                buf_str(&b, LIGHT(x, y) ? "##" : "  ");
            } else {
                int top = LIGHT(x, y), bottom = LIGHT(x, y + 1);
                buf_str(&b, top && bottom ? "\xe2\x96\x88" : top ? "\xe2\x96\x80" : bottom ? "\xe2\x96\x84" : " ");
            }
        }
    }
#undef LIGHT
    QRcode_free(qr);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* One conversation call: `text` (lines separated by '\n'; NULL: none) as PAM_TEXT_INFO
 * messages of whole lines, each shorter than PAM_MAX_MSG_SIZE (conversation functions may
 * cut longer ones), then `prompt` (NULL: none) as a PAM_PROMPT_ECHO_ON whose answer is
 * ignored. */
static int show_lines(const struct pam_conv *conv, const char *text, const char *prompt)
{
    struct pam_message msg[PAM_MAX_NUM_MSG];
    const struct pam_message *msgp[PAM_MAX_NUM_MSG];
    char *copy = strdup(text != NULL ? text : ""), *p;
    struct pam_response *resp = NULL;
    int n = 0, rc;

    if (copy == NULL)
        return PAM_BUF_ERR;
    for (p = copy; *p != '\0' && n < PAM_MAX_NUM_MSG - 1;) {
        char *end = p, *cut = NULL;
        /* the longest run of whole lines that fits */
        while (*end != '\0' && end - p < PAM_MAX_MSG_SIZE) {
            char *nl = strchr(end, '\n');
            char *line_end = nl != NULL ? nl : end + strlen(end);
            if (line_end - p >= PAM_MAX_MSG_SIZE)
                break;
            cut = line_end;
            end = nl != NULL ? nl + 1 : line_end;
        }
        if (cut == NULL) { /* a single line longer than a message: never drawn by qr_text */
            free(copy);
            return PAM_BUF_ERR;
        }
        msg[n].msg_style = PAM_TEXT_INFO;
        msg[n].msg = p;
        msgp[n] = &msg[n];
        n++;
        p = *cut != '\0' ? cut + 1 : cut;
        *cut = '\0';
    }
    if (prompt != NULL) {
        msg[n].msg_style = PAM_PROMPT_ECHO_ON;
        msg[n].msg = prompt;
        msgp[n] = &msg[n];
        n++;
    }
    rc = n > 0 ? conv->conv(n, msgp, &resp, conv->appdata_ptr) : PAM_SUCCESS;
    if (resp != NULL) {
        for (int i = 0; i < n; i++) {
            if (resp[i].resp != NULL) {
                explicit_bzero(resp[i].resp, strlen(resp[i].resp));
                free(resp[i].resp);
            }
        }
        free(resp);
    }
    free(copy);
    return rc;
}

/* Shows the verification URL and code through the conversation. */
static int show_device_code(struct auth *a, const char *start)
{
    char *code = json_string_at(start, "/user_code");
    char *uri = json_string_at(start, "/verification_uri");
    char *complete = json_string_at(start, "/verification_uri_complete");
    char text[1200], c_code[64], c_uri[400], c_complete[400], *qr_all = NULL;
    const char *prompt = a->cfg->device_prompt ? "Press Enter once you have approved the sign-in: " : NULL;
    const struct pam_conv *conv = NULL;
    int rc;

    if (code == NULL || uri == NULL) {
        pam_syslog(a->pamh, LOG_ERR, "device authorization response without user_code or verification_uri");
        rc = PAM_AUTHINFO_UNAVAIL;
        goto out;
    }
    sanitize(code, c_code, sizeof c_code);
    sanitize(uri, c_uri, sizeof c_uri);
    if (complete != NULL) {
        sanitize(complete, c_complete, sizeof c_complete);
        snprintf(text, sizeof text, "To sign in, open %s and enter the code %s\n(or open %s)", c_uri, c_code,
                 c_complete);
    }
    /* Conversation functions may cut messages longer than PAM_MAX_MSG_SIZE. */
    if (complete == NULL || strlen(text) >= PAM_MAX_MSG_SIZE)
        snprintf(text, sizeof text, "To sign in, open %s and enter the code %s", c_uri, c_code);
    rc = pam_get_item(a->pamh, PAM_CONV, (const void **)&conv);
    if (rc != PAM_SUCCESS || conv == NULL || conv->conv == NULL) {
        pam_syslog(a->pamh, LOG_ERR, "no conversation function");
        rc = PAM_CONV_ERR;
        goto out;
    }
    /* The code first, in a conversation call of its own: it works wherever the QR code
     * does not (a narrow terminal, a host that cuts long conversations). */
    rc = show_lines(conv, text, NULL);
    if (rc != PAM_SUCCESS) {
        pam_syslog(a->pamh, LOG_ERR, "the conversation could not show the device code: %s", pam_strerror(a->pamh, rc));
        rc = PAM_CONV_ERR;
        goto out;
    }
    /* Then the QR code, and with device_prompt the prompt after it (sshd shows text
     * messages only together with the next prompt). */
    if (complete != NULL && a->cfg->qr != QR_OFF) {
        char *drawing = qr_text(complete, a->cfg->qr);
        if (drawing == NULL) {
            pam_syslog(a->pamh, LOG_WARNING, "cannot draw a QR code of verification_uri_complete (%zu bytes)",
                       strlen(complete));
        } else {
            size_t need = strlen(drawing) + 64;
            if ((qr_all = malloc(need)) != NULL)
                snprintf(qr_all, need, "Or scan this QR code with your phone:\n%s", drawing);
            free(drawing);
        }
    }
    if (qr_all != NULL) {
        rc = show_lines(conv, qr_all, prompt);
        if (rc == PAM_SUCCESS)
            goto out;
        pam_syslog(a->pamh, LOG_WARNING, "the conversation could not show the QR code: %s", pam_strerror(a->pamh, rc));
    }
    rc = show_lines(conv, NULL, prompt);
    if (rc != PAM_SUCCESS) {
        pam_syslog(a->pamh, LOG_ERR, "the conversation could not show the prompt: %s", pam_strerror(a->pamh, rc));
        rc = PAM_CONV_ERR;
    }
out:
    free(qr_all);
    soidc_string_free(code);
    soidc_string_free(uri);
    soidc_string_free(complete);
    return rc;
}

static int do_device(struct auth *a, long long deadline)
{
    struct buf opts;
    char *start = NULL, *result = NULL, *device_code = NULL, *verifier = NULL;
    long long expires_in = 0, interval = 0;
    soidc_status st;
    int rc;

    if ((rc = options_begin(a, deadline, &opts)) != PAM_SUCCESS)
        return rc;
    if (a->cfg->require_acr != NULL) {
        buf_str(&opts, ",");
        buf_acr_values(&opts, a->cfg->require_acr);
    }
    if ((rc = options_end(&opts)) != PAM_SUCCESS)
        return rc;
    st = soidc_device_authorization_start(a->client, NULL, opts.s, &start);
    free(opts.s);
    if (st != SOIDC_OK) {
        rc = fail(a, "device authorization", st, start, 0);
        goto out;
    }
    device_code = json_string_at(start, "/device_code");
    if (device_code == NULL || json_uint_at(start, "/expires_in", &expires_in) != 0) {
        pam_syslog(a->pamh, LOG_ERR, "device authorization response without device_code or expires_in");
        rc = PAM_AUTHINFO_UNAVAIL;
        goto out;
    }
    if ((rc = show_device_code(a, start)) != PAM_SUCCESS)
        goto out;

    /* Waiting for the user is not the network budget: the poll is bounded by the
     * code's expires_in (each request still by the client's timeout_ms). */
    memset(&opts, 0, sizeof opts);
    buf_str(&opts, "{\"wait\":true");
    buf_key_long(&opts, "expires_in", expires_in);
    if (json_uint_at(start, "/interval", &interval) == 0)
        buf_key_long(&opts, "interval", interval);
    /* PKCE (on by default for a public client at a provider that advertises S256;
     * Keycloak requires it of PKCE-enforcing clients): the verifier goes to the poll. */
    if ((verifier = json_string_at(start, "/code_verifier")) != NULL) {
        buf_key(&opts, "code_verifier");
        buf_json_string(&opts, verifier);
    }
    if ((rc = options_end(&opts)) != PAM_SUCCESS)
        goto out;
    st = soidc_device_authorization_poll(a->client, device_code, opts.s, &result);
    if (opts.s != NULL)
        explicit_bzero(opts.s, strlen(opts.s));
    free(opts.s);
    if (st != SOIDC_OK)
        rc = fail(a, "device authorization", st, result, 0);
    else
        rc = check_id_token_user(a, result);
out:
    if (device_code != NULL) {
        explicit_bzero(device_code, strlen(device_code));
        soidc_string_free(device_code);
    }
    if (verifier != NULL) {
        explicit_bzero(verifier, strlen(verifier));
        soidc_string_free(verifier);
    }
    soidc_string_free(start);
    soidc_string_free(result);
    return rc;
}

static void cleanup_user(pam_handle_t *pamh, void *data, int error_status)
{
    (void)pamh;
    (void)error_status;
    free(data);
}

/* The password (or token): the one an earlier module stored as PAM_AUTHTOK with
 * use_first_pass/try_first_pass, else asked for with echo off and stored for later
 * modules. try_first_pass does not ask again after a failure (one provider request
 * per attempt). A failed conversation is PAM_CONV_ERR. */
static int get_authtok(pam_handle_t *pamh, const struct config *cfg, const char **out)
{
    const void *prev = NULL;
    char *resp = NULL;
    int rc;

    *out = NULL;
    if (cfg->use_first_pass || cfg->try_first_pass) {
        if (pam_get_item(pamh, PAM_AUTHTOK, &prev) == PAM_SUCCESS && prev != NULL) {
            *out = prev;
            return PAM_SUCCESS;
        }
        if (cfg->use_first_pass) {
            pam_syslog(pamh, LOG_NOTICE, "use_first_pass: no password from an earlier module");
            return PAM_AUTH_ERR;
        }
    }
    rc = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", cfg->mode == MODE_TOKEN ? "Access token: " : "Password: ");
    if (rc != PAM_SUCCESS || resp == NULL) {
        if (resp != NULL) {
            explicit_bzero(resp, strlen(resp));
            free(resp);
        }
        pam_syslog(pamh, LOG_ERR, "the conversation failed: %s", pam_strerror(pamh, rc));
        if (rc == PAM_CONV_AGAIN)
            return PAM_INCOMPLETE;
        return rc == PAM_BUF_ERR ? PAM_BUF_ERR : PAM_CONV_ERR;
    }
    rc = pam_set_item(pamh, PAM_AUTHTOK, resp); /* libpam keeps a copy, wiped at pam_end */
    explicit_bzero(resp, strlen(resp));
    free(resp);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = pam_get_item(pamh, PAM_AUTHTOK, &prev);
    if (rc != PAM_SUCCESS || prev == NULL)
        return PAM_SYSTEM_ERR;
    *out = prev;
    return PAM_SUCCESS;
}

static int authenticate(pam_handle_t *pamh, const struct config *cfg)
{
    struct auth a = {.pamh = pamh, .cfg = cfg};
    const char *authtok = NULL;
    char *secret = NULL, *err = NULL, *remembered;
    char clean_user[80];
    struct buf opts;
    soidc_status st;
    long long deadline;
    int rc;

    /* Forget an earlier success in this handle before trying again. */
    pam_set_data(pamh, DATA_KEY, NULL, NULL);

    rc = pam_get_user(pamh, &a.user, NULL);
    if (rc != PAM_SUCCESS) {
        pam_syslog(pamh, LOG_ERR, "cannot get the user name: %s", pam_strerror(pamh, rc));
        return rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : rc;
    }
    if (a.user == NULL || a.user[0] == '\0' || !utf8_valid(a.user)) {
        pam_syslog(pamh, LOG_NOTICE, "empty or invalid user name");
        return PAM_USER_UNKNOWN;
    }

    /* A broken map is a configuration error, reported before anyone types a password. */
    if (cfg->map_file != NULL && (rc = read_map_file(pamh, cfg->map_file, &a.map)) != PAM_SUCCESS)
        return rc;

    if (cfg->mode != MODE_DEVICE) {
        rc = get_authtok(pamh, cfg, &authtok);
        if (rc != PAM_SUCCESS)
            goto out;
        if (authtok[0] == '\0' || !utf8_valid(authtok)) {
            rc = deny(&a, cfg->mode == MODE_TOKEN ? "empty or invalid token" : "empty or invalid password");
            goto out;
        }
    }

    /* The budget starts after the user typed: it bounds the network only. */
    deadline = now_ms() + cfg->timeout_ms;

    if (cfg->client_secret_file != NULL) {
        rc = read_secret_file(pamh, cfg->client_secret_file, &secret);
        if (rc != PAM_SUCCESS)
            goto out;
    }

    /* The client is created here, in the process that uses it, and freed before
     * returning: PAM hosts fork (sshd, login, cron) and a handle kept in a static
     * would outlive the configuration and the process it was made for. What survives
     * between authentications is the provider's public state in cache_dir (discovery
     * document and keys, no secret), which soidc reads, checks and refreshes: a warm
     * login makes only the token request. */
    if ((rc = options_begin(&a, deadline, &opts)) != PAM_SUCCESS)
        goto out;
    buf_key_long(&opts, "connect_timeout_ms", cfg->timeout_ms);
    if (cfg->ca_file != NULL) {
        buf_key(&opts, "ca_file");
        buf_json_string(&opts, cfg->ca_file);
    }
    if (cfg->cache_dir != NULL) {
        buf_key(&opts, "cache_dir");
        buf_json_string(&opts, cfg->cache_dir);
        if (cfg->down_backoff_s > 0)
            buf_key_long(&opts, "provider_down_backoff_s", cfg->down_backoff_s);
    }
    if ((rc = options_end(&opts)) != PAM_SUCCESS)
        goto out;
    /* soidc's messages about this client, its discovery included, go to syslog through
     * this PAM handle. The callback belongs to this client alone, which is freed before
     * returning, so it never reaches another thread's handle or one that pam_end has
     * finished (the process-wide soidc_set_log_callback would). */
    st = soidc_client_from_issuer_url_with_log(cfg->issuer, NULL, cfg->client_id, secret, cfg->scope, opts.s,
                                               log_cb, cfg->debug ? SOIDC_LOG_DEBUG : SOIDC_LOG_INFO, pamh,
                                               &a.client, &err);
    free(opts.s);
    if (secret != NULL) {
        /* The client holds its own copy from here on; soidc zeroizes the copies of
         * secrets it keeps when the client is freed (soidc_client_free below). */
        explicit_bzero(secret, strlen(secret));
        free(secret);
        secret = NULL;
    }
    if (st != SOIDC_OK) {
        rc = fail(&a, "discovery", st, err, 0);
        goto out;
    }

    switch (cfg->mode) {
    case MODE_PASSWORD: rc = do_password(&a, authtok, deadline); break;
    case MODE_TOKEN: rc = do_token(&a, authtok, deadline); break;
    case MODE_DEVICE: rc = do_device(&a, deadline); break;
    }

    if (rc == PAM_SUCCESS) {
        remembered = strdup(a.user);
        if (remembered == NULL || pam_set_data(pamh, DATA_KEY, remembered, cleanup_user) != PAM_SUCCESS) {
            free(remembered);
            rc = PAM_BUF_ERR;
        } else {
            char clean_iss[200], clean_sub[120], clean_acr[120], clean_id[120];
            sanitize(a.user, clean_user, sizeof clean_user);
            sanitize(a.iss ? a.iss : "-", clean_iss, sizeof clean_iss);
            sanitize(a.sub ? a.sub : "-", clean_sub, sizeof clean_sub);
            sanitize(a.acr ? a.acr : "-", clean_acr, sizeof clean_acr);
            sanitize(a.identity ? a.identity : "-", clean_id, sizeof clean_id);
            pam_syslog(pamh, LOG_INFO, "user \"%s\" authenticated (%s mode): iss \"%s\", sub \"%s\", acr \"%s\", "
                                       "identity \"%s\" mapped to user \"%s\"", clean_user,
                       cfg->mode == MODE_PASSWORD ? "password" : cfg->mode == MODE_TOKEN ? "token" : "device",
                       clean_iss, clean_sub, clean_acr, clean_id, clean_user);
        }
    }
out:
    soidc_client_free(a.client);
    soidc_string_free(err);
    soidc_string_free(a.iss);
    soidc_string_free(a.sub);
    soidc_string_free(a.acr);
    free(a.identity);
    free_map(&a.map);
    return rc;
}

EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    struct config cfg;
    int rc;
    (void)flags;

    rc = parse_args(pamh, argc, argv, &cfg);
    if (rc == PAM_SUCCESS)
        rc = authenticate(pamh, &cfg);
    free_config(&cfg);
    return rc;
}

/* Nothing to establish: the module grants no credentials (no Kerberos ticket, no
 * group). PAM_SUCCESS so that `auth` stacks calling setcred do not fail on us. */
EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}

/* PAM_SUCCESS when this module authenticated the current PAM user in this handle;
 * otherwise PAM_IGNORE, so that the account decision is left to the other modules
 * (pam_unix, pam_access, ...) for users who authenticated some other way. */
EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    const void *data = NULL;
    const void *user = NULL;
    (void)flags;
    (void)argc;
    (void)argv;
    if (pam_get_data(pamh, DATA_KEY, &data) != PAM_SUCCESS || data == NULL)
        return PAM_IGNORE;
    if (pam_get_item(pamh, PAM_USER, &user) != PAM_SUCCESS || user == NULL || strcmp(user, data) != 0)
        return PAM_IGNORE;
    return PAM_SUCCESS;
}
