/* draw/gantt.h — spans, and the text Gantt chart that draws them.
 *
 * A span is one interval of work on one node: the planner (pipeline/plan.c) produces them in
 * units of work, a training run (pipeline/) records them in seconds, and the pictures of a
 * schedule draw them: this text chart (`pff schedule`, `--trace FILE.txt` and `--trace -`) and the
 * trace files. The chart draws any list of spans, one row per node.
 *
 * Indices in pff_span are 0-based (node 0 is printed as "node 1", layer 0 as "L1", chapter 0 as "c1").
 */
#ifndef PFF_GANTT_H
#define PFF_GANTT_H

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

#endif /* PFF_GANTT_H */
