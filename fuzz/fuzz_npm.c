/* fuzz_npm.c — libFuzzer harness for the npm digit JSON reader (`{ "data": [g0, …] }`):
 * data_npm_parse on raw text.  Every accepted value must be a grey level in [0, 1]. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);   /* the reader's contract: NUL after len, as qv_read_file */
    memcpy(text, data, size);
    text[size] = 0;
    float *v = NULL;
    size_t n = 0;
    if (data_npm_parse("fuzz.json", text, size, &v, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            if (!(v[i] >= 0.0f && v[i] <= 1.0f)) abort();
        free(v);
    } else if (v) {
        abort();
    }
    free(text);
    return 0;
}
