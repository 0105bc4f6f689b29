import { stringify } from "yaml";

export interface KubeconfigSpec {
    /** Cluster name; also names the context. */
    readonly clusterName: string;
    /** API server URL, e.g. https://api.example:6443 or https://127.0.0.1:6443. */
    readonly server: string;
    /** PEM of the CA that signed the API server certificate. */
    readonly caCertPem: string;
    /** Name of the kubeconfig user entry (the identity is the client certificate's subject). */
    readonly userName: string;
    readonly clientCertPem: string;
    readonly clientKeyPem: string;
}

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** A single-cluster, single-user kubeconfig (client-certificate auth) with its context selected. */
export function renderKubeconfig(spec: KubeconfigSpec): string {
    if (!/^https:\/\/[^\s/]+(:\d+)?$/.test(spec.server)) {
        throw new Error(`renderKubeconfig: server must be an https URL without a path like https://host:6443, got "${spec.server}"`);
    }
    for (const [key, pem, label] of [["caCertPem", spec.caCertPem, "CERTIFICATE"], ["clientCertPem", spec.clientCertPem, "CERTIFICATE"], ["clientKeyPem", spec.clientKeyPem, "PRIVATE KEY"]] as const) {
        if (!pem.includes(`-----BEGIN `) || !pem.includes(label)) throw new Error(`renderKubeconfig: ${key} must be a PEM ${label}`);
    }
    const context = `${spec.userName}@${spec.clusterName}`;
    return stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: spec.clusterName, cluster: { server: spec.server, "certificate-authority-data": base64(spec.caCertPem) } }],
        users: [{ name: spec.userName, user: { "client-certificate-data": base64(spec.clientCertPem), "client-key-data": base64(spec.clientKeyPem) } }],
        contexts: [{ name: context, context: { cluster: spec.clusterName, user: spec.userName } }],
        "current-context": context,
        preferences: {},
    });
}
