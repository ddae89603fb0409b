/* tui_draw.c — small curses drawing helpers shared by the panels: colour pairs allocated on
 * demand by (fg, bg) (ncurses alloc_pair), named colours with a 256-colour and an 8-colour
 * rendering, width-aware UTF-8 text output, and panel frames.  UI thread only. */
#include "tui_priv.h"

#include <curses.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* Plain-ASCII fallback: without a UTF-8 locale, text from the engine and the panels is
 * transliterated before it reaches the screen. */
static bool g_ascii;

void tui_set_ascii(bool ascii)
{
    g_ascii = ascii;
}

static const struct { const char *u, *a; } translit[] = {
    { "\xe2\x80\x94", "-" }, { "\xe2\x80\x93", "-" }, { "\xe2\x80\xa6", "..." },
    { "\xc2\xb7", "." }, { "\xc2\xb5", "u" }, { "\xce\xb2", "b" }, { "\xc2\xb1", "+-" },
    { "\xc3\x97", "x" }, { "\xe2\x86\x92", "->" }, { "\xe2\x86\x90", "<-" }, { "\xe2\x86\x91", "^" },
    { "\xe2\x86\x93", "v" }, { "\xe2\x89\xa4", "<=" }, { "\xe2\x89\xa5", ">=" }, { "\xcf\x84", "tau" },
    { "\xe2\x80\x99", "'" }, { "\xe2\x80\x9c", "\"" }, { "\xe2\x80\x9d", "\"" }, { "\xe2\x88\x92", "-" },
    { "\xe2\x9c\x93", "ok" }, { "\xe2\x9c\x97", "x" },
};

/* ASCII rendering of s into out (non-ASCII sequences without a table entry become '?'). */
static void to_ascii(const char *s, char *out, size_t n)
{
    size_t o = 0;
    while (*s && o + 4 < n) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x80) { out[o++] = *s++; continue; }
        bool done = false;
        for (size_t k = 0; k < sizeof translit / sizeof translit[0]; k++) {
            size_t l = strlen(translit[k].u);
            if (!strncmp(s, translit[k].u, l)) {
                for (const char *a = translit[k].a; *a && o + 4 < n; a++) out[o++] = *a;
                s += l;
                done = true;
                break;
            }
        }
        if (done) continue;
        out[o++] = '?';
        s++;
        while ((*s & 0xC0) == 0x80) s++;   /* skip continuation bytes */
    }
    out[o] = 0;
}

void tui_colors_init(struct tui *t)
{
    t->colors = 0;
    if (!has_colors())
        return;
    start_color();
    use_default_colors();
    t->colors = COLORS >= 256 ? 256 : COLORS >= 8 ? 8 : 0;
}

int tui_pair(struct tui *t, int fg, int bg)
{
    if (!t->colors || (fg < 0 && bg < 0))
        return 0;
    int p = alloc_pair(fg, bg);
    return p < 0 ? 0 : p;
}

int tui_color(struct tui *t, int named)
{
    bool c256 = t->colors >= 256;
    switch (named) {
    case TC_DIM:    return c256 ? 244 : -1;
    case TC_ERR:    return c256 ? 203 : COLOR_RED;
    case TC_WARN:   return c256 ? 214 : COLOR_YELLOW;
    case TC_OK:     return c256 ? 114 : COLOR_GREEN;
    case TC_ACCENT: return c256 ? 75 : COLOR_CYAN;
    case TC_S0:     return c256 ? 81 : COLOR_CYAN;      /* −ELBO */
    case TC_S1:     return c256 ? 114 : COLOR_GREEN;    /* −reconstruction */
    case TC_S2:     return c256 ? 221 : COLOR_YELLOW;   /* KL */
    case TC_S3:     return c256 ? 213 : COLOR_MAGENTA;  /* −val ELBO */
    case TC_S4:     return c256 ? 203 : COLOR_RED;      /* −val LL */
    case TC_S5:     return c256 ? 141 : COLOR_BLUE;     /* −val ELBO, discrete z */
    default:        return named;
    }
}

void tui_attr(struct tui *t, int fg, int bg, unsigned long attrs)
{
    int pair = tui_pair(t, fg, bg);
    if (!t->colors && fg == -1 && bg == -1)
        pair = 0;
    /* ncurses 6: the int pair number travels through opts (pairs beyond SHRT_MAX) */
    attr_set((attr_t)attrs, (short)(pair <= SHRT_MAX ? pair : 0), &pair);
}

void tui_attr_reset(void)
{
    int pair = 0;
    attr_set(A_NORMAL, 0, &pair);
}

/* Bytes of s that fit in maxw terminal columns (whole characters); *width gets their columns.
 * Invalid UTF-8 bytes count one column each. */
static size_t fit_prefix(const char *s, int maxw, int *width)
{
    mbstate_t ms;
    memset(&ms, 0, sizeof ms);
    size_t i = 0, len = strlen(s);
    int w = 0;
    while (i < len) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, s + i, len - i, &ms);
        int cw = 1;
        if (k == (size_t)-1 || k == (size_t)-2) {
            memset(&ms, 0, sizeof ms);
            k = 1;
        } else if (k == 0) {
            break;
        } else {
            cw = wcwidth(wc);
            if (cw < 0) cw = 1;
        }
        if (w + cw > maxw)
            break;
        w += cw;
        i += k;
    }
    if (width) *width = w;
    return i;
}

size_t tui_fit_bytes(const char *s, int maxw)
{
    return fit_prefix(s, maxw, NULL);
}

int tui_text_width(const char *s)
{
    return tui_put(-1, -1, s, INT_MAX / 2);
}

int tui_put(int y, int x, const char *s, int maxw)
{
    if (maxw <= 0 || !s)
        return 0;
    char abuf[4608];
    if (g_ascii) {
        const char *p = s;
        while (*p && (unsigned char)*p < 0x80) p++;
        if (*p) {
            to_ascii(s, abuf, sizeof abuf);
            s = abuf;
        }
    }
    int w;
    size_t i = fit_prefix(s, maxw, &w);
    if (y >= 0 && i > 0)
        mvaddnstr(y, x, s, (int)i);
    return w;
}

void tui_fill(int y, int x, int w, const char *ch)
{
    for (int i = 0; i < w; i++)
        mvaddstr(y, x + i, ch);
}

void tui_hline(struct tui *t, int y, int x, int w)
{
    tui_fill(y, x, w, t->utf8 ? "\xe2\x94\x80" : "-");   /* ─ */
}

void tui_title(struct tui *t, const struct rect *r, const char *name, const char *extra, bool focused)
{
    int x = r->x, w = r->w;
    if (r->x > 0) {   /* left border column shared with the panel on the left */
        tui_attr(t, tui_color(t, TC_DIM), -1, 0);
        for (int y = r->y; y < r->y + r->h; y++)
            mvaddstr(y, r->x, y == r->y ? (t->utf8 ? "\xe2\x94\xac" : "+") : (t->utf8 ? "\xe2\x94\x82" : "|"));
        x++; w--;
    }
    tui_attr(t, tui_color(t, TC_DIM), -1, 0);
    tui_hline(t, r->y, x, w);
    int used = 0;
    if (focused)
        tui_attr(t, COLOR_BLACK, tui_color(t, TC_ACCENT), A_BOLD);
    else
        tui_attr(t, tui_color(t, TC_ACCENT), -1, A_BOLD);
    char nb[80];
    snprintf(nb, sizeof nb, " %s ", name);
    used += tui_put(r->y, x + 1, nb, w - 2);
    if (extra && *extra && w - 2 - used > 2) {
        tui_attr_reset();
        char eb[512];
        snprintf(eb, sizeof eb, " %s ", extra);
        tui_put(r->y, x + 1 + used, eb, w - 2 - used);
    }
    tui_attr_reset();
}
