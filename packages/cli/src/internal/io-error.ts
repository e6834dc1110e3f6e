/** A one-line description of a file-system error: "`path`: `action` (ENOENT: no such file or directory)". */
export function describeIoError(path: string, action: string, error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const reason = IO_REASONS[typeof code === "string" ? code : ""] ?? (error instanceof Error ? error.message : String(error));
  return `${path}: ${action} (${reason})`;
}

const IO_REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "a parent is not a directory",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
};
