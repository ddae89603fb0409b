/* fuzz_dwconf.c — libFuzzer harness for dwave.conf text: dwconf_parse with the default profile
 * selection and with a named profile.  Accepted settings must be NUL-terminated within their
 * fields and the endpoint, when set, must end with '/' (it is normalised). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    const char *profiles[2] = {NULL, "prod"};
    for (int p = 0; p < 2; p++) {
        struct sapi_config c;
        sapi_config_init(&c);
        if (dwconf_parse(&c, text, profiles[p], "fuzz.conf") != 0) continue;
        if (!memchr(c.token, 0, sizeof c.token) || !memchr(c.endpoint, 0, sizeof c.endpoint) ||
            !memchr(c.solver, 0, sizeof c.solver) || !memchr(c.profile, 0, sizeof c.profile))
            abort();
        size_t el = strlen(c.endpoint);
        if (el && c.endpoint[el - 1] != '/') abort();
        char desc[4096];
        sapi_config_describe(&c, desc, sizeof desc);
    }
    free(text);
    return 0;
}
