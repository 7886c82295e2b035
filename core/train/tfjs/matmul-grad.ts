import * as tf from '@tensorflow/tfjs-core';

/**
 * A BatchMatMul gradient that materialises transposes instead of asking for transposed products.
 *
 * Measured on the wasm backend (scripts/_prof.ts, quick preset): a matmul with transposeA or
 * transposeB runs 10–25× slower than the same product on explicitly transposed operands (e.g.
 * [481,256]ᵀ·[481,64] 19 ms vs < 1 ms), and tfjs's own gradient asks for exactly those. The
 * mathematics is unchanged (the golden gradients prove it); only the kernels called differ.
 * Rank-2 products only — every product in our models; others keep tfjs's gradient.
 */
let installed = false;

function t(x: tf.Tensor): tf.Tensor2D {
  return tf.transpose(x as tf.Tensor2D);
}

export function installFastMatMulGradient(): void {
  if (installed) return;
  installed = true;
  const original = tf.getGradient(tf.BatchMatMul);
  tf.unregisterGradient(tf.BatchMatMul);
  tf.registerGradient({
    kernelName: tf.BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as tf.Tensor2D[];
      const dyT = dy as tf.Tensor2D;
      if (a.rank !== 2 || b.rank !== 2) return original.gradFunc(dy, saved, attrs);
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return { a: () => tf.matMul(dyT, t(b)), b: () => tf.matMul(t(a), dyT) };
      if (!transposeA && transposeB) return { a: () => tf.matMul(dyT, b), b: () => tf.matMul(t(dyT), a) };
      if (transposeA && !transposeB) return { a: () => tf.matMul(b, t(dyT)), b: () => tf.matMul(a, dyT) };
      return { a: () => tf.matMul(t(b), t(dyT)), b: () => tf.matMul(t(dyT), t(a)) };
    },
  });
}
