/**
 * Eigenvalues of a real symmetric matrix, in float64: Householder reduction to tridiagonal form
 * followed by the implicit QL algorithm (the EISPACK tred2/tql2 pair as in JAMA), with every
 * eigenvector operation removed. We wrote it ourselves because the maintained JS libraries
 * (ml-matrix) always accumulate eigenvectors, which costs several times more for the 512-wide
 * `mlp.hidden` probe and which no observable needs. ml-matrix is the reference in its tests.
 */
export function symmetricEigenvalues(matrix: Float64Array | Float32Array | number[], n: number): Float64Array {
  if (matrix.length !== n * n) throw new Error(`expected ${n}×${n} matrix, got ${matrix.length} entries`);
  const V = Float64Array.from(matrix as ArrayLike<number>);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return d;
  // A diverged run's NaN or ∞: a NaN spectrum, as LAPACK's path gives (train/host/lapack.ts).
  if (!V.every(Number.isFinite)) return d.fill(NaN);
  if (n === 1) {
    d[0] = V[0];
    return d;
  }
  tridiagonalise(V, n, d, e);
  tridiagonalQL(d, e, n);
  return d.sort();
}

/**
 * Eigenvalues (ascending, float64) of the symmetric tridiagonal with diagonal `diag` and
 * off-diagonal `off` (n − 1 entries): the implicit QL step of symmetricEigenvalues alone, for a
 * reduction done elsewhere (the WGSL engine's, on its device: train/gpu/tridiagonal.ts).
 */
export function tridiagonalEigenvalues(diag: ArrayLike<number>, off: ArrayLike<number>): Float64Array {
  const n = diag.length;
  const d = Float64Array.from(diag);
  if (n < 2) return d;
  const e = new Float64Array(n);
  for (let i = 1; i < n; i++) e[i] = off[i - 1];
  // A diverged run's NaN or ∞: its spectrum is NaN (the QL would stop at once and return plausible-looking values).
  if (!d.every(Number.isFinite) || !e.every(Number.isFinite)) return d.fill(NaN);
  tridiagonalQL(d, e, n);
  return d.sort();
}

/** Householder reduction (tred2 without accumulating transformations). V is overwritten. */
function tridiagonalise(V: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j * n + i] = f;
        g = e[j] + V[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j] * d[k];
          e[k] += V[k * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[k * n + j] -= f * e[k] + g * d[k];
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  // The tridiagonal's diagonal is what the reduction left on V's diagonal.
  for (let j = 0; j < n; j++) d[j] = V[j * n + j];
  e[0] = 0;
}

/**
 * √(a² + b²) without overflow or underflow, as Math.hypot, for two arguments: V8's variadic
 * Math.hypot took about half the QL's time (a 512-wide tridiagonal: 14.5 → 7.8 ms, median of 15
 * in one scratch timing on the 2-core VM; `npm run bench:eigen` has the QL's figure now).
 */
function hypot(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  const big = x > y ? x : y;
  if (big === 0) return 0;
  const r = (x > y ? y : x) / big;
  return big * Math.sqrt(1 + r * r);
}

/** Implicit QL on the tridiagonal (d, e) — tql2 without eigenvectors. Eigenvalues land in d. */
function tridiagonalQL(d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 200) throw new Error('symmetric eigensolver did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}
