/* tests/example.c — train a small Forward-Forward network with libpff and
 * print its test accuracy. With pff installed (make install):
 *
 *   cc -std=c11 tests/example.c $(pkg-config --cflags --libs pff) -o example
 *   ./example data/mnist
 *
 * That links the shared libpff.so.0; a static program takes the archive
 * libpff.a and the libraries it needs:
 *
 *   cc -static -std=c11 tests/example.c $(pkg-config --static --cflags --libs pff) -o example
 */
#include <pff.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "data/mnist";
    char err[PFF_ERRLEN];
    pff_dataset train, test;
    if (pff_data_load(dir, &train, &test, err)) {
        fprintf(stderr, "example: %s\n", err);
        return 1;
    }
    pff_dataset_truncate(&train, 10000); /* a quick run: 10,000 images */
    pff_dataset_truncate(&test, 2000);

    pff_config cfg;
    pff_config_default(&cfg);
    cfg.model.nlayers = 2; /* 784 -> 200 -> 200 */
    cfg.model.widths[1] = cfg.model.widths[2] = 200;
    cfg.model.epochs = cfg.model.splits = 2;
    cfg.model.lr = 0.003f;
    cfg.report.quiet = 1;

    pff_model model;
    pff_result res;
    memset(&res, 0, sizeof res);
    double goodness, softmax;
    int rc = pff_config_check(&cfg, train.dim, train.n, err);
    if (!rc)
        rc = pff_train(&cfg, &train, &model, &res, err);
    if (!rc) {
        rc = pff_evaluate(&model, &test, 1, &goodness, &softmax, err);
        pff_model_free(&model);
    }
    if (rc)
        fprintf(stderr, "example: %s\n", err);
    else
        printf("test accuracy %.2f%% on %d images after %d epochs on %d (%.1f s)\n",
               100 * goodness, test.n, cfg.model.epochs, train.n, res.train_seconds);
    free(res.spans);
    pff_dataset_free(&train);
    pff_dataset_free(&test);
    return rc;
}
