/* data/checkpoint.h — the checkpoint file's content in memory: the training
 * state after a chapter, as the schedules fill it and the file holds it
 * (data/checkpoint.c). Loading, reading and freeing one are public (pff.h). */
#ifndef PFF_CHECKPOINT_H
#define PFF_CHECKPOINT_H

#include <stdint.h>

#include "../layers/layers.h"

/* The training state after chapter next-1. */
struct pff_checkpoint {
    pff_config cfg;          /* every setting of the run */
    int next;                /* chapters completed */
    long train_n;            /* training images of the run */
    pff_layer **layer;       /* [L] parameters, Adam moments and steps */
    pff_layer *head;         /* softmax head or NULL */
    pff_stage_stats *stats;  /* [next][L+1] per-chapter sums (the model's records) */
    double *acc;             /* [next] test accuracy, -1: not measured */
    int nneg;                /* adaptive negatives already made for coming chapters */
    uint8_t **neg;           /* [nneg] (neg_n[i]) labels */
    long *neg_n;             /* [nneg] */
    int *neg_chapter;        /* [nneg] the chapter each serves */
    pff_run_record rec;      /* data set, limits, outputs (strings owned, NULL: none) */
};
/* Writes ck to path atomically (pff_write_atomic). */
int pff_checkpoint_save(const pff_checkpoint *ck, const char *path, char *err);

#endif
