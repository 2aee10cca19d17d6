/* Library calls a view makes must fit the stack a view runs on: the server
 * runs each request on a coroutine with a 64 KiB stack (256 KiB under ASan)
 * and a guard page below it, so a function with a large frame crashes the
 * worker (found by examples/tutorial's /file saving a 3 MiB upload). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/coro.h"
#include "vial.h"

typedef struct save_job {
    const vial_file *file;
    const char *dest;
    int rc;
} save_job;

static void save_on_coroutine(void *arg) {
    save_job *job = arg;
    job->rc = vial_file_save(job->file, job->dest);
}

/* FileStorage.save of an upload that went to a temp file (above the 500 KiB threshold). */
Test(app_stack, file_save_from_disk_fits_a_view_stack) {
    char src[] = "/tmp/vial-stack-src-XXXXXX", dest[] = "/tmp/vial-stack-dst-XXXXXX";
    int fd = mkstemp(src), dfd = mkstemp(dest);
    cr_assert(fd >= 0 && dfd >= 0);
    close(dfd);
    size_t size = 3u << 20;
    char *bytes = malloc(size);
    for (size_t i = 0; i < size; i++) bytes[i] = (char)(i * 7 + (i >> 11));
    cr_assert_eq(write(fd, bytes, size), (ssize_t)size);
    close(fd);
    vial_file file = {.field = "avatar", .filename = "big.png", .size = size, .path = src};

    vial_coro_pool pool;
    vial_coro_pool_init(&pool, 0, 1); /* the server's default stack */
    save_job job = {&file, dest, -1};
    vial_coro *co = vial_coro_start(&pool, save_on_coroutine, &job);
    cr_assert_not_null(co);
    cr_assert(vial_coro_resume(co), "the save did not finish");
    cr_assert_eq(job.rc, 0);

    FILE *f = fopen(dest, "rb");
    cr_assert_not_null(f);
    char *back = malloc(size + 1);
    cr_assert_eq(fread(back, 1, size + 1, f), size);
    fclose(f);
    cr_assert(memcmp(back, bytes, size) == 0);
    free(back);
    free(bytes);
    unlink(src);
    unlink(dest);
    vial_coro_pool_destroy(&pool);
}
