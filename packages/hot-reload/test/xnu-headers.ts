/**
 * Lines copied by hand from Apple's XNU sources, for the macOS modules' tests: each constant the
 * memory and sync modules pass to the kernel, as the header that defines it spells it, with the
 * file and line. The tests parse the value out of the quoted line and compare it with the module's
 * table, so a wrong value in a module fails a test; neither side is derived from the other.
 *
 * Source: https://github.com/apple-oss-distributions/xnu, tag xnu-11417.101.15
 * (commit e3723e1f17661b24996789d8afc084c0c3303b26), read with `git show <commit>:<path>`.
 * The public ones (fcntl.h, mman.h, errno.h) are what the macOS SDK ships as <sys/…>;
 * sys/ulock.h and sys/posix_shm.h are private (not in the SDK), which is why they are written
 * down here rather than compiled against.
 */

export const XNU_SOURCE = {
  repository: 'apple-oss-distributions/xnu',
  tag: 'xnu-11417.101.15',
  commit: 'e3723e1f17661b24996789d8afc084c0c3303b26',
} as const;

export interface HeaderLine {
  readonly header: string;
  readonly line: number;
  readonly text: string;
}

export const XNU_LINES = {
  O_RDWR: {
    header: 'bsd/sys/fcntl.h',
    line: 100,
    text: '#define O_RDWR          0x0002          /* open for reading and writing */',
  },
  O_CREAT: {
    header: 'bsd/sys/fcntl.h',
    line: 127,
    text: '#define O_CREAT         0x00000200      /* create if nonexistant */',
  },
  O_EXCL: {
    header: 'bsd/sys/fcntl.h',
    line: 129,
    text: '#define O_EXCL          0x00000800      /* error if already exists */',
  },
  PROT_READ: {
    header: 'bsd/sys/mman.h',
    line: 102,
    text: '#define PROT_READ       0x01    /* [MC2] pages can be read */',
  },
  PROT_WRITE: {
    header: 'bsd/sys/mman.h',
    line: 103,
    text: '#define PROT_WRITE      0x02    /* [MC2] pages can be written */',
  },
  MAP_SHARED: {
    header: 'bsd/sys/mman.h',
    line: 110,
    text: '#define MAP_SHARED      0x0001          /* [MF|SHM] share changes */',
  },
  MAP_PRIVATE: {
    header: 'bsd/sys/mman.h',
    line: 111,
    text: '#define MAP_PRIVATE     0x0002          /* [MF|SHM] changes are private */',
  },
  MAP_FIXED: {
    header: 'bsd/sys/mman.h',
    line: 119,
    text: '#define MAP_FIXED        0x0010 /* [MF|SHM] interpret addr exactly */',
  },
  MAP_NORESERVE: {
    header: 'bsd/sys/mman.h',
    line: 122,
    text: "#define MAP_NORESERVE    0x0040 /* Sun: don't reserve needed swap area */",
  },
  MAP_ANON: {
    header: 'bsd/sys/mman.h',
    line: 133,
    text: '#define MAP_ANON        0x1000  /* allocated from memory, swap space */',
  },
  ENOENT: {
    header: 'bsd/sys/errno.h',
    line: 91,
    text: '#define ENOENT          2               /* No such file or directory */',
  },
  EINTR: {
    header: 'bsd/sys/errno.h',
    line: 93,
    text: '#define EINTR           4               /* Interrupted system call */',
  },
  EFAULT: {
    header: 'bsd/sys/errno.h',
    line: 104,
    text: '#define EFAULT          14              /* Bad address */',
  },
  EEXIST: {
    header: 'bsd/sys/errno.h',
    line: 109,
    text: '#define EEXIST          17              /* File exists */',
  },
  ENOSPC: {
    header: 'bsd/sys/errno.h',
    line: 120,
    text: '#define ENOSPC          28              /* No space left on device */',
  },
  ETIMEDOUT: {
    header: 'bsd/sys/errno.h',
    line: 179,
    text: '#define ETIMEDOUT       60              /* Operation timed out */',
  },
  PSHMNAMLEN: {
    header: 'bsd/sys/posix_shm.h',
    line: 53,
    text: '#define PSHMNAMLEN      31      /* maximum name segment length we bother with */',
  },
  UL_COMPARE_AND_WAIT_SHARED: {
    header: 'bsd/sys/ulock.h',
    line: 86,
    text: '#define UL_COMPARE_AND_WAIT_SHARED      3',
  },
  ULF_WAKE_ALL: {
    header: 'bsd/sys/ulock.h',
    line: 101,
    text: '#define ULF_WAKE_ALL                    0x00000100',
  },
  ULF_NO_ERRNO: {
    header: 'bsd/sys/ulock.h',
    line: 131,
    text: '#define ULF_NO_ERRNO                    0x01000000',
  },
} as const satisfies Record<string, HeaderLine>;

export type XnuName = keyof typeof XNU_LINES;

/**
 * The value a quoted `#define NAME VALUE [comment]` line gives NAME. Throws if the line does not
 * define `name` as a plain decimal or hex integer, so a mistyped line fails loudly.
 */
export function headerValue(name: XnuName): number {
  const { text, header, line } = XNU_LINES[name];
  const match = /^#define\s+(\w+)\s+(0x[0-9a-fA-F]+|[0-9]+)\b/.exec(text);
  if (match === null || match[1] !== name) {
    throw new Error(`${header}:${line}: expected '#define ${name} <integer>', got ${text}`);
  }
  return Number(match[2]);
}

/** "bsd/sys/fcntl.h:127", to name the source in a test's title. */
export function headerRef(name: XnuName): string {
  const { header, line } = XNU_LINES[name];
  return `${header}:${line}`;
}
