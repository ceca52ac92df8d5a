// lut_probe: int8 activations x binary (+-1) weights, exact int32 GEMM.
// VNNI (vpdpbusd) baseline against table-lookup (LUT) kernels on AVX-512.
// Build: clang++-22 -O3 -march=native lut_probe.cpp -o lut_probe
// See README.md for the schemes and the results.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

// ---------------------------------------------------------------- utilities
template <class T> struct Buf {
  T *p = nullptr;
  size_t n = 0;
  explicit Buf(size_t count = 0) { resize(count); }
  void resize(size_t count) {
    std::free(p);
    n = count;
    size_t bytes = ((count * sizeof(T) + 63) / 64) * 64 + 64;
    p = static_cast<T *>(std::aligned_alloc(64, bytes));
    std::memset(p, 0, bytes);
  }
  ~Buf() { std::free(p); }
  Buf(const Buf &) = delete;
  Buf &operator=(const Buf &) = delete;
  T &operator[](size_t i) { return p[i]; }
  const T &operator[](size_t i) const { return p[i]; }
};

static double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] static void die(const char *what) {
  std::fprintf(stderr, "FATAL: %s\n", what);
  std::exit(1);
}

// Problem: Y[m][n] = sum_k X[m][k] * w[n][k], w = +1 if bit[n][k] else -1.
// X is int8 (Signed) or uint8 (!Signed), stored as bytes [M][K].
struct Problem {
  int M, N, K;
  bool Signed;
  Buf<uint8_t> X;      // [M][K] (+64 bytes padding)
  Buf<uint8_t> bits;   // [N][K], 0/1 (unpacked, reference only)
  Buf<int32_t> colsum; // sum_k w[n][k] (compile-time constant)
  Problem(int m, int n, int k, bool s)
      : M(m), N(n), K(k), Signed(s), X(size_t(m) * k), bits(size_t(n) * k),
        colsum(n) {}
};

static void reference(const Problem &P, int32_t *Y) {
  for (int m = 0; m < P.M; ++m)
    for (int n = 0; n < P.N; ++n) {
      int32_t s = 0;
      const uint8_t *x = &P.X[size_t(m) * P.K];
      const uint8_t *b = &P.bits[size_t(n) * P.K];
      for (int k = 0; k < P.K; ++k) {
        int32_t xv = P.Signed ? int32_t(int8_t(x[k])) : int32_t(x[k]);
        s += b[k] ? xv : -xv;
      }
      Y[size_t(m) * P.N + n] = s;
    }
}

// ------------------------------------------------- register-only vpdpbusd peak
// 24 independent accumulators; returns G vpdpbusd per second.
__attribute__((noinline)) static double vnniPeak(long iters) {
  __m512i a[24];
  for (int i = 0; i < 24; ++i)
    a[i] = _mm512_set1_epi32(i);
  __m512i u = _mm512_set1_epi8(1), s = _mm512_set1_epi8(2);
  double t = now();
  for (long it = 0; it < iters; ++it) {
    for (int i = 0; i < 24; ++i)
      a[i] = _mm512_dpbusd_epi32(a[i], u, s);
    asm volatile("" : "+v"(u), "+v"(s));
  }
  t = now() - t;
  __m512i acc = a[0];
  for (int i = 1; i < 24; ++i)
    acc = _mm512_add_epi32(acc, a[i]);
  volatile int sink = _mm512_reduce_add_epi32(acc);
  (void)sink;
  return 24.0 * iters / t / 1e9;
}

// ------------------------------------------------------------ VNNI baseline
// Weights pre-expanded at "compile time" to one byte per weight, code 1 for
// +1 and 0 for -1, in panels of 16*NV columns: [panel][K/4][NV][16 lanes][4].
// vpdpbusd(acc, u8, s8) with the codes on the unsigned side for int8 input
// (input on the signed side) or the reverse for uint8 input; the exact dot
// product is 2 * sum(code * x) - sum(x).
template <int MR, int NV> struct Vnni {
  static constexpr int NR = 16 * NV;
  const Problem &P;
  Buf<uint8_t> W;
  Buf<int32_t> rowsum;
  explicit Vnni(const Problem &p) : P(p), W(size_t(p.N) * p.K), rowsum(p.M) {
    if (P.N % NR || P.K % 4 || P.M % MR)
      die("Vnni: shape not supported");
    int K4 = P.K / 4;
    for (int n = 0; n < P.N; ++n)
      for (int k = 0; k < P.K; ++k) {
        int pn = n / NR, nv = (n % NR) / 16, l = n % 16;
        size_t at = ((size_t(pn) * K4 + k / 4) * NV + nv) * 64 + l * 4 + k % 4;
        W[at] = P.bits[size_t(n) * P.K + k];
      }
  }
  void run(int32_t *Y) {
    const int M = P.M, N = P.N, K = P.K, K4 = K / 4;
    // Row sums of the input (per call: the input changes every call).
    for (int m = 0; m < M; ++m) {
      const uint8_t *x = &P.X[size_t(m) * K];
      __m512i s = _mm512_setzero_si512();
      const __m512i flip = _mm512_set1_epi8(P.Signed ? char(0x80) : 0);
      for (int k = 0; k < K; k += 64)
        s = _mm512_add_epi64(
            s,
            _mm512_sad_epu8(_mm512_xor_si512(_mm512_loadu_si512(x + k), flip),
                            _mm512_setzero_si512()));
      rowsum[m] =
          int32_t(_mm512_reduce_add_epi64(s)) - (P.Signed ? 128 * K : 0);
    }
    for (int pn = 0; pn < N / NR; ++pn) {
      const uint8_t *panel = &W[size_t(pn) * K4 * NV * 64];
      for (int m0 = 0; m0 < M; m0 += MR) {
        __m512i acc[MR][NV];
        for (int r = 0; r < MR; ++r)
          for (int v = 0; v < NV; ++v)
            acc[r][v] = _mm512_setzero_si512();
        const uint8_t *x0 = &P.X[size_t(m0) * K];
        for (int k4 = 0; k4 < K4; ++k4) {
          __m512i w[NV];
          for (int v = 0; v < NV; ++v)
            w[v] = _mm512_load_si512(panel + (size_t(k4) * NV + v) * 64);
          for (int r = 0; r < MR; ++r) {
            int32_t q;
            std::memcpy(&q, x0 + size_t(r) * K + 4 * k4, 4);
            __m512i xb = _mm512_set1_epi32(q);
            for (int v = 0; v < NV; ++v)
              acc[r][v] = P.Signed ? _mm512_dpbusd_epi32(acc[r][v], w[v], xb)
                                   : _mm512_dpbusd_epi32(acc[r][v], xb, w[v]);
          }
        }
        for (int r = 0; r < MR; ++r) {
          __m512i rs = _mm512_set1_epi32(rowsum[m0 + r]);
          for (int v = 0; v < NV; ++v) {
            __m512i y =
                _mm512_sub_epi32(_mm512_add_epi32(acc[r][v], acc[r][v]), rs);
            _mm512_storeu_si512(Y + size_t(m0 + r) * N + pn * NR + v * 16, y);
          }
        }
      }
    }
  }
};

// ------------------------------------------------- LUT g=6, vpermb, nibbles
// a_u = x + 128 (int8) or x (uint8), split a_u = lo + 16 * hi (nibbles).
// Per row m and group j of 6 consecutive k, two 64-byte tables
//   Tlo[e] = sum_{i<6, bit i of e} lo(a_u[6j+i])   (<= 90)
//   Thi[e] = same with hi nibbles                   (<= 90)
// Per 64 output columns and group, one index vector (byte = 6 weight bits).
// Inner step (2 groups j0, j1 per row and 64 columns):
//   lo = vpermb(I0, Tlo0) + vpermb(I1, Tlo1)   bytes <= 180
//   hi = vpermb(I0, Thi0) + vpermb(I1, Thi1)
//   A += vpmaddubsw(vpunpcklbw(lo, hi), (1,16))  u16 = lo + 16 hi <= 3060
//   B += vpmaddubsw(vpunpckhbw(lo, hi), (1,16))
// The u16 accumulators are flushed to int32 every 16 steps (192 k, <= 48960);
// P = sum of a_u over weights +1, and y = 2 P - rowsum(a_u) - off * colsum(w).
// Index bytes are permuted at packing time so that the int32 vectors come
// out in natural column order.
template <int MR, int NV> struct Lut6 {
  static constexpr int KC = 192; // k per u16 flush
  const Problem &P;
  int G;               // groups of 6
  Buf<uint8_t> Wi;     // [N/64][G][64]
  Buf<uint8_t> tab;    // [MR][G][2][64] tables of the current m block
  Buf<int32_t> rowsum; // [MR]
  Buf<int32_t> C;      // [MR][N] int32 partial sums of the current m block
  // constants of the table build
  __m512i cIdx[3], dA[2][2], dB[2][2];
  __mmask64 cMask[3];

  explicit Lut6(const Problem &p)
      : P(p), G(p.K / 6), Wi(size_t(p.N) * (p.K / 6)),
        tab(size_t(MR) * (p.K / 6) * 128), rowsum(MR), C(size_t(MR) * p.N) {
    if (P.K % KC || P.N % (64 * NV) || P.M % MR)
      die("Lut6: shape not supported");
    for (int nb = 0; nb < P.N / 64; ++nb)
      for (int j = 0; j < G; ++j)
        for (int pos = 0; pos < 64; ++pos) {
          int L = pos / 16, b = pos % 16;
          int n = nb * 64 + 16 * (b / 4) + 4 * L + (b % 4);
          int idx = 0;
          for (int i = 0; i < 6; ++i)
            idx |= P.bits[size_t(n) * P.K + 6 * j + i] << i;
          Wi[(size_t(nb) * G + j) * 64 + pos] = uint8_t(idx);
        }
    // Build constants. X (source of the partial tables S) holds the lo
    // nibbles of 12 activations (2 groups) in bytes 0..11 and the hi
    // nibbles in bytes 16..27. S lane s: group g = s/32, half h = (s/16)&1,
    // part p = (s/8)&1, e = s&7: sum over bits i of e of X[16h + 6g + 3p + i].
    alignas(64) uint8_t c[3][64];
    uint64_t mk[3] = {0, 0, 0};
    for (int s = 0; s < 64; ++s) {
      int g = s / 32, h = (s / 16) & 1, pp = (s / 8) & 1, e = s & 7;
      for (int i = 0; i < 3; ++i) {
        c[i][s] = uint8_t(16 * h + 6 * g + 3 * pp + i);
        if ((e >> i) & 1)
          mk[i] |= uint64_t(1) << s;
      }
    }
    for (int i = 0; i < 3; ++i) {
      cIdx[i] = _mm512_load_si512(c[i]);
      cMask[i] = mk[i];
    }
    // T(g,h)[e6] = S[32g + 16h + (e6 & 7)] + S[32g + 16h + 8 + (e6 >> 3)]
    alignas(64) uint8_t a[64], bb[64];
    for (int g = 0; g < 2; ++g)
      for (int h = 0; h < 2; ++h) {
        for (int e = 0; e < 64; ++e) {
          a[e] = uint8_t(32 * g + 16 * h + (e & 7));
          bb[e] = uint8_t(32 * g + 16 * h + 8 + (e >> 3));
        }
        dA[g][h] = _mm512_load_si512(a);
        dB[g][h] = _mm512_load_si512(bb);
      }
  }

  // Tables of MR rows starting at m0, all groups; row sums of a_u.
  void buildTables(int m0) {
    const int K = P.K;
    const __m128i flip = _mm_set1_epi8(P.Signed ? char(0x80) : 0);
    const __m512i nib = _mm512_set1_epi8(0x0F);
    const __mmask64 hiLanes = 0x00000000FFFF0000ull;
    for (int r = 0; r < MR; ++r) {
      const uint8_t *x = &P.X[size_t(m0 + r) * K];
      uint8_t *t = &tab[size_t(r) * G * 128];
      __m512i sad = _mm512_setzero_si512();
      for (int k = 0; k < K; k += 64)
        sad = _mm512_add_epi64(
            sad,
            _mm512_sad_epu8(
                _mm512_xor_si512(_mm512_loadu_si512(x + k),
                                 _mm512_set1_epi8(P.Signed ? char(0x80) : 0)),
                _mm512_setzero_si512()));
      rowsum[r] = int32_t(_mm512_reduce_add_epi64(sad));
      for (int j = 0; j < G; j += 2) {
        __m128i v =
            _mm_xor_si128(_mm_loadu_si128((const __m128i *)(x + 6 * j)), flip);
        __m512i w = _mm512_broadcast_i32x4(v);
        __m512i X = _mm512_and_si512(
            _mm512_mask_mov_epi8(w, hiLanes, _mm512_srli_epi16(w, 4)), nib);
        __m512i S = _mm512_maskz_permutexvar_epi8(cMask[0], cIdx[0], X);
        S = _mm512_add_epi8(
            S, _mm512_maskz_permutexvar_epi8(cMask[1], cIdx[1], X));
        S = _mm512_add_epi8(
            S, _mm512_maskz_permutexvar_epi8(cMask[2], cIdx[2], X));
        for (int g = 0; g < 2; ++g)
          for (int h = 0; h < 2; ++h) {
            __m512i T = _mm512_add_epi8(_mm512_permutexvar_epi8(dA[g][h], S),
                                        _mm512_permutexvar_epi8(dB[g][h], S));
            _mm512_store_si512(t + (size_t(j + g) * 2 + h) * 64, T);
          }
      }
    }
  }

  // One tile: MR rows x 64*NV columns starting at column block nb0, groups
  // [j0, j0 + 2*steps); adds into C (or stores when first).
  __attribute__((always_inline)) inline void tile(int nb0, int j0, int steps,
                                                  bool first) {
    const __m512i c116 = _mm512_set1_epi16(0x1001);
    __m512i A[MR][NV], B[MR][NV];
    for (int r = 0; r < MR; ++r)
      for (int v = 0; v < NV; ++v)
        A[r][v] = B[r][v] = _mm512_setzero_si512();
    const uint8_t *wi = &Wi[(size_t(nb0) * G + j0) * 64];
    const uint8_t *tb = &tab[size_t(j0) * 128];
    for (int s = 0; s < steps; ++s) {
      __m512i I0[NV], I1[NV];
      for (int v = 0; v < NV; ++v) {
        I0[v] = _mm512_load_si512(wi + size_t(v) * G * 64 + s * 128);
        I1[v] = _mm512_load_si512(wi + size_t(v) * G * 64 + s * 128 + 64);
      }
      for (int r = 0; r < MR; ++r) {
        const uint8_t *t = tb + size_t(r) * G * 128 + s * 256;
        __m512i tl0 = _mm512_load_si512(t), th0 = _mm512_load_si512(t + 64);
        __m512i tl1 = _mm512_load_si512(t + 128),
                th1 = _mm512_load_si512(t + 192);
        for (int v = 0; v < NV; ++v) {
          __m512i lo = _mm512_add_epi8(_mm512_permutexvar_epi8(I0[v], tl0),
                                       _mm512_permutexvar_epi8(I1[v], tl1));
          __m512i hi = _mm512_add_epi8(_mm512_permutexvar_epi8(I0[v], th0),
                                       _mm512_permutexvar_epi8(I1[v], th1));
          A[r][v] = _mm512_add_epi16(
              A[r][v],
              _mm512_maddubs_epi16(_mm512_unpacklo_epi8(lo, hi), c116));
          B[r][v] = _mm512_add_epi16(
              B[r][v],
              _mm512_maddubs_epi16(_mm512_unpackhi_epi8(lo, hi), c116));
        }
      }
    }
    const __m512i z = _mm512_setzero_si512();
    for (int r = 0; r < MR; ++r)
      for (int v = 0; v < NV; ++v) {
        int32_t *c = &C[size_t(r) * P.N + (nb0 + v) * 64];
        __m512i q[4] = {_mm512_unpacklo_epi16(A[r][v], z),
                        _mm512_unpackhi_epi16(A[r][v], z),
                        _mm512_unpacklo_epi16(B[r][v], z),
                        _mm512_unpackhi_epi16(B[r][v], z)};
        for (int i = 0; i < 4; ++i) {
          if (!first)
            q[i] = _mm512_add_epi32(q[i], _mm512_load_si512(c + 16 * i));
          _mm512_store_si512(c + 16 * i, q[i]);
        }
      }
  }

  // Phase costs (for the analysis): tables only / tiles only.
  void buildAll() {
    for (int m0 = 0; m0 < P.M; m0 += MR)
      buildTables(m0);
  }
  void tilesOnly() {
    for (int m0 = 0; m0 < P.M; m0 += MR)
      for (int kc = 0; kc < P.K; kc += KC)
        for (int nb = 0; nb < P.N / 64; nb += NV)
          tile(nb, kc / 6, KC / 12, kc == 0);
  }
  void run(int32_t *Y) {
    const int M = P.M, N = P.N, K = P.K;
    const int off = P.Signed ? 128 : 0;
    for (int m0 = 0; m0 < M; m0 += MR) {
      buildTables(m0);
      for (int kc = 0; kc < K; kc += KC)
        for (int nb = 0; nb < N / 64; nb += NV)
          tile(nb, kc / 6, KC / 12, kc == 0);
      // y = 2 P - rowsum(a_u) - off * colsum(w)
      for (int r = 0; r < MR; ++r) {
        __m512i rs = _mm512_set1_epi32(rowsum[r]);
        for (int n = 0; n < N; n += 16) {
          __m512i p = _mm512_load_si512(&C[size_t(r) * N + n]);
          __m512i cs = _mm512_load_si512(&P.colsum[n]);
          __m512i y =
              _mm512_sub_epi32(_mm512_sub_epi32(_mm512_add_epi32(p, p), rs),
                               _mm512_mullo_epi32(cs, _mm512_set1_epi32(off)));
          _mm512_storeu_si512(Y + size_t(m0 + r) * N + n, y);
        }
      }
    }
  }
};

// ------------------------------------------------------ port/mix probe
static double pnow() { return now(); }
#define R12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
template <class F> double pbest(F f, long iters, int instrPerIter) {
  double b = 1e9;
  for (int r = 0; r < 7; r++) {
    double t = pnow();
    f(iters);
    t = pnow() - t;
    if (t < b)
      b = t;
  }
  return instrPerIter * (double)iters / b / 1e9; // G instr/s
}
// Throughput of single instructions and of instruction mixes, register
// only (inline asm, independent chains): instructions per cycle for single
// instructions and the lut6 step (a cell is 4 vpermb, 2 vpaddb, 2 vpunpck,
// 2 vpmaddubsw, 2 vpaddw), pairs or triples per cycle for the mixes.
static void portProbe() {
  long it = 20000000;
  double ghz = pbest(
      [](long n) {
        long x = 0;
        for (long i = 0; i < n; i++) {
          asm volatile("add $1,%0\n\tadd $1,%0\n\tadd $1,%0\n\tadd $1,%0"
                       : "+r"(x));
        }
      },
      it, 4);
  printf("dep add chain: %.2f GHz\n", ghz);
#define T(name, body, per)                                                     \
  printf("%-34s %.2f per cycle\n", name,                                       \
         pbest(                                                                \
             [](long n) {                                                      \
               for (long i = 0; i < n; i++) {                                  \
                 asm volatile(                                                 \
                     body ::                                                   \
                         : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",     \
                           "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",   \
                           "xmm12", "xmm13", "xmm14", "xmm15", "xmm16",        \
                           "xmm17", "xmm18", "xmm19", "xmm20", "xmm21",        \
                           "xmm22", "xmm23", "xmm24", "xmm25", "xmm26",        \
                           "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");       \
               }                                                               \
             },                                                                \
             it / 4, per) /                                                    \
             ghz);
#define DP(i) "vpdpbusd %%zmm20,%%zmm21,%%zmm" #i "\n\t"
#define PB(i) "vpermb %%zmm20,%%zmm21,%%zmm" #i "\n\t"
#define PS(i) "vpshufb %%zmm20,%%zmm21,%%zmm" #i "\n\t"
#define P2(i) "vpermi2b %%zmm20,%%zmm21,%%zmm" #i "\n\t"
#define AB(i) "vpaddb %%zmm20,%%zmm21,%%zmm" #i "\n\t"
#define MW(i) "vpmaddubsw %%zmm20,%%zmm21,%%zmm" #i "\n\t"
#define UL(i) "vpunpcklbw %%zmm20,%%zmm21,%%zmm" #i "\n\t"
  T("vpdpbusd zmm", R12(DP), 12)
  T("vpermb zmm", R12(PB), 12)
  T("vpshufb zmm", R12(PS), 12)
  T("vpermi2b zmm", R12(P2), 12)
  T("vpaddb zmm", R12(AB), 12)
  T("vpmaddubsw zmm", R12(MW), 12)
  T("vpunpcklbw zmm", R12(UL), 12)
#define MIX1(i)                                                                \
  "vpermb %%zmm20,%%zmm21,%%zmm" #i "\n\tvpdpbusd %%zmm20,%%zmm22,%%zmm1" #i   \
  "\n\t"
#define R6(X) X(0) X(1) X(2) X(3) X(4) X(5)
  T("vpermb+vpdpbusd (pairs)", R6(MIX1), 6)
#define MIX2(i)                                                                \
  "vpermi2b %%zmm20,%%zmm21,%%zmm" #i "\n\tvpdpbusd %%zmm20,%%zmm22,%%zmm1" #i \
  "\n\t"
  T("vpermi2b+vpdpbusd (pairs)", R6(MIX2), 6)
#define MIX3(i)                                                                \
  "vpshufb %%zmm20,%%zmm21,%%zmm" #i "\n\tvpaddb %%zmm20,%%zmm22,%%zmm1" #i    \
  "\n\t"
  T("vpshufb+vpaddb (pairs)", R6(MIX3), 6)
#define MIX4(i)                                                                \
  "vpshufb %%zmm20,%%zmm21,%%zmm" #i "\n\tvpdpbusd %%zmm20,%%zmm22,%%zmm1" #i  \
  "\n\t"
  T("vpshufb+vpdpbusd (pairs)", R6(MIX4), 6)
#define MIX5(i, j)                                                             \
  "vpermb %%zmm20,%%zmm21,%%zmm" #i "\n\tvpdpbusd %%zmm20,%%zmm22,%%zmm1" #i   \
  "\n\tvpaddb %%zmm20,%%zmm22,%%zmm" #j "\n\t"
  T("vpermb+vpdpbusd+vpaddb (triples)",
    MIX5(0, 16) MIX5(1, 17) MIX5(2, 18) MIX5(3, 19), 4)
  T("lut6 step, 3 cells (instr)",
    "vpermb %%zmm20,%%zmm21,%%zmm0\n\tvpermb %%zmm22,%%zmm21,%%zmm1\n\tvpermb "
    "%%zmm20,%%zmm23,%%zmm2\n\tvpermb %%zmm22,%%zmm23,%%zmm3\n\tvpaddb "
    "%%zmm0,%%zmm1,%%zmm0\n\tvpaddb %%zmm2,%%zmm3,%%zmm2\n\tvpunpcklbw "
    "%%zmm2,%%zmm0,%%zmm1\n\tvpunpckhbw %%zmm2,%%zmm0,%%zmm3\n\tvpmaddubsw "
    "%%zmm24,%%zmm1,%%zmm1\n\tvpmaddubsw %%zmm24,%%zmm3,%%zmm3\n\tvpaddw "
    "%%zmm1,%%zmm25,%%zmm25\n\tvpaddw %%zmm3,%%zmm26,%%zmm26\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm4\n\tvpermb %%zmm22,%%zmm21,%%zmm5\n\tvpermb "
    "%%zmm20,%%zmm23,%%zmm6\n\tvpermb %%zmm22,%%zmm23,%%zmm7\n\tvpaddb "
    "%%zmm4,%%zmm5,%%zmm4\n\tvpaddb %%zmm6,%%zmm7,%%zmm6\n\tvpunpcklbw "
    "%%zmm6,%%zmm4,%%zmm5\n\tvpunpckhbw %%zmm6,%%zmm4,%%zmm7\n\tvpmaddubsw "
    "%%zmm24,%%zmm5,%%zmm5\n\tvpmaddubsw %%zmm24,%%zmm7,%%zmm7\n\tvpaddw "
    "%%zmm5,%%zmm27,%%zmm27\n\tvpaddw %%zmm7,%%zmm28,%%zmm28\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm8\n\tvpermb %%zmm22,%%zmm21,%%zmm9\n\tvpermb "
    "%%zmm20,%%zmm23,%%zmm10\n\tvpermb %%zmm22,%%zmm23,%%zmm11\n\tvpaddb "
    "%%zmm8,%%zmm9,%%zmm8\n\tvpaddb %%zmm10,%%zmm11,%%zmm10\n\tvpunpcklbw "
    "%%zmm10,%%zmm8,%%zmm9\n\tvpunpckhbw %%zmm10,%%zmm8,%%zmm11\n\tvpmaddubsw "
    "%%zmm24,%%zmm9,%%zmm9\n\tvpmaddubsw %%zmm24,%%zmm11,%%zmm11\n\tvpaddw "
    "%%zmm9,%%zmm29,%%zmm29\n\tvpaddw %%zmm11,%%zmm30,%%zmm30\n\t",
    36)
  T("vpermb+vpmaddubsw (pairs)",
    "vpermb %%zmm20,%%zmm21,%%zmm0\n\tvpmaddubsw %%zmm20,%%zmm22,%%zmm10\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm1\n\tvpmaddubsw %%zmm20,%%zmm22,%%zmm11\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm2\n\tvpmaddubsw %%zmm20,%%zmm22,%%zmm12\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm3\n\tvpmaddubsw %%zmm20,%%zmm22,%%zmm13\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm4\n\tvpmaddubsw %%zmm20,%%zmm22,%%zmm14\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm5\n\tvpmaddubsw %%zmm20,%%zmm22,%%zmm15\n\t",
    6)
  T("vpermb+vpunpcklbw (pairs)",
    "vpermb %%zmm20,%%zmm21,%%zmm0\n\tvpunpcklbw %%zmm20,%%zmm22,%%zmm10\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm1\n\tvpunpcklbw %%zmm20,%%zmm22,%%zmm11\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm2\n\tvpunpcklbw %%zmm20,%%zmm22,%%zmm12\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm3\n\tvpunpcklbw %%zmm20,%%zmm22,%%zmm13\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm4\n\tvpunpcklbw %%zmm20,%%zmm22,%%zmm14\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm5\n\tvpunpcklbw %%zmm20,%%zmm22,%%zmm15\n\t",
    6)
  T("vpermb+vpaddw (pairs)",
    "vpermb %%zmm20,%%zmm21,%%zmm0\n\tvpaddw %%zmm20,%%zmm22,%%zmm10\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm1\n\tvpaddw %%zmm20,%%zmm22,%%zmm11\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm2\n\tvpaddw %%zmm20,%%zmm22,%%zmm12\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm3\n\tvpaddw %%zmm20,%%zmm22,%%zmm13\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm4\n\tvpaddw %%zmm20,%%zmm22,%%zmm14\n\t"
    "vpermb %%zmm20,%%zmm21,%%zmm5\n\tvpaddw %%zmm20,%%zmm22,%%zmm15\n\t",
    6)
}

// ------------------------------------------------------------------- driver
static void fill(Problem &P, std::mt19937_64 &rng, int mode) {
  // mode 0: uniform random; 1: extremes only; 2: rows of constant extremes.
  for (size_t i = 0; i < size_t(P.M) * P.K; ++i) {
    uint8_t v = uint8_t(rng());
    if (mode == 1)
      v = (rng() & 1) ? (P.Signed ? 0x80 : 0x00) : (P.Signed ? 0x7F : 0xFF);
    if (mode == 2) {
      int m = int(i / P.K);
      v = (m % 3 == 0)   ? (P.Signed ? 0x80 : 0x00)
          : (m % 3 == 1) ? (P.Signed ? 0x7F : 0xFF)
                         : uint8_t(rng());
    }
    P.X[i] = v;
  }
  for (int n = 0; n < P.N; ++n) {
    int s = 0;
    for (int k = 0; k < P.K; ++k) {
      uint8_t b = uint8_t(rng() & 1);
      if (mode == 2 && n % 4 == 0)
        b = 1;
      if (mode == 2 && n % 4 == 1)
        b = 0;
      P.bits[size_t(n) * P.K + k] = b;
      s += b ? 1 : -1;
    }
    P.colsum[n] = s;
  }
}

static void check(const char *name, const Problem &P, const int32_t *got,
                  const int32_t *want) {
  for (size_t i = 0; i < size_t(P.M) * P.N; ++i)
    if (got[i] != want[i]) {
      std::fprintf(stderr,
                   "FATAL: %s mismatch at m=%zu n=%zu: got %d want %d "
                   "(M=%d N=%d K=%d signed=%d)\n",
                   name, i / P.N, i % P.N, got[i], want[i], P.M, P.N, P.K,
                   int(P.Signed));
      std::exit(1);
    }
}

// Best and median seconds per call over `reps` timed batches of ~20 ms.
struct Timing {
  double best, median;
};
static Timing timeIt(const std::function<void()> &f, int reps) {
  f();
  double t = now();
  int calls = 0;
  while (now() - t < 0.02 || calls < 3) {
    f();
    ++calls;
  }
  int per = std::max(1, int(calls * 1.0));
  std::vector<double> v;
  for (int r = 0; r < reps; ++r) {
    double t0 = now();
    for (int i = 0; i < per; ++i)
      f();
    v.push_back((now() - t0) / per);
  }
  std::sort(v.begin(), v.end());
  return {v.front(), v[v.size() / 2]};
}

int main(int argc, char **argv) {
  if (argc > 1 && std::string(argv[1]) == "ports") {
    portProbe();
    return 0;
  }
  int rounds = argc > 1 ? std::atoi(argv[1]) : 3;
  int reps = argc > 2 ? std::atoi(argv[2]) : 15;
  // optional: only kernels whose name starts with argv[3] (for perf stat)
  std::string only = argc > 3 ? argv[3] : "";
  struct Shape {
    int M, N, K;
  } shapes[] = {{128, 768, 768}, {128, 3072, 768}, {128, 768, 3072}};

  // ---- correctness, before any timing
  std::mt19937_64 rng(12345);
  for (auto s : shapes)
    for (int sg = 0; sg < 2; ++sg)
      for (int mode = 0; mode < 3; ++mode) {
        Problem P(s.M, s.N, s.K, sg == 1);
        fill(P, rng, mode);
        Buf<int32_t> want(size_t(s.M) * s.N), got(size_t(s.M) * s.N);
        reference(P, want.p);
        {
          Vnni<8, 3> k(P);
          k.run(got.p);
          check("vnni", P, got.p, want.p);
        }
        {
          Lut6<2, 2> k(P);
          std::memset(got.p, 0, got.n * 4);
          k.run(got.p);
          check("lut6<2,2>", P, got.p, want.p);
        }
        {
          Lut6<4, 1> k(P);
          std::memset(got.p, 0, got.n * 4);
          k.run(got.p);
          check("lut6<4,1>", P, got.p, want.p);
        }
      }
  std::printf("correctness: all kernels bit-exact vs scalar reference "
              "(3 shapes x int8/uint8 x 3 data modes)\n");

  for (int round = 0; round < rounds; ++round) {
    double peak = vnniPeak(20000000) * 128.0 / 1e3; // TOPS
    std::printf("\nround %d: vpdpbusd register-only peak %.3f TOPS\n", round,
                peak);
    for (auto s : shapes) {
      Problem P(s.M, s.N, s.K, true);
      fill(P, rng, 0);
      Buf<int32_t> want(size_t(s.M) * s.N), got(size_t(s.M) * s.N);
      reference(P, want.p);
      double ops = 2.0 * s.M * s.N * s.K;
      struct K {
        std::string name;
        std::function<void(int32_t *)> run;
      };
      Vnni<8, 3> v83(P);
      Vnni<4, 4> v44(P);
      Lut6<2, 2> l22(P);
      Lut6<4, 1> l41(P);
      Lut6<2, 3> l23(P);
      std::vector<K> ks = {
          {"vnni<8,3>", [&](int32_t *y) { v83.run(y); }},
          {"vnni<4,4>", [&](int32_t *y) { v44.run(y); }},
          {"lut6<2,2>", [&](int32_t *y) { l22.run(y); }},
          {"lut6<4,1>", [&](int32_t *y) { l41.run(y); }},
      };
      ks.push_back({"lut6<2,3>", [&](int32_t *y) { l23.run(y); }});
      if (only.empty()) {
        Timing tb = timeIt([&] { l23.buildAll(); }, reps);
        Timing tt = timeIt([&] { l23.tilesOnly(); }, reps);
        std::printf("  %4dx%4dx%4d lut6<2,3> phases: tables %.1f us, tiles "
                    "%.1f us (tiles alone %.3f TOPS)\n",
                    s.M, s.N, s.K, tb.best * 1e6, tt.best * 1e6,
                    ops / tt.best / 1e12);
      }
      double vbest = 0;
      for (auto &k : ks) {
        if (!only.empty() && k.name.rfind(only, 0) != 0)
          continue;
        k.run(got.p);
        check(k.name.c_str(), P, got.p, want.p);
        Timing t = timeIt([&] { k.run(got.p); }, reps);
        double tops = ops / t.best / 1e12;
        if (k.name.rfind("vnni", 0) == 0)
          vbest = std::max(vbest, tops);
        std::printf("  %4dx%4dx%4d %-10s best %8.1f us  %.3f TOPS (median "
                    "%.3f)  %.2fx best vnni  %.0f%% of vpdpbusd peak\n",
                    s.M, s.N, s.K, k.name.c_str(), t.best * 1e6, tops,
                    ops / t.median / 1e12, vbest > 0 ? tops / vbest : 0.0,
                    100 * tops / peak);
      }
    }
  }
}
