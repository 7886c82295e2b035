import { createRequire } from 'node:module';
import { firstLine } from '../errors.js';

/**
 * Two loops of the fused host MLP (host-mlp.ts) as WebAssembly SIMD (f32x4), where plain JS
 * measured 5.6 and 6.8 ms per reference step (V8 does not vectorise them): the per-token gather
 * with bias and ReLU, and the ReLU mask with the scatter of gradients onto the token tables.
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
)`;

export interface HostKernelExports {
  memory: WebAssembly.Memory;
  gather_relu(n: number, h: number, a: number, b: number, ta: number, tb: number, bias: number, out: number): void;
  mask_scatter(n: number, h: number, a: number, b: number, hidden: number, dh: number, da: number, db: number): void;
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
