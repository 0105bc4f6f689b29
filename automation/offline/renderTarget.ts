import * as fs from "fs";
import * as path from "path";

/** Written into every render folder; only a folder holding it is ever replaced by a later render. */
export const renderMarker = ".kaws-render";

/** `--out` that kaws will not write to, with the one-line reason (UsageError in the CLI). */
export class RenderTargetError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "RenderTargetError";
    }
}

const accepted = "accepted: a new folder, an empty folder, or one kaws rendered before";

/**
 * Checks `--out` before anything is evaluated or written: never the current folder, the repository or
 * one of its ancestors, a file, a device, a link, or a non-empty folder kaws did not write; a path whose
 * parent cannot be written fails here, fast. Returns the absolute target.
 */
export function checkRenderTarget(out: string, cwd: string, repoRoot: string): string {
    if (out.trim() === "") throw new RenderTargetError(`--out: an empty path; ${accepted}`);
    const target = path.resolve(cwd, out);
    const within = (ancestor: string, inner: string) => inner === ancestor || inner.startsWith(ancestor.endsWith(path.sep) ? ancestor : ancestor + path.sep);
    if (target === path.resolve(cwd)) throw new RenderTargetError(`--out ${out}: is the current folder; ${accepted}`);
    if (within(target, path.resolve(repoRoot))) throw new RenderTargetError(`--out ${out}: is the repository or a folder containing it; ${accepted}`);
    let stat: fs.Stats | undefined;
    try {
        stat = fs.lstatSync(target);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOTDIR") throw new RenderTargetError(`--out ${out}: its folder ${path.dirname(target)} cannot be written (ENOTDIR: a file is in the way); ${accepted}`);
        if (code !== "ENOENT") throw new RenderTargetError(`--out ${out}: cannot be read (${code}); ${accepted}`);
    }
    if (stat?.isSymbolicLink()) throw new RenderTargetError(`--out ${out}: is a symbolic link; ${accepted}`);
    if (stat && !stat.isDirectory()) throw new RenderTargetError(`--out ${out}: is ${stat.isFile() ? "a file" : "not a folder (a device, socket or pipe)"}; ${accepted}`);
    if (stat && fs.readdirSync(target).length > 0 && !fs.existsSync(path.join(target, renderMarker))) {
        throw new RenderTargetError(`--out ${out}: holds files kaws did not write (no ${renderMarker}); ${accepted}`);
    }
    const parent = path.dirname(target);
    try {
        fs.mkdirSync(parent, { recursive: true });
        fs.rmSync(fs.mkdtempSync(path.join(parent, ".kaws-probe-")), { recursive: true });
    } catch (error) {
        throw new RenderTargetError(`--out ${out}: its folder ${parent} cannot be written (${(error as NodeJS.ErrnoException).code ?? "error"}); ${accepted}`);
    }
    return target;
}

/** `--diff`: an earlier render (it holds the marker and plan.json), not the folder being written. */
export function checkDiffBase(dir: string, cwd: string, target: string): string {
    const base = path.resolve(cwd, dir);
    const accept = "accepted: a folder an earlier `kaws render` wrote (it holds .kaws-render and plan.json), other than --out";
    if (dir.trim() === "") throw new RenderTargetError(`--diff: an empty path; ${accept}`);
    if (base === target) throw new RenderTargetError(`--diff ${dir}: is the --out folder itself; ${accept}`);
    if (!fs.existsSync(path.join(base, renderMarker)) || !fs.existsSync(path.join(base, "plan.json"))) throw new RenderTargetError(`--diff ${dir}: is not a kaws render; ${accept}`);
    return base;
}

/**
 * Writes a render into a fresh folder beside the target, then swaps it in: the target is replaced only
 * when it is empty or holds a previous render (its marker). A failed render leaves the target as it was.
 */
export function writeRenderInto(target: string, marker: string, write: (dir: string) => void): void {
    const staging = fs.mkdtempSync(path.join(path.dirname(target), `.${path.basename(target)}.kaws-`));
    try {
        write(staging);
        fs.writeFileSync(path.join(staging, renderMarker), marker);
    } catch (error) {
        fs.rmSync(staging, { recursive: true, force: true });
        throw error;
    }
    if (!fs.existsSync(target)) {
        fs.renameSync(staging, target);
        return;
    }
    const previous = `${staging}.previous`;
    fs.renameSync(target, previous);
    fs.renameSync(staging, target);
    // Only a folder checked to be empty or marked as a kaws render reaches here.
    fs.rmSync(previous, { recursive: true, force: true });
}
