/* fuzz_session.c — libFuzzer harness for the session reader: session.json text through
 * sess_manifest_parse, with the checksum enforced (the real path) and skipped (so the structural
 * checks behind it are reached), then a walk of the accepted tree. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>

#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int verify = 0; verify < 2; verify++) {
        cJSON *root = NULL;
        if (sess_manifest_parse((const char *)data, size, "fuzz", verify, &root) == 0) {
            const cJSON *mods = cJSON_GetObjectItemCaseSensitive(root, "modules");
            const cJSON *blobs = cJSON_GetObjectItemCaseSensitive(root, "blobs");
            if (!cJSON_IsObject(mods) || !cJSON_IsObject(blobs)) abort();
            char *txt = cJSON_PrintUnformatted(root);
            cJSON_free(txt);
            cJSON_Delete(root);
        } else if (root) {
            abort();   /* failure must not hand out a tree */
        }
    }
    return 0;
}
