/* plan.h - Pipeline Forward-Forward schedule planner and terminal Gantt renderer.
 *
 * The planner models each schedule of DESIGN.md section 2 as a dataflow of (layer k, chapter c)
 * blocks with per-layer costs and computes when and where every block runs (no maths, no threads).
 * The renderer draws any list of spans as a text Gantt chart, one row per node; the trainer's trace
 * mode reuses it with measured spans in seconds.
 *
 * Indices in pff_span are 0-based (node 0 is printed as "node 1", layer 0 as "L1", chapter 0 as "c1").
 */
#ifndef PFF_PLAN_H
#define PFF_PLAN_H

#include <stddef.h>
#include <stdio.h>

/* One interval of work on one node. */
typedef struct {
    int node;       /* 0 .. nodes-1 */
    int layer;      /* 0 .. L-1 (ignored by the renderer for kinds other than PFF_SPAN_TRAIN) */
    int chapter;    /* 0 .. S-1 */
    int kind;       /* PFF_SPAN_* below: 0 train, 1 negatives, 2 softmax head, 3 eval, 4 wait,
                       5 map, 6 publish (an instant: start == end) */
    double start, end; /* start <= end, same unit as the chart's t_end */
} pff_span;

enum {
    PFF_SPAN_TRAIN = 0,     /* drawn "[L1c2]" (or narrower "[L1]", "[1]", "1") */
    PFF_SPAN_NEGATIVES = 1, /* drawn "#" with "neg" where it fits */
    PFF_SPAN_HEAD = 2,      /* softmax head, drawn "+" with "head" */
    PFF_SPAN_EVAL = 3,      /* drawn "*" with "eval" */
    PFF_SPAN_WAIT = 4,      /* blocked on a hand-off, drawn "~" (plain idle time is ".") */
    PFF_SPAN_MAP = 5,       /* mapping the data through a layer, drawn "=" with "map" */
    PFF_SPAN_PUBLISH = 6    /* instant event (start == end): a layer published; not drawn */
};

/* Draws one row per node ("node 1 |...|"), a time axis with ticks and a legend. Spans with an
 * unknown kind, a node out of range, non-finite times or end < start are ignored, and so are
 * PFF_SPAN_PUBLISH events (they have no length).
 * t_end <= 0: use the latest span end. width_cols <= 0: 6 columns per time unit, clamped to
 * [24, 120]; otherwise clamped to [8, PFF_GANTT_MAX_COLS]. use_color: ANSI colours, one per layer.
 * time_unit (may be NULL) is printed after the axis labels. Allocates nothing. */
#define PFF_GANTT_MAX_COLS 1000
void pff_gantt_print(FILE *f, const pff_span *spans, int nspans, int nodes, double t_end,
                     int width_cols, int use_color, const char *time_unit);

/* Same values as pff_schedule_kind in pff.h (PFF_SEQUENTIAL ... PFF_FEDERATED), so a cast converts;
 * a separate type keeps this module free of pff.h and the rest of libpff. */
typedef enum {
    PFF_PLAN_SEQUENTIAL = 0,
    PFF_PLAN_SINGLE_LAYER = 1,
    PFF_PLAN_ALL_LAYERS = 2,
    PFF_PLAN_FEDERATED = 3
} pff_plan_sched;

/* "sequential", "single-layer", "all-layers", "federated" ("?" for an unknown value). */
const char *pff_plan_sched_name(pff_plan_sched s);
/* 0 on success, -1 if the name is unknown. */
int pff_plan_sched_parse(const char *name, pff_plan_sched *out);

/* Return codes of pff_plan_compute (they double as process exit statuses). */
#define PFF_PLAN_OK 0
#define PFF_PLAN_ENOMEM 1 /* allocation failed */
#define PFF_PLAN_EINVAL 2 /* invalid configuration; the message says which field */

/* Upper bound on layers * chapters (keeps every index an int). */
#define PFF_PLAN_MAX_BLOCKS 1000000

typedef struct {
    pff_plan_sched schedule;
    int nodes;            /* >= 1; sequential: 1; single-layer: == layers */
    int layers;           /* L >= 1 */
    int splits;           /* S >= 1 (chapters) */
    const double *costs;  /* L finite values > 0, cost of one layer for one chapter; NULL: all 1.0 */
    int adaptive;         /* non-zero: chapter c's first layer waits for chapter c-lag's last layer
                             (and its negatives block); lag = 1 sequential/single-layer, N otherwise */
    double neg_cost;      /* >= 0: a negatives block after the last layer of chapters 1..S-1 */
    double map_cost;      /* >= 0: after training layer k < L, mapping the data through it costs
                             map_cost * costs[k] on the same node; the next layer of the chapter
                             waits for it (the trainer: 0.5 / epochs-per-chapter) */
} pff_plan_config;

typedef struct {
    pff_plan_sched schedule;
    int nodes, layers, splits; /* copied from the config */
    int adaptive;              /* copied from the config */
 double neg_cost;           /* copied from the config */
    double map_cost;           /* copied from the config */
    double *costs;             /* (layers) per-layer block cost actually used */
    pff_span *spans;           /* (nspans) train blocks first, index c*layers + k, then negatives */
    int nspans;                /* layers*splits + number of negatives blocks */
    double makespan;           /* latest end over all spans */
    double sequential_makespan;/* sequential schedule, same L, S, costs, adaptive, neg_cost */
    double speedup;            /* sequential_makespan / makespan */
    double *busy;              /* (nodes) summed span durations per node */
    double *utilisation;       /* (nodes) busy / makespan, in [0, 1] */
    double *bubble;            /* (nodes) 1 - utilisation */
} pff_plan;

/* Fills *out (zeroed first). Returns PFF_PLAN_OK, PFF_PLAN_EINVAL or PFF_PLAN_ENOMEM; on error
 * *out holds nothing to free and, if err != NULL, err holds a one-line message. */
int pff_plan_compute(const pff_plan_config *cfg, pff_plan *out, char *err, size_t errlen);
void pff_plan_free(pff_plan *p); /* safe on a zeroed or freed plan */

/* The training span of (layer k, chapter c), 0-based; NULL when out of range. */
const pff_span *pff_plan_block(const pff_plan *p, int k, int c);

/* Writes the plan as one JSON object on one line (with trailing newline). Returns 0, or -1 on a
 * write error. */
int pff_plan_json(FILE *f, const pff_plan *p, const char *neg_mode);

/* `pff schedule` with explicit streams. use_color: 1 on, 0 off, -1 auto (the chart's stream is a
 * terminal and NO_COLOR is unset). With --json the chart and summary go to `err` and `out` holds
 * only the JSON line. Returns the exit status: 0 ok, 1 failure, 2 usage error. */
int pff_schedule_cli(int argc, char **argv, FILE *out, FILE *err, int use_color);
/* Entry point for `pff schedule ...` (argv[0] is "schedule"): pff_schedule_cli on stdout/stderr. */
int pff_schedule_main(int argc, char **argv);
/* printf into err[errlen] (nothing when err is NULL); shared by plan.c and data/trace.c. */
void pff_plan_set_err(char *err, size_t errlen, const char *fmt, ...);

#endif /* PFF_PLAN_H */
