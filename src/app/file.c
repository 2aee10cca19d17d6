/* file.c - uploaded files (Werkzeug's FileStorage): lookup by field,
 * save(path), and the bytes of a file whether it stayed in memory or was
 * streamed to a temp file by the multipart parser.
 *
 * save() always writes the whole file: Werkzeug copies from the stream's
 * current position, so a second save() there writes an empty file; here it
 * writes the same bytes again. A temp file is copied with copy_file_range
 * (the kernel moves the bytes; reflinks where the filesystem can). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "app/forms.h"

vial_file *vial_files_get(const vial_files *files, const char *field) {
    for (size_t i = 0; i < files->len; i++)
        if (strcmp(files->items[i]->field, field) == 0) return files->items[i];
    return NULL;
}

vial_files vial_files_getlist(const vial_files *files, const char *field, vial_arena *a) {
    vial_files out = {NULL, 0};
    size_t count = 0;
    for (size_t i = 0; i < files->len; i++) count += strcmp(files->items[i]->field, field) == 0;
    if (!count || !(out.items = vial_arena_alloc(a, count * sizeof *out.items))) return out;
    for (size_t i = 0; i < files->len; i++)
        if (strcmp(files->items[i]->field, field) == 0) out.items[out.len++] = files->items[i];
    return out;
}

static int write_all(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        s += w, n -= (size_t)w;
    }
    return 0;
}

/* Copies size bytes of src (from offset 0, without moving its offset) to dst. */
static int copy_fd(int src, int dst, size_t size) {
    loff_t off = 0;
    while ((size_t)off < size) {
        ssize_t n = copy_file_range(src, &off, dst, NULL, size - (size_t)off, 0);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) break; /* source shorter than expected */
        /* EXDEV, ENOSYS, EINVAL...: copy through a buffer. A small one: views run on
         * 64 KiB coroutine stacks, and the frame is reserved even when this path is not taken. */
        char chunk[8192];
        while ((size_t)off < size) {
            size_t want = size - (size_t)off < sizeof chunk ? size - (size_t)off : sizeof chunk;
            ssize_t r = pread(src, chunk, want, off);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return r < 0 ? -1 : 0;
            if (write_all(dst, chunk, (size_t)r) != 0) return -1;
            off += r;
        }
    }
    return 0;
}

int vial_file_save(const vial_file *file, const char *path) {
    if (!file || !path) {
        errno = EINVAL;
        return -1;
    }
    int src = -1;
    if (file->path && (src = open(file->path, O_RDONLY | O_CLOEXEC)) < 0) return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        int saved = errno;
        if (src >= 0) close(src);
        errno = saved;
        return -1;
    }
    int rc = src >= 0 ? copy_fd(src, fd, file->size) : write_all(fd, file->data ? file->data : "", file->size);
    int saved = errno;
    if (src >= 0) close(src);
    if (close(fd) != 0 && rc == 0) return -1;
    errno = saved;
    return rc;
}

const char *vial_file_bytes(const vial_file *file, vial_arena *a) {
    if (file->data) return file->data;
    if (!file->path) return NULL;
    int fd = open(file->path, O_RDONLY | O_CLOEXEC);
    char *out = fd >= 0 ? vial_arena_alloc(a, file->size + 1) : NULL;
    size_t got = 0;
    while (out && got < file->size) {
        ssize_t r = read(fd, out + got, file->size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
            out = NULL;
        else
            got += (size_t)r;
    }
    if (fd >= 0) close(fd);
    if (out) out[got] = '\0';
    return out;
}
