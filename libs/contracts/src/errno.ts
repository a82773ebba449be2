// The kernel's errnos the model returns, name and number (include/uapi/asm-generic/errno*.h,
// include/linux/errno.h for the kernel-internal ENOTSUPP).
export const ERRNO = {
  ENOENT: 2,
  EIO: 5,
  EFAULT: 14,
  EBUSY: 16,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
  EACCES: 13,
  EOPNOTSUPP: 95,
  /** kernel-internal (include/linux/errno.h); must never reach userspace (bug table #14) */
  ENOTSUPP: 524,
} as const;

export type ErrnoName = keyof typeof ERRNO;

/** Errnos a uAPI caller may legitimately see; ENOTSUPP (524) is not one of them. */
export const STANDARD_ERRNOS: ReadonlySet<ErrnoName> = new Set(
  (Object.keys(ERRNO) as ErrnoName[]).filter((n) => n !== 'ENOTSUPP'),
);

export function errnoName(code: number): ErrnoName | undefined {
  const abs = Math.abs(code);
  return (Object.keys(ERRNO) as ErrnoName[]).find((n) => ERRNO[n] === abs);
}

/** "-EINVAL (22)" for a negative return value, "0" for success. */
export function formatRet(ret: number): string {
  if (ret >= 0) return String(ret);
  const name = errnoName(ret);
  return name ? `-${name} (${-ret})` : String(ret);
}

export function isErrnoName(s: string): s is ErrnoName {
  return Object.prototype.hasOwnProperty.call(ERRNO, s);
}
