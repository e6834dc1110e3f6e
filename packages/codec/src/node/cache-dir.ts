import os from "node:os";
import path from "node:path";

/**
 * The directory where encstream keeps downloaded models and built ONNX graphs.
 *
 * Order: `ENCSTREAM_CACHE_DIR`, then `$XDG_CACHE_HOME/encstream`, then the platform's user cache
 * (`%LOCALAPPDATA%\encstream` on Windows, `~/Library/Caches/encstream` on macOS,
 * `~/.cache/encstream` elsewhere). The directory is not created here.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ENCSTREAM_CACHE_DIR) return path.resolve(env.ENCSTREAM_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, "encstream");
  if (process.platform === "win32" && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, "encstream");
  if (process.platform === "darwin") return path.join(os.homedir(), "Library", "Caches", "encstream");
  return path.join(os.homedir(), ".cache", "encstream");
}
