/*
 * Test driver for pam_soidc: runs one PAM transaction from a private configuration
 * directory with a non-interactive conversation.
 *
 * Usage: pam_driver CONFDIR SERVICE USER
 * Environment:
 *   PAM_DRIVER_PASSWORD   answer to PAM_PROMPT_ECHO_OFF (absent: the conversation fails
 *                         on such a prompt)
 *   PAM_DRIVER_ECHO_ON    answer to PAM_PROMPT_ECHO_ON (default: empty line)
 *   PAM_DRIVER_CONV_FAIL  "1": every conversation call fails with PAM_CONV_ERR
 *   PAM_DRIVER_MESSAGES   file that gets one line per message as it arrives (flushed)
 *   PAM_DRIVER_SYSLOG     file that gets every syslog line (libpam's pam_syslog ends in
 *                         syslog(); this program defines syslog itself, so nothing
 *                         reaches the system log and the test can read what was logged)
 *   PAM_DRIVER_ACCT       "1": also run pam_acct_mgmt (after authenticate, whatever its result)
 *   PAM_DRIVER_SKIP_AUTH  "1": run only pam_acct_mgmt
 *   PAM_DRIVER_FORK       "1": after the first pam_authenticate, fork; the child
 *                         authenticates again with the inherited handle (as sshd does)
 *   PAM_DRIVER_REPEAT     N: N whole transactions (pam_start ... pam_end) in this process
 * Prints: "authenticate=PAM_... elapsed_ms=N", then "setcred=..." after a success,
 * "child_authenticate=..." and "child_exit=N" with PAM_DRIVER_FORK,
 * "authenticate_again=..." for each repeated transaction, "acct_mgmt=..." when asked.
 * Exit 0 unless the driver itself failed.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

static const char *code_name(int rc)
{
    static const char *const names[] = {
        "PAM_SUCCESS", "PAM_OPEN_ERR", "PAM_SYMBOL_ERR", "PAM_SERVICE_ERR", "PAM_SYSTEM_ERR",
        "PAM_BUF_ERR", "PAM_PERM_DENIED", "PAM_AUTH_ERR", "PAM_CRED_INSUFFICIENT",
        "PAM_AUTHINFO_UNAVAIL", "PAM_USER_UNKNOWN", "PAM_MAXTRIES", "PAM_NEW_AUTHTOK_REQD",
        "PAM_ACCT_EXPIRED", "PAM_SESSION_ERR", "PAM_CRED_UNAVAIL", "PAM_CRED_EXPIRED", "PAM_CRED_ERR",
        "PAM_NO_MODULE_DATA", "PAM_CONV_ERR", "PAM_AUTHTOK_ERR", "PAM_AUTHTOK_RECOVERY_ERR",
        "PAM_AUTHTOK_LOCK_BUSY", "PAM_AUTHTOK_DISABLE_AGING", "PAM_TRY_AGAIN", "PAM_IGNORE", "PAM_ABORT",
        "PAM_AUTHTOK_EXPIRED", "PAM_MODULE_UNKNOWN", "PAM_BAD_ITEM", "PAM_CONV_AGAIN", "PAM_INCOMPLETE",
    };
    if (rc >= 0 && rc < (int)(sizeof names / sizeof names[0]))
        return names[rc];
    return "PAM_UNKNOWN_CODE";
}

/* ---- syslog replacement (libpam calls __syslog_chk when built with fortify) ---- */

static void log_line(int pri, const char *fmt, va_list ap)
{
    const char *path = getenv("PAM_DRIVER_SYSLOG");
    FILE *f;
    if (path == NULL || (f = fopen(path, "a")) == NULL)
        return;
    fprintf(f, "<%d> ", pri);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fclose(f);
}

void syslog(int pri, const char *fmt, ...);
void vsyslog(int pri, const char *fmt, va_list ap);
void __syslog_chk(int pri, int flag, const char *fmt, ...);
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap);

void syslog(int pri, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(pri, fmt, ap);
    va_end(ap);
}

void vsyslog(int pri, const char *fmt, va_list ap) { log_line(pri, fmt, ap); }

void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
    va_list ap;
    (void)flag;
    va_start(ap, fmt);
    log_line(pri, fmt, ap);
    va_end(ap);
}

void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
    (void)flag;
    log_line(pri, fmt, ap);
}

/* ---- conversation ---- */

static void record(const char *kind, const char *text)
{
    const char *path = getenv("PAM_DRIVER_MESSAGES");
    FILE *f;
    if (path == NULL || (f = fopen(path, "a")) == NULL)
        return;
    fprintf(f, "%s: %s\n", kind, text ? text : "");
    fclose(f); /* flushed at once: the test script reads the device code while we poll */
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *appdata)
{
    struct pam_response *r;
    const char *fail = getenv("PAM_DRIVER_CONV_FAIL");
    (void)appdata;
    *resp = NULL;
    if (n <= 0 || n > PAM_MAX_NUM_MSG)
        return PAM_CONV_ERR;
    if (fail != NULL && strcmp(fail, "1") == 0) {
        record("CONV_FAIL", msg[0]->msg);
        return PAM_CONV_ERR;
    }
    r = calloc((size_t)n, sizeof *r);
    if (r == NULL)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        const char *answer = NULL;
        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
            record("PROMPT_ECHO_OFF", msg[i]->msg);
            answer = getenv("PAM_DRIVER_PASSWORD");
            if (answer == NULL)
                goto fail;
            break;
        case PAM_PROMPT_ECHO_ON:
            record("PROMPT_ECHO_ON", msg[i]->msg);
            answer = getenv("PAM_DRIVER_ECHO_ON");
            if (answer == NULL)
                answer = "";
            break;
        case PAM_TEXT_INFO:
            record("TEXT_INFO", msg[i]->msg);
            continue;
        case PAM_ERROR_MSG:
            record("ERROR_MSG", msg[i]->msg);
            continue;
        default:
            goto fail;
        }
        r[i].resp = strdup(answer);
        if (r[i].resp == NULL)
            goto fail;
    }
    *resp = r;
    return PAM_SUCCESS;
fail:
    for (int i = 0; i < n; i++)
        free(r[i].resp);
    free(r);
    return PAM_CONV_ERR;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int flag(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && strcmp(v, "1") == 0;
}

static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? atoi(v) : def;
}

int main(int argc, char **argv)
{
    struct pam_conv pc = {conv, NULL};
    int repeat = env_int("PAM_DRIVER_REPEAT", 1);

    if (argc != 4 || repeat < 1) {
        fprintf(stderr, "usage: %s CONFDIR SERVICE USER\n", argv[0]);
        return 2;
    }
    for (int i = 0; i < repeat; i++) {
        pam_handle_t *pamh = NULL;
        int rc, last;
        long long t0;

        /* Each round loads the module afresh (pam_end unloads it). */
        rc = pam_start_confdir(argv[2], argv[3], &pc, argv[1], &pamh);
        if (rc != PAM_SUCCESS) {
            fprintf(stderr, "pam_start_confdir: %s\n", code_name(rc));
            return 2;
        }
        last = rc;
        if (!flag("PAM_DRIVER_SKIP_AUTH")) {
            t0 = now_ms();
            rc = pam_authenticate(pamh, 0);
            printf("%s=%s elapsed_ms=%lld\n", i == 0 ? "authenticate" : "authenticate_again", code_name(rc),
                   now_ms() - t0);
            last = rc;
            if (rc == PAM_SUCCESS && i == 0) {
                int cr = pam_setcred(pamh, PAM_ESTABLISH_CRED);
                printf("setcred=%s\n", code_name(cr));
            }
        }
        if (i == 0 && flag("PAM_DRIVER_FORK")) {
            /* As sshd does: the handle (and the loaded module, which has already run
             * once in this process) is inherited by a child that authenticates. */
            pid_t pid;
            int status = 0;
            fflush(stdout);
            pid = fork();
            if (pid < 0) {
                perror("fork");
                return 2;
            }
            if (pid == 0) {
                int crc = pam_authenticate(pamh, 0);
                printf("child_authenticate=%s\n", code_name(crc));
                fflush(stdout);
                exit(0);
            }
            if (waitpid(pid, &status, 0) != pid) {
                perror("waitpid");
                return 2;
            }
            printf("child_exit=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
        if (flag("PAM_DRIVER_ACCT") || flag("PAM_DRIVER_SKIP_AUTH")) {
            rc = pam_acct_mgmt(pamh, 0);
            printf("acct_mgmt=%s\n", code_name(rc));
            last = rc;
        }
        fflush(stdout);
        pam_end(pamh, last);
    }
    return 0;
}
