/* nn_conv.c — convolution and transposed convolution as im2col + one batched sgemm per pass.
 * Shapes, layouts and the reentrancy contract: nn_conv.h.
 *
 * Both layers are written through one pair of maps between the layer's "image" side (C_img
 * channels of H × W, zero outside) and its "grid" side (the Gh × Gw kernel positions):
 *   im2col  image [B × C_img × H·W]        → col [C_img·k·k × B·G]   (gathers every patch)
 *   col2im  col   [C_img·k·k × B·G]        → image                   (scatter-adds, its adjoint)
 * A convolution gathers from its input and multiplies by w [cout × C_img·k·k]; a transposed
 * convolution multiplies its input by wᵀ and scatters into its output, which is why one weight
 * layout serves both and the two are exact adjoints. */
#include "nn_conv.h"
#include <cblas.h>
#include <math.h>
#include <string.h>

/* The layer's two sides.  img: the side the patches are cut from (conv: input, convT: output);
 * grid: the side with one value per kernel position and channel (conv: output, convT: input). */
struct conv_geo {
    int ic, ih, iw;     /* image channels, height, width */
    int gc, gh, gw;     /* grid channels, height, width */
    int kp;             /* patch length ic·k·k = rows of col */
};

static void conv_geo(const struct nn_conv *L, struct conv_geo *g)
{
    const struct nn_conv_spec *s = &L->s;
    if (s->transposed) {
        *g = (struct conv_geo){s->cout, L->hout, L->wout, s->cin, s->h, s->w, 0};
    } else {
        *g = (struct conv_geo){s->cin, s->h, s->w, s->cout, L->hout, L->wout, 0};
    }
    g->kp = g->ic * s->k * s->k;
}

/* C = A·B (beta 0) or C += A·B (beta 1), timed like nn.c's sgemm for train's profile. */
static void sgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, const float *A,
                  int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    double t0 = nn_profile ? qv_now() : 0.0;
    cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
    if (nn_profile) nn_sgemm_seconds += qv_now() - t0;
}

int nn_conv_check(const struct nn_conv_spec *s, int *hout, int *wout)
{
    if (s->cin < 1 || s->cout < 1 || s->h < 1 || s->w < 1)
        return qv_seterr("conv: channels and image size must be positive (got %d×%d×%d → %d channels)",
                         s->cin, s->h, s->w, s->cout);
    if (s->k < 1 || s->stride < 1)
        return qv_seterr("conv: kernel size and stride must be at least 1 (got k %d, stride %d)", s->k,
                         s->stride);
    if (s->pad < 0 || s->pad >= s->k)
        return qv_seterr("conv: padding must be in [0, k) (got %d with k %d)", s->pad, s->k);
    int ho, wo;
    if (s->transposed) {
        ho = nn_convt_out_dim(s->h, s->k, s->stride, s->pad);
        wo = nn_convt_out_dim(s->w, s->k, s->stride, s->pad);
    } else {
        if (s->h + 2 * s->pad < s->k || s->w + 2 * s->pad < s->k)
            return qv_seterr("conv: a %d×%d kernel does not fit a %d×%d image padded by %d", s->k, s->k,
                             s->h, s->w, s->pad);
        ho = nn_conv_out_dim(s->h, s->k, s->stride, s->pad);
        wo = nn_conv_out_dim(s->w, s->k, s->stride, s->pad);
    }
    if (ho < 1 || wo < 1)
        return qv_seterr("conv: a %d×%d input gives no output pixels (k %d, stride %d, pad %d)", s->h,
                         s->w, s->k, s->stride, s->pad);
    /* floats per row and the weight count must stay far inside int (sgemm's dimensions) */
    if ((double)s->cin * s->h * s->w > 1e8 || (double)s->cout * ho * wo > 1e8 ||
        (double)s->cin * s->cout * s->k * s->k > 1e8)
        return qv_seterr("conv: layer too large (%d×%d×%d → %d×%d×%d)", s->cin, s->h, s->w, s->cout, ho,
                         wo);
    if (hout) *hout = ho;
    if (wout) *wout = wo;
    return 0;
}

size_t nn_conv_size(const struct nn_conv_spec *s)
{
    return nn_round16((size_t)s->cin * s->cout * s->k * s->k) + nn_round16((size_t)s->cout);
}

int nn_conv_bind(struct nn_conv *L, const struct nn_conv_spec *s, enum nn_act act, float *params,
                 float *grads)
{
    int ho, wo;
    if (nn_conv_check(s, &ho, &wo)) return -1;
    L->s = *s;
    L->hout = ho;
    L->wout = wo;
    L->in = s->cin * s->h * s->w;
    L->out = s->cout * ho * wo;
    L->act = act;
    size_t wn = nn_round16((size_t)s->cin * s->cout * s->k * s->k);
    L->w = params;
    L->b = params ? params + wn : NULL;
    L->gw = grads;
    L->gb = grads ? grads + wn : NULL;
    return 0;
}

void nn_conv_init(struct nn_conv *L, struct rng *r)
{
    /* The fans a pixel sees: a convolution's output pixel sums cin·k·k inputs and an input pixel
     * feeds about cout·k·k/stride² outputs; a transposed convolution the other way round.  Uniform
     * ±√(6/(fan_in + fan_out)) (Glorot) or ±√(6/fan_in) (He, for ReLU's halved variance), as
     * nn_dense_init does for dense layers. */
    const struct nn_conv_spec *s = &L->s;
    double kk = (double)s->k * s->k, s2 = (double)s->stride * s->stride;
    double fan_in = s->transposed ? s->cin * kk / s2 : s->cin * kk;
    double fan_out = s->transposed ? s->cout * kk : s->cout * kk / s2;
    fan_in = fan_in < 1.0 ? 1.0 : fan_in;
    double a = (L->act == NN_ACT_RELU || L->act == NN_ACT_LEAKY) ? sqrt(6.0 / fan_in)
                                                                  : sqrt(6.0 / (fan_in + fan_out));
    size_t nw = (size_t)s->cin * s->cout * s->k * s->k;
    for (size_t i = 0; i < nw; i++) L->w[i] = (float)((2.0 * rng_uniform(r) - 1.0) * a);
    memset(L->b, 0, sizeof(float) * (size_t)s->cout);
}

/* Images per chunk.  One col matrix for the whole batch of 100 is 10 MB for the encoder's second
 * layer (512 × 4,900 floats), far beyond L2, and each pass streams it through memory several
 * times: the batch goes through in chunks whose col and grid-side matrices together hold about
 * NN_CONV_CHUNK floats (1 MB, 9 images of that layer), which stay in cache while sgemm still gets
 * hundreds of columns.  Measured on a Xeon (SkylakeX kernels, 1 thread), forward + backward of
 * that layer: 210 µs per image unchunked, 170 chunked (bench_layers compares with B = 1 calls). */
#define NN_CONV_CHUNK (256 * 1024)
static int conv_chunk(const struct conv_geo *g, int B)
{
    size_t per = (size_t)(g->kp + g->gc) * g->gh * g->gw;
    size_t n = per >= NN_CONV_CHUNK ? 1 : NN_CONV_CHUNK / per;
    return n < (size_t)B ? (int)n : B;
}

size_t nn_conv_work_floats(const struct nn_conv *L, int B)
{
    /* col [kp × nb·G] and one grid-side matrix [gc × nb·G] for a chunk of nb images; both passes
     * fit in these two. */
    struct conv_geo g;
    conv_geo(L, &g);
    size_t bg = (size_t)conv_chunk(&g, B) * g.gh * g.gw;
    return nn_round16((size_t)g.kp * bg) + nn_round16((size_t)g.gc * bg);
}

/* Range of grid columns j whose tap j·stride − pad + v falls inside [0, n): [*lo, *hi). */
static void tap_range(int n, int gn, int stride, int pad, int v, int *lo, int *hi)
{
    int off = v - pad;                           /* tap of j is j·stride + off */
    int l = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int h = n - off <= 0 ? 0 : (n - off - 1) / stride + 1;
    *lo = l < gn ? l : gn;
    *hi = h < gn ? h : gn;
    if (*hi < *lo) *hi = *lo;
}

/* col [kp × B·G] ← the k×k patches of image [B × ic × ih·iw] at every grid position. */
static void im2col(const struct nn_conv *L, const struct conv_geo *g, int B, const float *img,
                   float *col)
{
    const int k = L->s.k, st = L->s.stride, pad = L->s.pad, G = g->gh * g->gw;
    const size_t bg = (size_t)B * G, hw = (size_t)g->ih * g->iw;
    for (int c = 0; c < g->ic; c++)
        for (int u = 0; u < k; u++)
            for (int v = 0; v < k; v++) {
                float *row = col + ((size_t)(c * k + u) * k + v) * bg;
                int jlo, jhi;
                tap_range(g->iw, g->gw, st, pad, v, &jlo, &jhi);
                for (int b = 0; b < B; b++) {
                    const float *src = img + ((size_t)b * g->ic + c) * hw;
                    float *d = row + (size_t)b * G;
                    for (int i = 0; i < g->gh; i++, d += g->gw) {
                        int y = i * st - pad + u;
                        if (y < 0 || y >= g->ih) {
                            memset(d, 0, sizeof(float) * (size_t)g->gw);
                            continue;
                        }
                        const float *sr = src + (size_t)y * g->iw;
                        for (int j = 0; j < jlo; j++) d[j] = 0.0f;
                        for (int j = jlo; j < jhi; j++) d[j] = sr[j * st + v - pad];
                        for (int j = jhi; j < g->gw; j++) d[j] = 0.0f;
                    }
                }
            }
}

/* image [B × ic × ih·iw] = Σ of the patches in col (the adjoint of im2col; taps outside the image
 * are dropped). */
static void col2im(const struct nn_conv *L, const struct conv_geo *g, int B, const float *col,
                   float *img)
{
    const int k = L->s.k, st = L->s.stride, pad = L->s.pad, G = g->gh * g->gw;
    const size_t bg = (size_t)B * G, hw = (size_t)g->ih * g->iw;
    memset(img, 0, sizeof(float) * (size_t)B * g->ic * hw);
    for (int c = 0; c < g->ic; c++)
        for (int u = 0; u < k; u++)
            for (int v = 0; v < k; v++) {
                const float *row = col + ((size_t)(c * k + u) * k + v) * bg;
                int jlo, jhi;
                tap_range(g->iw, g->gw, st, pad, v, &jlo, &jhi);
                for (int b = 0; b < B; b++) {
                    float *dst = img + ((size_t)b * g->ic + c) * hw;
                    const float *s = row + (size_t)b * G;
                    for (int i = 0; i < g->gh; i++, s += g->gw) {
                        int y = i * st - pad + u;
                        if (y < 0 || y >= g->ih) continue;
                        float *dr = dst + (size_t)y * g->iw;
                        for (int j = jlo; j < jhi; j++) dr[j * st + v - pad] += s[j];
                    }
                }
            }
}

/* [B × C × G] rows ↔ channel-major [C × B·G] (column b·G + g), the layout of col's columns. */
static void rows_to_cm(int B, int C, int G, const float *x, float *xc)
{
    const size_t bg = (size_t)B * G;
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            memcpy(xc + c * bg + (size_t)b * G, x + ((size_t)b * C + c) * G, sizeof(float) * (size_t)G);
}

static void cm_to_rows(int B, int C, int G, const float *xc, float *x)
{
    const size_t bg = (size_t)B * G;
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            memcpy(x + ((size_t)b * C + c) * G, xc + c * bg + (size_t)b * G, sizeof(float) * (size_t)G);
}

/* Bias and activation over y [B × cout × P]. */
static void bias_act(const struct nn_conv *L, int B, float *y)
{
    const int cout = L->s.cout, P = L->hout * L->wout;
    for (int b = 0; b < B; b++)
        for (int o = 0; o < cout; o++) {
            float *yr = y + ((size_t)b * cout + o) * P;
            const float bo = L->b[o];
            for (int p = 0; p < P; p++) yr[p] += bo;
        }
    nn_act_forward(L->act, y, (size_t)B * L->out);
}

void nn_conv_forward(const struct nn_conv *L, int B, const float *x, float *y, float *work)
{
    struct conv_geo g;
    conv_geo(L, &g);
    const int G = g.gh * g.gw, nb = conv_chunk(&g, B);
    float *col = work, *gm = work + nn_round16((size_t)g.kp * nb * G);
    for (int r0 = 0; r0 < B; r0 += nb) {
        const int n = QV_MIN(nb, B - r0), bg = n * G;
        const float *xr = x + (size_t)r0 * L->in;
        float *yr = y + (size_t)r0 * L->out;
        if (!L->s.transposed) {
            /* y as [cout × n·G] = w [cout × kp] · col [kp × n·G], then back to rows */
            im2col(L, &g, n, xr, col);
            sgemm(CblasNoTrans, CblasNoTrans, g.gc, bg, g.kp, L->w, g.kp, col, bg, 0.0f, gm, bg);
            cm_to_rows(n, g.gc, G, gm, yr);
        } else {
            /* col [kp × n·G] = wᵀ [kp × cin] · x [cin × n·G], scattered into the output image */
            rows_to_cm(n, g.gc, G, xr, gm);
            sgemm(CblasTrans, CblasNoTrans, g.kp, bg, g.gc, L->w, g.kp, gm, bg, 0.0f, col, bg);
            col2im(L, &g, n, col, yr);
        }
    }
    bias_act(L, B, y);
}

void nn_conv_backward(const struct nn_conv *L, int B, const float *x, const float *y, float *dy,
                      float *dx, float *work)
{
    struct conv_geo g;
    conv_geo(L, &g);
    const int G = g.gh * g.gw, nb = conv_chunk(&g, B), cout = L->s.cout, P = L->hout * L->wout;
    float *col = work, *gm = work + nn_round16((size_t)g.kp * nb * G);
    nn_act_backward(L->act, y, dy, (size_t)B * L->out);
    /* gb[o] = Σ over the batch and pixels of dpre(·, o, ·) */
    memset(L->gb, 0, sizeof(float) * (size_t)cout);
    for (int b = 0; b < B; b++)
        for (int o = 0; o < cout; o++) {
            const float *dr = dy + ((size_t)b * cout + o) * P;
            float s = 0.0f;
            for (int p = 0; p < P; p++) s += dr[p];
            L->gb[o] += s;
        }
    /* gw [gc × kp] sums over the chunks (beta 1 after the first) */
    for (int r0 = 0; r0 < B; r0 += nb) {
        const int n = QV_MIN(nb, B - r0), bg = n * G;
        const float beta = r0 ? 1.0f : 0.0f;
        const float *xr = x + (size_t)r0 * L->in;
        const float *dyr = dy + (size_t)r0 * L->out;
        float *dxr = dx ? dx + (size_t)r0 * L->in : NULL;
        if (!L->s.transposed) {
            /* gm = dpre as [cout × n·G]; gw += gm · colᵀ; dcol [kp × n·G] = wᵀ · gm (into col,
             * no longer needed), gathered back by col2im. */
            rows_to_cm(n, cout, G, dyr, gm);
            im2col(L, &g, n, xr, col);
            sgemm(CblasNoTrans, CblasTrans, cout, g.kp, bg, gm, bg, col, bg, beta, L->gw, g.kp);
            if (dxr) {
                sgemm(CblasTrans, CblasNoTrans, g.kp, bg, cout, L->w, g.kp, gm, bg, 0.0f, col, bg);
                col2im(L, &g, n, col, dxr);
            }
        } else {
            /* col = patches of dpre [kp × n·G]; gm = x as [cin × n·G]; gw += gm · colᵀ;
             * dx as [cin × n·G] = w · col (into gm, no longer needed). */
            im2col(L, &g, n, dyr, col);
            rows_to_cm(n, g.gc, G, xr, gm);
            sgemm(CblasNoTrans, CblasTrans, g.gc, g.kp, bg, gm, bg, col, bg, beta, L->gw, g.kp);
            if (dxr) {
                sgemm(CblasNoTrans, CblasNoTrans, g.gc, bg, g.kp, L->w, g.kp, col, bg, 0.0f, gm, bg);
                cm_to_rows(n, g.gc, G, gm, dxr);
            }
        }
    }
}
