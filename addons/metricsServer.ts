import { addonImages } from "../plan/versions";
import {
    AddonSettings, KubeObject, clusterRole, controlPlaneScheduling, clusterRoleBinding, labelsFor, restrictedContainer, roleBinding, saSubject, serviceAccount, systemNamespace,
} from "./objects";

const name = "metrics-server";

/**
 * metrics-server. It verifies kubelets' serving certificates against the cluster CA (they are issued
 * through kubelet-csr-approver), so no --kubelet-insecure-tls. The APIService skips TLS verification of
 * metrics-server's own self-signed certificate, as upstream ships it.
 */
export function renderMetricsServer<S>(_s: AddonSettings<S>): KubeObject[] {
    const labels = { "k8s-app": name, ...labelsFor(name) };
    const selector = { "k8s-app": name };
    return [
        serviceAccount(name),
        clusterRole("system:aggregated-metrics-reader", [
            { apiGroups: ["metrics.k8s.io"], resources: ["pods", "nodes"], verbs: ["get", "list", "watch"] },
        ], {
            "rbac.authorization.k8s.io/aggregate-to-admin": "true",
            "rbac.authorization.k8s.io/aggregate-to-edit": "true",
            "rbac.authorization.k8s.io/aggregate-to-view": "true",
        }),
        clusterRole("system:metrics-server", [
            { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
            { apiGroups: [""], resources: ["pods", "nodes"], verbs: ["get", "list", "watch"] },
        ]),
        roleBinding("metrics-server-auth-reader", "extension-apiserver-authentication-reader", [saSubject(name)]),
        clusterRoleBinding("metrics-server:system:auth-delegator", "system:auth-delegator", [saSubject(name)]),
        clusterRoleBinding("system:metrics-server", "system:metrics-server", [saSubject(name)]),
        {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name, namespace: systemNamespace, labels },
            spec: { selector, ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: "https" }] },
        },
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name, namespace: systemNamespace, labels },
            spec: {
                replicas: 1,
                selector: { matchLabels: selector },
                strategy: { rollingUpdate: { maxUnavailable: 0 } },
                template: {
                    metadata: { labels },
                    spec: {
                        serviceAccountName: name,
                        priorityClassName: "system-cluster-critical",
                        // Kubelets (10250) admit only control-plane nodes (see network/securityGroups.ts).
                        ...controlPlaneScheduling,
                        containers: [{
                            name,
                            image: addonImages.metricsServer,
                            args: [
                                "--cert-dir=/tmp",
                                "--secure-port=10250",
                                "--kubelet-preferred-address-types=InternalIP,Hostname",
                                "--kubelet-use-node-status-port",
                                "--metric-resolution=15s",
                            ],
                            ports: [{ name: "https", containerPort: 10250, protocol: "TCP" }],
                            readinessProbe: { httpGet: { path: "/readyz", port: "https", scheme: "HTTPS" }, initialDelaySeconds: 20, periodSeconds: 10, failureThreshold: 3 },
                            livenessProbe: { httpGet: { path: "/livez", port: "https", scheme: "HTTPS" }, periodSeconds: 10, failureThreshold: 3 },
                            resources: { requests: { cpu: "100m", memory: "200Mi" } },
                            securityContext: { ...restrictedContainer, runAsUser: 1000 },
                            volumeMounts: [{ name: "tmp-dir", mountPath: "/tmp" }],
                        }],
                        volumes: [{ name: "tmp-dir", emptyDir: {} }],
                    },
                },
            },
        },
        {
            apiVersion: "apiregistration.k8s.io/v1",
            kind: "APIService",
            metadata: { name: "v1beta1.metrics.k8s.io", labels },
            spec: {
                group: "metrics.k8s.io",
                version: "v1beta1",
                groupPriorityMinimum: 100,
                versionPriority: 100,
                insecureSkipTLSVerify: true,
                service: { name, namespace: systemNamespace },
            },
        },
    ];
}
