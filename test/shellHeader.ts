import { shellQuote } from "../nodes/shellScript";

/** The `KAWS_X=value` lines of a rendered script's header. */
export function headerLines(script: string): string[] {
    return script.split("\n").filter((line) => /^KAWS_[A-Z0-9_]+=/.test(line));
}

/**
 * The rendered script with some header values replaced (the body untouched): tests point a script's
 * paths at a temporary directory and run it as it is, without root.
 */
export function withHeaderValues(script: string, values: Readonly<Record<string, string>>): string {
    let result = script;
    for (const [name, value] of Object.entries(values)) {
        const line = new RegExp(`^${name}=.*$`, "m");
        if (!line.test(result)) throw new Error(`the script's header does not set ${name}`);
        result = result.replace(line, () => `${name}=${shellQuote(value)}`);
    }
    return result;
}
