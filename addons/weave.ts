import { podNetworkDaemonSet } from "../plan/cluster";
import { addonImages } from "../plan/versions";
import {
    AddonSettings, KubeObject, clusterRole, clusterRoleBinding, everyNode, labelsFor, role, roleBinding, saSubject, serviceAccount, systemNamespace, systemDaemonSet,
} from "./objects";

const name = podNetworkDaemonSet.name;
export const weavePasswordSecret = "weave-passwd";

/**
 * Pod MTU. The VPC carries 9001-byte jumbo frames between instances; encrypted fast datapath (VXLAN +
 * ESP) costs up to ~87 bytes, so 8912 leaves margin (the value kops uses for weave on AWS). Pod traffic
 * leaving the VPC (NAT, peering, transit gateway) is not encapsulated and relies on path MTU discovery.
 */
export const weaveMtu = 8912;

/**
 * Weave Net from the maintained fork (rajch/weave), encrypted with the generated password, allocating
 * pod addresses from the pod CIDR, on the nft iptables backend (what kube-proxy uses on AL2023; weave's
 * auto-detection would pick legacy on a node with no rules yet).
 */
export function renderWeave<S>(s: AddonSettings<S>): KubeObject[] {
    const labels = { name, ...labelsFor(name) };
    const nodeName = { name: "HOSTNAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "spec.nodeName" } } };
    const xtablesLock = { name: "xtables-lock", mountPath: "/run/xtables.lock" };
    return [
        serviceAccount(name),
        {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: weavePasswordSecret, namespace: systemNamespace, labels },
            type: "Opaque",
            stringData: { [weavePasswordSecret]: s.weavePassword },
        },
        clusterRole(name, [
            { apiGroups: [""], resources: ["pods", "namespaces", "nodes"], verbs: ["get", "list", "watch"] },
            { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["get", "list", "watch"] },
            { apiGroups: [""], resources: ["nodes/status"], verbs: ["patch", "update"] },
        ]),
        clusterRoleBinding(name, name, [saSubject(name)]),
        role(name, [
            { apiGroups: [""], resources: ["configmaps"], resourceNames: [name], verbs: ["get", "update"] },
            { apiGroups: [""], resources: ["configmaps"], verbs: ["create"] },
        ]),
        roleBinding(name, name, [saSubject(name)]),
        systemDaemonSet(name, { labels, selector: { name }, minReadySeconds: 5 }, {
            serviceAccountName: name,
            hostNetwork: true,
            dnsPolicy: "ClusterFirstWithHostNet",
            restartPolicy: "Always",
            tolerations: everyNode,
            nodeSelector: { "kubernetes.io/os": "linux" },
            initContainers: [{
                name: "weave-init",
                image: addonImages.weaveKube,
                command: ["/home/weave/init.sh"],
                env: [{ name: "IPTABLES_BACKEND", value: "nft" }],
                securityContext: { privileged: true },
                volumeMounts: [
                    { name: "cni-bin", mountPath: "/host/opt" },
                    { name: "cni-bin2", mountPath: "/host/home" },
                    { name: "cni-conf", mountPath: "/host/etc" },
                    { name: "lib-modules", mountPath: "/lib/modules" },
                    xtablesLock,
                ],
            }],
            containers: [
                {
                    name: "weave",
                    image: addonImages.weaveKube,
                    command: ["/home/weave/launch.sh"],
                    env: [
                        nodeName,
                        { name: "INIT_CONTAINER", value: "true" },
                        { name: "WEAVE_PASSWORD", valueFrom: { secretKeyRef: { name: weavePasswordSecret, key: weavePasswordSecret } } },
                        { name: "WEAVE_MTU", value: String(weaveMtu) },
                        { name: "IPALLOC_RANGE", value: s.podCidr },
                        { name: "IPTABLES_BACKEND", value: "nft" },
                        { name: "CHECKPOINT_DISABLE", value: "1" },
                    ],
                    readinessProbe: { httpGet: { host: "127.0.0.1", path: "/status", port: 6784 } },
                    resources: { requests: { cpu: "50m", memory: "100Mi" } },
                    securityContext: { privileged: true },
                    volumeMounts: [
                        { name: "weavedb", mountPath: "/weavedb" },
                        { name: "dbus", mountPath: "/host/var/lib/dbus", readOnly: true },
                        { name: "cni-machine-id", mountPath: "/host/etc/machine-id", readOnly: true },
                        xtablesLock,
                    ],
                },
                {
                    name: "weave-npc",
                    image: addonImages.weaveNpc,
                    env: [nodeName, { name: "IPTABLES_BACKEND", value: "nft" }],
                    resources: { requests: { cpu: "50m", memory: "50Mi" } },
                    securityContext: { privileged: true },
                    volumeMounts: [xtablesLock],
                },
            ],
            volumes: [
                { name: "weavedb", hostPath: { path: "/var/lib/weave" } },
                { name: "cni-bin", hostPath: { path: "/opt" } },
                { name: "cni-bin2", hostPath: { path: "/home" } },
                { name: "cni-conf", hostPath: { path: "/etc" } },
                { name: "cni-machine-id", hostPath: { path: "/etc/machine-id" } },
                { name: "dbus", hostPath: { path: "/var/lib/dbus" } },
                { name: "lib-modules", hostPath: { path: "/lib/modules" } },
                { name: "xtables-lock", hostPath: { path: "/run/xtables.lock", type: "FileOrCreate" } },
            ],
        }),
    ];
}
