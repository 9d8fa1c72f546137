/* test_ws_static.c — unit tests for ws_static.c, the files a WebSocketPort serves from
 * WebSocketWebRoot: index.html for / and directories, content types, the HTML flag (CSP), and
 * every way out of the root refused (.., encoded dots, hidden files, a symbolic link leading
 * outside, absolute-looking paths, control bytes), over-size files refused. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "bridge/ws_static.h"

static char root[64], outside[64];

static void put(const char *rel, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static unsigned get(const char *uri, char **body, const char **ctype, int *html)
{
    size_t len = 0;
    *body = NULL;
    *ctype = NULL;
    unsigned st = om_ws_static_get(root, uri, body, &len, ctype, html);
    if (st == 200 && (!*body || strlen(*body) != len)) return 999;
    return st;
}

static void test_setup(void)
{
    snprintf(root, sizeof root, "/tmp/om-static-XXXXXX");
    snprintf(outside, sizeof outside, "/tmp/om-outside-XXXXXX");
    CHECK(mkdtemp(root) && mkdtemp(outside));
    char p[256];
    snprintf(p, sizeof p, "%s/sub", root);
    CHECK(mkdir(p, 0700) == 0);
    put("index.html", "<!doctype html><title>om</title>");
    put("app.js", "export const x = 1;\n");
    put("sub/index.html", "<p>sub</p>");
    put(".hidden", "secret");
    snprintf(p, sizeof p, "%s/secret.txt", outside);
    FILE *f = fopen(p, "w");
    if (f) fclose(f);
    char link[256];
    snprintf(link, sizeof link, "%s/out", root);
    CHECK(symlink(outside, link) == 0);
    snprintf(link, sizeof link, "%s/big.bin", root);
    int fd = open(link, O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0 && ftruncate(fd, (off_t)OM_WS_STATIC_MAX_FILE + 1) == 0);
    if (fd >= 0) close(fd);
}

static void test_files_and_types(void)
{
    char *b;
    const char *t;
    int html;
    CHECK_EQ_INT(get("/", &b, &t, &html), 200);
    CHECK(b && !strcmp(b, "<!doctype html><title>om</title>") && html &&
          !strncmp(t, "text/html", 9));
    free(b);
    CHECK_EQ_INT(get("/index.html?fetch=http://x/", &b, &t, &html), 200); /* query ignored */
    free(b);
    CHECK_EQ_INT(get("/app.js", &b, &t, &html), 200);
    CHECK(!html && !strncmp(t, "text/javascript", 15));
    free(b);
    CHECK_EQ_INT(get("/sub", &b, &t, &html), 200);
    CHECK(b && !strcmp(b, "<p>sub</p>"));
    free(b);
    CHECK_EQ_INT(get("/sub/", &b, &t, &html), 200);
    free(b);
    CHECK_EQ_INT(get("/nope.js", &b, &t, &html), 404);
    CHECK_EQ_INT(get("/big.bin", &b, &t, &html), 413);
    CHECK(!b);
}

static void test_no_way_out(void)
{
    const char *bad[] = {"/../etc/passwd",
                         "/sub/../index.html",
                         "/%2e%2e/etc/passwd",
                         "/.hidden",
                         "/out/secret.txt",
                         "/out",
                         "//etc/passwd",
                         "/sub/..",
                         "/app.js\x01",
                         "/a b",
                         "",
                         "index.html",
                         "/\\..\\x",
                         "/sub/./index.html"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *b;
        const char *t;
        int html;
        unsigned st = get(bad[i], &b, &t, &html);
        CHECK_MSG(st == 404 && !b, "\"%s\": %u", bad[i], st);
        free(b);
    }
    char *b;
    size_t len;
    const char *t;
    int html;
    CHECK_EQ_INT(om_ws_static_get(NULL, "/", &b, &len, &t, &html), 404);
    CHECK_EQ_INT(om_ws_static_get("/nonexistent-om-root", "/", &b, &len, &t, &html), 404);
}

static void test_teardown(void)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", root, outside);
    CHECK(system(cmd) == 0);
}

static const om_test_t tests[] = {
    OM_TEST(test_setup),
    OM_TEST(test_files_and_types),
    OM_TEST(test_no_way_out),
    OM_TEST(test_teardown),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("ws_static", tests, argc, argv);
}
