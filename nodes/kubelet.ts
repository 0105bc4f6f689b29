import { stringify } from "yaml";
import { labelKeyProblem, labelValueProblem, selfLabelProblem } from "../plan/labels";
import { Taint } from "../plan/config";

/** Where kubelet's files live on every node (kubeadm layout, so CIS tooling finds them). */
export const kubeletPaths = {
    config: "/var/lib/kubelet/config.yaml",
    bootstrapKubeconfig: "/etc/kubernetes/bootstrap-kubelet.conf",
    /** Written by kubelet itself (mode 0600) once its client certificate is issued. */
    kubeconfig: "/etc/kubernetes/kubelet.conf",
    clientCa: "/etc/kubernetes/pki/ca.crt",
    unit: "/etc/systemd/system/kubelet.service",
    credentialProviderConfig: "/etc/kubernetes/credential-provider.yaml",
    credentialProviderBinDir: "/usr/local/libexec/kubelet-credential-providers",
    /** Drop-in that turns the ECR credential provider on; the boot removes it when the provider did not install. */
    credentialProviderDropIn: "/etc/systemd/system/kubelet.service.d/10-credential-provider.conf",
    staticPods: "/etc/kubernetes/manifests",
} as const;

/** TLS 1.2 suites kubelet and the API server accept: ECDHE with AEAD only (CIS 1.2.29 and 4.2.12). */
export const strongCipherSuites = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
] as const;

export interface KubeletSpec {
    /** ClusterIP of the cluster DNS Service. */
    readonly clusterDnsIp: string;
    readonly clusterDomain: string;
    /** Taints the node registers with (NodeRestriction allows them only at registration). */
    readonly registerWithTaints: readonly Taint[];
}

/**
 * The KubeletConfiguration of every node: webhook authentication and authorization, no anonymous access,
 * no read-only port, serving certificates requested from the cluster CA (serverTLSBootstrap; the
 * kubelet-csr-approver add-on approves them), rotated client certificates, kernel defaults protected.
 */
export function kubeletConfiguration(spec: KubeletSpec): Record<string, unknown> {
    return {
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        kind: "KubeletConfiguration",
        authentication: {
            anonymous: { enabled: false },
            webhook: { enabled: true, cacheTTL: "2m0s" },
            x509: { clientCAFile: kubeletPaths.clientCa },
        },
        authorization: { mode: "Webhook", webhook: { cacheAuthorizedTTL: "5m0s", cacheUnauthorizedTTL: "30s" } },
        cgroupDriver: "systemd",
        containerRuntimeEndpoint: "unix:///run/containerd/containerd.sock",
        clusterDNS: [spec.clusterDnsIp],
        clusterDomain: spec.clusterDomain,
        staticPodPath: kubeletPaths.staticPods,
        readOnlyPort: 0,
        streamingConnectionIdleTimeout: "5m0s",
        makeIPTablesUtilChains: true,
        protectKernelDefaults: true,
        eventRecordQPS: 50,
        rotateCertificates: true,
        serverTLSBootstrap: true,
        tlsCipherSuites: [...strongCipherSuites],
        tlsMinVersion: "VersionTLS12",
        podPidsLimit: 4096,
        seccompDefault: true,
        registerWithTaints: spec.registerWithTaints.map((t) => (t.value === undefined ? { key: t.key, effect: t.effect } : { key: t.key, value: t.value, effect: t.effect })),
        evictionHard: { "memory.available": "200Mi", "nodefs.available": "10%", "imagefs.available": "15%", "nodefs.inodesFree": "5%" },
        kubeReserved: { cpu: "100m", memory: "256Mi", "ephemeral-storage": "1Gi" },
        systemReserved: { cpu: "100m", memory: "256Mi", "ephemeral-storage": "1Gi" },
        shutdownGracePeriod: "60s",
        shutdownGracePeriodCriticalPods: "20s",
        serializeImagePulls: false,
    };
}

export function renderKubeletConfiguration(spec: KubeletSpec): string {
    return stringify(kubeletConfiguration(spec));
}

/**
 * `--node-labels` value. Configured labels are validated with the configuration (plan/config.ts); this
 * refuses anything else a kubelet could not register with, as a last guard.
 */
export function nodeLabelsFlag(labels: Readonly<Record<string, string>>): string {
    return Object.entries(labels).map(([key, value]) => {
        if (labelKeyProblem(key) || labelValueProblem(value)) throw new Error(`node label ${key}=${value} is not a valid Kubernetes label`);
        const problem = selfLabelProblem(key);
        if (problem) throw new Error(`node label ${key}: ${problem}`);
        return `${key}=${value}`;
    }).join(",");
}

export interface KubeletServiceSpec {
    /** Labels the node registers with (never kubernetes.io/ or k8s.io/ ones). */
    readonly nodeLabels: Readonly<Record<string, string>>;
}

/**
 * kubelet's systemd unit: the external cloud provider (the AWS cloud-controller-manager initializes the
 * node), TLS bootstrapping with the bootstrap kubeconfig, no hostname override (the node name is the
 * instance's private DNS name, which the boot script sets as hostname).
 */
export function renderKubeletService(spec: KubeletServiceSpec): string {
    const args = [
        `--config=${kubeletPaths.config}`,
        `--bootstrap-kubeconfig=${kubeletPaths.bootstrapKubeconfig}`,
        `--kubeconfig=${kubeletPaths.kubeconfig}`,
        "--cloud-provider=external",
        "--node-ip=${KAWS_NODE_IP}",
        // Set by the credential-provider drop-in; empty (no arguments) when the boot removed it.
        `$${credentialProviderArgsVariable}`,
    ];
    const labels = nodeLabelsFlag(spec.nodeLabels);
    if (labels) args.push(`--node-labels=${labels}`);
    return `[Unit]
Description=Kubernetes kubelet (kaws)
Documentation=https://kubernetes.io/docs/reference/command-line-tools-reference/kubelet/
Wants=network-online.target containerd.service
After=network-online.target containerd.service

[Service]
EnvironmentFile=/etc/kaws/node.env
ExecStart=/usr/bin/kubelet ${args.join(" \\\n    ")}
Restart=always
RestartSec=5
StartLimitInterval=0
KillMode=process
Delegate=yes

[Install]
WantedBy=multi-user.target
`;
}

const credentialProviderArgsVariable = "KAWS_KUBELET_CREDENTIAL_PROVIDER_ARGS";

/**
 * The kubelet flags that turn the ECR credential provider on. They are command-line flags (KubeletFlags in
 * cmd/kubelet/app/options), not KubeletConfiguration fields: a config-file field of that name is ignored.
 * Kubelet refuses to start when a configured provider's binary is missing, so they live in a drop-in the
 * boot removes if the optional download failed.
 */
export function renderCredentialProviderDropIn(): string {
    const flags = [
        `--image-credential-provider-config=${kubeletPaths.credentialProviderConfig}`,
        `--image-credential-provider-bin-dir=${kubeletPaths.credentialProviderBinDir}`,
    ];
    return `[Service]
Environment="${credentialProviderArgsVariable}=${flags.join(" ")}"
`;
}

export interface BootstrapKubeconfigSpec {
    readonly clusterName: string;
    /** API server URL (control-plane nodes: https://127.0.0.1:6443; workers: the load balancer). */
    readonly server: string;
    readonly caCertPem: string;
    readonly tokenId: string;
    readonly tokenSecret: string;
}

/** The kubeconfig kubelet bootstraps with: the bootstrap token, used only to request its client certificate. */
export function renderBootstrapKubeconfig(spec: BootstrapKubeconfigSpec): string {
    if (!/^https:\/\/[^\s/]+(:\d+)?$/.test(spec.server)) throw new Error(`renderBootstrapKubeconfig: server must be an https URL like https://host:6443, got "${spec.server}"`);
    if (!/^[a-z0-9]{6}$/.test(spec.tokenId) || !/^[a-z0-9]{16}$/.test(spec.tokenSecret)) {
        throw new Error("renderBootstrapKubeconfig: a bootstrap token is [a-z0-9]{6}.[a-z0-9]{16}");
    }
    if (!spec.caCertPem.includes("-----BEGIN CERTIFICATE-----")) throw new Error("renderBootstrapKubeconfig: caCertPem must be a PEM CERTIFICATE");
    const user = "kubelet-bootstrap";
    return stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: spec.clusterName, cluster: { server: spec.server, "certificate-authority-data": Buffer.from(spec.caCertPem).toString("base64") } }],
        users: [{ name: user, user: { token: `${spec.tokenId}.${spec.tokenSecret}` } }],
        contexts: [{ name: `${user}@${spec.clusterName}`, context: { cluster: spec.clusterName, user } }],
        "current-context": `${user}@${spec.clusterName}`,
        preferences: {},
    });
}

/**
 * With --cloud-provider=external kubelet has no built-in ECR support: the ecr-credential-provider plugin
 * (from cloud-provider-aws) hands it registry credentials from the instance role.
 */
export function renderCredentialProviderConfig(): string {
    return stringify({
        apiVersion: "kubelet.config.k8s.io/v1",
        kind: "CredentialProviderConfig",
        providers: [{
            name: "ecr-credential-provider",
            matchImages: ["*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn", "*.dkr.ecr-fips.*.amazonaws.com"],
            defaultCacheDuration: "12h",
            apiVersion: "credentialprovider.kubelet.k8s.io/v1",
        }],
    });
}
