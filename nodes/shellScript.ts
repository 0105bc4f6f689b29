import * as fs from "fs";
import * as path from "path";
import { projectRoot } from "../plan/projectRoot";

/**
 * Node scripts are plain bash files next to their renderers (etcd/boot.sh, nodes/boot.sh, ...), so
 * shellcheck and editors read them directly. A script reads every value it is rendered with from a
 * KAWS_* shell variable; renderShellScript prepends the header that assigns them:
 *
 *   #!/bin/bash
 *   # <comment>
 *   # Rendered by kaws: the values below, then the body of <file>.
 *   KAWS_NAME=value            one line per value, shell-quoted
 *   <the file without its #!/bin/bash line>
 */

/** A header value; numbers are written in decimal. */
export type ShellValue = string | number;

/** Header variables are KAWS_<UPPER_SNAKE>; the body refers to them as $KAWS_X or ${KAWS_X...}. */
const variableName = /^KAWS_[A-Z0-9_]+$/;
const reference = /\$\{?(KAWS_[A-Z0-9_]+)/g;
/** Characters that need no quoting at all. */
const bare = /^[A-Za-z0-9_@%+=:,./-]+$/;
const bodies = new Map<string, string>();

/**
 * One shell word that bash reads back as exactly `value`, on one line: bare when it is plain, in single
 * quotes otherwise, as $'...' (bash's ANSI-C quoting) when it holds a newline or another control character.
 */
export function shellQuote(value: string): string {
    if (value.includes("\0")) throw new Error("a shell value cannot hold a NUL character");
    if (bare.test(value)) return value;
    if (!/[\x00-\x1f\x7f]/.test(value)) return `'${value.replace(/'/g, `'\\''`)}'`;
    const escaped = [...value].map((c) => {
        if (c === "\\") return "\\\\";
        if (c === "'") return "\\'";
        if (c === "\n") return "\\n";
        if (c === "\t") return "\\t";
        if (c === "\r") return "\\r";
        const code = c.charCodeAt(0);
        return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : c;
    }).join("");
    return `$'${escaped}'`;
}

/** The absolute path of a script given relative to the project root ("etcd/boot.sh"). */
export function shellScriptPath(file: string): string {
    return path.join(projectRoot, file);
}

function body(file: string): string {
    let text = bodies.get(file);
    if (text === undefined) {
        text = fs.readFileSync(shellScriptPath(file), "utf8");
        bodies.set(file, text);
    }
    return text;
}

/** KAWS_* variables the script refers to, outside comment lines. */
export function shellScriptVariables(script: string): Set<string> {
    const code = script.split("\n").filter((line) => !line.trimStart().startsWith("#")).join("\n");
    return new Set([...code.matchAll(reference)].map((m) => m[1]));
}

/**
 * `#!/bin/bash`, the comment, a header assigning `values` and the body of `file` (relative to the project
 * root). Refuses a value the script does not use and a KAWS_* variable the script uses but is not given.
 */
export function renderShellScript(file: string, values: Readonly<Record<string, ShellValue>>, comment: string): string {
    const source = body(file);
    if (!source.startsWith("#!/bin/bash\n")) throw new Error(`${file}: must start with #!/bin/bash`);
    if (/[\r\n]/.test(comment)) throw new Error(`${file}: the header comment must be one line`);
    const script = source.slice("#!/bin/bash\n".length);
    const used = shellScriptVariables(script);
    const problems: string[] = [];
    for (const name of Object.keys(values)) {
        if (!variableName.test(name)) problems.push(`${name} is not a KAWS_<NAME> variable`);
        else if (!used.has(name)) problems.push(`${name} is set but the script does not use it`);
    }
    for (const name of used) {
        if (!Object.prototype.hasOwnProperty.call(values, name)) problems.push(`the script uses ${name}, which is not set`);
    }
    if (problems.length > 0) throw new Error(`${file}: ${problems.join("; ")}`);
    const header = Object.entries(values).map(([name, value]) => {
        if (typeof value === "number" && !Number.isFinite(value)) throw new Error(`${file}: ${name} is not a finite number`);
        return `${name}=${shellQuote(String(value))}\n`;
    }).join("");
    return `#!/bin/bash\n# ${comment}\n# Rendered by kaws: the values below, then the body of ${file}.\n${header}${script}`;
}
