/* fuzz_cmd.c — libFuzzer harness for the command parser: a line is split on ';' and comments
 * (cmd_split_line), each piece into words (cmd_split), and the words resolved against the real
 * command table with options type-checked (cmd_parse).  Nothing is executed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    memcpy(line, data, size);
    line[size] = 0;
    char **pieces = NULL;
    int np = cmd_split_line(line, &pieces);
    for (int i = 0; i < np; i++) {
        size_t bl = strlen(pieces[i]) + 1;
        char *buf = malloc(bl);
        char *words[CMD_MAX_WORDS];
        int nw = cmd_split(pieces[i], buf, bl, words, CMD_MAX_WORDS);
        if (nw > 0) {
            struct cmd_args a;
            memset(&a, 0, sizeof a);
            if (cmd_parse(nw, words, &a) == 0 && (!a.cmd || a.npos > CMD_MAX_WORDS)) abort();
        }
        free(buf);
        free(pieces[i]);
    }
    if (np >= 0) free(pieces);
    /* the whole line as one command as well (no ';' handling) */
    char *buf = malloc(size + 1);
    char *words[CMD_MAX_WORDS];
    int nw = cmd_split(line, buf, size + 1, words, CMD_MAX_WORDS);
    if (nw > 0) {
        struct cmd_args a;
        memset(&a, 0, sizeof a);
        cmd_parse(nw, words, &a);
    }
    free(buf);
    free(line);
    return 0;
}
