#!/usr/bin/env node
/**
 * Test set-up for the WebGPU path: Mesa's software Vulkan driver (llvmpipe) stands in for a GPU so
 * that `npm test` runs the golden values on the `webgpu` backend. Dawn needs a newer llvmpipe than
 * Debian 12's Mesa 22.3 (it lacks shaderUniform*ArrayDynamicIndexing; measured), so on bookworm the
 * driver comes from Debian's bookworm-backports (Mesa 25). Best effort: never fails; where no adapter
 * can be had, the tests check the clean fallback instead. GROKSCOPE_NO_VULKAN=1 skips it.
 * Run after `build:node` (the probe is the app's own, from dist/).
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { aptGet, aptInstall } from './apt.mjs';

const say = (msg) => process.stderr.write(`grokscope test setup: ${msg}\n`);
const { probeWebGpu, describeAdapter, webgpuEntry } = await import('../dist/core/train/gpu/webgpu.js');

function codename() {
  try {
    return /^VERSION_CODENAME=(.*)$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]?.trim() ?? '';
  } catch {
    return '';
  }
}

function haveBackports() {
  const dir = '/etc/apt/sources.list.d';
  const files = ['/etc/apt/sources.list', ...(existsSync(dir) ? readdirSync(dir).map((f) => `${dir}/${f}`) : [])];
  return files.some((f) => existsSync(f) && /bookworm-backports/.test(readFileSync(f, 'utf8')));
}

async function main() {
  if (process.env.GROKSCOPE_NO_VULKAN) return say('GROKSCOPE_NO_VULKAN set: WebGPU tests check the fallback only');
  if (webgpuEntry() instanceof Error) return say('optional package `webgpu` absent: WebGPU tests check the fallback only');
  const before = await probeWebGpu();
  if (before.ok) return say(`WebGPU adapter: ${describeAdapter(before)}`);
  const apt = aptGet();
  if (!apt) return say(`no WebGPU adapter (${before.reason}) and no apt rights to install Mesa's Vulkan driver`);
  let ok;
  if (codename() === 'bookworm') {
    if (!haveBackports()) {
      writeFileSync(
        '/etc/apt/sources.list.d/grokscope-bookworm-backports.sources',
        'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n',
      );
    }
    say('installing Mesa’s software Vulkan driver from bookworm-backports for the WebGPU tests (once)…');
    ok = apt(['update']) && apt(['install', '-y', '--no-install-recommends', '-t', 'bookworm-backports', 'mesa-vulkan-drivers', 'libvulkan1']);
  } else {
    say('installing Mesa’s software Vulkan driver for the WebGPU tests (once)…');
    ok = aptInstall(apt, ['mesa-vulkan-drivers', 'libvulkan1']);
  }
  if (!ok) return say('apt could not install mesa-vulkan-drivers; WebGPU tests check the fallback only');
  // A fresh process: this one cached the first answer.
  const { execFileSync } = await import('node:child_process');
  const again = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', "const m = await import('./dist/core/train/gpu/webgpu.js'); console.log(JSON.stringify(await m.probeWebGpu()))"], { encoding: 'utf8' }).trim().split('\n').pop());
  say(again.ok ? `WebGPU adapter: ${describeAdapter(again)}` : `still no WebGPU adapter (${again.reason}); WebGPU tests check the fallback only`);
}

main().catch((err) => say(`skipped (${err instanceof Error ? err.message : String(err)})`));
