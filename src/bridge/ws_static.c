/* ws_static.c — files under WebSocketWebRoot for plain HTTP GETs (ws_static.h). A request path is
 * checked byte by byte (printable ASCII, no segment starting with '.', so no "..", no hidden
 * files), joined to the root, resolved with realpath and served only if it still lies inside the
 * resolved root and is a regular file. */
#include "bridge/ws_static.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json"},
};

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext)) return types[i].type;
    return "application/octet-stream";
}

/* The request path up to '?' when it is clean: printable ASCII, no segment starting with '.'. */
static int clean_path(const char *uri, char *out, size_t outsz)
{
    size_t n = strcspn(uri, "?#");
    if (!n || uri[0] != '/' || n >= outsz) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)uri[i];
        if (c <= ' ' || c >= 127 || c == '\\' || c == '%') return -1;
        if (c == '/' && i + 1 < n && uri[i + 1] == '.') return -1;
    }
    memcpy(out, uri, n);
    out[n] = 0;
    return 0;
}

static unsigned read_file(const char *path, const struct stat *st, char **body, size_t *len)
{
    if (st->st_size > (off_t)OM_WS_STATIC_MAX_FILE) return 413;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 404;
    size_t want = (size_t)st->st_size, got = 0;
    char *b = malloc(want + 1);
    while (b && got < want) {
        ssize_t r = read(fd, b + got, want - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!b || got != want) {
        free(b);
        return 404;
    }
    b[got] = 0;
    *body = b;
    *len = got;
    return 200;
}

unsigned om_ws_static_get(const char *root, const char *uri, char **body, size_t *len,
                          const char **ctype, int *html)
{
    char rel[512], joined[PATH_MAX + 600], real_root[PATH_MAX], real[PATH_MAX];
    *html = 0;
    if (!root || clean_path(uri, rel, sizeof rel) < 0 || !realpath(root, real_root)) return 404;
    snprintf(joined, sizeof joined, "%s%s", real_root, rel);
    struct stat st;
    if (!realpath(joined, real) || stat(real, &st) < 0) return 404;
    if (S_ISDIR(st.st_mode)) {
        snprintf(joined, sizeof joined, "%s/index.html", real);
        if (!realpath(joined, real) || stat(real, &st) < 0) return 404;
    }
    size_t rl = strlen(real_root);
    if (strncmp(real, real_root, rl) != 0 || (real[rl] != '/' && real[rl] != 0) ||
        !S_ISREG(st.st_mode))
        return 404;
    unsigned status = read_file(real, &st, body, len);
    if (status != 200) return status;
    *ctype = type_of(real);
    *html = !strncmp(*ctype, "text/html", 9);
    return 200;
}
