#!/usr/bin/env node
/**
 * The tests drive a real SDL2 window under Xvfb with xdotool, take screenshots with ImageMagick
 * and run the terminal back end in tmux. This checks those programs are there and, on Debian or
 * Ubuntu as root (a fresh CI machine), installs what is missing; elsewhere it prints the command
 * and stops, rather than letting the window tests fail one by one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needs = [
  {
    pkg: 'libsdl2-2.0-0',
    present: () =>
      [
        '/usr/lib/x86_64-linux-gnu/libSDL2-2.0.so.0',
        '/usr/lib/aarch64-linux-gnu/libSDL2-2.0.so.0',
        '/usr/lib/libSDL2-2.0.so.0',
      ].some(existsSync) || hasPackage('libsdl2-2.0-0'),
  },
  { pkg: 'xvfb', present: () => onPath('Xvfb') },
  { pkg: 'xdotool', present: () => onPath('xdotool') },
  { pkg: 'x11-utils', present: () => onPath('xwininfo') && onPath('xdpyinfo') },
  { pkg: 'imagemagick', present: () => onPath('import') && hasPackage('imagemagick') },
  { pkg: 'tmux', present: () => onPath('tmux') },
];

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
function hasPackage(name) {
  return spawnSync('dpkg', ['-s', name], { stdio: 'ignore' }).status === 0;
}

if (process.platform !== 'linux') {
  console.error(
    'system-deps: the window tests run on Linux (Xvfb); skipping the check on',
    process.platform,
  );
  process.exit(0);
}
const missing = needs.filter((n) => !n.present()).map((n) => n.pkg);
if (missing.length === 0) process.exit(0);
const canInstall = process.getuid?.() === 0 && onPath('apt-get');
if (!canInstall) {
  console.error(
    `system-deps: the tests need ${missing.join(', ')}. Install them with:\n  sudo apt-get install -y ${missing.join(' ')}`,
  );
  process.exit(1);
}
console.error(`system-deps: installing ${missing.join(', ')}`);
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
  stdio: 'inherit',
  env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
});
