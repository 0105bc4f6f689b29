import * as YAML from "yaml";
import { pinsFor } from "../plan/versions";
import { localApiServer, nodeLabels } from "../plan/cluster";
import {
    AddonSettings, KubeObject, clusterRoleBinding, everyNode, labelsFor, saSubject, serviceAccount,
    systemNamespace, systemDaemonSet,
} from "./objects";

const name = "kube-proxy";
const tokenDir = "/var/run/secrets/kubernetes.io/serviceaccount";
const configDir = "/var/lib/kube-proxy";

/** Which API server address kube-proxy uses on which nodes. */
export const kubeProxyVariants = [
    // Workers reach the API by the nodes' name for it (plan.nodeApi): the in-cluster service address is what kube-proxy itself programs.
    { daemonSet: name, configKey: "config.conf", kubeconfigKey: "kubeconfig.conf", onControlPlane: false },
    // A control-plane node is a target of the API load balancer, which preserves client IPs: a connection from
    // it through the NLB can be routed back to itself and time out (hairpin). It uses its own API server.
    { daemonSet: `${name}-control-plane`, configKey: "config-control-plane.conf", kubeconfigKey: "kubeconfig-control-plane.conf", onControlPlane: true },
] as const;

/**
 * kube-proxy in iptables mode (the nft backend is picked by the image's iptables wrapper on Amazon Linux
 * 2023, the same backend weave is told to use), as two DaemonSets that differ only in the API server they
 * use: the control-plane nodes' name on workers, 127.0.0.1:6443 on control-plane nodes.
 */
export function renderKubeProxy<S>(s: AddonSettings<S>): KubeObject[] {
    const labels = labelsFor(name);
    const config = (kubeconfigKey: string) => YAML.stringify({
        apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
        kind: "KubeProxyConfiguration",
        clientConnection: { kubeconfig: `${configDir}/${kubeconfigKey}` },
        clusterCIDR: s.podCidr,
        mode: "iptables",
        metricsBindAddress: "127.0.0.1:10249",
        conntrack: { maxPerCore: 32768, min: 131072 },
    });
    const kubeconfig = (server: string) => YAML.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "default", cluster: { "certificate-authority": `${tokenDir}/ca.crt`, "server": server } }],
        users: [{ name: "default", user: { tokenFile: `${tokenDir}/token` } }],
        contexts: [{ name: "default", context: { cluster: "default", namespace: "default", user: "default" } }],
        "current-context": "default",
    });
    const data: Record<string, string> = {};
    for (const v of kubeProxyVariants) {
        data[v.configKey] = config(v.kubeconfigKey);
        data[v.kubeconfigKey] = kubeconfig(v.onControlPlane ? localApiServer : s.nodeApiEndpoint);
    }
    const daemonSet = (v: typeof kubeProxyVariants[number]) => {
        const podLabels = { ...labels, "app.kubernetes.io/instance": v.daemonSet };
        return systemDaemonSet(v.daemonSet, { labels: podLabels }, {
            serviceAccountName: name,
            hostNetwork: true,
            affinity: {
                nodeAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: {
                        nodeSelectorTerms: [{
                            matchExpressions: [
                                { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
                                { key: nodeLabels.controlPlaneNode.key, operator: v.onControlPlane ? "In" : "NotIn", values: [nodeLabels.controlPlaneNode.value] },
                            ],
                        }],
                    },
                },
            },
            tolerations: everyNode,
            containers: [{
                name,
                image: `registry.k8s.io/kube-proxy:v${pinsFor(s.kubernetesVersion).kubernetes}`,
                command: ["/usr/local/bin/kube-proxy", `--config=${configDir}/${v.configKey}`, "--hostname-override=$(NODE_NAME)"],
                env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
                securityContext: { privileged: true },
                resources: { requests: { cpu: "50m", memory: "64Mi" } },
                volumeMounts: [
                    { name: "kube-proxy", mountPath: configDir },
                    { name: "xtables-lock", mountPath: "/run/xtables.lock" },
                    { name: "lib-modules", mountPath: "/lib/modules", readOnly: true },
                ],
            }],
            volumes: [
                { name: "kube-proxy", configMap: { name } },
                { name: "xtables-lock", hostPath: { path: "/run/xtables.lock", type: "FileOrCreate" } },
                { name: "lib-modules", hostPath: { path: "/lib/modules" } },
            ],
        });
    };
    return [
        serviceAccount(name),
        clusterRoleBinding("kaws:node-proxier", "system:node-proxier", [saSubject(name)]),
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: systemNamespace, labels }, data },
        ...kubeProxyVariants.map(daemonSet),
    ];
}
