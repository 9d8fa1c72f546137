/* test.h — a minimal test harness for onionmesh's C tests. Each test binary defines test
 * functions, lists them in a table and calls om_test_main(). Output is one line per test:
 * "ok - suite/name" or "not ok - suite/name: reason", then "# N passed, N failed". tools/run-tests
 * counts these lines across every binary. A CHECK failure ends the current test only. */
#ifndef OM_TEST_H
#define OM_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    void (*fn)(void);
} om_test_t;

extern int om_test_failed_flag;
extern char om_test_reason[512];

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            snprintf(om_test_reason, sizeof om_test_reason, "%s:%d: CHECK(%s)", __FILE__,          \
                     __LINE__, #cond);                                                             \
            om_test_failed_flag = 1;                                                               \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            int off_ =                                                                             \
                snprintf(om_test_reason, sizeof om_test_reason, "%s:%d: ", __FILE__, __LINE__);    \
            snprintf(om_test_reason + off_, sizeof om_test_reason - (size_t)off_, __VA_ARGS__);    \
            om_test_failed_flag = 1;                                                               \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    CHECK_MSG((long long)(a) == (long long)(b), "%s == %lld, expected %s == %lld", #a,             \
              (long long)(a), #b, (long long)(b))

/* CHECK_EQ_INT evaluates its operands again for its message: a call with effects goes here
 * (evaluated once; the message says what it returned). */
#define CHECK_RET(call, want)                                                                      \
    do {                                                                                           \
        long long r_ = (long long)(call);                                                          \
        CHECK_MSG(r_ == (long long)(want), "%s returned %lld, expected %lld", #call, r_,           \
                  (long long)(want));                                                              \
    } while (0)

#define CHECK_MEM(a, b, n) CHECK_MSG(memcmp((a), (b), (n)) == 0, "memory %s != %s", #a, #b)

/* Decode a hex string literal into a buffer; aborts the process on bad test data. */
size_t om_test_unhex(const char *hex, uint8_t *out, size_t outsz);

/* Read tests/data/<relpath> (the directory from $OM_TEST_DATA_DIR, else the build's default)
 * into a malloc'd NUL-terminated buffer; NULL (with a note on stderr) if it cannot be read. */
char *om_test_read_data(const char *relpath, size_t *len);

int om_test_main(const char *suite, const om_test_t *tests, int argc, char **argv);

#define OM_TEST(name)                                                                              \
    {                                                                                              \
#name, name                                                                                \
    }

#endif
