import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

/** Fully qualified keys (`kaws:azCount`, `aws:region`) to values as the engine passes them: text or JSON. */
export type StackConfig = Record<string, string>;

export const projectName = "kaws";

/** Environments are the stacks that have a committed Pulumi.<env>.yaml. */
export function listEnvironments(root: string): string[] {
    return fs.readdirSync(root)
        .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
        .filter((env): env is string => env !== undefined)
        .sort();
}

function encode(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

function qualify(key: string): string {
    return key.includes(":") ? key : `${projectName}:${key}`;
}

/**
 * The configuration the Pulumi CLI would hand the program for `env`: the project's schema defaults and
 * values from Pulumi.yaml, overridden by Pulumi.<env>.yaml. Encrypted (`secure:`) values cannot be read
 * offline and are reported instead of guessed.
 */
export function loadStackConfig(root: string, env: string): StackConfig {
    const environments = listEnvironments(root);
    if (!environments.includes(env)) {
        throw new Error(`unknown environment "${env}"; accepted: ${environments.join(" | ")}`);
    }
    const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
    const stack = YAML.parse(fs.readFileSync(path.join(root, `Pulumi.${env}.yaml`), "utf8")) ?? {};
    const config: Record<string, string> = {};
    for (const [key, spec] of Object.entries<any>(project.config ?? {})) {
        const isSchema = spec !== null && typeof spec === "object" && !Array.isArray(spec);
        const value = isSchema ? (spec.value ?? spec.default) : spec;
        if (value !== undefined) config[qualify(key)] = encode(value);
    }
    for (const [key, value] of Object.entries<any>(stack.config ?? {})) {
        if (value !== null && typeof value === "object" && "secure" in value) {
            throw new Error(`${key} in Pulumi.${env}.yaml is encrypted; offline evaluation cannot decrypt it (use the Pulumi CLI)`);
        }
        config[qualify(key)] = encode(value);
    }
    return config;
}
