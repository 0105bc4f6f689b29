import * as fs from "fs";
import * as path from "path";

/**
 * The code runs from its TypeScript sources (tests, a checkout without a build) or from their compiled
 * copy under bin/js/ (`npm run build`, run by `npm install`), which copies no other file. So everything
 * read at run time (Pulumi.yaml and the stacks, node scripts, price files, the program itself) is found
 * from the repository root, the nearest folder above this module holding package.json, never from a
 * module's own __dirname.
 */
function nearestPackageRoot(dir: string): string {
    for (let at = dir; ; at = path.dirname(at)) {
        if (fs.existsSync(path.join(at, "package.json"))) return at;
        if (path.dirname(at) === at) throw new Error(`no package.json above ${dir}`);
    }
}

/** The repository root. */
export const projectRoot = nearestPackageRoot(__dirname);

/** Where the running code tree starts: projectRoot itself from the sources, bin/js when compiled. */
const codeRoot = path.resolve(__dirname, "..");

/**
 * The module to require for a program source file (index.ts, addons/program/index.ts): the file itself
 * from the sources, its compiled counterpart when compiled. Files outside the repository are themselves.
 */
export function runnableModule(sourceFile: string): string {
    const relative = path.relative(projectRoot, path.resolve(sourceFile));
    if (codeRoot === projectRoot || relative.startsWith("..") || path.isAbsolute(relative)) return sourceFile;
    return path.join(codeRoot, relative.replace(/\.ts$/, ".js"));
}
