/* fuzz_folder.h -- for harnesses whose parser takes a folder (rules, cues):
 * one temporary folder per process (under /dev/shm when there is one), one
 * file in it, removed at exit. */
#ifndef CTX_FUZZ_FOLDER_H
#define CTX_FUZZ_FOLDER_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[64], file[96];

static void fuzz_folder_cleanup(void)
{
    unlink(file);
    rmdir(dir);
}

/* Make dir (once) with file `name` in it. */
static void fuzz_folder(const char *name)
{
    if (dir[0])
        return;
    snprintf(dir, sizeof dir, "%s/fuzz.XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir))
        abort();
    snprintf(file, sizeof file, "%s/%s", dir, name);
    atexit(fuzz_folder_cleanup);
}

#endif
