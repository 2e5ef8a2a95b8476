/* pff.c — the command line of pff: main, the table of commands, usage and --version; and the map
 * of the whole program.
 *
 * Where things live (each folder's main header says what it owns and must never do):
 *
 *   pff.c          main: this map, the table of commands, usage and --version
 *   cli/           the command line (cli.h): the one option parser, one file per command (named
 *                  in the table below), what pff train prints (report.c), the process start
 *                  (runtime.c: OpenMP wait policy, the OpenBLAS kernel)
 *   layers/        the maths: layers, goodness, Adam, the one product pff_matmul; the one table
 *                  of settings (layers/settings.h)
 *   pipeline/      the schedules and transports (threads, MPI), the planner
 *   data/          the file formats: IDX, model, checkpoint, picture files in, logs, exports
 *   draw/          what pff draws: pictures, the Gantt chart, traces of a run
 *   setup/         what puts pff and its data on a machine: make install, the man page, the
 *                  fetch scripts of MNIST and Fashion-MNIST and their checksums
 *
 * Data flow of `pff train` (cli/cmd_train.c):
 *
 *   IDX files ──data/idx.c──▶ pff_dataset (floats in [0,1], labels)
 *        │   --val N: N training images held out by a fixed key (pipeline/shards.c)
 *        ▼  pipeline/train.c: pff_train starts N node threads (schedule.c)
 *   node: embed labels (positive: true label, negative: a wrong one) into the
 *         first 10 pixels, RMS-normalise; --augment shift first moves each
 *         image by its keyed offset of the epoch        (layers/stage.c)
 *     for each chapter c it runs, for each layer k:
 *         get layer k of chapter c-1          ◀── transport (pipeline/hub.c)
 *         C epochs of FF on its input         (layers/stage.c → layers/ff.c:
 *                                               forward, --dropout mask,
 *                                               goodness, loss, gradient
 *                                               fused with Adam and
 *                                               --weight-decay)
 *         publish layer k of chapter c        ──▶ transport
 *         map the data through layer k: the next layer's input
 *     chapter tail: softmax head on neutral-label features, adaptive or
 *         hard negatives from the goodness table of layers 2..L  (layers/net.c),
 *         --eval-every: the classifier's accuracy on the held-out set below
 *        │
 *        ▼
 *   pff_model ──layers/model.c──▶ accuracy (goodness of layers 2..L, or K..L
 *                                 with --goodness-from K; or the head) on the
 *                                 held-out set: the validation set when there
 *                                 is one (the test set then only with --test),
 *                                 else the test set
 *             ──data/model_file.c──▶ model file (--save)
 *
 * What pff train prints on the way (its opening line, a line per chapter, the
 * bar, the --log rows, the result) is cli/report.c's: pipeline/ tells a
 * pff_reporter and never prints.
 *
 * Every product goes through pff_matmul (layers/matmul.c). Which node runs
 * which (layer, chapter), and why the result does not depend on it, is told
 * at the top of pipeline/schedule.c.
 */
#include <stdio.h>
#include <string.h>

#include "pff.h"
#include "cli/cli.h"
#include "layers/layers.h"     /* pff_blas_check */
#include "pipeline/pipeline.h" /* pff_mpi_available */

/* Every command: its name, its function and the file that holds it. */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the name; returns the exit status */
    const char *file;
    const char *summary;
} commands[] = {
    {"train", pff_cmd_train, "cli/cmd_train.c", "train a network (pff train --help)"},
    {"eval", pff_cmd_eval, "cli/cmd_model.c", "accuracy of a saved model on the test set"},
    {"info", pff_cmd_info, "cli/cmd_model.c", "what a saved model holds"},
    {"schedule", pff_cmd_schedule, "cli/cmd_schedule.c",
     "draw a PFF schedule as a Gantt chart, without training"},
    {"predict", pff_cmd_predict, "cli/cmd_predict.c",
     "classify image files (PNG, JPEG, BMP) with a saved model"},
    {"export", pff_cmd_export, "cli/cmd_model.c",
     "a saved model as NumPy .npz and .safetensors files"},
    {"show", pff_cmd_show, "cli/cmd_show.c",
     "pictures: receptive fields, training curves, a test image"},
};
enum { NCOMMANDS = sizeof commands / sizeof commands[0] };

static void usage(FILE *f)
{
    fprintf(f,
            "pff %s — Forward-Forward training on Pipeline Forward-Forward schedules\n\n"
            "usage: pff COMMAND [options]\n\n"
            "commands:\n",
            PFF_VERSION);
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\npff COMMAND --help shows the options of a command; pff --version the version.\n");
}

int main(int argc, char **argv)
{
    pff_runtime_start(argv, pff_blas_check);
    if (argc < 2) {
        usage(stderr);
        return PFF_EUSAGE;
    }
    const char *c = argv[1];
    if (!strcmp(c, "--help") || !strcmp(c, "-h") || !strcmp(c, "help")) {
        usage(stdout);
        return PFF_OK;
    }
    if (!strcmp(c, "--version")) {
        printf("pff %s (BLAS: %s, MPI: %s)\n", PFF_VERSION, pff_blas_describe(),
               pff_mpi_available() ? "yes" : "no");
        return PFF_OK;
    }
    for (int i = 0; i < NCOMMANDS; i++)
        if (!strcmp(c, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "pff: unknown command '%s' (commands: train, eval, info, schedule, predict, "
                    "show, export)\n", c);
    return PFF_EUSAGE;
}
