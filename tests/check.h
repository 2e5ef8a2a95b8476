/* tests/check.h — the one assertion vocabulary of pff's C tests.
 *
 *   CHECK(cond, fmt, ...)   counts a check; a failure prints FAIL with the
 *                           file, line, condition and the printf-style message,
 *                           and the test goes on
 *   CHECK_NEAR(a, b, tol, what)  |a - b| <= tol
 *   SKIP(fmt, ...)          a check that cannot run here: printed as
 *                           "skipped", counted apart, never as passed
 *   check_verbose = 1       also prints one "ok" line per passing check
 *   return check_report("name");   prints "name: N checks, F failed, K skipped"
 *                           and gives 1 when anything failed, else 0
 */
#ifndef PFF_CHECK_H
#define PFF_CHECK_H
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static int check_failures, check_count, check_skipped, check_verbose;

__attribute__((format(printf, 5, 6), unused)) static void
check_at(int ok, const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    check_count++;
    if (ok && !check_verbose)
        return;
    FILE *f = ok ? stdout : stderr;
    if (ok)
        fprintf(f, "ok   %d - ", check_count);
    else {
        check_failures++;
        fprintf(f, "FAIL %s:%d: %s: ", file, line, cond);
    }
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fflush(f);
}

__attribute__((format(printf, 1, 2), unused)) static void check_skip(const char *fmt, ...)
{
    va_list ap;
    check_skipped++;
    printf("skipped - ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

#define CHECK(cond, ...) check_at(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
#define SKIP(...) check_skip(__VA_ARGS__)

#define CHECK_NEAR(a, b, tol, what)                                                                \
    CHECK(fabs((double)(a) - (double)(b)) <= (tol), "%s: %.9g vs %.9g (tol %g)", what, (double)(a), \
          (double)(b), (double)(tol))

__attribute__((unused)) static int check_report(const char *name)
{
    printf("%s: %d checks, %d failed, %d skipped\n", name, check_count, check_failures,
           check_skipped);
    return check_failures ? 1 : 0;
}
#endif
