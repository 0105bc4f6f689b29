import Ajv from "ajv";

/**
 * KubeletConfiguration and CredentialProviderConfig are component configs, not in the Kubernetes OpenAPI
 * document, so test/k8sSchema.ts cannot check them. These ajv schemas are written by hand from the upstream
 * Go types (k8s.io/kubelet/config/v1beta1/types.go, k8s.io/kubelet/config/v1/types.go) for the fields kaws
 * sets, with additionalProperties false so a misspelt or unknown field fails. They are not generated and
 * cover only those fields: an honest, partial check.
 */
const duration = { type: "string", pattern: "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$" };
const int32 = { type: "integer", minimum: -2147483648, maximum: 2147483647 };
const quantities = { type: "object", additionalProperties: { type: "string", pattern: "^[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T|%)?$" } };
const strict = (properties: Record<string, unknown>, required: string[] = []) => ({ type: "object", additionalProperties: false, properties, required });

export const kubeletConfigurationSchema = strict({
    apiVersion: { const: "kubelet.config.k8s.io/v1beta1" },
    kind: { const: "KubeletConfiguration" },
    authentication: strict({
        anonymous: strict({ enabled: { type: "boolean" } }),
        webhook: strict({ enabled: { type: "boolean" }, cacheTTL: duration }),
        x509: strict({ clientCAFile: { type: "string" } }),
    }),
    authorization: strict({
        mode: { enum: ["AlwaysAllow", "Webhook"] },
        webhook: strict({ cacheAuthorizedTTL: duration, cacheUnauthorizedTTL: duration }),
    }),
    cgroupDriver: { enum: ["cgroupfs", "systemd"] },
    containerRuntimeEndpoint: { type: "string", pattern: "^unix://" },
    clusterDNS: { type: "array", items: { type: "string", format: "ipv4" } },
    clusterDomain: { type: "string" },
    staticPodPath: { type: "string" },
    readOnlyPort: { type: "integer", minimum: 0, maximum: 65535 },
    streamingConnectionIdleTimeout: duration,
    makeIPTablesUtilChains: { type: "boolean" },
    protectKernelDefaults: { type: "boolean" },
    eventRecordQPS: { ...int32, minimum: 0 },
    rotateCertificates: { type: "boolean" },
    serverTLSBootstrap: { type: "boolean" },
    tlsCipherSuites: { type: "array", items: { type: "string", pattern: "^TLS_" } },
    tlsMinVersion: { enum: ["VersionTLS10", "VersionTLS11", "VersionTLS12", "VersionTLS13"] },
    podPidsLimit: { type: "integer" },
    seccompDefault: { type: "boolean" },
    imageCredentialProviderConfig: { type: "string" },
    imageCredentialProviderBinDir: { type: "string" },
    registerWithTaints: {
        type: "array",
        items: strict({ key: { type: "string", minLength: 1 }, value: { type: "string" }, effect: { enum: ["NoSchedule", "PreferNoSchedule", "NoExecute"] } }, ["key", "effect"]),
    },
    evictionHard: quantities,
    kubeReserved: quantities,
    systemReserved: quantities,
    shutdownGracePeriod: duration,
    shutdownGracePeriodCriticalPods: duration,
    serializeImagePulls: { type: "boolean" },
}, ["apiVersion", "kind"]);

export const credentialProviderConfigSchema = strict({
    apiVersion: { const: "kubelet.config.k8s.io/v1" },
    kind: { const: "CredentialProviderConfig" },
    providers: {
        type: "array",
        minItems: 1,
        items: strict({
            name: { type: "string", minLength: 1 },
            matchImages: { type: "array", minItems: 1, items: { type: "string" } },
            defaultCacheDuration: duration,
            apiVersion: { enum: ["credentialprovider.kubelet.k8s.io/v1"] },
            args: { type: "array", items: { type: "string" } },
            env: { type: "array", items: strict({ name: { type: "string" }, value: { type: "string" } }, ["name", "value"]) },
        }, ["name", "matchImages", "defaultCacheDuration", "apiVersion"]),
    },
}, ["apiVersion", "kind", "providers"]);

const ajv = new Ajv({ allErrors: true, strict: true, formats: { ipv4: /^(\d{1,3}\.){3}\d{1,3}$/ } });
const compiled = { kubelet: ajv.compile(kubeletConfigurationSchema), credentialProvider: ajv.compile(credentialProviderConfigSchema) };

/** Schema errors of a component config (empty when valid), one line each. */
export function validateComponentConfig(which: keyof typeof compiled, obj: unknown): string[] {
    const validate = compiled[which];
    return validate(obj) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"}: ${e.message} ${JSON.stringify(e.params)}`);
}
