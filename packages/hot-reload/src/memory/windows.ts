/**
 * Windows: a named, pagefile-backed file mapping (CreateFileMappingW on INVALID_HANDLE_VALUE)
 * mapped with MapViewOfFile. Written from the Win32 documentation (memoryapi.h, winbase.h,
 * errhandlingapi.h); loaded only on Windows. CI runs it under Wine with the official Windows
 * Node (scripts/windows-lane.mjs), between real processes.
 *
 * Differences from POSIX that matter here:
 * - Names: the POSIX-style '/hotshm-…' becomes 'Local\hotshm-…' (this logon session's
 *   namespace; 'Global\' would need SeCreateGlobalPrivilege).
 * - Create-exclusive: CreateFileMappingW opens an existing mapping of the same name instead of
 *   failing, and reports ERROR_ALREADY_EXISTS; we then close that handle (leaving the existing
 *   mapping untouched) and throw RegionExistsError.
 * - Lifetime: the kernel frees the mapping when its last handle and view are gone, so a region
 *   cannot outlive its processes and `unlink` is a no-op that returns false. The owner's mapping
 *   object keeps its handle open until `close()` so the name stays openable.
 * - Reservation: a pagefile-backed section is committed in full at creation, so running out of
 *   commit is always an error at CreateFileMappingW (`reserve` changes nothing).
 * - Size on open: VirtualQuery reports the view rounded up to a page; the header's totalSize
 *   holds the exact figure.
 * - Close: there is no atomic "replace this view with private pages" as mmap(MAP_FIXED) gives on
 *   POSIX. We UnmapViewOfFile and immediately VirtualAlloc committed zero pages at the same
 *   address so stale views read zeros. This is best effort: another thread (V8's, a native
 *   library's) could allocate in the gap, in which case VirtualAlloc fails and a stale view would
 *   fault. Drop views before closing on Windows. The placeholder pages count against the commit
 *   limit until the process ends.
 * - Errors: GetLastError() is read right after each failing call; koffi makes no Win32 calls of
 *   its own between the two on that thread.
 */

import koffi from 'koffi';
import {
  RegionExistsError,
  RegionNotFoundError,
  RegionNotReadyError,
  RegionSystemError,
} from '../errors.js';
import type { NativeMapping, RegionBackend } from './backend.js';

export const WINDOWS_CONSTANTS = {
  /** (HANDLE)-1: back the mapping with the paging file rather than a file. */
  INVALID_HANDLE_VALUE: -1,
  PAGE_READWRITE: 0x04,
  FILE_MAP_WRITE: 0x0002,
  FILE_MAP_READ: 0x0004,
  MEM_COMMIT: 0x1000,
  MEM_RESERVE: 0x2000,
  ERROR_FILE_NOT_FOUND: 2,
  ERROR_NOT_ENOUGH_MEMORY: 8,
  ERROR_ALREADY_EXISTS: 183,
  ERROR_COMMITMENT_LIMIT: 1455,
  /** sizeof(MEMORY_BASIC_INFORMATION) on 64-bit Windows. */
  MEMORY_BASIC_INFORMATION_SIZE: 48,
  /** offsetof(MEMORY_BASIC_INFORMATION, RegionSize) on 64-bit Windows. */
  MBI_REGION_SIZE_OFFSET: 24,
} as const;

const W = WINDOWS_CONSTANTS;

/** '/hotshm-1-0a1b2c3d' → 'Local\hotshm-1-0a1b2c3d' (the name must already be validated). */
export function toWindowsName(posixName: string): string {
  return `Local\\${posixName.slice(1)}`;
}

/** CreateFileMappingW takes the maximum size as two DWORDs. */
export function splitSize(size: number): { high: number; low: number } {
  return { high: Math.floor(size / 2 ** 32), low: size % 2 ** 32 };
}

const MESSAGES: Record<number, string> = {
  [W.ERROR_FILE_NOT_FOUND]: 'the mapping does not exist',
  [W.ERROR_NOT_ENOUGH_MEMORY]: 'not enough memory',
  [W.ERROR_ALREADY_EXISTS]: 'a mapping with that name already exists',
  [W.ERROR_COMMITMENT_LIMIT]: 'the paging file is too small to commit the region',
  5: 'access denied',
  87: 'invalid parameter',
};

interface Kernel32 {
  createFileMapping(protect: number, high: number, low: number, name: string): bigint | null;
  openFileMapping(access: number, name: string): bigint | null;
  mapViewOfFile(handle: bigint, access: number, size: number): bigint | null;
  unmapViewOfFile(address: bigint): boolean;
  virtualQuerySize(address: bigint): number;
  virtualAlloc(address: bigint, size: number, type: number, protect: number): bigint | null;
  closeHandle(handle: bigint): void;
  lastError(): number;
}

function bindKernel32(): Kernel32 {
  const k = koffi.load('kernel32.dll');
  const fn = (name: string, result: string, params: string[]) =>
    k.func('__stdcall', name, result, params);
  const CreateFileMappingW = fn('CreateFileMappingW', 'void *', [
    'intptr', // hFile
    'void *', // lpFileMappingAttributes
    'uint32', // flProtect
    'uint32', // dwMaximumSizeHigh
    'uint32', // dwMaximumSizeLow
    'str16', // lpName
  ]);
  const OpenFileMappingW = fn('OpenFileMappingW', 'void *', ['uint32', 'int', 'str16']);
  const MapViewOfFile = fn('MapViewOfFile', 'void *', [
    'void *',
    'uint32',
    'uint32',
    'uint32',
    'size_t',
  ]);
  const UnmapViewOfFile = fn('UnmapViewOfFile', 'int', ['void *']);
  const VirtualQuery = fn('VirtualQuery', 'size_t', ['void *', 'void *', 'size_t']);
  const VirtualAlloc = fn('VirtualAlloc', 'void *', ['void *', 'size_t', 'uint32', 'uint32']);
  const CloseHandle = fn('CloseHandle', 'int', ['void *']);
  const GetLastError = fn('GetLastError', 'uint32', []);
  return {
    createFileMapping: (protect, high, low, name) =>
      CreateFileMappingW(W.INVALID_HANDLE_VALUE, null, protect, high, low, name) as bigint | null,
    openFileMapping: (access, name) => OpenFileMappingW(access, 0, name) as bigint | null,
    mapViewOfFile: (handle, access, size) =>
      MapViewOfFile(handle, access, 0, 0, size) as bigint | null,
    unmapViewOfFile: (address) => (UnmapViewOfFile(address) as number) !== 0,
    virtualQuerySize(address) {
      const info = Buffer.alloc(W.MEMORY_BASIC_INFORMATION_SIZE);
      const written = Number(VirtualQuery(address, info, info.length));
      if (written === 0) return 0;
      return Number(info.readBigUInt64LE(W.MBI_REGION_SIZE_OFFSET));
    },
    virtualAlloc: (address, size, type, protect) =>
      VirtualAlloc(address, size, type, protect) as bigint | null,
    closeHandle: (handle) => {
      CloseHandle(handle);
    },
    lastError: () => GetLastError() as number,
  };
}

export function loadWindowsBackend(): RegionBackend {
  const k = bindKernel32();
  const access = W.FILE_MAP_READ | W.FILE_MAP_WRITE;

  function fail(call: string, code: number, name: string): never {
    if (code === W.ERROR_ALREADY_EXISTS) throw new RegionExistsError(name);
    if (code === W.ERROR_FILE_NOT_FOUND) throw new RegionNotFoundError(name);
    const text = MESSAGES[code] ?? 'Windows error';
    throw new RegionSystemError(call, code, `${text} (region ${name})`);
  }

  function map(handle: bigint, size: number, name: string, sizeKnown: boolean): NativeMapping {
    const address = k.mapViewOfFile(handle, access, sizeKnown ? size : 0);
    if (address === null || address === 0n) {
      const code = k.lastError();
      k.closeHandle(handle);
      fail('MapViewOfFile', code, name);
    }
    let mapped = size;
    if (!sizeKnown) {
      mapped = k.virtualQuerySize(address);
      if (mapped === 0) {
        k.unmapViewOfFile(address);
        k.closeHandle(handle);
        throw new RegionNotReadyError(name);
      }
    }
    let released = false;
    return {
      address,
      size: mapped,
      release() {
        if (released) return;
        released = true;
        k.unmapViewOfFile(address);
        k.closeHandle(handle);
        // Best effort (see the module comment): put zero pages where the view was.
        k.virtualAlloc(address, mapped, W.MEM_RESERVE | W.MEM_COMMIT, W.PAGE_READWRITE);
      },
    };
  }

  return {
    platform: 'win32',

    create(name, size) {
      const { high, low } = splitSize(size);
      const handle = k.createFileMapping(W.PAGE_READWRITE, high, low, toWindowsName(name));
      if (handle === null || handle === 0n) fail('CreateFileMappingW', k.lastError(), name);
      if (k.lastError() === W.ERROR_ALREADY_EXISTS) {
        // We were handed the existing mapping: let go of it without touching it.
        k.closeHandle(handle);
        throw new RegionExistsError(name);
      }
      return map(handle, size, name, true);
    },

    open(name) {
      const handle = k.openFileMapping(access, toWindowsName(name));
      if (handle === null || handle === 0n) fail('OpenFileMappingW', k.lastError(), name);
      return map(handle, 0, name, false);
    },

    unlink() {
      return false;
    },

    listNames() {
      return undefined;
    },
  };
}
