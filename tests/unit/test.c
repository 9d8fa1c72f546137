/* test.c — the test harness runner (see test.h). */
#include "test.h"

#include <ctype.h>

int om_test_failed_flag;
char om_test_reason[512];

size_t om_test_unhex(const char *hex, uint8_t *out, size_t outsz)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        if (isspace((unsigned char)*p)) continue;
        int v;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else {
            fprintf(stderr, "bad hex in test data: %s\n", hex);
            abort();
        }
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= outsz) {
                fprintf(stderr, "test hex too long\n");
                abort();
            }
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        fprintf(stderr, "odd hex length in test data\n");
        abort();
    }
    return n;
}

#ifndef OM_TEST_DATA_DIR
#define OM_TEST_DATA_DIR "tests/data"
#endif

char *om_test_read_data(const char *relpath, size_t *len)
{
    const char *dir = getenv("OM_TEST_DATA_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : OM_TEST_DATA_DIR, relpath);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "# cannot open %s\n", path);
        return NULL;
    }
    char *buf = NULL;
    long sz = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
        buf = malloc((size_t)sz + 1);
    if (buf && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[sz] = '\0';
        *len = (size_t)sz;
    }
    return buf;
}

int om_test_main(const char *suite, const om_test_t *tests, int argc, char **argv)
{
    int passed = 0, failed = 0;
    const char *only = argc > 1 ? argv[1] : NULL;
    for (const om_test_t *t = tests; t->name; t++) {
        if (only && !strstr(t->name, only)) continue;
        om_test_failed_flag = 0;
        om_test_reason[0] = 0;
        t->fn();
        if (om_test_failed_flag) {
            printf("not ok - %s/%s: %s\n", suite, t->name, om_test_reason);
            failed++;
        } else {
            printf("ok - %s/%s\n", suite, t->name);
            passed++;
        }
        fflush(stdout);
    }
    printf("# %s: %d passed, %d failed\n", suite, passed, failed);
    return failed ? 1 : 0;
}
