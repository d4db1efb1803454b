/* No growth: DECODES successful decodes of a real ID token plus FAILS failed calls (a
 * third each: wrong nonce, a malformed token, a token request while the provider is down),
 * with the heap in use measured before and after (after a warm-up).
 *
 * Usage: test_leak DECODES FAILS   (tests/fault/run.sh: 100000 10000 in the ASan+LSan build,
 * where the heap in use is the sanitizer allocator's own count and LeakSanitizer checks at
 * exit; 10000 2000 under valgrind memcheck, which checks for lost blocks at exit). */
#include "fault_util.h"

#if defined(__SANITIZE_ADDRESS__)
/* From the sanitizer runtime (sanitizer/allocator_interface.h, not always installed). */
size_t __sanitizer_get_current_allocated_bytes(void);
#define HEAP_KIND "ASan allocator, bytes in use"
#define RSS_NOTE "allocator caches and ASan's 8 MB quarantine"
static long heap_in_use(void) { return (long)__sanitizer_get_current_allocated_bytes(); }
#else
#include <malloc.h>
#define HEAP_KIND "mallinfo2 uordblks (0 under valgrind, which checks lost blocks at exit)"
#define RSS_NOTE "allocator caches; under valgrind its own freed-block queue"
static long heap_in_use(void) { return (long)mallinfo2().uordblks; }
#endif

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f == NULL) return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int run(soidc_client *c, const char *token, long decodes, long fails, long *bad) {
    long ok = 0, failed = 0;
    for (long i = 0; i < decodes; i++) {
        char *out = NULL;
        if (soidc_decode_id_token(c, token, NULL, NULL, NULL, &out) == SOIDC_OK && out != NULL) ok++;
        soidc_string_free(out);
    }
    long third = fails / 3;
    for (long i = 0; i < third; i++) {
        char *out = NULL;
        if (soidc_decode_id_token(c, token, "{\"nonce\":\"not-the-nonce\"}", NULL, NULL, &out) ==
            SOIDC_ERR_VALIDATION)
            failed++;
        soidc_string_free(out);
    }
    for (long i = 0; i < third; i++) {
        char *out = NULL;
        if (soidc_decode_id_token(c, "eyJhbGciOiJSUzI1NiJ9.e30.AAAA", NULL, NULL, NULL, &out) != SOIDC_OK) failed++;
        soidc_string_free(out);
    }
    tp_enable(0);
    for (long i = 0; i < fails - 2 * third; i++) {
        char *out = NULL;
        if (soidc_client_credentials_grant(c, "api:read", NULL, &out) == SOIDC_ERR_NETWORK) failed++;
        soidc_string_free(out);
    }
    tp_enable(1);
    *bad = (decodes - ok) + (fails - failed);
    return *bad == 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s DECODES FAILS\n", argv[0]);
        return 2;
    }
    long decodes = atol(argv[1]), fails = atol(argv[2]);
    tp_reset();
    soidc_client *c = NULL;
    char *err = NULL;
    soidc_status st = soidc_client_from_issuer_url(test_env("SOIDC_TEST_ISSUER"), NULL, FAULT_CLIENT_ID,
                                                   FAULT_CLIENT_SECRET, NULL, "{\"timeout_ms\":20000}", &c, &err);
    CHECK_STATUS(st, SOIDC_OK, err);
    soidc_string_free(err);
    if (c == NULL) TEST_MAIN_END();
    char *token = provider_id_token("alice");

    /* Warm-up: keys cached, connection pool and lazily created state in place. */
    long bad = 0;
    CHECK(run(c, token, decodes / 100 + 10, fails / 100 + 3, &bad));
    long heap0 = heap_in_use(), rss0 = rss_kib();
    long long t0 = now_ms();
    CHECK(run(c, token, decodes, fails, &bad));
    long long elapsed = now_ms() - t0;
    long heap1 = heap_in_use(), rss1 = rss_kib();
    printf("%ld decodes + %ld failed calls in %lld ms, %ld unexpected results\n", decodes, fails, elapsed, bad);
    printf("heap in use (%s): %ld -> %ld bytes (%+ld)\n", HEAP_KIND, heap0, heap1, heap1 - heap0);
    printf("RSS: %ld -> %ld KiB (%+ld; includes %s)\n", rss0, rss1, rss1 - rss0, RSS_NOTE);
#if defined(__SANITIZE_ADDRESS__)
    /* A leak of even 1 byte per call would be >= 110 KB here. */
    CHECK(heap1 - heap0 < 64 * 1024);
#endif
    free(token);
    soidc_client_free(c);
    TEST_MAIN_END();
}
