/* panel_status.c — the status bar (dataset, prior, model, sampler with β_eff and QPU timing,
 * the running job's progress bar with rate and ETA, messages) and the scrollable log panel. */
#include "tui_priv.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void fmt_eta(double s, char *buf, size_t n)
{
    if (!isfinite(s) || s < 0) { snprintf(buf, n, "--:--"); return; }
    long v = (long)(s + 0.5);
    if (v >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", v / 3600, (v / 60) % 60, v % 60);
    else snprintf(buf, n, "%ld:%02ld", v / 60, v % 60);
}

/* Append "label value" segments separated by a dim bar; returns the new x. */
static int seg(struct tui *t, int y, int x, int maxx, const char *label, const char *value)
{
    if (!value || !*value || x >= maxx - 4)
        return x;
    tui_attr(t, tui_color(t, TC_DIM), -1, 0);
    x += tui_put(y, x, label, maxx - x);
    tui_attr_reset();
    x += tui_put(y, x, value, maxx - x);
    tui_attr(t, tui_color(t, TC_DIM), -1, 0);
    x += tui_put(y, x, t->utf8 ? " \xe2\x94\x82 " : " | ", maxx - x);
    tui_attr_reset();
    return x;
}

void panel_status_draw(struct tui *t, const struct rect *r)
{
    int y = r->y, maxx = r->x + r->w;
    const struct tui_snapshot *s = t->snap;
    /* row 0: what is loaded */
    tui_attr(t, COLOR_BLACK, tui_color(t, TC_ACCENT), A_BOLD);
    int x = r->x + tui_put(y, r->x, " qvae ", r->w);
    tui_attr_reset();
    x += 1;
    x = seg(t, y, x, maxx, "data ", s && *s->data ? s->data : "none");
    x = seg(t, y, x, maxx, "prior ", s && *s->prior ? s->prior : "none");
    /* sampler: name, then β_eff and QPU timing (most telling), then its options */
    char samp[320], name[64] = "default";
    const char *opts = "";
    if (s && *s->sampler) {
        size_t nl = strcspn(s->sampler, " ");
        snprintf(name, sizeof name, "%.*s", (int)(nl < 63 ? nl : 63), s->sampler);
        opts = s->sampler + nl;
    }
    size_t l = (size_t)snprintf(samp, sizeof samp, "%s", name);
    if (isfinite(t->beta_eff)) {
        l += (size_t)snprintf(samp + l, sizeof samp - l, " \xce\xb2_eff %.3g", t->beta_eff);
        if (isfinite(t->beta_err) && t->beta_err > 0 && l < sizeof samp)
            l += (size_t)snprintf(samp + l, sizeof samp - l, "\xc2\xb1%.2g", t->beta_err);
    }
    if ((isfinite(t->qpu.anneal) || isfinite(t->qpu.access)) && l < sizeof samp)
        l += (size_t)snprintf(samp + l, sizeof samp - l, " QPU anneal %.0f\xc2\xb5s access %.0f\xc2\xb5s",
                              t->qpu.anneal, t->qpu.access);
    if (l < sizeof samp)
        snprintf(samp + l, sizeof samp - l, "%s", opts);
    x = seg(t, y, x, maxx, "sampler ", samp);
    char model[128];
    snprintf(model, sizeof model, "%s", s && *s->model ? s->model : "none");
    model[strcspn(model, ",")] = 0;   /* "784-200-32 tanh …, 327632 parameters": keep the shape */
    x = seg(t, y, x, maxx, "model ", model);
    if (s && *s->session)
        x = seg(t, y, x, maxx, "session ", s->session);

    /* row 1: job progress or what to type, then the message */
    y++;
    x = r->x + 1;
    if (t->job_running || t->prog_active) {
        tui_attr(t, tui_color(t, TC_WARN), -1, A_BOLD);
        char jb[64];
        snprintf(jb, sizeof jb, "%s%s", t->prog_active ? t->prog_job : t->job_name,
                 atomic_load(&t->app->pause) ? " (paused)" : "");
        x += tui_put(y, x, jb, maxx - x) + 1;
        tui_attr_reset();
        if (t->prog_active && t->prog_total > 0) {
            double f = t->prog_done / t->prog_total;
            if (f < 0) f = 0;
            if (f > 1) f = 1;
            int bw = 24;
            if (maxx - x < 60) bw = 10;
            int full = (int)(f * bw * 8 + 0.5);
            tui_attr(t, tui_color(t, TC_ACCENT), -1, 0);
            for (int i = 0; i < bw && x < maxx; i++) {
                int cell = full - i * 8;
                if (t->utf8) {
                    static const char *const part[9] = { " ", "\xe2\x96\x8f", "\xe2\x96\x8e", "\xe2\x96\x8d",
                        "\xe2\x96\x8c", "\xe2\x96\x8b", "\xe2\x96\x8a", "\xe2\x96\x89", "\xe2\x96\x88" };
                    mvaddstr(y, x, part[cell <= 0 ? 0 : cell >= 8 ? 8 : cell]);
                } else {
                    mvaddstr(y, x, cell >= 4 ? "#" : ".");
                }
                x++;
            }
            tui_attr_reset();
            char info[160], eta[32];
            double left = t->prog_rate > 0 ? (t->prog_total - t->prog_done) / t->prog_rate : NAN;
            fmt_eta(left, eta, sizeof eta);
            snprintf(info, sizeof info, " %.4g/%.4g %s %3.0f%%  %.3g %s/s  ETA %s", t->prog_done, t->prog_total,
                     t->prog_unit, 100 * f, t->prog_rate, t->prog_unit, eta);
            x += tui_put(y, x, info, maxx - x);
        } else if (t->prog_active) {
            char info[96];
            snprintf(info, sizeof info, "%.6g %s", t->prog_done, t->prog_unit);
            x += tui_put(y, x, info, maxx - x);
        } else {
            x += tui_put(y, x, "running", maxx - x);
        }
        tui_attr(t, tui_color(t, TC_DIM), -1, 0);
        x += tui_put(y, x, "   (Ctrl-C or train stop)", maxx - x);
        tui_attr_reset();
    } else {
        tui_attr(t, tui_color(t, TC_OK), -1, A_BOLD);
        x += tui_put(y, x, "ready", maxx - x);
        tui_attr_reset();
        x += tui_put(y, x, " \xe2\x80\x94 type ", maxx - x);
        const char *sug[] = { "train 5", "sample 16", "schedule \xe2\x80\xa6", "tour", "help" };
        for (size_t i = 0; i < sizeof sug / sizeof sug[0]; i++) {
            tui_attr(t, tui_color(t, TC_ACCENT), -1, A_BOLD);
            x += tui_put(y, x, sug[i], maxx - x);
            tui_attr_reset();
            if (i + 1 < sizeof sug / sizeof sug[0])
                x += tui_put(y, x, t->utf8 ? " \xc2\xb7 " : ", ", maxx - x);
        }
        tui_attr(t, tui_color(t, TC_DIM), -1, 0);
        x += tui_put(y, x, "   F1 help", maxx - x);
        tui_attr_reset();
    }
    if (*t->msg && maxx - x > 12) {
        x += 2;
        tui_attr(t, t->msg_error ? tui_color(t, TC_ERR) : tui_color(t, TC_OK), -1, A_BOLD);
        tui_put(y, x, t->msg, maxx - x);
        tui_attr_reset();
    }
}

/* --- log --------------------------------------------------------------------------------- */

static const struct tui_log_line *log_at(const struct tui *t, long i)   /* 0 = oldest */
{
    return &t->log[(t->log_head + i) % TUI_LOG_CAP];
}

static const char *prefix_of(enum qv_level l)
{
    return l == QV_LOG_ERROR ? "error: " : l == QV_LOG_WARN ? "warning: " : "";
}

/* Rows a line takes when wrapped to width w. */
static int wrapped_rows(const struct tui_log_line *L, int w)
{
    char buf[4600];
    snprintf(buf, sizeof buf, "%s%s", prefix_of(L->level), L->text);
    int rows = 0;
    const char *p = buf;
    do {
        size_t k = tui_fit_bytes(p, w);
        if (k == 0) k = strlen(p) ? 1 : 0;
        p += k;
        rows++;
    } while (*p && rows < 64);
    return rows;
}

void panel_log_draw(struct tui *t, const struct rect *r)
{
    char extra[64] = "";
    if (t->log_scroll > 0)
        snprintf(extra, sizeof extra, "scrolled back %ld (PgDn)", t->log_scroll);
    else
        snprintf(extra, sizeof extra, "PgUp/PgDn scroll");
    tui_title(t, r, "log", extra, t->focus == PANEL_LOG);
    int x0 = r->x + (r->x > 0 ? 1 : 0), w = r->w - (r->x > 0 ? 1 : 0);
    int h = r->h - 1;
    if (h <= 0 || w <= 2)
        return;
    /* walk back from the newest line, skipping `scroll` rows, filling rows bottom-up */
    long skip = t->log_scroll;
    int y = r->y + r->h - 1;
    for (long i = t->log_n - 1; i >= 0 && y > r->y; i--) {
        const struct tui_log_line *L = log_at(t, i);
        int nr = wrapped_rows(L, w);
        if (skip >= nr) { skip -= nr; continue; }
        /* draw rows [0, nr - skip) of this line ending at y */
        int show = nr - (int)skip;
        skip = 0;
        int top = y - show + 1;
        char buf[4600];
        snprintf(buf, sizeof buf, "%s%s", prefix_of(L->level), L->text);
        const char *p = buf;
        int row = 0;
        if (L->level == QV_LOG_ERROR) tui_attr(t, tui_color(t, TC_ERR), -1, A_BOLD);
        else if (L->level == QV_LOG_WARN) tui_attr(t, tui_color(t, TC_WARN), -1, 0);
        else if (L->level == QV_LOG_DEBUG) tui_attr(t, tui_color(t, TC_ACCENT), -1, 0);
        while (*p && row < show) {
            size_t k = tui_fit_bytes(p, w);
            if (k == 0) k = 1;
            if (top + row > r->y) {
                char tmp[4600];
                memcpy(tmp, p, k);
                tmp[k] = 0;
                tui_put(top + row, x0, tmp, w);
            }
            p += k;
            row++;
        }
        tui_attr_reset();
        y = top - 1;
    }
}
