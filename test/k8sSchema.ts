import * as fs from "fs";
import * as path from "path";

/**
 * Validates Kubernetes objects against the OpenAPI schemas of Kubernetes v1.36.0, as compiled by the
 * pinned `kubernetes-models` package (5.1.0, "Update to Kubernetes v1.36.0").
 *
 * That package is ESM-only and exports only an `import` condition, so a CommonJS `require("kubernetes-models/...")`
 * is refused by its export map. Node >= 20.19 can require() ES modules without top-level await, so the
 * compiled validators are loaded by file path instead, synchronously.
 *
 * What the schemas check: types, required fields, enums, and the apiVersion/kind of each object. What they
 * do not: unknown fields (the upstream OpenAPI documents have no additionalProperties: false).
 */
export const schemaKubernetesVersion = "1.36.0";

const modelsRoot = path.dirname(require.resolve("kubernetes-models/package.json", { paths: [path.resolve(__dirname, "..")] }));

type CompiledValidator = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string; keyword: string; params: unknown }[] | null };

const validators = new Map<string, CompiledValidator>();

function validatorFor(apiVersion: string, kind: string): CompiledValidator | undefined {
    const key = `${apiVersion}/${kind}`;
    if (validators.has(key)) return validators.get(key);
    // Models live at <group>/<version>/<Kind>.js (core: v1/<Kind>.js) and import their compiled schema from _schemas/.
    const modelFile = path.join(modelsRoot, ...apiVersion.split("/"), `${kind}.js`);
    if (!fs.existsSync(modelFile)) return undefined;
    const schemaName = /_schemas\/(\w+)\.js/.exec(fs.readFileSync(modelFile, "utf8"))?.[1];
    if (!schemaName) return undefined;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const validate = require(path.join(modelsRoot, "_schemas", `${schemaName}.js`)).validate as CompiledValidator;
    validators.set(key, validate);
    return validate;
}

function describe(error: { instancePath: string; keyword: string; params: unknown; message?: string }): string {
    return `${error.instancePath || "/"}: ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`;
}

/** Returns the schema errors of one object (empty when valid), each naming the JSON path of the problem. */
export function validateKubernetesObject(obj: unknown): string[] {
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return ["/: not an object"];
    const { apiVersion, kind, metadata } = obj as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
    if (typeof apiVersion !== "string" || typeof kind !== "string") return ["/: apiVersion and kind must be strings"];
    const validate = validatorFor(apiVersion, kind);
    if (!validate) return [`/: ${apiVersion} ${kind} is not a Kubernetes ${schemaKubernetesVersion} type`];
    const errors: string[] = [];
    if (typeof metadata?.name !== "string" || metadata.name === "") errors.push("/metadata/name: required");
    if (!validate(obj)) errors.push(...(validate.errors ?? []).map(describe));
    return errors;
}
