/* tui.h — the curses workbench. */
#ifndef QV_TUI_H
#define QV_TUI_H
#include "app.h"

/* Runs the full-screen workbench until `quit`; returns the process exit status. */
int tui_main(struct qv_app *app);

#endif
