import { pinsFor } from "../plan/versions";
import {
    AddonSettings, KubeObject, clusterRole, clusterRoleBinding, controlPlaneScheduling, labelsFor, restrictedContainer, role, roleBinding, saSubject,
    serviceAccount, systemNamespace,
} from "./objects";

const name = "cluster-autoscaler";

/** The auto-discovery tags worker pool ASGs carry; the autoscaler manages exactly the groups with both. */
export function autoscalerDiscoveryTags(clusterName: string): string[] {
    return ["k8s.io/cluster-autoscaler/enabled", `k8s.io/cluster-autoscaler/${clusterName}`];
}

/**
 * cluster-autoscaler (minor matching Kubernetes) on the control plane, whose instance role carries the
 * autoscaling permissions, on the host network (control-plane IMDSv2 hop limit is 1). Discovers worker
 * ASGs by tag; never scales the control plane or etcd.
 */
export function renderClusterAutoscaler<S>(s: AddonSettings<S>): KubeObject[] {
    const labels = { app: name, ...labelsFor(name) };
    return [
        serviceAccount(name),
        clusterRole(name, [
            { apiGroups: [""], resources: ["events", "endpoints"], verbs: ["create", "patch"] },
            { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
            { apiGroups: [""], resources: ["pods/status"], verbs: ["update"] },
            { apiGroups: [""], resources: ["endpoints"], resourceNames: [name], verbs: ["get", "update"] },
            { apiGroups: [""], resources: ["nodes"], verbs: ["watch", "list", "get", "update"] },
            { apiGroups: [""], resources: ["namespaces", "pods", "services", "replicationcontrollers", "persistentvolumeclaims", "persistentvolumes"], verbs: ["watch", "list", "get"] },
            { apiGroups: ["apps"], resources: ["statefulsets", "replicasets", "daemonsets"], verbs: ["watch", "list", "get"] },
            { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: ["watch", "list"] },
            { apiGroups: ["storage.k8s.io"], resources: ["storageclasses", "csinodes", "csidrivers", "csistoragecapacities", "volumeattachments"], verbs: ["watch", "list", "get"] },
            { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: ["watch", "list", "get"] },
            { apiGroups: ["resource.k8s.io"], resources: ["resourceclaims", "resourceslices", "deviceclasses"], verbs: ["watch", "list", "get"] },
            { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
            { apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: [name], verbs: ["get", "update"] },
        ]),
        clusterRoleBinding(name, name, [saSubject(name)]),
        role(name, [
            { apiGroups: [""], resources: ["configmaps"], verbs: ["create", "list", "watch"] },
            { apiGroups: [""], resources: ["configmaps"], resourceNames: ["cluster-autoscaler-status"], verbs: ["delete", "get", "update", "watch"] },
        ]),
        roleBinding(name, name, [saSubject(name)]),
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name, namespace: systemNamespace, labels },
            spec: {
                replicas: 1,
                selector: { matchLabels: { app: name } },
                template: {
                    metadata: { labels, annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" } },
                    spec: {
                        serviceAccountName: name,
                        priorityClassName: "system-cluster-critical",
                        ...controlPlaneScheduling,
                        hostNetwork: true,
                        dnsPolicy: "ClusterFirstWithHostNet",
                        containers: [{
                            name,
                            image: `registry.k8s.io/autoscaling/cluster-autoscaler:${pinsFor(s.kubernetesVersion).clusterAutoscaler}`,
                            command: [
                                "./cluster-autoscaler",
                                "--cloud-provider=aws",
                                `--node-group-auto-discovery=asg:tag=${autoscalerDiscoveryTags(s.clusterName).join(",")}`,
                                "--balance-similar-node-groups",
                                "--expander=least-waste",
                                "--skip-nodes-with-local-storage=false",
                                "--skip-nodes-with-system-pods=false",
                                "--v=2",
                            ],
                            env: [{ name: "AWS_REGION", value: s.region }],
                            resources: { requests: { cpu: "100m", memory: "300Mi" }, limits: { memory: "600Mi" } },
                            securityContext: { ...restrictedContainer, runAsUser: 65534, runAsGroup: 65534 },
                        }],
                    },
                },
            },
        },
    ];
}
