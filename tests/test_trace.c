/* test_trace.c - pff_trace_write (JSON, PNG, TXT, stdout) and pff_trace_summary on a synthetic
 * two-node trace. Standalone: prints one line per check, exits non-zero when any check fails.
 *
 * Built and run by `make test-unit` (build/release/tests/test_trace), linked with libpff.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "../draw/trace.h"

#include <stb/stb_image.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"


static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        char *g = realloc(buf, 2 * cap + 1);
        if (!g) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = g;
        cap *= 2;
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

static int count_prefix_lines(const char *text, const char *prefix)
{
    int n = 0;
    size_t pl = strlen(prefix);
    for (const char *l = text; l && *l;) {
        if (strncmp(l, prefix, pl) == 0) n++;
        const char *nl = strchr(l, '\n');
        l = nl ? nl + 1 : NULL;
    }
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* A small JSON parser (RFC 8259 grammar) building a tree                                     */

typedef struct jv jv;
struct jv {
    char t;      /* 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null */
    double num;  /* number; bool: 0 or 1 */
    char *str;   /* string ('?' for non-ASCII escapes) */
    int n;       /* members / elements */
    jv *items;   /* (n) */
    char **keys; /* (n) object only */
};

typedef struct {
    const char *p;
    int depth;
} jparser;

static void jv_free(jv *v)
{
    if (!v) return;
    for (int i = 0; i < v->n; i++) {
        jv_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    memset(v, 0, sizeof *v);
}

static void skip_ws(jparser *s)
{
    while (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r') s->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int parse_string(jparser *s, char **out)
{
    if (*s->p != '"') return -1;
    s->p++;
    size_t cap = 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) return -1;
    for (;;) {
        unsigned char c = (unsigned char)*s->p;
        char add;
        if (c == '"') {
            s->p++;
            break;
        }
        if (c < 0x20) goto bad; /* also the terminating NUL */
        if (c == '\\') {
            s->p++;
            switch (*s->p) {
            case '"': add = '"'; break;
            case '\\': add = '\\'; break;
            case '/': add = '/'; break;
            case 'b': add = '\b'; break;
            case 'f': add = '\f'; break;
            case 'n': add = '\n'; break;
            case 'r': add = '\r'; break;
            case 't': add = '\t'; break;
            case 'u': {
                int v = 0;
                for (int i = 1; i <= 4; i++) {
                    int h = hexval(s->p[i]);
                    if (h < 0) goto bad;
                    v = v * 16 + h;
                }
                s->p += 4;
                add = v < 0x80 ? (char)v : '?';
                break;
            }
            default: goto bad;
            }
            s->p++;
        } else {
            add = (char)c;
            s->p++;
        }
        if (n + 2 > cap) {
            char *g = realloc(buf, cap *= 2);
            if (!g) goto bad;
            buf = g;
        }
        buf[n++] = add;
    }
    buf[n] = '\0';
    *out = buf;
    return 0;
bad:
    free(buf);
    return -1;
}

static int parse_number(jparser *s, double *out)
{
    const char *q = s->p;
    if (*q == '-') q++;
    if (*q == '0') {
        q++;
    } else if (*q >= '1' && *q <= '9') {
        while (*q >= '0' && *q <= '9') q++;
    } else {
        return -1;
    }
    if (*q == '.') {
        q++;
        if (!(*q >= '0' && *q <= '9')) return -1;
        while (*q >= '0' && *q <= '9') q++;
    }
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-') q++;
        if (!(*q >= '0' && *q <= '9')) return -1;
        while (*q >= '0' && *q <= '9') q++;
    }
    *out = strtod(s->p, NULL);
    s->p = q;
    return 0;
}

static int parse_value(jparser *s, jv *v);

static int push(jv *v, char *key)
{
    jv *items = realloc(v->items, (size_t)(v->n + 1) * sizeof *items);
    if (!items) return -1;
    v->items = items;
    memset(&v->items[v->n], 0, sizeof v->items[0]);
    if (v->t == 'o') {
        char **keys = realloc(v->keys, (size_t)(v->n + 1) * sizeof *keys);
        if (!keys) return -1;
        v->keys = keys;
        v->keys[v->n] = key;
    }
    v->n++;
    return 0;
}

static int parse_container(jparser *s, jv *v, char open)
{
    const char close = open == '{' ? '}' : ']';
    v->t = open == '{' ? 'o' : 'a';
    if (++s->depth > 64) return -1;
    s->p++;
    skip_ws(s);
    if (*s->p == close) {
        s->p++;
        s->depth--;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        if (v->t == 'o') {
            skip_ws(s);
            if (parse_string(s, &key)) return -1;
            skip_ws(s);
            if (*s->p != ':') {
                free(key);
                return -1;
            }
            s->p++;
        }
        if (push(v, key)) {
            free(key);
            return -1;
        }
        if (parse_value(s, &v->items[v->n - 1])) return -1;
        skip_ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == close) {
            s->p++;
            s->depth--;
            return 0;
        }
        return -1;
    }
}

static int parse_value(jparser *s, jv *v)
{
    memset(v, 0, sizeof *v);
    skip_ws(s);
    switch (*s->p) {
    case '{':
    case '[': return parse_container(s, v, *s->p);
    case '"': v->t = 's'; return parse_string(s, &v->str);
    case 't':
        if (strncmp(s->p, "true", 4)) return -1;
        s->p += 4;
        v->t = 'b';
        v->num = 1;
        return 0;
    case 'f':
        if (strncmp(s->p, "false", 5)) return -1;
        s->p += 5;
        v->t = 'b';
        return 0;
    case 'n':
        if (strncmp(s->p, "null", 4)) return -1;
        s->p += 4;
        v->t = 'z';
        return 0;
    default: v->t = 'n'; return parse_number(s, &v->num);
    }
}

/* 0 and a tree in *root (free with jv_free) when text is exactly one JSON value. */
static int json_parse(const char *text, jv *root)
{
    jparser s = {text, 0};
    int rc = parse_value(&s, root);
    if (rc == 0) {
        skip_ws(&s);
        if (*s.p != '\0') rc = -1;
    }
    if (rc) jv_free(root);
    return rc;
}

static int json_valid(const char *text)
{
    jv v;
    int rc = json_parse(text, &v);
    if (rc == 0) jv_free(&v);
    return rc == 0;
}

static const jv *get(const jv *o, const char *key)
{
    if (!o || o->t != 'o') return NULL;
    for (int i = 0; i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0) return &o->items[i];
    return NULL;
}

static const char *get_str(const jv *o, const char *key)
{
    const jv *v = get(o, key);
    return v && v->t == 's' ? v->str : NULL;
}

static int get_num(const jv *o, const char *key, double *out)
{
    const jv *v = get(o, key);
    if (!v || v->t != 'n') return -1;
    *out = v->num;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The synthetic trace                                                                        */

#define T_END 4.0

static const pff_span trace[] = {
    /* node 1: L1 on chapters 1 and 2, negatives, head, a wait and the final evaluation */
    {0, 0, 0, PFF_SPAN_TRAIN, 0.0, 1.0},
    {0, 0, 0, PFF_SPAN_PUBLISH, 1.0, 1.0},
    {0, 0, 1, PFF_SPAN_TRAIN, 1.0, 2.0},
    {0, 1, 0, PFF_SPAN_NEGATIVES, 2.0, 2.5},
    {0, 2, 0, PFF_SPAN_HEAD, 2.5, 3.0},
    {0, 1, 1, PFF_SPAN_WAIT, 3.0, 3.5},
    {0, -1, -1, PFF_SPAN_EVAL, 3.5, 4.0},
    /* node 2: waits for L1, maps the data through it, trains L2 while node 1 trains L1 c2 */
    {1, 0, 0, PFF_SPAN_WAIT, 0.0, 1.0},
    {1, 0, 0, PFF_SPAN_MAP, 1.0, 1.25},
    {1, 1, 0, PFF_SPAN_TRAIN, 1.25, 2.75},
    {1, 1, 0, PFF_SPAN_PUBLISH, 2.75, 2.75},
    {1, 0, 1, PFF_SPAN_WAIT, 2.75, 3.0},
    {1, 1, 1, PFF_SPAN_TRAIN, 3.0, 4.2}, /* runs past t_end: clipped */
    /* ignored: a node out of range, an unknown kind, end before start */
    {7, 0, 0, PFF_SPAN_TRAIN, 0.0, 9.0},
    {0, 0, 0, 42, 0.0, 1.0},
    {1, 0, 0, PFF_SPAN_TRAIN, 2.0, 1.0},
};
#define NTRACE ((int)(sizeof trace / sizeof trace[0]))

static void test_summary(void)
{
    double busy[2], wait[2], util[2];
    pff_trace_summary(trace, NTRACE, 2, T_END, busy, wait, util);
    /* node 1: 1 + 1 + 0.5 + 0.5 busy (eval not counted), 0.5 wait; node 2: 0.25 + 1.5 + 1.0
     * (4.2 clipped to 4) busy, 1 + 0.25 wait */
    CHECK(fabs(busy[0] - 3.0) < 1e-12 && fabs(busy[1] - 2.75) < 1e-12,
          "summary: busy seconds 3 and 2.75 (got %g, %g)", busy[0], busy[1]);
    CHECK(fabs(wait[0] - 0.5) < 1e-12 && fabs(wait[1] - 1.25) < 1e-12,
          "summary: wait seconds 0.5 and 1.25 (got %g, %g)", wait[0], wait[1]);
    CHECK(fabs(util[0] - 0.75) < 1e-12 && fabs(util[1] - 0.6875) < 1e-12,
          "summary: utilisation 0.75 and 0.6875 (got %g, %g)", util[0], util[1]);
    pff_trace_summary(trace, NTRACE, 2, 0.0, busy, wait, util);
    CHECK(fabs(busy[1] - 2.95) < 1e-12 && fabs(util[1] - 2.95 / 4.2) < 1e-12,
          "summary: t_end 0 uses the latest span end 4.2 (busy %g, utilisation %g)", busy[1],
          util[1]);
    double u2[2] = {-1, -1};
    pff_trace_summary(trace, NTRACE, 2, T_END, NULL, NULL, u2);
    CHECK(fabs(u2[0] - 0.75) < 1e-12 && fabs(u2[1] - 0.6875) < 1e-12,
          "summary: utilisation alone (NULL busy and wait)");
    double z[1] = {-1};
    pff_trace_summary(NULL, 0, 1, 0.0, z, NULL, NULL);
    CHECK(z[0] == 0.0, "summary: no spans gives zero busy time");
}

static void test_validator(void)
{
    CHECK(json_valid("{\"a\":[1,-2.5e+3,true,false,null,\"x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"],"
                     "\"b\":{}} "),
          "validator: accepts objects, arrays, escapes, numbers, literals");
    CHECK(!json_valid("{\"a\":}") && !json_valid("[1,]") && !json_valid("{\"a\":1} x") &&
              !json_valid("[01]") && !json_valid("\"\\q\"") && !json_valid("[1.]") &&
              !json_valid("{a:1}") && !json_valid("[\"\t\"]") && !json_valid("[tru]") &&
              !json_valid(""),
          "validator: rejects malformed JSON");
}

static int overlap(double a0, double a1, double b0, double b1) { return a0 < b1 && b0 < a1; }

/* The metadata, complete (X) and instant events of the synthetic trace: names, tracks, times
 * inside the run, args, and the two nodes' train spans overlapping. */
static void check_json_events(const jv *ev)
{
    int names[3] = {0, 0, 0}, other_names = 0, process = 0, x_events = 0, x_bad = 0;
    int instants = 0, instants_ok = 1, args_ok = 1, overlapping = 0;
    int seen_head = 0, seen_neg = 0, seen_map = 0, seen_wait = 0, seen_eval = 0, seen_l2 = 0;
    double tr[2][8][2];
    int ntr[2] = {0, 0};
    const double t_end_us = T_END * 1e6;
    for (int i = 0; i < ev->n; i++) {
        const jv *e = &ev->items[i];
        const char *ph = get_str(e, "ph"), *name = get_str(e, "name"), *cat = get_str(e, "cat");
        double tid = -1, pid = -1, ts = -1, dur = -1;
        get_num(e, "tid", &tid);
        get_num(e, "pid", &pid);
        if (!ph || !name || pid != 1.0) {
            x_bad++;
            continue;
        }
        if (strcmp(ph, "M") == 0) {
            const char *an = get_str(get(e, "args"), "name");
            if (strcmp(name, "thread_name") == 0) {
                char want[32];
                snprintf(want, sizeof want, "node %d", (int)tid);
                if ((tid == 1.0 || tid == 2.0) && an && strcmp(an, want) == 0)
                    names[(int)tid]++;
                else
                    other_names++;
            }
            if (strcmp(name, "process_name") == 0 && an && strcmp(an, "pff") == 0) process++;
        } else if (strcmp(ph, "X") == 0) {
            x_events++;
            if (get_num(e, "ts", &ts) || get_num(e, "dur", &dur) || ts < 0.0 || dur < 0.0 ||
                ts + dur > t_end_us + 1.0 || !(tid == 1.0 || tid == 2.0) || !cat)
                x_bad++;
            const jv *args = get(e, "args");
            double layer = 0, chapter = 0;
            if (strcmp(name, "L2 c1") == 0) {
                seen_l2 = 1;
                args_ok &= get_num(args, "layer", &layer) == 0 && layer == 2.0 &&
                           get_num(args, "chapter", &chapter) == 0 && chapter == 1.0 &&
                           tid == 2.0 && cat && strcmp(cat, "train") == 0;
            }
            seen_head |= strcmp(name, "head c1") == 0 && get_num(args, "layer", &layer) == 0 &&
                         layer == 3.0;
            seen_neg |= strcmp(name, "negatives c1") == 0;
            seen_map |= strcmp(name, "map L1 c1") == 0 && tid == 2.0 &&
                        fabs(ts - 1e6) <= 1.0 && fabs(dur - 0.25e6) <= 1.0;
            seen_wait |= strcmp(name, "wait L1 c1") == 0 && tid == 2.0;
            seen_eval |= strcmp(name, "eval") == 0 && tid == 1.0 && get(args, "layer") == NULL;
            if (cat && strcmp(cat, "train") == 0 && (tid == 1.0 || tid == 2.0)) {
                int n = (int)tid - 1;
                if (ntr[n] < 8) {
                    tr[n][ntr[n]][0] = ts;
                    tr[n][ntr[n]][1] = ts + dur;
                    ntr[n]++;
                }
            }
        } else if (strcmp(ph, "i") == 0) {
            instants++;
            instants_ok &= get_num(e, "ts", &ts) == 0 && strncmp(name, "publish", 7) == 0 &&
                           get(e, "dur") == NULL;
        }
    }
    CHECK(names[1] == 1 && names[2] == 1 && other_names == 0,
          "json: exactly one thread_name track per node, \"node 1\" and \"node 2\" (%d, %d, %d "
          "others)", names[1], names[2], other_names);
    CHECK(process == 1, "json: one process_name metadata event \"pff\"");
    CHECK(x_events == 11 && x_bad == 0,
          "json: 11 X events, each with 0 <= ts and ts + dur <= t_end (%d events, %d bad)",
          x_events, x_bad);
    CHECK(instants == 2 && instants_ok, "json: two publish instant events (%d)", instants);
    CHECK(seen_l2 && args_ok, "json: \"L2 c1\" on node 2 with args layer 2, chapter 1");
    CHECK(seen_head && seen_neg && seen_map && seen_wait && seen_eval,
          "json: head, negatives, map, wait and eval events named as documented");
    for (int a = 0; a < ntr[0]; a++)
        for (int b = 0; b < ntr[1]; b++)
            overlapping |= overlap(tr[0][a][0], tr[0][a][1], tr[1][b][0], tr[1][b][1]);
    CHECK(ntr[0] == 2 && ntr[1] == 2 && overlapping,
          "json: the two nodes' train spans overlap in time");
}

/* The flow arrow of the trace's one hand-off and the queue-depth counters. */
static void check_json_flows(const jv *ev)
{
    /* the one hand-off of the synthetic trace: node 1 publishes L1 c1 at 1.0 s, node 2 waited
     * for it until 1.0 s; the arrow starts in node 1's "L1 c1" and ends in node 2's "map L1 c1" */
    int flow_s = 0, flow_f = 0, flow_ok = 1, counters = 0, counters_ok = 1;
    for (int i = 0; i < ev->n; i++) {
        const jv *e = &ev->items[i];
        const char *ph = get_str(e, "ph"), *name = get_str(e, "name");
        double tid = -1, ts = -1, id = -1, depth = -1;
        get_num(e, "tid", &tid);
        get_num(e, "ts", &ts);
        get_num(e, "id", &id);
        if (ph && (!strcmp(ph, "s") || !strcmp(ph, "f"))) {
            const int start = !strcmp(ph, "s");
            flow_s += start;
            flow_f += !start;
            flow_ok &= name && !strcmp(name, "hand-off L1 c1") && id == 1.0 &&
                       tid == (start ? 1.0 : 2.0) &&
                       (start ? ts > 0.0 && ts < 1e6 : ts > 1e6 && ts < 1.25e6) &&
                       (start || (get_str(e, "bp") && !strcmp(get_str(e, "bp"), "e")));
        }
        if (ph && !strcmp(ph, "C")) {
            counters++;
            counters_ok &= name && !strncmp(name, "queue L", 7) &&
                           get_num(get(e, "args"), "depth", &depth) == 0 && depth >= 0.0 &&
                           depth <= 1.0;
        }
    }
    CHECK(flow_s == 1 && flow_f == 1 && flow_ok,
          "json: one flow pair for the one hand-off, inside node 1's L1 c1 and node 2's map "
          "(%d s, %d f)", flow_s, flow_f);
    CHECK(counters == 5 && counters_ok,
          "json: queue-depth counters: L1 0, 1, 0 and L2 0, 1 (%d events)", counters);
}

static void test_json(const char *path)
{
    char err[PFF_ERRLEN];
    int rc = pff_trace_write(path, trace, NTRACE, 2, T_END, err);
    CHECK(rc == 0 && err[0] == '\0', "json: written (rc %d, '%s')", rc, err);
    char *text = slurp(path, NULL);
    jv root;
    int ok = text && json_parse(text, &root) == 0;
    CHECK(ok, "json: well-formed");
    free(text);
    if (!ok) return;
    const jv *ev = get(&root, "traceEvents");
    CHECK(root.t == 'o' && ev && ev->t == 'a', "json: an object with a traceEvents array");
    if (ev && ev->t == 'a') {
        check_json_events(ev);
        check_json_flows(ev);
    }
    jv_free(&root);
}

static unsigned be32(const unsigned char *p)
{
    return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

static int pixel_is(const unsigned char *img, int w, int x, int y, int r, int g, int b)
{
    const unsigned char *p = img + ((size_t)y * w + x) * 3;
    return p[0] == r && p[1] == g && p[2] == b;
}

static void test_png(const char *path)
{
    char err[PFF_ERRLEN];
    int rc = pff_trace_write(path, trace, NTRACE, 2, T_END, err);
    CHECK(rc == 0, "png: written (rc %d, '%s')", rc, err);
    size_t len = 0;
    unsigned char *data = (unsigned char *)slurp(path, &len);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    CHECK(data && len > 33 && memcmp(data, sig, 8) == 0, "png: starts with the PNG signature");
    CHECK(data && len > 33 && be32(data + 8) == 13 && memcmp(data + 12, "IHDR", 4) == 0 &&
              be32(data + 16) == PFF_TRACE_PNG_WIDTH &&
              be32(data + 20) == (unsigned)PFF_TRACE_PNG_HEIGHT(2),
          "png: IHDR is %dx%d", PFF_TRACE_PNG_WIDTH, PFF_TRACE_PNG_HEIGHT(2));
    int w = 0, h = 0, comp = 0;
    unsigned char *img =
        data ? stbi_load_from_memory(data, (int)len, &w, &h, &comp, 3) : NULL;
    CHECK(img && w == PFF_TRACE_PNG_WIDTH && h == PFF_TRACE_PNG_HEIGHT(2),
          "png: decodes to the same size");
    if (img) {
        /* plot area from x = 124, 1048 pixels for 4 s; rows of 28 pixels from y = 40, bars from
         * 4 pixels below a row's top; points away from labels and block edges */
        CHECK(pixel_is(img, w, 140, 45, 31, 119, 180), "png: node 1 at 0.06 s is layer 1's blue");
        CHECK(pixel_is(img, w, 648, 73, 255, 127, 14), "png: node 2 at 2 s is layer 2's orange");
        CHECK(pixel_is(img, w, 420, 73, 40, 40, 40), "png: node 2 at 1.1 s is the map colour");
        stbi_image_free(img);
    }
    free(data);
}

static void test_txt(const char *path)
{
    char err[PFF_ERRLEN];
    int rc = pff_trace_write(path, trace, NTRACE, 2, T_END, err);
    CHECK(rc == 0, "txt: written (rc %d, '%s')", rc, err);
    char *text = slurp(path, NULL);
    CHECK(text && count_prefix_lines(text, "node") == 2, "txt: one line starting with \"node\" "
                                                         "per node");
    CHECK(text && strstr(text, "[L2c1") && strstr(text, "map") && strstr(text, "~") &&
              !strchr(text, '\033'),
          "txt: train and map blocks, waits, no colour codes");
    free(text);
}

static void test_stdout(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/stdout.out", dir);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int rc = -1;
    char err[PFF_ERRLEN] = "";
    if (saved >= 0 && fd >= 0 && dup2(fd, STDOUT_FILENO) >= 0) {
        rc = pff_trace_write("-", trace, NTRACE, 2, T_END, err);
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
    }
    if (fd >= 0) close(fd);
    if (saved >= 0) close(saved);
    char *text = slurp(path, NULL);
    CHECK(rc == 0 && text && count_prefix_lines(text, "node") == 2,
          "stdout: \"-\" prints the chart, one \"node\" line per node");
    free(text);
    unlink(path);
}

/* Names in dir other than "." and "..", newline-separated. */
static void list_dir(const char *dir, char *out, size_t n)
{
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        strncat(out, e->d_name, n - strlen(out) - 1);
        strncat(out, "\n", n - strlen(out) - 1);
    }
    closedir(d);
}

static int count_entries(const char *dir)
{
    char buf[4096];
    list_dir(dir, buf, sizeof buf);
    int n = 0;
    for (const char *p = buf; *p; p++) n += *p == '\n';
    return n;
}

static void test_failures(const char *dir)
{
    char path[4096], err[512];
    int before = count_entries(dir);

    snprintf(path, sizeof path, "%s/trace.bmp", dir);
    int rc = pff_trace_write(path, trace, NTRACE, 2, T_END, err);
    struct stat st;
    CHECK(rc == 2 && strstr(err, path) && stat(path, &st) != 0 && count_entries(dir) == before,
          "bad extension: returns 2, names the file, leaves no file ('%s')", err);
    snprintf(path, sizeof path, "%s/trace", dir);
    rc = pff_trace_write(path, trace, NTRACE, 2, T_END, err);
    CHECK(rc == 2 && count_entries(dir) == before, "no extension: returns 2, leaves no file");

    snprintf(path, sizeof path, "%s/missing/trace.json", dir);
    rc = pff_trace_write(path, trace, NTRACE, 2, T_END, err);
    CHECK(rc == 2 && strstr(err, path) && count_entries(dir) == before,
          "missing directory: returns 2 ('%s')", err);

    snprintf(path, sizeof path, "%s/trace.txt/trace.png", dir); /* parent is a file */
    rc = pff_trace_write(path, trace, NTRACE, 2, T_END, err);
    CHECK(rc == 2 && strstr(err, path) && count_entries(dir) == before,
          "parent is a file (unwritable, also for root): returns 2, leaves nothing ('%s')", err);

    char ro[4096];
    snprintf(ro, sizeof ro, "%s/readonly", dir);
    if (mkdir(ro, 0500) == 0) {
        snprintf(path, sizeof path, "%s/trace.json", ro);
        /* root (CI) writes into a read-only directory anyway: then the check cannot
         * run here, and says so; "parent is a file" above is the check root gets */
        char probe[4096];
        snprintf(probe, sizeof probe, "%s/probe", ro);
        int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd >= 0) {
            close(fd);
            unlink(probe);
            SKIP("read-only directory: this user (uid %d) can write into a 0500 directory",
                 (int)geteuid());
        } else {
            rc = pff_trace_write(path, trace, NTRACE, 2, T_END, err);
            CHECK(rc == 2 && strstr(err, path) && count_entries(ro) == 0,
                  "read-only directory: returns 2, leaves nothing ('%s')", err);
        }
        unlink(path);
        rmdir(ro);
    } else {
        CHECK(0, "mkdir %s: %s", ro, strerror(errno));
    }

    snprintf(path, sizeof path, "%s/sub.json", dir); /* the target is a directory: rename fails */
    if (mkdir(path, 0700) == 0) {
        rc = pff_trace_write(path, trace, NTRACE, 2, T_END, err);
        CHECK(rc == 2 && strstr(err, "rename") && count_entries(dir) == before + 1,
              "target is a directory: returns 2, temporary file removed ('%s')", err);
        rmdir(path);
    }

    snprintf(path, sizeof path, "%s/zero.json", dir);
    rc = pff_trace_write(path, trace, NTRACE, 0, T_END, err);
    CHECK(rc == 2 && count_entries(dir) == before, "zero nodes: returns 2");
}

/* A real run's trace (tests/test_trace_run.sh): well-formed, one track per
 * node, every complete event inside [0, the last end], the nodes' training
 * spans overlapping in time; with layers > 0 the hand-offs (check_handoffs). */
/* Is there a complete event on track tid with ts strictly inside it? */
static int inside_x(const jv *ev, double tid, double ts)
{
    for (int i = 0; i < ev->n; i++) {
        const jv *e = &ev->items[i];
        const char *ph = get_str(e, "ph");
        double t = -1, a = -1, d = -1;
        if (ph && !strcmp(ph, "X") && !get_num(e, "tid", &t) && t == tid && !get_num(e, "ts", &a) &&
            !get_num(e, "dur", &d) && a < ts && ts < a + d)
            return 1;
    }
    return 0;
}

/* An all-layers run (tests/test_trace_run.sh): named tracks, per-span args, and one flow pair
 * per hand-off: node (c-1) mod N publishes layer k (and the head) of chapter c, node c mod N
 * takes it for chapter c+1, so (chapters - 1) x (layers + head) pairs. */
static void check_handoffs(const jv *ev, int nodes, int layers, int chapters, int head)
{
    enum { MAXF = 4096 };
    static int seen_s[MAXF], seen_f[MAXF];
    memset(seen_s, 0, sizeof seen_s);
    memset(seen_f, 0, sizeof seen_f);
    int named[65] = {0}, process = 0, train = 0, train_args = 0, bad_flow = 0, unbound = 0;
    int counters = 0, counter_bad = 0, maxid = 0;
    for (int i = 0; i < ev->n; i++) {
        const jv *e = &ev->items[i];
        const char *ph = get_str(e, "ph"), *name = get_str(e, "name"), *cat = get_str(e, "cat");
        const jv *args = get(e, "args");
        double tid = -1, ts = -1, id = -1, v = -1;
        get_num(e, "tid", &tid);
        get_num(e, "ts", &ts);
        get_num(e, "id", &id);
        if (!ph || !name) continue;
        if (!strcmp(ph, "M") && !strcmp(name, "thread_name") && tid >= 1 && tid <= 64) {
            char want[32];
            snprintf(want, sizeof want, "node %d", (int)tid);
            const char *an = get_str(args, "name");
            named[(int)tid] += an && !strcmp(an, want);
        }
        if (!strcmp(ph, "M") && !strcmp(name, "process_name"))
            process += get_str(args, "name") && !strcmp(get_str(args, "name"), "pff");
        if (!strcmp(ph, "X") && cat && !strcmp(cat, "train")) {
            double layer = -1, chapter = -1, images = -1, gflops = -1;
            train++;
            train_args += !get_num(args, "layer", &layer) && layer >= 1 && layer <= layers &&
                          !get_num(args, "chapter", &chapter) && chapter >= 1 &&
                          chapter <= chapters && !get_num(args, "images", &images) && images > 0 &&
                          !get_num(args, "gflops", &gflops) && gflops > 0;
        }
        if (!strcmp(ph, "C")) {
            counters++;
            counter_bad += get_num(args, "depth", &v) || v < 0 || v > 1 || strncmp(name, "queue ", 6);
        }
        if (strcmp(ph, "s") && strcmp(ph, "f")) continue;
        const int start = !strcmp(ph, "s");
        int k = 0, c = 0;
        char what[16] = "";
        if (id < 1 || id >= MAXF || (sscanf(name, "hand-off L%d c%d", &k, &c) != 2 &&
                                     (sscanf(name, "hand-off %15s c%d", what, &c) != 2 ||
                                      strcmp(what, "head") || !head))) {
            bad_flow++;
            continue;
        }
        maxid = (int)id > maxid ? (int)id : maxid;
        /* chapter c (1-based) was trained by node (c-1) mod N, its successor takes it */
        const double from = (c - 1) % nodes + 1, to = c % nodes + 1;
        if (c < 1 || c >= chapters || tid != (start ? from : to) || (k && k > layers))
            bad_flow++;
        unbound += !inside_x(ev, tid, ts);
        (start ? seen_s : seen_f)[(int)id]++;
    }
    int pairs = 0, odd = 0;
    for (int i = 1; i <= maxid && i < MAXF; i++) {
        pairs += seen_s[i] == 1 && seen_f[i] == 1;
        odd += seen_s[i] != seen_f[i] || seen_s[i] > 1;
    }
    const int want = (chapters - 1) * (layers + head);
    int all_named = process == 1;
    for (int n = 1; n <= nodes; n++)
        all_named &= named[n] == 1;
    CHECK(all_named, "real trace: process \"pff\" and tracks named \"node 1\"..\"node %d\"", nodes);
    CHECK(train > 0 && train_args == train,
          "real trace: every training span has args layer, chapter, images, gflops (%d of %d)",
          train_args, train);
    CHECK(pairs == want && odd == 0 && bad_flow == 0,
          "real trace: %d flow pairs (s, f) for the schedule's %d hand-offs ((%d chapters - 1) x "
          "(%d layers + %d head)), each from node (c-1) mod %d to node c mod %d (%d unpaired, %d "
          "wrong)", pairs, want, chapters, layers, head, nodes, nodes, odd, bad_flow);
    CHECK(unbound == 0, "real trace: every flow end lies inside a span of its track (%d outside)",
          unbound);
    CHECK(counters >= 2 * (layers + head) && counter_bad == 0,
          "real trace: %d queue-depth counter events, depth 0 or 1 (%d bad)", counters, counter_bad);
}

static int check_real(const char *path, int nodes, int layers, int chapters, int head)
{
    char *text = slurp(path, NULL);
    jv root;
    int ok = text && json_parse(text, &root) == 0;
    free(text);
    CHECK(ok, "real trace %s: well-formed JSON", path);
    if (!ok)
        return 1;
    const jv *ev = get(&root, "traceEvents");
    int tracks[65] = {0}, bad = 0, x = 0, overlap_found = 0, ntrain = 0;
    static double tr[4096][3];
    for (int i = 0; ev && ev->t == 'a' && i < ev->n; i++) {
        const jv *e = &ev->items[i];
        const char *ph = get_str(e, "ph"), *name = get_str(e, "name"), *cat = get_str(e, "cat");
        double tid = -1, ts = -1, dur = -1;
        get_num(e, "tid", &tid);
        if (!ph || !name) {
            bad++;
            continue;
        }
        if (!strcmp(ph, "M") && !strcmp(name, "thread_name") && tid >= 1 && tid <= 64)
            tracks[(int)tid]++;
        if (!strcmp(ph, "X")) {
            x++;
            if (get_num(e, "ts", &ts) || get_num(e, "dur", &dur) || ts < 0 || dur < 0 || tid < 1 ||
                tid > nodes)
                bad++;
            else if (cat && !strcmp(cat, "train") && ntrain < 4096) {
                tr[ntrain][0] = tid, tr[ntrain][1] = ts, tr[ntrain][2] = ts + dur;
                ntrain++;
            }
        }
    }
    int one_each = 1;
    for (int n = 1; n <= nodes; n++)
        one_each &= tracks[n] == 1;
    for (int a = 0; a < ntrain; a++)
        for (int b = 0; b < ntrain; b++)
            overlap_found |= tr[a][0] != tr[b][0] && overlap(tr[a][1], tr[a][2], tr[b][1], tr[b][2]);
    CHECK(one_each, "real trace: exactly one track per node (%d nodes)", nodes);
    CHECK(x > 0 && bad == 0, "real trace: %d complete events, %d malformed or outside the run", x,
          bad);
    CHECK(nodes < 2 || overlap_found, "real trace: training spans of different nodes overlap");
    if (layers > 0)
        check_handoffs(ev, nodes, layers, chapters, head);
    jv_free(&root);
    return check_report("test_trace (real run)");
}

int main(int argc, char **argv)
{
    check_verbose = 1;
    if (argc == 3)
        return check_real(argv[1], atoi(argv[2]), 0, 0, 0);
    if (argc == 6) /* FILE NODES LAYERS CHAPTERS HEAD: an all-layers run's hand-offs too */
        return check_real(argv[1], atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    char dir[] = "/tmp/pff-test-trace-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char json[4096], png[4096], txt[4096];
    snprintf(json, sizeof json, "%s/trace.json", dir);
    snprintf(png, sizeof png, "%s/trace.png", dir);
    snprintf(txt, sizeof txt, "%s/trace.txt", dir);

    test_summary();
    test_validator();
    test_json(json);
    test_json(json); /* overwriting an existing file */
    test_png(png);
    test_txt(txt);
    test_stdout(dir);

    char names[4096];
    list_dir(dir, names, sizeof names);
    CHECK(count_entries(dir) == 3 && strstr(names, "trace.json\n") &&
              strstr(names, "trace.png\n") && strstr(names, "trace.txt\n"),
          "directory holds exactly the three traces (no temporary files)");
    mode_t mask = umask(0);
    umask(mask);
    struct stat st;
    int st_ok = stat(json, &st) == 0;
    CHECK(st_ok && (st.st_mode & 0777) == (0666 & ~mask),
          "json: file mode 0666 & ~umask (%o)", (unsigned)(st.st_mode & 0777));

    test_failures(dir);

    if (getenv("PFF_TEST_KEEP")) {
        printf("# kept %s\n", dir);
    } else {
        unlink(json);
        unlink(png);
        unlink(txt);
        rmdir(dir);
    }
    return check_report("test_trace");
}
