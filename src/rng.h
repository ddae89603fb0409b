/* rng.h — seeded pseudo-random numbers (xoshiro256++), reproducible bit for bit.
 * Every consumer gets its own stream: rng_init(&r, seed, stream) mixes (seed, stream) through
 * splitmix64, so chain k of a sampler uses stream k and results do not depend on thread count. */
#ifndef QV_RNG_H
#define QV_RNG_H
#include <stdint.h>

struct rng { uint64_t s[4]; };

void rng_init(struct rng *r, uint64_t seed, uint64_t stream);
static inline uint64_t rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static inline uint64_t rng_u64(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rng_rotl(s[0] + s[3], 23) + s[0];
    uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rng_rotl(s[3], 45);
    return out;
}
/* uniform in [0,1) with 53 (double) / 24 (float) random bits */
static inline double rng_uniform(struct rng *r) { return (double)(rng_u64(r) >> 11) * 0x1.0p-53; }
static inline float rng_uniformf(struct rng *r) { return (float)(rng_u64(r) >> 40) * 0x1.0p-24f; }
uint64_t rng_below(struct rng *r, uint64_t n);   /* unbiased, n > 0 */
double rng_normal(struct rng *r);                /* standard normal */

#endif
