import { createRequire } from 'node:module';
import { firstLine } from '../../errors.js';

/**
 * Hot loops of the fused host steps as WebAssembly SIMD, where plain JS is slow (V8 does not
 * vectorise them; the MLP's two loops measured 5.6 and 6.8 ms per reference step): the MLP's
 * per-token gather with bias and ReLU, and its ReLU mask with the scatter of gradients onto the
 * token tables (host-mlp.ts); the Transformer's ReLU and ReLU mask (host-transformer.ts); and
 * AdamW in float64 lanes, bit-identical to the JS loop it replaces (trainer.ts).
 *
 * Written as WebAssembly text and assembled at start-up by wabt (the WebAssembly Binary Toolkit,
 * from the npm registry), so the source is the reviewed text, not a committed binary. Where
 * assembly or SIMD is unavailable, the JS loops run instead (same results, see the tests).
 *
 * Layout: all pointers are byte offsets into the instance's memory; rows are h float32s with h a
 * multiple of 4 (the caller falls back to JS otherwise).
 */
const WAT = `
(module
  (memory (export "memory") 1)

  ;; out[i] = max(tA[a[i]] + tB[b[i]] + bias, 0), row by row
  (func (export "gather_relu") (param $n i32) (param $h i32) (param $a i32) (param $b i32)
        (param $ta i32) (param $tb i32) (param $bias i32) (param $out i32)
    (local $i i32) (local $j i32) (local $ra i32) (local $rb i32) (local $hb i32) (local $o i32)
    (local.set $hb (i32.shl (local.get $h) (i32.const 2)))
    (local.set $o (local.get $out))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $ra (i32.add (local.get $ta)
          (i32.mul (i32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (local.get $hb))))
        (local.set $rb (i32.add (local.get $tb)
          (i32.mul (i32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))) (local.get $hb))))
        (local.set $j (i32.const 0))
        (block $rowdone
          (loop $cols
            (br_if $rowdone (i32.ge_u (local.get $j) (local.get $hb)))
            (v128.store (i32.add (local.get $o) (local.get $j))
              (f32x4.max
                (f32x4.add
                  (f32x4.add (v128.load (i32.add (local.get $ra) (local.get $j)))
                             (v128.load (i32.add (local.get $rb) (local.get $j))))
                  (v128.load (i32.add (local.get $bias) (local.get $j))))
                (v128.const f32x4 0 0 0 0)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cols)))
        (local.set $o (i32.add (local.get $o) (local.get $hb)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; g = dh where hidden > 0 else 0 (in place), then dA[a[i]] += g and dB[b[i]] += g
  (func (export "mask_scatter") (param $n i32) (param $h i32) (param $a i32) (param $b i32)
        (param $hidden i32) (param $dh i32) (param $da i32) (param $db i32)
    (local $i i32) (local $j i32) (local $ra i32) (local $rb i32) (local $hb i32) (local $o i32) (local $g v128)
    (local.set $hb (i32.shl (local.get $h) (i32.const 2)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $o (i32.mul (local.get $i) (local.get $hb)))
        (local.set $ra (i32.add (local.get $da)
          (i32.mul (i32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (local.get $hb))))
        (local.set $rb (i32.add (local.get $db)
          (i32.mul (i32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))) (local.get $hb))))
        (local.set $j (i32.const 0))
        (block $rowdone
          (loop $cols
            (br_if $rowdone (i32.ge_u (local.get $j) (local.get $hb)))
            (local.set $g
              (v128.and
                (v128.load (i32.add (local.get $dh) (i32.add (local.get $o) (local.get $j))))
                (f32x4.gt (v128.load (i32.add (local.get $hidden) (i32.add (local.get $o) (local.get $j))))
                          (v128.const f32x4 0 0 0 0))))
            (v128.store (i32.add (local.get $dh) (i32.add (local.get $o) (local.get $j))) (local.get $g))
            (v128.store (i32.add (local.get $ra) (local.get $j))
              (f32x4.add (v128.load (i32.add (local.get $ra) (local.get $j))) (local.get $g)))
            (v128.store (i32.add (local.get $rb) (local.get $j))
              (f32x4.add (v128.load (i32.add (local.get $rb) (local.get $j))) (local.get $g)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; x = max(x, 0) in place over n floats (n a multiple of 4)
  (func (export "relu") (param $n i32) (param $x i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (v128.store (local.get $x) (f32x4.max (v128.load (local.get $x)) (v128.const f32x4 0 0 0 0)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $l))))

  ;; dh = dh where hidden > 0 else 0, in place over n floats (n a multiple of 4)
  (func (export "relu_mask") (param $n i32) (param $hidden i32) (param $dh i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $dh) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $dh) (local.get $end)))
        (v128.store (local.get $dh)
          (v128.and (v128.load (local.get $dh))
                    (f32x4.gt (v128.load (local.get $hidden)) (v128.const f32x4 0 0 0 0))))
        (local.set $dh (i32.add (local.get $dh) (i32.const 16)))
        (local.set $hidden (i32.add (local.get $hidden) (i32.const 16)))
        (br $l))))

  ;; AdamW over n float32s (n even), two at a time in float64: exactly the trainer's JS loop
  ;; (each value computed in double and rounded to float32 where JS stores it, and read back
  ;; rounded), so the results are bit-identical. Returns Σ p² (float64, two partial sums).
  (func (export "adamw") (param $n i32) (param $p i32) (param $m i32) (param $v i32) (param $g i32)
        (param $b1 f64) (param $c1 f64) (param $b2 f64) (param $c2 f64) (param $decay f64)
        (param $step f64) (param $sqrtBc2 f64) (param $eps f64) (result f64)
    (local $end i32) (local $gi v128) (local $mi v128) (local $vi v128) (local $pi v128) (local $acc v128)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $gi (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $g))))
        ;; m = b1·m + (1 − b1)·g, rounded to float32
        (local.set $mi (f32x4.demote_f64x2_zero
          (f64x2.add (f64x2.mul (f64x2.splat (local.get $b1)) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $m))))
                     (f64x2.mul (f64x2.splat (local.get $c1)) (local.get $gi)))))
        (v128.store64_lane 0 (local.get $m) (local.get $mi))
        ;; v = b2·v + ((1 − b2)·g)·g, rounded to float32
        (local.set $vi (f32x4.demote_f64x2_zero
          (f64x2.add (f64x2.mul (f64x2.splat (local.get $b2)) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $v))))
                     (f64x2.mul (f64x2.mul (f64x2.splat (local.get $c2)) (local.get $gi)) (local.get $gi)))))
        (v128.store64_lane 0 (local.get $v) (local.get $vi))
        ;; p = p·decay − (step·m) / (√v / √(1 − b2ᵗ) + eps), rounded to float32
        (local.set $pi (f32x4.demote_f64x2_zero
          (f64x2.sub
            (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))) (f64x2.splat (local.get $decay)))
            (f64x2.div
              (f64x2.mul (f64x2.splat (local.get $step)) (f64x2.promote_low_f32x4 (local.get $mi)))
              (f64x2.add (f64x2.div (f64x2.sqrt (f64x2.promote_low_f32x4 (local.get $vi))) (f64x2.splat (local.get $sqrtBc2)))
                         (f64x2.splat (local.get $eps)))))))
        (v128.store64_lane 0 (local.get $p) (local.get $pi))
        (local.set $pi (f64x2.promote_low_f32x4 (local.get $pi)))
        (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (local.get $pi) (local.get $pi))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (local.set $m (i32.add (local.get $m) (i32.const 8)))
        (local.set $v (i32.add (local.get $v) (i32.const 8)))
        (local.set $g (i32.add (local.get $g) (i32.const 8)))
        (br $l)))
    (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
  ;; Attention's weighted values (host-attention.ts), per example i and head: out[i, c] =
  ;; w0·tv0[a[i], c] + w1·tv1[b[i], c] + w2·v2[c], c over the head's dh channels (dh a multiple of 4).
  ;; w: [n, heads, 3] f32; tv0, tv1: [vocab, d]; v2: [d]; out: [n, d].
  (func (export "attn_combine") (param $n i32) (param $d i32) (param $heads i32) (param $a i32) (param $b i32)
        (param $w i32) (param $tv0 i32) (param $tv1 i32) (param $v2 i32) (param $out i32)
    (local $i i32) (local $hd i32) (local $c i32) (local $end i32) (local $db i32) (local $dhb i32)
    (local $ra i32) (local $rb i32) (local $o i32) (local $wp i32)
    (local $w0 v128) (local $w1 v128) (local $w2 v128)
    (local.set $db (i32.shl (local.get $d) (i32.const 2)))
    (local.set $dhb (i32.div_u (local.get $db) (local.get $heads)))
    (local.set $wp (local.get $w))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $ra (i32.add (local.get $tv0) (i32.mul (i32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (local.get $db))))
        (local.set $rb (i32.add (local.get $tv1) (i32.mul (i32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))) (local.get $db))))
        (local.set $o (i32.add (local.get $out) (i32.mul (local.get $i) (local.get $db))))
        (local.set $hd (i32.const 0))
        (local.set $c (i32.const 0))
        (block $headsdone
          (loop $hl
            (br_if $headsdone (i32.ge_u (local.get $hd) (local.get $heads)))
            (local.set $w0 (v128.load32_splat (local.get $wp)))
            (local.set $w1 (v128.load32_splat (i32.add (local.get $wp) (i32.const 4))))
            (local.set $w2 (v128.load32_splat (i32.add (local.get $wp) (i32.const 8))))
            (local.set $end (i32.add (local.get $c) (local.get $dhb)))
            (block $cdone
              (loop $cl
                (br_if $cdone (i32.ge_u (local.get $c) (local.get $end)))
                (v128.store (i32.add (local.get $o) (local.get $c))
                  (f32x4.add
                    (f32x4.add (f32x4.mul (local.get $w0) (v128.load (i32.add (local.get $ra) (local.get $c))))
                               (f32x4.mul (local.get $w1) (v128.load (i32.add (local.get $rb) (local.get $c)))))
                    (f32x4.mul (local.get $w2) (v128.load (i32.add (local.get $v2) (local.get $c))))))
                (local.set $c (i32.add (local.get $c) (i32.const 16)))
                (br $cl)))
            (local.set $wp (i32.add (local.get $wp) (i32.const 12)))
            (local.set $hd (i32.add (local.get $hd) (i32.const 1)))
            (br $hl)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; Backward of attn_combine, per example and head: dw[i, hd, j] = Σ_c dattn[i, c]·value_j[c]
  ;; (f32), and the values' gradients scattered: dtv0[a[i]] += w0·dattn, dtv1[b[i]] += w1·dattn,
  ;; dv2 += w2·dattn. Same layouts as attn_combine; dw: [n, heads, 3] f32.
  (func (export "attn_combine_back") (param $n i32) (param $d i32) (param $heads i32) (param $a i32) (param $b i32)
        (param $w i32) (param $tv0 i32) (param $tv1 i32) (param $v2 i32) (param $dattn i32)
        (param $dtv0 i32) (param $dtv1 i32) (param $dv2 i32) (param $dw i32)
    (local $i i32) (local $hd i32) (local $c i32) (local $end i32) (local $db i32) (local $dhb i32)
    (local $ra i32) (local $rb i32) (local $da i32) (local $ga i32) (local $gb i32) (local $wp i32)
    (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $g v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128)
    (local.set $db (i32.shl (local.get $d) (i32.const 2)))
    (local.set $dhb (i32.div_u (local.get $db) (local.get $heads)))
    (local.set $wp (local.get $w))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $ra (i32.mul (i32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))) (local.get $db)))
        (local.set $rb (i32.mul (i32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))) (local.get $db)))
        (local.set $ga (i32.add (local.get $dtv0) (local.get $ra)))
        (local.set $gb (i32.add (local.get $dtv1) (local.get $rb)))
        (local.set $ra (i32.add (local.get $tv0) (local.get $ra)))
        (local.set $rb (i32.add (local.get $tv1) (local.get $rb)))
        (local.set $da (i32.add (local.get $dattn) (i32.mul (local.get $i) (local.get $db))))
        (local.set $hd (i32.const 0))
        (local.set $c (i32.const 0))
        (block $headsdone
          (loop $hl
            (br_if $headsdone (i32.ge_u (local.get $hd) (local.get $heads)))
            (local.set $w0 (v128.load32_splat (local.get $wp)))
            (local.set $w1 (v128.load32_splat (i32.add (local.get $wp) (i32.const 4))))
            (local.set $w2 (v128.load32_splat (i32.add (local.get $wp) (i32.const 8))))
            (local.set $s0 (v128.const f32x4 0 0 0 0))
            (local.set $s1 (v128.const f32x4 0 0 0 0))
            (local.set $s2 (v128.const f32x4 0 0 0 0))
            (local.set $end (i32.add (local.get $c) (local.get $dhb)))
            (block $cdone
              (loop $cl
                (br_if $cdone (i32.ge_u (local.get $c) (local.get $end)))
                (local.set $g (v128.load (i32.add (local.get $da) (local.get $c))))
                (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $g) (v128.load (i32.add (local.get $ra) (local.get $c))))))
                (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $g) (v128.load (i32.add (local.get $rb) (local.get $c))))))
                (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (local.get $g) (v128.load (i32.add (local.get $v2) (local.get $c))))))
                (v128.store (i32.add (local.get $ga) (local.get $c))
                  (f32x4.add (v128.load (i32.add (local.get $ga) (local.get $c))) (f32x4.mul (local.get $w0) (local.get $g))))
                (v128.store (i32.add (local.get $gb) (local.get $c))
                  (f32x4.add (v128.load (i32.add (local.get $gb) (local.get $c))) (f32x4.mul (local.get $w1) (local.get $g))))
                (v128.store (i32.add (local.get $dv2) (local.get $c))
                  (f32x4.add (v128.load (i32.add (local.get $dv2) (local.get $c))) (f32x4.mul (local.get $w2) (local.get $g))))
                (local.set $c (i32.add (local.get $c) (i32.const 16)))
                (br $cl)))
            ;; horizontal sums into dw
            (f32.store (i32.add (local.get $dw) (i32.sub (local.get $wp) (local.get $w)))
              (f32.add (f32.add (f32x4.extract_lane 0 (local.get $s0)) (f32x4.extract_lane 1 (local.get $s0)))
                       (f32.add (f32x4.extract_lane 2 (local.get $s0)) (f32x4.extract_lane 3 (local.get $s0)))))
            (f32.store (i32.add (local.get $dw) (i32.add (i32.sub (local.get $wp) (local.get $w)) (i32.const 4)))
              (f32.add (f32.add (f32x4.extract_lane 0 (local.get $s1)) (f32x4.extract_lane 1 (local.get $s1)))
                       (f32.add (f32x4.extract_lane 2 (local.get $s1)) (f32x4.extract_lane 3 (local.get $s1)))))
            (f32.store (i32.add (local.get $dw) (i32.add (i32.sub (local.get $wp) (local.get $w)) (i32.const 8)))
              (f32.add (f32.add (f32x4.extract_lane 0 (local.get $s2)) (f32x4.extract_lane 1 (local.get $s2)))
                       (f32.add (f32x4.extract_lane 2 (local.get $s2)) (f32x4.extract_lane 3 (local.get $s2)))))
            (local.set $wp (i32.add (local.get $wp) (i32.const 12)))
            (local.set $hd (i32.add (local.get $hd) (i32.const 1)))
            (br $hl)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))
)`;

export interface HostKernelExports {
  memory: WebAssembly.Memory;
  gather_relu(n: number, h: number, a: number, b: number, ta: number, tb: number, bias: number, out: number): void;
  mask_scatter(n: number, h: number, a: number, b: number, hidden: number, dh: number, da: number, db: number): void;
  relu(n: number, x: number): void;
  relu_mask(n: number, hidden: number, dh: number): void;
  adamw(n: number, p: number, m: number, v: number, g: number, b1: number, c1: number, b2: number, c2: number, decay: number, step: number, sqrtBc2: number, eps: number): number;
  attn_combine(n: number, d: number, heads: number, a: number, b: number, w: number, tv0: number, tv1: number, v2: number, out: number): void;
  attn_combine_back(n: number, d: number, heads: number, a: number, b: number, w: number, tv0: number, tv1: number, v2: number, dattn: number, dtv0: number, dtv1: number, dv2: number, dw: number): void;
}

const require = createRequire(import.meta.url);
let compiled: Promise<WebAssembly.Module | Error> | null = null;
let ready: WebAssembly.Module | Error | null = null;

/** Assemble and compile the kernels once per thread; resolves to the module or why not. */
export function loadHostKernels(): Promise<WebAssembly.Module | Error> {
  if (!compiled) {
    compiled = (async () => {
      try {
        const wabtInit = require('wabt') as () => Promise<{ parseWat(name: string, src: string, features?: Record<string, boolean>): { toBinary(o: object): { buffer: Uint8Array }; destroy(): void } }>;
        const wabt = await wabtInit();
        const parsed = wabt.parseWat('host-kernels.wat', WAT, { simd: true });
        try {
          return await WebAssembly.compile(parsed.toBinary({}).buffer as Uint8Array<ArrayBuffer>);
        } finally {
          parsed.destroy();
        }
      } catch (err) {
        return new Error(`host SIMD kernels unavailable (${firstLine(err)})`);
      }
    })().then((m) => (ready = m));
  }
  return compiled;
}

/** A fresh instance (its own memory) if loadHostKernels has finished successfully, else null. */
export function instantiateHostKernels(): HostKernelExports | null {
  if (!(ready instanceof WebAssembly.Module)) return null;
  return new WebAssembly.Instance(ready).exports as unknown as HostKernelExports;
}
