import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

/** Fully qualified keys (`kaws:azCount`, `aws:region`) to values as the engine passes them: text or JSON. */
export type StackConfig = Record<string, string>;

export const projectName = "kaws";

/** Stack names Pulumi accepts: letters, digits, "-", "_" and ".", at most 100 characters. */
const pulumiStackName = /^[A-Za-z0-9_.-]{1,100}$/;

/** Why Pulumi would refuse a stack name, or undefined. */
export function stackNameProblem(name: string): string | undefined {
    return pulumiStackName.test(name) ? undefined
        : `stack name ${JSON.stringify(name)} is not one Pulumi accepts; accepted: letters, digits, "-", "_" and ".", at most 100 characters`;
}

function stackFiles(root: string): string[] {
    return fs.readdirSync(root).map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1]).filter((env): env is string => env !== undefined).sort();
}

/** Environments are the stacks that have a committed Pulumi.<env>.yaml (with a name Pulumi accepts). */
export function listEnvironments(root: string): string[] {
    return stackFiles(root).filter((env) => !stackNameProblem(env));
}

/** YAML text parsed, or an error naming the file, line and column. */
function parseYamlFile(root: string, file: string): any {
    try {
        return YAML.parse(fs.readFileSync(path.join(root, file), "utf8"));
    } catch (error) {
        if (error instanceof YAML.YAMLError) {
            const at = error.linePos?.[0];
            throw new Error(`${file}${at ? `:${at.line}:${at.col}` : ""}: ${error.message.split("\n")[0]}`);
        }
        throw error;
    }
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
        const badName = stackFiles(root).includes(env) ? stackNameProblem(env) : undefined;
        throw new Error(badName ? `Pulumi.${env}.yaml: ${badName}` : `unknown environment "${env}"; accepted: ${environments.join(" | ")}`);
    }
    const project = parseYamlFile(root, "Pulumi.yaml");
    const stack = parseYamlFile(root, `Pulumi.${env}.yaml`) ?? {};
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
