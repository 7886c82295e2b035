import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './helpers/cli.js';

/**
 * WCAG 2.1 contrast of the workbench's text colours against its background, in both themes
 * (renderer/src/style.css, the `.app` and `.app.dark` blocks): at least 4.5:1 (AA for normal
 * text), muted text included after its opacity blends it toward the background.
 */
const css = readFileSync(path.join(root, 'renderer', 'src', 'style.css'), 'utf8');

function themeVars(selector: string): Record<string, string> {
  const block = new RegExp(`^${selector.replace('.', '\\.').replace(' ', '\\s+')} \\{([^}]*)\\}`, 'm').exec(css)?.[1];
  if (!block) throw new Error(`no ${selector} block in style.css`);
  return Object.fromEntries([...block.matchAll(/--([a-z]+):\s*([^;]+);/g)].map((m) => [m[1], m[2].trim()]));
}

const rgb = (hex: string): number[] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
function luminance([r, g, b]: number[]): number {
  const lin = (c: number): number => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}
function contrast(a: number[], b: number[]): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

describe('colour contrast', () => {
  it('matches WCAG’s reference pair (black on white is 21:1)', () => {
    expect(contrast([0, 0, 0], [255, 255, 255])).toBeCloseTo(21, 10);
    expect(contrast([119, 119, 119], [255, 255, 255])).toBeCloseTo(4.48, 2); // #777 on white just fails AA
  });

  for (const [theme, selector] of [['light', '.app'], ['dark', '.app.dark']] as const) {
    it(`keeps every text colour at AA in the ${theme} theme`, () => {
      const v = themeVars(selector);
      const bg = rgb(v.bg);
      const ratios: Record<string, number> = {};
      for (const name of ['fg', 'danger', 'ok', 'accent', 'link', 'visited']) ratios[name] = contrast(rgb(v[name]), bg);
      const alpha = Number(v.muted);
      const muted = rgb(v.fg).map((c, i) => alpha * c + (1 - alpha) * bg[i]);
      ratios.muted = contrast(muted, bg);
      for (const [name, r] of Object.entries(ratios)) expect(r, `${theme} ${name}: ${r.toFixed(2)}:1`).toBeGreaterThanOrEqual(4.5);
    });
  }

  it('colours links, visited or not, with the theme’s link colours (not the browser’s #00e / #551a8b)', () => {
    // The ratios above hold only if links use these variables: the rules must exist as written.
    expect(css).toMatch(/^\.app a:link \{ color: var\(--link\); \}$/m);
    expect(css).toMatch(/^\.app a:visited \{ color: var\(--visited\); \}$/m);
    // The browser defaults fail on the dark background (why the rules exist).
    const dark = rgb(themeVars('.app.dark').bg);
    expect(contrast(rgb('#0000ee'), dark)).toBeLessThan(4.5);
    expect(contrast(rgb('#551a8b'), dark)).toBeLessThan(4.5);
  });
});
