import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";

/** Pulumi's envelope around a secret value, as secret inputs reach the mock monitor and the recorded resources. */
export const isSecretEnvelope = (value: unknown): value is { value: unknown } =>
    !!value && typeof value === "object" && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;

/** The value inside its secret envelopes, if any (not descending into objects). */
export function unwrapSecret(value: unknown): any {
    return isSecretEnvelope(value) ? unwrapSecret(value.value) : value;
}

/** The value with every secret envelope inside it unwrapped, as the policy host hands props to a policy. */
export function unwrapSecrets(value: unknown): any {
    if (isSecretEnvelope(value)) return unwrapSecrets(value.value);
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value && typeof value === "object" && value.constructor === Object) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}
