/* fuzz_idx.c — libFuzzer harness for the IDX reader: the header/size validation on raw bytes
 * (as images and as labels), and, for gzip-looking inputs, the whole loader through a file
 * (gunzip, truncation and corruption detection, dataset construction). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long n;
    int h, w;
    const unsigned char *px;
    if (data_idx_parse(data, size, 3, "fuzz", &n, &h, &w, &px) == 0) {
        /* the reported payload must lie inside the input */
        if (px < data || px + (size_t)n * h * w > data + size) abort();
    }
    if (data_idx_parse(data, size, 1, "fuzz", &n, NULL, NULL, &px) == 0) {
        if (px + (size_t)n > data + size) abort();
    }
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/fuzz_idx.%d.gz", (int)getpid());
        FILE *f = fopen(path, "wb");
        if (!f) return 0;
        fwrite(data, 1, size, f);
        fclose(f);
        struct dataset *ds = data_load_idx(path, NULL);
        if (ds && (ds->count < 1 || ds->d != ds->h * ds->w)) abort();
        data_free(ds);
        unlink(path);
    }
    return 0;
}
