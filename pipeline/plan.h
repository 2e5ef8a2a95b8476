/* plan.h - Pipeline Forward-Forward schedule planner.
 *
 * The planner models each schedule of DESIGN.md section 2 as a dataflow of (layer k, chapter c)
 * blocks with per-layer costs and computes when and where every block runs (no maths, no threads,
 * no printing). Its blocks are spans (draw/gantt.h, included here), which the text Gantt chart of
 * draw/gantt.c draws; `pff schedule` (cli/cmd_schedule.c) prints them.
 */
#ifndef PFF_PLAN_H
#define PFF_PLAN_H

#include <stddef.h>
#include <stdio.h>

#include "../pff.h"      /* PFF_OK, PFF_EUSAGE, PFF_EFAIL, PFF_ERRLEN */
#include "../draw/gantt.h" /* pff_span, and pff_gantt_print for the planner's users */

/* Same values as pff_schedule_kind in pff.h (PFF_SEQUENTIAL ... PFF_FEDERATED), so a cast converts;
 * the planner's own name for it says that a plan is a model of a schedule, not a run. */
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

/* Fills *out (zeroed first). Returns PFF_OK, PFF_EUSAGE (an invalid configuration: the message
 * names the field) or PFF_EFAIL (out of memory), as the rest of libpff; on error *out holds
 * nothing to free and err[PFF_ERRLEN] a one-line message. */
int pff_plan_compute(const pff_plan_config *cfg, pff_plan *out, char *err);
void pff_plan_free(pff_plan *p); /* safe on a zeroed or freed plan */

/* The training span of (layer k, chapter c), 0-based; NULL when out of range. */
const pff_span *pff_plan_block(const pff_plan *p, int k, int c);

#endif /* PFF_PLAN_H */
