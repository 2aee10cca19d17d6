/* log.c - one line per event, to stderr or a log file.
 *
 * Each line is formatted into a local buffer and written with a single
 * write(2), so lines from several worker processes never interleave. The
 * master reopens the file on SIGUSR1 (log rotation) through vial_log_reopen. */
#include "vial.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 2;
static int log_level = VIAL_LOG_INFO;
static char log_path[1024];

static const char *level_names[] = {"DEBUG", "INFO", "WARNING", "ERROR"};

void vial_log_set_level(int level) { log_level = level; }
int vial_log_get_level(void) { return log_level; }

int vial_log_open(const char *path) {
    if (!path || !*path) {
        if (log_fd > 2) close(log_fd);
        log_fd = 2;
        log_path[0] = '\0';
        return 0;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    if (log_fd > 2) close(log_fd);
    log_fd = fd;
    snprintf(log_path, sizeof log_path, "%s", path);
    return 0;
}

int vial_log_reopen(void) { return log_path[0] ? vial_log_open(log_path) : 0; }

void vial_vlog(int level, const char *fmt, va_list ap) {
    if (level < log_level) return;
    if (level < 0) level = 0;
    if (level > VIAL_LOG_ERROR) level = VIAL_LOG_ERROR;
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "[%Y-%m-%d %H:%M:%S +0000]", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, " [%d] [%s] ", (int)getpid(), level_names[level]);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    if (m < 0) m = 0;
    n += m;
    if (n > (int)sizeof line - 2) {
        n = (int)sizeof line - 5;
        memcpy(line + n, "...", 3);
        n += 3;
    }
    line[n++] = '\n';
    int saved = errno;
    ssize_t w = write(log_fd, line, (size_t)n);
    (void)w;
    errno = saved;
}

void vial_log(int level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vial_vlog(level, fmt, ap);
    va_end(ap);
}
