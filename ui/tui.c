/* tui.c — placeholder until the curses workbench lands: the plain readline prompt. */
#include "tui.h"
#include "frontend.h"

int tui_main(struct qv_app *app)
{
    return repl_main(app);
}
