import { stringify } from "yaml";

export interface EncryptionConfigSpec {
    /** Name of the secretbox key; a new name per rotated key lets old and new keys coexist. */
    readonly keyName: string;
    /** 32 random bytes, base64. */
    readonly secretboxKeyBase64: string;
}

/** Resources the API server encrypts at rest. */
export const encryptedResources = ["secrets", "configmaps"];

/**
 * The kube-apiserver --encryption-provider-config: secrets and configmaps are written with secretbox
 * (XSalsa20-Poly1305, which the Kubernetes docs prefer over aescbc); identity last so objects stored
 * before encryption was enabled stay readable until rewritten.
 */
export function renderEncryptionConfig(spec: EncryptionConfigSpec): string {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(spec.keyName)) throw new Error(`renderEncryptionConfig: keyName must be lower-case letters, digits and dashes, got "${spec.keyName}"`);
    const key = Buffer.from(spec.secretboxKeyBase64, "base64");
    if (key.length !== 32 || key.toString("base64") !== spec.secretboxKeyBase64) {
        throw new Error(`renderEncryptionConfig: secretboxKeyBase64 must be exactly 32 bytes in base64, got ${key.length} bytes`);
    }
    return stringify({
        apiVersion: "apiserver.config.k8s.io/v1",
        kind: "EncryptionConfiguration",
        resources: [{
            resources: encryptedResources,
            providers: [
                { secretbox: { keys: [{ name: spec.keyName, secret: spec.secretboxKeyBase64 }] } },
                { identity: {} },
            ],
        }],
    });
}
