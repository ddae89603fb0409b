/* fuzz_amat.c — libFuzzer harness for the .amat reader (a line per image, d values 0/1): the
 * input goes through a file (plain, or gunzipped when it starts with the gzip magic) into
 * data_load_amat.  An accepted dataset must be square, binary and split without overlap. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz_amat.%d", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    if (fclose(f)) return 0;
    const char *paths[1] = {path};
    struct dataset *ds = data_load_amat(paths, 1);
    if (ds) {
        if (ds->count < 1 || ds->h != ds->w || ds->d != ds->h * ds->w) abort();
        long total = 0;
        for (int sp = 0; sp < DATA_NSPLIT; sp++) total += ds->split_count[sp];
        if (total > ds->count) abort();
        for (size_t i = 0; i < (size_t)ds->count * ds->d; i++)
            if (ds->pixels[i] != 0.0f && ds->pixels[i] != 1.0f) abort();
    }
    data_free(ds);
    unlink(path);
    return 0;
}
