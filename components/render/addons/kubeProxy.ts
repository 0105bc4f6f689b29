import * as YAML from "yaml";
import { pinsFor } from "../../versions";
import { AddonSettings, KubeObject, clusterRoleBinding, everyNode, labelsFor, saSubject, serviceAccount, systemNamespace, systemDaemonSet } from "./objects";

const name = "kube-proxy";
const tokenDir = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * kube-proxy in iptables mode (the nft backend is picked by the image's iptables wrapper on Amazon Linux
 * 2023, the same backend weave is told to use). It reaches the API through the load balancer: the
 * in-cluster service address is what kube-proxy itself programs.
 */
export function renderKubeProxy<S>(s: AddonSettings<S>): KubeObject[] {
    const labels = labelsFor(name);
    const config = {
        apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
        kind: "KubeProxyConfiguration",
        clientConnection: { kubeconfig: "/var/lib/kube-proxy/kubeconfig.conf" },
        clusterCIDR: s.podCidr,
        mode: "iptables",
        metricsBindAddress: "127.0.0.1:10249",
        conntrack: { maxPerCore: 32768, min: 131072 },
    };
    const kubeconfig = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "default", cluster: { "certificate-authority": `${tokenDir}/ca.crt`, "server": s.apiEndpoint } }],
        users: [{ name: "default", user: { tokenFile: `${tokenDir}/token` } }],
        contexts: [{ name: "default", context: { cluster: "default", namespace: "default", user: "default" } }],
        "current-context": "default",
    };
    return [
        serviceAccount(name),
        clusterRoleBinding("kaws:node-proxier", "system:node-proxier", [saSubject(name)]),
        {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name, namespace: systemNamespace, labels },
            data: { "config.conf": YAML.stringify(config), "kubeconfig.conf": YAML.stringify(kubeconfig) },
        },
        systemDaemonSet(name, { labels }, {
            serviceAccountName: name,
            hostNetwork: true,
            nodeSelector: { "kubernetes.io/os": "linux" },
            tolerations: everyNode,
            containers: [{
                name,
                image: `registry.k8s.io/kube-proxy:v${pinsFor(s.kubernetesVersion).kubernetes}`,
                command: ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"],
                env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
                securityContext: { privileged: true },
                resources: { requests: { cpu: "50m", memory: "64Mi" } },
                volumeMounts: [
                    { name: "kube-proxy", mountPath: "/var/lib/kube-proxy" },
                    { name: "xtables-lock", mountPath: "/run/xtables.lock" },
                    { name: "lib-modules", mountPath: "/lib/modules", readOnly: true },
                ],
            }],
            volumes: [
                { name: "kube-proxy", configMap: { name } },
                { name: "xtables-lock", hostPath: { path: "/run/xtables.lock", type: "FileOrCreate" } },
                { name: "lib-modules", hostPath: { path: "/lib/modules" } },
            ],
        }),
    ];
}
