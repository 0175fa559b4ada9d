/*
 * The corpus replay: a plain main around a harness's LLVMFuzzerTestOneInput,
 * built without libFuzzer (by the host unit tests, tests/unit/Makefile,
 * with gcc and ASan/UBSan that stop at the first error).  Every file of
 * the harness's corpus and crash directories (CORPUS_DIRS, ':'-separated;
 * or the files and directories given as arguments) is run in a child of
 * its own, from an exact-size heap copy (so ASan sees a read past the
 * end); a child that aborts (a failed CHECK, a sanitizer report) or
 * crashes is a failed test.  Ends with "fuzz-NAME: N passed, N failed",
 * the line tools/test/run-unit-tests adds up; no file at all is a failure
 * (the corpus is missing).
 */
#include "fuzz.h"
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned passed, failed;

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("FAIL %s: cannot open\n", path);
        failed++;
        return;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    uint8_t *data = malloc(size > 0 ? (size_t)size : 1);
    if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
        printf("FAIL %s: cannot read\n", path);
        failed++;
        fclose(f);
        free(data);
        return;
    }
    fclose(f);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        LLVMFuzzerTestOneInput(data, (size_t)size);
        _exit(0);
    }
    free(data);
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("FAIL %s (%s %d)\n", path, pid > 0 && WIFSIGNALED(st) ? "signal" : "exit",
               pid > 0 && WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        failed++;
    } else {
        passed++;
    }
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void run_path(const char *path)
{
    struct stat s;
    if (stat(path, &s) != 0)
        return;                          /* e.g. no crash directory: nothing found yet */
    if (!S_ISDIR(s.st_mode)) {
        run_file(path);
        return;
    }
    struct dirent **names;
    int n = scandir(path, &names, 0, by_name);
    for (int i = 0; i < n; i++) {
        char file[4096];
        if (names[i]->d_name[0] != '.') {
            snprintf(file, sizeof file, "%s/%s", path, names[i]->d_name);
            run_file(file);
        }
        free(names[i]);
    }
    free(n >= 0 ? names : 0);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            run_path(argv[i]);
    } else {
        char dirs[] = CORPUS_DIRS;
        for (char *d = strtok(dirs, ":"); d; d = strtok(0, ":"))
            run_path(d);
    }
    if (passed + failed == 0) {
        printf("FAIL no corpus file found in %s\n", argc > 1 ? "the arguments" : CORPUS_DIRS);
        failed = 1;
    }
    printf("fuzz-%s: %u passed, %u failed\n", HARNESS, passed, failed);
    return failed != 0;
}
