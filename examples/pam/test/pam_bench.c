/*
 * Benchmark driver for pam_soidc (examples/pam/test/bench.sh): runs whole PAM
 * transactions (pam_start_confdir, pam_authenticate, pam_end) in a loop in one process,
 * as a PAM host would, and reports their rate, latency and CPU time. Not a test: it
 * checks only that every login succeeds.
 *
 * Usage: pam_bench CONFDIR SERVICE USER MAX_LOGINS MAX_SECONDS [CLEAR_DIR]
 *   Runs MAX_LOGINS transactions, or fewer when their time adds up to MAX_SECONDS
 *   (at least 2). With CLEAR_DIR, every regular file in that directory is removed
 *   before each login (the provider state cache starts empty: a cold login); the
 *   removal is not timed.
 * Environment: PAM_BENCH_PASSWORD answers the password prompt (the provider password,
 *   or the token in token mode).
 * Prints one line of key=value pairs:
 *   logins=N  (all of them succeeded)
 *   first_ms, first_cpu_ms: the first transaction of the process (libsoidc loaded for the
 *   first time): wall-clock and CPU time
 *   rate_logins_per_s, median_ms, p90_ms, max_ms, cpu_ms_per_login (user+system time of
 *   this process, all threads), user_ms_per_login, sys_ms_per_login: over logins 2..N
 *   syslog_lines: what the module logged (replaced here: counted, not sent)
 * Exit 0 when every login returned PAM_SUCCESS, 1 when one did not (the first failure
 * is printed on stderr), 2 on a usage or set-up error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

/* ---- syslog replacement: the module's log lines are counted, not sent (libpam's
 * pam_syslog ends in vsyslog/__vsyslog_chk; -rdynamic makes these the ones it finds) ---- */

static unsigned long syslog_lines;

void syslog(int pri, const char *fmt, ...);
void vsyslog(int pri, const char *fmt, va_list ap);
void __syslog_chk(int pri, int flag, const char *fmt, ...);
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap);

void syslog(int pri, const char *fmt, ...) { (void)pri; (void)fmt; syslog_lines++; }
void vsyslog(int pri, const char *fmt, va_list ap) { (void)pri; (void)fmt; (void)ap; syslog_lines++; }
void __syslog_chk(int pri, int flag, const char *fmt, ...) { (void)pri; (void)flag; (void)fmt; syslog_lines++; }
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
    (void)pri;
    (void)flag;
    (void)fmt;
    (void)ap;
    syslog_lines++;
}

/* ---- conversation: the password prompt gets PAM_BENCH_PASSWORD, messages are dropped ---- */

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *appdata)
{
    const char *password = appdata;
    struct pam_response *r;
    *resp = NULL;
    if (n <= 0 || n > PAM_MAX_NUM_MSG)
        return PAM_CONV_ERR;
    r = calloc((size_t)n, sizeof *r);
    if (r == NULL)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
        case PAM_PROMPT_ECHO_ON:
            r[i].resp = strdup(password);
            if (r[i].resp == NULL)
                goto fail;
            break;
        case PAM_TEXT_INFO:
        case PAM_ERROR_MSG:
            break;
        default:
            goto fail;
        }
    }
    *resp = r;
    return PAM_SUCCESS;
fail:
    for (int i = 0; i < n; i++)
        free(r[i].resp);
    free(r);
    return PAM_CONV_ERR;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cpu_s(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Removes every regular file in dir (the state file, its lock, a .down record). */
static int clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (d == NULL)
        return 0; /* not created yet: already empty */
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            unlinkat(dirfd(d), e->d_name, 0) != 0) {
            perror(e->d_name);
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *password = getenv("PAM_BENCH_PASSWORD");
    const char *clear = argc == 7 ? argv[6] : NULL;
    long max_logins;
    double max_seconds, spent = 0, cpu_user = 0, cpu_sys = 0, first_ms = 0, first_cpu_ms = 0;
    double *ms;
    long n = 0;

    if ((argc != 6 && argc != 7) || password == NULL) {
        fprintf(stderr, "usage: PAM_BENCH_PASSWORD=... %s CONFDIR SERVICE USER MAX_LOGINS MAX_SECONDS [CLEAR_DIR]\n",
                argv[0]);
        return 2;
    }
    max_logins = strtol(argv[4], NULL, 10);
    max_seconds = strtod(argv[5], NULL);
    if (max_logins < 2 || max_seconds <= 0) {
        fprintf(stderr, "pam_bench: MAX_LOGINS must be at least 2 and MAX_SECONDS positive\n");
        return 2;
    }
    ms = calloc((size_t)max_logins, sizeof *ms);
    if (ms == NULL)
        return 2;

    while (n < max_logins && (n < 2 || spent < max_seconds)) {
        struct pam_conv pc = {conv, (void *)password};
        pam_handle_t *pamh = NULL;
        double t0, u0, s0, u1, s1, dt;
        int rc;

        if (clear != NULL && clear_dir(clear) != 0)
            return 2;
        cpu_s(&u0, &s0);
        t0 = now_s();
        rc = pam_start_confdir(argv[2], argv[3], &pc, argv[1], &pamh);
        if (rc != PAM_SUCCESS) {
            fprintf(stderr, "pam_bench: pam_start_confdir: %s\n", pam_strerror(NULL, rc));
            return 2;
        }
        rc = pam_authenticate(pamh, 0);
        pam_end(pamh, rc); /* unloads the module, as every PAM host does */
        dt = now_s() - t0;
        cpu_s(&u1, &s1);
        if (rc != PAM_SUCCESS) {
            fprintf(stderr, "pam_bench: login %ld: pam_authenticate returned %d (%s)\n", n + 1, rc,
                    pam_strerror(NULL, rc));
            return 1;
        }
        if (n == 0) {
            first_ms = dt * 1e3;
            first_cpu_ms = (u1 - u0 + s1 - s0) * 1e3;
        } else {
            ms[n - 1] = dt * 1e3;
            spent += dt;
            cpu_user += u1 - u0;
            cpu_sys += s1 - s0;
        }
        n++;
    }

    {
        long m = n - 1; /* timed logins: 2..n */
        qsort(ms, (size_t)m, sizeof *ms, cmp_double);
        printf("logins=%ld first_ms=%.2f first_cpu_ms=%.3f rate_logins_per_s=%.1f median_ms=%.2f p90_ms=%.2f max_ms=%.2f "
               "cpu_ms_per_login=%.3f user_ms_per_login=%.3f sys_ms_per_login=%.3f syslog_lines=%lu\n",
               n, first_ms, first_cpu_ms, (double)m / spent, ms[m / 2], ms[(m * 9) / 10], ms[m - 1],
               (cpu_user + cpu_sys) * 1e3 / (double)m, cpu_user * 1e3 / (double)m, cpu_sys * 1e3 / (double)m,
               syslog_lines);
    }
    free(ms);
    return 0;
}
