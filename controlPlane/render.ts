import { stringify } from "yaml";
import { strongCipherSuites } from "../nodes/kubelet";
import { localApiServer } from "../plan/cluster";

/** Control-plane file layout (kubeadm's, so operators and CIS tooling find everything where they expect it). */
export const controlPlanePaths = {
    pki: "/etc/kubernetes/pki",
    caCert: "/etc/kubernetes/pki/ca.crt",
    caKey: "/etc/kubernetes/pki/ca.key",
    apiServerCert: "/etc/kubernetes/pki/apiserver.crt",
    apiServerKey: "/etc/kubernetes/pki/apiserver.key",
    kubeletClientCert: "/etc/kubernetes/pki/apiserver-kubelet-client.crt",
    kubeletClientKey: "/etc/kubernetes/pki/apiserver-kubelet-client.key",
    etcdCaCert: "/etc/kubernetes/pki/etcd/ca.crt",
    etcdClientCert: "/etc/kubernetes/pki/apiserver-etcd-client.crt",
    etcdClientKey: "/etc/kubernetes/pki/apiserver-etcd-client.key",
    frontProxyCaCert: "/etc/kubernetes/pki/front-proxy-ca.crt",
    frontProxyClientCert: "/etc/kubernetes/pki/front-proxy-client.crt",
    frontProxyClientKey: "/etc/kubernetes/pki/front-proxy-client.key",
    serviceAccountKey: "/etc/kubernetes/pki/sa.key",
    serviceAccountPublicKey: "/etc/kubernetes/pki/sa.pub",
    encryptionConfig: "/etc/kubernetes/encryption-config.yaml",
    authenticationConfig: "/etc/kubernetes/authentication-config.yaml",
    admissionConfig: "/etc/kubernetes/admission-config.yaml",
    auditPolicy: "/etc/kubernetes/audit-policy.yaml",
    /** The bootstrap token Secret and TLS-bootstrap RBAC the node applies (controlPlane/nodeBootstrap.ts). */
    nodeBootstrapObjects: "/etc/kubernetes/node-bootstrap.yaml",
    nodeCriticalAddons: "/etc/kubernetes/node-critical-addons.yaml",
    auditLogDir: "/var/log/kubernetes/audit",
    controllerManagerKubeconfig: "/etc/kubernetes/controller-manager.conf",
    schedulerKubeconfig: "/etc/kubernetes/scheduler.conf",
    apiServerManifest: "/etc/kubernetes/manifests/kube-apiserver.yaml",
    controllerManagerManifest: "/etc/kubernetes/manifests/kube-controller-manager.yaml",
    schedulerManifest: "/etc/kubernetes/manifests/kube-scheduler.yaml",
} as const;

export { localApiServer };

/** Paths anonymous requests may reach: the health endpoints the load balancer and the kubelet probes use. */
export const anonymousHealthPaths = ["/livez", "/readyz", "/healthz"] as const;

export interface ControlPlaneSpec {
    /** Kubernetes patch release; the images are registry.k8s.io/kube-*:v<version>. */
    readonly kubernetesVersion: string;
    readonly clusterName: string;
    readonly serviceCidr: string;
    readonly clusterDomain: string;
    /** etcd client URLs, https://<ip>:2379 each. */
    readonly etcdEndpoints: readonly string[];
}

type KubeObject = Record<string, unknown> & { apiVersion: string; kind: string };

const auditLog = { path: `${controlPlanePaths.auditLogDir}/audit.log`, maxAgeDays: 30, maxBackups: 10, maxSizeMiB: 100 };

/** kube-apiserver flags, in the order they appear in the manifest. */
export function apiServerFlags(spec: ControlPlaneSpec): string[] {
    if (spec.etcdEndpoints.length === 0 || !spec.etcdEndpoints.every((e) => /^https:\/\/[0-9.]+:2379$/.test(e))) {
        throw new Error(`kube-apiserver: etcdEndpoints must be https://<ip>:2379 URLs, got ${JSON.stringify(spec.etcdEndpoints)}`);
    }
    const p = controlPlanePaths;
    return [
        "--secure-port=6443",
        "--bind-address=0.0.0.0",
        "--allow-privileged=true",
        `--authentication-config=${p.authenticationConfig}`,
        "--authorization-mode=Node,RBAC",
        `--client-ca-file=${p.caCert}`,
        "--enable-bootstrap-token-auth=true",
        "--enable-admission-plugins=NodeRestriction,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs",
        `--admission-control-config-file=${p.admissionConfig}`,
        `--encryption-provider-config=${p.encryptionConfig}`,
        `--etcd-servers=${spec.etcdEndpoints.join(",")}`,
        `--etcd-cafile=${p.etcdCaCert}`,
        `--etcd-certfile=${p.etcdClientCert}`,
        `--etcd-keyfile=${p.etcdClientKey}`,
        `--kubelet-client-certificate=${p.kubeletClientCert}`,
        `--kubelet-client-key=${p.kubeletClientKey}`,
        `--kubelet-certificate-authority=${p.caCert}`,
        "--kubelet-preferred-address-types=InternalIP,InternalDNS,Hostname",
        "--profiling=false",
        `--audit-policy-file=${p.auditPolicy}`,
        `--audit-log-path=${auditLog.path}`,
        `--audit-log-maxage=${auditLog.maxAgeDays}`,
        `--audit-log-maxbackup=${auditLog.maxBackups}`,
        `--audit-log-maxsize=${auditLog.maxSizeMiB}`,
        "--request-timeout=60s",
        "--service-account-lookup=true",
        `--service-account-issuer=https://kubernetes.default.svc.${spec.clusterDomain}`,
        `--service-account-key-file=${p.serviceAccountPublicKey}`,
        `--service-account-signing-key-file=${p.serviceAccountKey}`,
        "--service-account-extend-token-expiration=false",
        `--service-cluster-ip-range=${spec.serviceCidr}`,
        `--tls-cert-file=${p.apiServerCert}`,
        `--tls-private-key-file=${p.apiServerKey}`,
        `--tls-cipher-suites=${strongCipherSuites.join(",")}`,
        "--tls-min-version=VersionTLS12",
        `--requestheader-client-ca-file=${p.frontProxyCaCert}`,
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-username-headers=X-Remote-User",
        `--proxy-client-cert-file=${p.frontProxyClientCert}`,
        `--proxy-client-key-file=${p.frontProxyClientKey}`,
    ];
}

export function controllerManagerFlags(spec: ControlPlaneSpec): string[] {
    const p = controlPlanePaths;
    return [
        "--bind-address=127.0.0.1",
        `--kubeconfig=${p.controllerManagerKubeconfig}`,
        `--authentication-kubeconfig=${p.controllerManagerKubeconfig}`,
        `--authorization-kubeconfig=${p.controllerManagerKubeconfig}`,
        `--client-ca-file=${p.caCert}`,
        `--requestheader-client-ca-file=${p.frontProxyCaCert}`,
        `--cluster-name=${spec.clusterName}`,
        `--cluster-signing-cert-file=${p.caCert}`,
        `--cluster-signing-key-file=${p.caKey}`,
        "--controllers=*,bootstrapsigner,tokencleaner",
        "--leader-elect=true",
        "--profiling=false",
        `--root-ca-file=${p.caCert}`,
        `--service-account-private-key-file=${p.serviceAccountKey}`,
        `--service-cluster-ip-range=${spec.serviceCidr}`,
        "--use-service-account-credentials=true",
        "--terminated-pod-gc-threshold=1000",
        `--tls-cipher-suites=${strongCipherSuites.join(",")}`,
    ];
}

export function schedulerFlags(): string[] {
    const p = controlPlanePaths;
    return [
        "--bind-address=127.0.0.1",
        `--kubeconfig=${p.schedulerKubeconfig}`,
        `--authentication-kubeconfig=${p.schedulerKubeconfig}`,
        `--authorization-kubeconfig=${p.schedulerKubeconfig}`,
        "--leader-elect=true",
        "--profiling=false",
        `--tls-cipher-suites=${strongCipherSuites.join(",")}`,
    ];
}

interface Mount {
    readonly name: string;
    readonly path: string;
    readonly type: "File" | "Directory" | "DirectoryOrCreate";
    readonly readOnly: boolean;
}

function httpsProbe(port: number, path: string, failureThreshold: number, initialDelaySeconds = 10) {
    return { httpGet: { host: "127.0.0.1", port, path, scheme: "HTTPS" }, initialDelaySeconds, timeoutSeconds: 15, periodSeconds: 10, failureThreshold };
}

function staticPod(component: string, version: string, flags: string[], mounts: Mount[], port: number, cpu: string, readinessPath?: string): KubeObject {
    const livenessPath = port === 6443 ? "/livez" : "/healthz";
    if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`${component}: kubernetesVersion must be a patch release like 1.36.4, got "${version}"`);
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: component, namespace: "kube-system", labels: { component, tier: "control-plane" } },
        spec: {
            hostNetwork: true,
            priorityClassName: "system-node-critical",
            priority: 2000001000,
            securityContext: { seccompProfile: { type: "RuntimeDefault" } },
            containers: [{
                name: component,
                image: `registry.k8s.io/${component}:v${version}`,
                imagePullPolicy: "IfNotPresent",
                command: [component, ...flags],
                resources: { requests: { cpu } },
                startupProbe: httpsProbe(port, livenessPath, 24),
                livenessProbe: httpsProbe(port, livenessPath, 8),
                ...(readinessPath ? { readinessProbe: { ...httpsProbe(port, readinessPath, 3, 0), periodSeconds: 1 } } : {}),
                volumeMounts: mounts.map((m) => ({ name: m.name, mountPath: m.path, readOnly: m.readOnly })),
            }],
            volumes: mounts.map((m) => ({ name: m.name, hostPath: { path: m.path, type: m.type } })),
        },
    };
}

const pkiMount: Mount = { name: "pki", path: controlPlanePaths.pki, type: "Directory", readOnly: true };

export function apiServerPod(spec: ControlPlaneSpec): KubeObject {
    const p = controlPlanePaths;
    return staticPod("kube-apiserver", spec.kubernetesVersion, apiServerFlags(spec), [
        pkiMount,
        { name: "encryption-config", path: p.encryptionConfig, type: "File", readOnly: true },
        { name: "authentication-config", path: p.authenticationConfig, type: "File", readOnly: true },
        { name: "admission-config", path: p.admissionConfig, type: "File", readOnly: true },
        { name: "audit-policy", path: p.auditPolicy, type: "File", readOnly: true },
        { name: "audit-log", path: p.auditLogDir, type: "DirectoryOrCreate", readOnly: false },
    ], 6443, "250m", "/readyz");
}

export function controllerManagerPod(spec: ControlPlaneSpec): KubeObject {
    return staticPod("kube-controller-manager", spec.kubernetesVersion, controllerManagerFlags(spec), [
        pkiMount,
        { name: "kubeconfig", path: controlPlanePaths.controllerManagerKubeconfig, type: "File", readOnly: true },
    ], 10257, "200m");
}

export function schedulerPod(spec: ControlPlaneSpec): KubeObject {
    return staticPod("kube-scheduler", spec.kubernetesVersion, schedulerFlags(), [
        { name: "kubeconfig", path: controlPlanePaths.schedulerKubeconfig, type: "File", readOnly: true },
    ], 10259, "100m");
}

/**
 * Anonymous requests are authenticated only on the health endpoints (KEP-4633, GA in 1.34): the NLB's
 * HTTPS /readyz check and kubelet's probes work, while every other path rejects anonymous callers even if
 * RBAC were to grant system:anonymous something. Replaces --anonymous-auth (the two are mutually exclusive).
 */
export function authenticationConfiguration(): KubeObject {
    return {
        apiVersion: "apiserver.config.k8s.io/v1",
        kind: "AuthenticationConfiguration",
        anonymous: { enabled: true, conditions: anonymousHealthPaths.map((path) => ({ path })) },
        jwt: [],
    };
}

/** EventRateLimit limits (CIS 1.2.9) and Pod Security Admission defaults (CIS 5.2.1). */
export function admissionConfiguration(): KubeObject {
    return {
        apiVersion: "apiserver.config.k8s.io/v1",
        kind: "AdmissionConfiguration",
        plugins: [
            {
                name: "EventRateLimit",
                configuration: {
                    apiVersion: "eventratelimit.admission.k8s.io/v1alpha1",
                    kind: "Configuration",
                    limits: [
                        { type: "Server", qps: 100, burst: 400 },
                        { type: "Namespace", qps: 50, burst: 200, cacheSize: 2000 },
                        { type: "User", qps: 20, burst: 100, cacheSize: 2000 },
                    ],
                },
            },
            {
                name: "PodSecurity",
                configuration: {
                    apiVersion: "pod-security.admission.config.k8s.io/v1",
                    kind: "PodSecurityConfiguration",
                    defaults: { enforce: "baseline", "enforce-version": "latest", audit: "restricted", "audit-version": "latest", warn: "restricted", "warn-version": "latest" },
                    exemptions: { usernames: [], runtimeClasses: [], namespaces: ["kube-system"] },
                },
            },
        ],
    };
}

/**
 * Audit policy (CIS 3.2.2): secrets, config maps and token reviews at Metadata only (never their bodies);
 * exec, attach, port-forward and proxy recorded; workload changes with their request bodies; health and
 * high-volume read-only noise dropped.
 */
export function auditPolicy(): KubeObject {
    const workloadGroups = ["", "apps", "batch", "rbac.authorization.k8s.io", "networking.k8s.io", "policy"];
    return {
        apiVersion: "audit.k8s.io/v1",
        kind: "Policy",
        omitStages: ["RequestReceived"],
        rules: [
            { level: "None", nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/version"] },
            { level: "None", users: ["system:kube-proxy"], verbs: ["watch"], resources: [{ group: "", resources: ["endpoints", "services", "services/status"] }, { group: "discovery.k8s.io", resources: ["endpointslices"] }] },
            { level: "None", userGroups: ["system:nodes"], verbs: ["get"], resources: [{ group: "", resources: ["nodes", "nodes/status"] }] },
            { level: "None", resources: [{ group: "", resources: ["events"] }, { group: "events.k8s.io", resources: ["events"] }, { group: "coordination.k8s.io", resources: ["leases"] }] },
            { level: "Metadata", resources: [{ group: "", resources: ["secrets", "configmaps", "serviceaccounts/token"] }, { group: "authentication.k8s.io", resources: ["tokenreviews"] }] },
            { level: "Metadata", resources: [{ group: "", resources: ["pods/exec", "pods/attach", "pods/portforward", "pods/proxy", "services/proxy", "nodes/proxy"] }] },
            { level: "Request", verbs: ["create", "update", "patch", "delete", "deletecollection"], resources: workloadGroups.map((group) => ({ group })) },
            { level: "Metadata" },
        ],
    };
}

export const renderYaml = (obj: unknown): string => stringify(obj, { lineWidth: 0 });
