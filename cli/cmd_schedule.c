/* cli/cmd_schedule.c - `pff schedule`: plans a Pipeline Forward-Forward schedule in units of work
 * (pipeline/plan.c, no training) and prints it as a text Gantt chart (draw/gantt.c), a summary
 * of makespan, speed-up and utilisation per node, and with --json the plan as one JSON object.
 *
 * Its options go through the one parser (cli.c, pff_args_next); the command words its own errors
 * ("pff schedule: --nodes: expected ..., found 'x' (see 'pff schedule --help')"), one line each,
 * exit status PFF_EUSAGE.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "pff.h"
#include "cli.h"
#include "layers/layers.h" /* pff_neg_from_net: the negatives policy of pff train */
#include "pipeline/plan.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCHED_MAX_LAYERS 100000

typedef struct {
    pff_plan_sched schedule;
    int nodes;         /* 0: default for the schedule */
    int layers;        /* L */
    int splits;
    double *costs;     /* (layers) or NULL: from widths or all 1 */
    int ncosts;
    long *widths;      /* (layers+1) or NULL */
    const char *neg;   /* one of the names of the settings table's neg row */
    pff_neg_kind kind; /* the same, as the library's enum */
    double neg_cost;
    double map_cost;
    int width;         /* 0: automatic */
    int json;
} sched_opts;

static int usage(FILE *err, const char *fmt, ...)
{
    va_list ap;
    fputs("pff schedule: ", err);
    va_start(ap, fmt);
    vfprintf(err, fmt, ap);
    va_end(ap);
    fputs(" (see 'pff schedule --help')\n", err);
    return PFF_EUSAGE;
}

/* "a | b | c": the names of a settings-table row, so that the help lists what the parser takes. */
static const char *row_names(const char *row, char *buf, size_t n)
{
    const pff_setting *st = pff_setting_find(row);
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < st->nnames && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? " | " : "", st->names[i]);
    return buf;
}

static void print_help(FILE *out)
{
    char sched[128], neg[128];
    fprintf(out,
        "usage: pff schedule [options]\n"
        "\n"
        "Plans a Pipeline Forward-Forward schedule in units of work (no training) and draws it as a\n"
        "Gantt chart: one row per node, one block per (layer k, chapter c), '.' where a node idles.\n"
        "One time unit = training one layer of cost 1 for one chapter (C = E/S epochs).\n"
        "\n"
        "options:\n"
        "  --schedule S    %s (default all-layers)\n"
        "  --nodes N       nodes (default: %s)\n"
        "  --layers X      layer count (default 3), or widths like 784,2000,2000 (L = count - 1,\n"
        "                  costs proportional to in*out of each layer, mean 1)\n"
        "  --splits S      chapters (default 3)\n"
        "  --costs A,B,..  L positive per-layer block costs (overrides widths)\n"
        "  --neg MODE      %s (default random); those taken from\n"
        "                  the network make chapter c wait for it after chapter c-lag (lag 1 for\n"
        "                  sequential and single-layer, N for all-layers and federated)\n"
        "  --neg-cost X    cost of regenerating negatives after each chapter but the last\n"
        "  --map-cost X    cost of mapping the data through a layer, as a fraction of training\n"
        "                  it for a chapter (the trainer: 0.5 / epochs per chapter)\n"
        "                  (default 0; ignored with --neg fixed, which draws them once)\n"
        "  --width COLS    chart width in columns, 8..%d (default 6 per unit, at most 120)\n"
        "  --json          print one JSON object on stdout; the chart goes to stderr\n"
        "  -h, --help      this help\n"
        "\n"
        "Colour is used when the chart goes to a terminal and NO_COLOR is unset.\n"
        "example: pff schedule --schedule all-layers --nodes 3 --layers 3 --splits 6\n",
        row_names("schedule", sched, sizeof sched), pff_setting_find("nodes")->def_text,
        row_names("neg", neg, sizeof neg), PFF_GANTT_MAX_COLS);
}

static int out_of_memory(FILE *err, const char *what)
{
    fprintf(err, "pff schedule: out of memory%s%s\n", what ? " parsing " : "", what ? what : "");
    return PFF_EFAIL;
}

/* Calls item(o, i, text, v, err) for each comma-separated item of v, i from 0, text the item alone,
 * until one fails; flag names v in the out-of-memory message. */
static int each_item(const char *v, const char *flag, sched_opts *o, FILE *err,
                     int (*item)(sched_opts *o, int i, const char *text, const char *v, FILE *err))
{
    char *copy = malloc(strlen(v) + 1);
    if (!copy) return out_of_memory(err, flag);
    strcpy(copy, v);
    int rc = PFF_OK, i = 0;
    for (char *t = copy, *end; rc == PFF_OK && t; t = end ? end + 1 : NULL, i++) {
        end = strchr(t, ',');
        if (end) *end = '\0';
        rc = item(o, i, t, v, err);
    }
    free(copy);
    return rc;
}

static int count_items(const char *s)
{
    int n = 1;
    for (; *s; s++)
        if (*s == ',') n++;
    return n;
}

static int width_item(sched_opts *o, int i, const char *text, const char *v, FILE *err)
{
    if (pff_parse_long(text, 1, 100000000L, &o->widths[i]))
        return usage(err, "--layers: width %d: expected a positive integer, found '%s' (in '%s')",
                     i + 1, text, v);
    return PFF_OK;
}

static int cost_item(sched_opts *o, int i, const char *text, const char *v, FILE *err)
{
    if (pff_parse_double(text, &o->costs[i]) || o->costs[i] <= 0.0)
        return usage(err, "--costs: value %d: expected a positive number, found '%s' (in '%s')",
                     i + 1, text, v);
    return PFF_OK;
}

/* --layers: a count, or widths (L = count - 1, costs from in*out). */
static int parse_layers(const char *v, sched_opts *o, FILE *err)
{
    free(o->widths);
    o->widths = NULL;
    if (!strchr(v, ',')) {
        long n;
        if (pff_parse_long(v, 1, SCHED_MAX_LAYERS, &n))
            return usage(err, "--layers: expected a layer count (1..%d) or widths like "
                              "784,2000,2000, found '%s'", SCHED_MAX_LAYERS, v);
        o->layers = (int)n;
        return PFF_OK;
    }
    int n = count_items(v), rc;
    if (n - 1 > SCHED_MAX_LAYERS)
        return usage(err, "--layers: expected at most %d layers, found %d", SCHED_MAX_LAYERS,
                     n - 1);
    if (!(o->widths = malloc((size_t)n * sizeof *o->widths))) return out_of_memory(err, "--layers");
    if ((rc = each_item(v, "--layers", o, err, width_item))) return rc;
    o->layers = n - 1;
    return PFF_OK;
}

static int parse_costs(const char *v, sched_opts *o, FILE *err)
{
    free(o->costs);
    o->costs = NULL;
    int n = count_items(v), rc;
    if (!(o->costs = malloc((size_t)n * sizeof *o->costs))) return out_of_memory(err, "--costs");
    if ((rc = each_item(v, "--costs", o, err, cost_item))) return rc;
    o->ncosts = n;
    return PFF_OK;
}

/* The table's order is the OPT_* order. */
enum { OPT_SCHEDULE, OPT_NODES, OPT_LAYERS, OPT_SPLITS, OPT_COSTS, OPT_NEG, OPT_NEG_COST,
       OPT_MAP_COST, OPT_WIDTH, OPT_JSON, OPT_HELP };

static const pff_option sched_options[] = {
    {"schedule", 1, "S"}, {"nodes", 1, "N"},      {"layers", 1, "X"},       {"splits", 1, "S"},
    {"costs", 1, "A,B,.."}, {"neg", 1, "MODE"},   {"neg-cost", 1, "X"},     {"map-cost", 1, "X"},
    {"width", 1, "COLS"}, {"json", 0, ""},        {"help", 0, ""},          {NULL, 0, NULL}};

/* "(expected --schedule, ..., --json or --help)", from the option table */
static const char *expected_options(char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "(expected");
    for (int i = 0; sched_options[i].name && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s --%s",
                                 i == 0 ? "" : sched_options[i + 1].name ? "," : " or",
                                 sched_options[i].name);
    if (used < n)
        snprintf(buf + used, n - used, ")");
    return buf;
}

/* What an argument that is not a well-formed option is, in this command's words. */
static int argument_error(pff_arg_kind k, const pff_args *a, FILE *err)
{
    const char *s = a->arg;
    char expected[256];
    switch (k) {
    case PFF_ARG_POSITIONAL:
        if (s[0] != '-' || strcmp(s, "--") == 0 || strcmp(s, "-") == 0)
            return usage(err, "unexpected argument '%s' (expected an option such as --nodes 3)", s);
        return usage(err, "unknown option '%s' %s", s, expected_options(expected, sizeof expected));
    case PFF_ARG_UNKNOWN:
        return usage(err, "unknown option '%.*s' %s", a->namelen + 2, s,
                     expected_options(expected, sizeof expected));
    case PFF_ARG_MISSING_VALUE:
        return usage(err, "--%s: missing value", a->name);
    default: /* PFF_ARG_EXTRA_VALUE */
        return usage(err, "--%.*s: takes no value, found '%s'", a->namelen, a->name, a->value);
    }
}

/* A kind that is a row of the settings table (--schedule, --neg): its names and its wording
 * come from the table, as for pff train. */
static int setting_kind(const char *row, const char *v, int *out, const char **name, FILE *err)
{
    const pff_setting *st = pff_setting_find(row);
    char expected[160];
    for (int i = 0; i < st->nnames; i++)
        if (!strcmp(v, st->names[i])) {
            *out = i;
            if (name)
                *name = st->names[i];
            return PFF_OK;
        }
    pff_setting_expected(st, 0, expected, sizeof expected);
    return usage(err, "--%s: expected %s, found '%s'", st->flag, expected, v);
}

/* One option and its value, checked alone. */
static int set_option(sched_opts *o, int id, const char *v, FILE *err)
{
    long n;
    double d;
    int kind, rc;
    switch (id) {
    case OPT_JSON: o->json = 1; break;
    case OPT_SCHEDULE:
        return setting_kind("schedule", v, (int *)&o->schedule, NULL, err);
    case OPT_NODES:
        if (pff_parse_long(v, 1, 1000000L, &n))
            return usage(err, "--nodes: expected a positive integer, found '%s'", v);
        o->nodes = (int)n;
        break;
    case OPT_SPLITS:
        if (pff_parse_long(v, 1, PFF_PLAN_MAX_BLOCKS, &n))
            return usage(err, "--splits: expected a positive integer (1..%d), found '%s'",
                         PFF_PLAN_MAX_BLOCKS, v);
        o->splits = (int)n;
        break;
    case OPT_WIDTH:
        if (pff_parse_long(v, 8, PFF_GANTT_MAX_COLS, &n))
            return usage(err, "--width: expected a column count from 8 to %d, found '%s'",
                         PFF_GANTT_MAX_COLS, v);
        o->width = (int)n;
        break;
    case OPT_LAYERS: return parse_layers(v, o, err);
    case OPT_COSTS: return parse_costs(v, o, err);
    case OPT_NEG:
        if ((rc = setting_kind("neg", v, &kind, &o->neg, err)))
            return rc;
        o->kind = (pff_neg_kind)kind;
        break;
    case OPT_NEG_COST:
        if (pff_parse_double(v, &d) || d < 0.0)
            return usage(err, "--neg-cost: expected a number >= 0, found '%s'", v);
        o->neg_cost = d;
        break;
    case OPT_MAP_COST:
        if (pff_parse_double(v, &d) || d < 0.0)
            return usage(err, "--map-cost: expected a number >= 0, found '%s'", v);
        o->map_cost = d;
        break;
    default: break;
    }
    return PFF_OK;
}

/* Checks across flags, and the node count's default. */
static int check_options(sched_opts *o, int nodes_set, FILE *err)
{
    const int L = o->layers;
    if (!nodes_set) {
        o->nodes = pff_default_nodes((pff_schedule_kind)o->schedule, L); /* pff train's too */
    } else if (o->schedule == PFF_PLAN_SEQUENTIAL && o->nodes != 1) {
        return usage(err, "--nodes: sequential runs on 1 node, found %d", o->nodes);
    } else if (o->schedule == PFF_PLAN_SINGLE_LAYER && o->nodes != L) {
        return usage(err, "--nodes: single-layer needs one node per layer (expected %d = number "
                          "of layers), found %d", L, o->nodes);
    }
    if (o->costs && o->ncosts != L)
        return usage(err, "--costs: expected %d value%s (one per layer), found %d", L,
                     L == 1 ? "" : "s", o->ncosts);
    if ((long long)L * o->splits > PFF_PLAN_MAX_BLOCKS)
        return usage(err, "--layers x --splits: expected at most %d blocks, found %lld",
                     PFF_PLAN_MAX_BLOCKS, (long long)L * o->splits);
    return PFF_OK;
}

/* Reads the options in order: the first error, or --help (printed on out), ends the reading. */
static int parse_args(int argc, char **argv, sched_opts *o, FILE *out, FILE *err, int *help)
{
    int nodes_set = 0, rc;
    pff_args a;
    pff_args_start(&a, argc, argv, sched_options);
    for (pff_arg_kind k; (k = pff_args_next(&a)) != PFF_ARG_END;) {
        if (k != PFF_ARG_OPTION) return argument_error(k, &a, err);
        if (a.opt == OPT_HELP) {
            *help = 1;
            print_help(out);
            return PFF_OK;
        }
        if ((rc = set_option(o, a.opt, a.value, err))) return rc;
        nodes_set |= a.opt == OPT_NODES;
    }
    return check_options(o, nodes_set, err);
}

/* 4 significant digits, but no exponent for values a user reads as plain numbers (1234.5). */
static void print_num(FILE *f, double v)
{
    if (v >= 1000.0 && v < 1e15) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.1f", v);
        size_t n = strlen(buf);
        if (n > 2 && strcmp(buf + n - 2, ".0") == 0) buf[n - 2] = '\0';
        fputs(buf, f);
    } else {
        fprintf(f, "%.4g", v);
    }
}

/* The plan as one JSON object on one line (with trailing newline). 0, or -1 on a write error. */
static int plan_json(FILE *f, const pff_plan *p, const char *neg_mode)
{
    if (!f || !p) return -1;
    fprintf(f, "{\"schedule\":\"%s\",\"nodes\":%d,\"layers\":%d,\"splits\":%d",
            pff_plan_sched_name(p->schedule), p->nodes, p->layers, p->splits);
    if (neg_mode) {
        fputs(",\"neg\":", f);
        pff_json_str(f, neg_mode);
    }
    fprintf(f, ",\"adaptive\":%s,\"neg_cost\":", p->adaptive ? "true" : "false");
    pff_json_num(f, "%.10g", p->neg_cost);
    fputs(",\"costs\":[", f);
    for (int k = 0; k < p->layers; k++) {
        if (k) fputc(',', f);
        pff_json_num(f, "%.10g", p->costs[k]);
    }
    fputs("],\"makespan\":", f);
    pff_json_num(f, "%.10g", p->makespan);
    fputs(",\"sequential_makespan\":", f);
    pff_json_num(f, "%.10g", p->sequential_makespan);
    fputs(",\"speedup\":", f);
    pff_json_num(f, "%.10g", p->speedup);
    fputs(",\"nodes_detail\":[", f);
    for (int n = 0; n < p->nodes; n++) {
        fprintf(f, "%s{\"node\":%d,\"busy\":", n ? "," : "", n + 1);
        pff_json_num(f, "%.10g", p->busy[n]);
        fputs(",\"utilisation\":", f);
        pff_json_num(f, "%.10g", p->utilisation[n]);
        fputs(",\"bubble\":", f);
        pff_json_num(f, "%.10g", p->bubble[n]);
        fputc('}', f);
    }
    fputs("]}\n", f);
    return ferror(f) ? -1 : 0;
}
/* Costs from widths: in*out per layer, normalised to mean 1. NULL when out of memory. */
static double *costs_from_widths(const sched_opts *o)
{
    double *c = malloc((size_t)o->layers * sizeof *c);
    if (!c) return NULL;
    double sum = 0.0;
    for (int k = 0; k < o->layers; k++) {
        c[k] = (double)o->widths[k] * (double)o->widths[k + 1];
        sum += c[k];
    }
    for (int k = 0; k < o->layers; k++) c[k] *= (double)o->layers / sum;
    return c;
}

/* The heading, the chart and the summary per node, on chart. */
static void print_plan(FILE *chart, const pff_plan *plan, const sched_opts *o, int colour)
{
    const int fixed = o->kind == PFF_NEG_FIXED;
    fprintf(chart, "%s schedule: %d node%s, %d layer%s, %d chapter%s, negatives %s",
            pff_plan_sched_name(plan->schedule), plan->nodes, plan->nodes == 1 ? "" : "s",
            plan->layers, plan->layers == 1 ? "" : "s", plan->splits, plan->splits == 1 ? "" : "s",
            o->neg);
    if (plan->neg_cost > 0.0) {
        fputs(" (regeneration cost ", chart);
        print_num(chart, plan->neg_cost);
        fputc(')', chart);
    } else if (fixed && o->neg_cost > 0.0) {
        fputs(" (drawn once: --neg-cost ignored)", chart);
    }
    fputs("\nlayer costs:", chart);
    for (int k = 0; k < plan->layers && k < 64; k++) {
        fprintf(chart, " L%d=", k + 1);
        print_num(chart, plan->costs[k]);
    }
    if (plan->layers > 64) fputs(" ...", chart);
    if (o->widths && !o->costs) fputs(" (from in*out of each layer, mean 1)", chart);
    fputs("\n\n", chart);

    pff_gantt_print(chart, plan->spans, plan->nspans, plan->nodes, plan->makespan, o->width, colour,
                    "units");

    fputs("\nmakespan ", chart);
    print_num(chart, plan->makespan);
    fputs(" layer-chapter units, sequential ", chart);
    print_num(chart, plan->sequential_makespan);
    fprintf(chart, ", speed-up %.2fx\n", plan->speedup);
    int digits = 1;
    for (int n = plan->nodes; n >= 10; n /= 10) digits++;
    for (int n = 0; n < plan->nodes; n++) {
        fprintf(chart, "node %*d: busy ", digits, n + 1);
        print_num(chart, plan->busy[n]);
        fprintf(chart, ", utilisation %5.1f%%, bubble %5.1f%%\n", 100.0 * plan->utilisation[n],
                100.0 * plan->bubble[n]);
    }
}

int pff_schedule_cli(int argc, char **argv, FILE *out, FILE *err, int use_color)
{
    sched_opts o;
    memset(&o, 0, sizeof o);
    o.schedule = PFF_PLAN_ALL_LAYERS;
    o.layers = 3;
    o.splits = 3;
    o.neg = "random";
    o.kind = PFF_NEG_RANDOM;
    int help = 0;
    int rc = parse_args(argc, argv, &o, out, err, &help);
    double *wcosts = NULL;
    pff_plan plan;
    memset(&plan, 0, sizeof plan);
    if (rc != PFF_OK || help) goto done;

    if (!o.costs && o.widths && !(wcosts = costs_from_widths(&o))) {
        rc = out_of_memory(err, NULL);
        goto done;
    }
    const int fixed = o.kind == PFF_NEG_FIXED;
    pff_plan_config cfg = {
        .schedule = o.schedule,
        .nodes = o.nodes,
        .layers = o.layers,
        .splits = o.splits,
        .costs = o.costs ? o.costs : wcosts,
        .adaptive = pff_neg_from_net(o.kind), /* the policy of pff train (layers/layers.h) */
        .neg_cost = fixed ? 0.0 : o.neg_cost,
        .map_cost = o.map_cost,
    };
    char msg[PFF_ERRLEN];
    rc = pff_plan_compute(&cfg, &plan, msg);
    if (rc == PFF_EUSAGE) {
        usage(err, "%s", msg);
        goto done;
    }
    if (rc != PFF_OK) {
        fprintf(err, "pff schedule: %s\n", msg);
        goto done;
    }

    FILE *chart = o.json ? err : out;
    int colour = use_color;
    if (colour < 0) colour = isatty(fileno(chart)) && getenv("NO_COLOR") == NULL;
    print_plan(chart, &plan, &o, colour);
    if (o.json && plan_json(out, &plan, o.neg) != 0) rc = PFF_EFAIL;
    if (fflush(out) != 0 || ferror(out)) {
        fputs("pff schedule: error writing the output\n", err);
        rc = PFF_EFAIL;
    }

done:
    pff_plan_free(&plan);
    free(wcosts);
    free(o.costs);
    free(o.widths);
    return rc;
}

int pff_cmd_schedule(int argc, char **argv)
{
    return pff_schedule_cli(argc, argv, stdout, stderr, -1);
}

int pff_schedule_main(int argc, char **argv)
{
    return pff_cmd_schedule(argc, argv);
}
