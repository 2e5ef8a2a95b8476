/* draw/trace.h - Writing the measured spans of a real `pff train` run (--trace FILE), drawn from
 * the spans pipeline/ records (pff_span, draw/gantt.h).
 *
 * Spans are pff_span (gantt.h) with times in seconds from the start of training, 0-based indices:
 * PFF_SPAN_TRAIN (layer, chapter), PFF_SPAN_HEAD (layer = number of FF layers, chapter),
 * PFF_SPAN_NEGATIVES (chapter), PFF_SPAN_MAP (layer, chapter), PFF_SPAN_WAIT (layer = the layer or
 * item waited for, chapter), PFF_SPAN_EVAL (node 0) and PFF_SPAN_PUBLISH instants (start == end).
 * Spans with a node outside 0..nodes-1, an unknown kind, non-finite times or end < start are
 * skipped; the others are clipped to [0, t_end]. t_end <= 0 (or not finite): the latest span end.
 */
#ifndef PFF_TRACE_H
#define PFF_TRACE_H

#include <stddef.h>

#include "../pff.h"   /* PFF_OK, PFF_EUSAGE, PFF_EFAIL, PFF_ERRLEN */
#include "gantt.h" /* pff_span */

/* PNG geometry: fixed width, one PFF_TRACE_PNG_ROW-pixel row per node plus a title band above and
 * the time axis and a two-line legend below. At most PFF_TRACE_PNG_MAX_NODES nodes. */
#define PFF_TRACE_PNG_WIDTH 1200
#define PFF_TRACE_PNG_ROW 28
#define PFF_TRACE_PNG_HEIGHT(nodes) (40 + (nodes) * PFF_TRACE_PNG_ROW + 104)
#define PFF_TRACE_PNG_MAX_NODES 1024

/* Writes a trace of a real run. The format follows the path: ".json" Chrome Trace Event Format
 * (loadable in Perfetto and chrome://tracing: one track per node, named "node 1".., complete "X"
 * events with ts/dur in microseconds, name like "L2 c3" / "head c3" / "negatives c3" /
 * "map L1 c3" / "wait L2 c3", args {layer, chapter} 1-based, instant "i" events for publish, a
 * process_name metadata event "pff"); ".png" a Gantt picture (PFF_TRACE_PNG_WIDTH x
 * PFF_TRACE_PNG_HEIGHT(nodes)): one row per node, one colour per layer (head, negatives, map,
 * wait in distinct colours), a legend, a time axis with tick labels in seconds; "-" the terminal
 * Gantt chart (pff_gantt_print, 100 columns, colour when stdout is a terminal and NO_COLOR is
 * unset) on stdout, ".txt" the same without colour into the file. Extensions match case-
 * insensitively.
 * Returns PFF_OK, or with a message in err (which file, what went wrong):
 *   PFF_EUSAGE  what the caller or user can fix: no path, nodes < 1, an extension that is none of
 *               these, more than PFF_TRACE_PNG_MAX_NODES nodes for a PNG, a file that cannot be
 *               created or renamed there (missing or read-only directory, a directory in the way);
 *   PFF_EFAIL   anything else: out of memory, a failed write, fsync or encoding, stdout failing.
 * Files are written atomically by pff_write_atomic_stream (data/data.h: temp file in the same
 * directory + rename, mode 0666 & ~umask) and nothing is left behind on failure. err holds
 * PFF_ERRLEN bytes; on success err[0] is '\0'. */
int pff_trace_write(const char *path, const pff_span *spans, int nspans, int nodes, double t_end,
                    char *err);

/* What the JSON trace can tell about a run beyond its spans; every field is optional (0 / NULL:
 * unknown). With it, pff_trace_write_run adds to each span's args the images it worked on and,
 * for training and mapping, its GFLOP and GFLOP/s (DESIGN.md section 5: training 8 x in x out
 * per image and epoch, mapping 4 x in x out per image). */
typedef struct {
    int ring;                /* 1: a channel per (layer), its hand-offs labelled (layer, chapter)
                                unambiguously (sequential, all-layers, federated); 0: single-
                                layer, whose channels share labels: no flows, no counters */
    int nlayers;             /* L */
    const int *widths;       /* [L+1] input width first */
    int head_in;             /* softmax head features D (0: no head) */
    int epochs_per_chapter;  /* C */
    const long *node_images; /* [nodes] training images of each node (its shard in federated) */
    const char *schedule;    /* its name, for otherData */
} pff_trace_info;

/* pff_trace_write with run information (info may be NULL). In the JSON only, on top of the spans:
 *  - flow arrows: for each wait span (the node taking layer k of chapter c from a channel) the
 *    publish of the same (k, c) that it took, latest at or before the wait's end: a flow start
 *    "s" inside the publisher's last busy span before the publish, a flow end "f" ("bp":"e")
 *    inside the taker's first busy span after the wait (the work that uses the layer), both with
 *    one id, cat "handoff", name "hand-off L2 c3", args {from, to, waited_ms};
 *  - counters "C" named "queue L2" ("queue head", "queue negatives") with args {depth}: layers
 *    published and not yet taken, per channel, at every publish and take.
 * Flows and counters are written when info is NULL or info->ring is set. */
int pff_trace_write_run(const char *path, const pff_span *spans, int nspans, int nodes,
                        double t_end, const pff_trace_info *info, char *err);

/* Per node busy seconds (train+head+negatives+map), wait seconds, utilisation = busy / t_end
 * (0 when t_end and every span end are 0). Each output array has `nodes` entries and may be NULL.
 * Durations are summed after clipping to [0, t_end]; overlapping spans on one node count twice. */
void pff_trace_summary(const pff_span *spans, int nspans, int nodes, double t_end,
                       double *busy, double *wait, double *utilisation);

#endif /* PFF_TRACE_H */
