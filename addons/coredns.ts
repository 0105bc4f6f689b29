import { clusterDnsIp } from "../plan/cluster";
import { pinsFor } from "../plan/versions";
import {
    AddonSettings, KubeObject, clusterRole, clusterRoleBinding, controlPlaneRole, labelsFor, saSubject, serviceAccount, systemNamespace,
} from "./objects";

export function renderCorefile(clusterDomain: string): string {
    return [
        ".:53 {",
        "    errors",
        "    health {",
        "        lameduck 5s",
        "    }",
        "    ready",
        `    kubernetes ${clusterDomain} in-addr.arpa ip6.arpa {`,
        "        pods insecure",
        "        fallthrough in-addr.arpa ip6.arpa",
        "        ttl 30",
        "    }",
        "    prometheus :9153",
        "    forward . /etc/resolv.conf {",
        "        max_concurrent 1000",
        "    }",
        "    cache 30",
        "    loop",
        "    reload",
        "    loadbalance",
        "}",
        "",
    ].join("\n");
}

/** CoreDNS as kubeadm installs it: two replicas on different nodes, Service "kube-dns" at the tenth service IP. */
export function renderCoreDns<S>(s: AddonSettings<S>): KubeObject[] {
    const labels = { "k8s-app": "kube-dns", ...labelsFor("coredns") };
    const selector = { "k8s-app": "kube-dns" };
    return [
        serviceAccount("coredns"),
        clusterRole("system:coredns", [
            { apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"], verbs: ["list", "watch"] },
            { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
        ]),
        clusterRoleBinding("system:coredns", "system:coredns", [saSubject("coredns")]),
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "coredns", namespace: systemNamespace }, data: { Corefile: renderCorefile(s.clusterDomain) } },
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "coredns", namespace: systemNamespace, labels },
            spec: {
                replicas: 2,
                strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
                selector: { matchLabels: selector },
                template: {
                    metadata: { labels },
                    spec: {
                        serviceAccountName: "coredns",
                        priorityClassName: "system-cluster-critical",
                        nodeSelector: { "kubernetes.io/os": "linux" },
                        tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }, { key: controlPlaneRole, operator: "Exists", effect: "NoSchedule" }],
                        affinity: {
                            podAntiAffinity: {
                                preferredDuringSchedulingIgnoredDuringExecution: [{
                                    weight: 100,
                                    podAffinityTerm: { labelSelector: { matchLabels: selector }, topologyKey: "kubernetes.io/hostname" },
                                }],
                            },
                        },
                        dnsPolicy: "Default",
                        containers: [{
                            name: "coredns",
                            image: `registry.k8s.io/coredns/coredns:${pinsFor(s.kubernetesVersion).coredns}`,
                            args: ["-conf", "/etc/coredns/Corefile"],
                            resources: { requests: { cpu: "100m", memory: "70Mi" }, limits: { memory: "170Mi" } },
                            ports: [
                                { name: "dns", containerPort: 53, protocol: "UDP" },
                                { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
                                { name: "metrics", containerPort: 9153, protocol: "TCP" },
                            ],
                            livenessProbe: { httpGet: { path: "/health", port: 8080 }, initialDelaySeconds: 60, timeoutSeconds: 5, failureThreshold: 5 },
                            readinessProbe: { httpGet: { path: "/ready", port: 8181 } },
                            securityContext: {
                                allowPrivilegeEscalation: false,
                                readOnlyRootFilesystem: true,
                                capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] },
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            volumeMounts: [{ name: "config-volume", mountPath: "/etc/coredns", readOnly: true }],
                        }],
                        volumes: [{ name: "config-volume", configMap: { name: "coredns", items: [{ key: "Corefile", path: "Corefile" }] } }],
                    },
                },
            },
        },
        {
            apiVersion: "policy/v1",
            kind: "PodDisruptionBudget",
            metadata: { name: "coredns", namespace: systemNamespace },
            spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
        },
        {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "kube-dns", namespace: systemNamespace, labels: { ...labels, "kubernetes.io/name": "CoreDNS" }, annotations: { "prometheus.io/port": "9153", "prometheus.io/scrape": "true" } },
            spec: {
                selector,
                clusterIP: clusterDnsIp(s.serviceCidr),
                ports: [
                    { name: "dns", port: 53, protocol: "UDP" },
                    { name: "dns-tcp", port: 53, protocol: "TCP" },
                    { name: "metrics", port: 9153, protocol: "TCP" },
                ],
            },
        },
    ];
}
