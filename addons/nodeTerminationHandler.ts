import { addonImages } from "../plan/versions";
import { AddonSettings, KubeObject, clusterRole, clusterRoleBinding, controlPlaneScheduling, labelsFor, saSubject, serviceAccount, systemNamespace } from "./objects";

const name = "aws-node-termination-handler";

/**
 * aws-node-termination-handler in queue mode: one Deployment on the control plane (host network, so it
 * uses the control-plane role through IMDS with hop limit 1) reads the cluster's termination queue —
 * spot interruptions, rebalance recommendations, instance state changes, scheduled maintenance and the
 * worker groups' terminate lifecycle actions — then cordons and drains the node and completes the
 * lifecycle action, so instance refresh, scale-in and rebalancing never take a node without a drain. It
 * acts only on instances tagged for this cluster (the queue's rules see the whole account).
 */
export function renderNodeTerminationHandler<S>(s: AddonSettings<S>): KubeObject[] {
    const labels = labelsFor(name);
    const fromField = (envName: string, fieldPath: string) => ({ name: envName, valueFrom: { fieldRef: { fieldPath } } });
    return [
        serviceAccount(name),
        clusterRole(name, [
            { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "patch", "update"] },
            { apiGroups: [""], resources: ["pods"], verbs: ["list", "get"] },
            { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
            { apiGroups: ["apps"], resources: ["daemonsets"], verbs: ["get"] },
            { apiGroups: [""], resources: ["events"], verbs: ["create"] },
        ]),
        clusterRoleBinding(name, name, [saSubject(name)]),
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name, namespace: systemNamespace, labels },
            spec: {
                replicas: 1,
                selector: { matchLabels: labels },
                strategy: { type: "Recreate" },
                template: {
                    metadata: { labels },
                    spec: {
                        serviceAccountName: name,
                        priorityClassName: "system-cluster-critical",
                        hostNetwork: true,
                        dnsPolicy: "ClusterFirstWithHostNet",
                        ...controlPlaneScheduling,
                        securityContext: { fsGroup: 1000 },
                        containers: [{
                            name,
                            image: addonImages.nodeTerminationHandler,
                            env: [
                                fromField("POD_NAME", "metadata.name"),
                                fromField("NAMESPACE", "metadata.namespace"),
                                { name: "ENABLE_SQS_TERMINATION_DRAINING", value: "true" },
                                { name: "QUEUE_URL", value: s.terminationQueueUrl },
                                { name: "AWS_REGION", value: s.region },
                                { name: "CHECK_TAG_BEFORE_DRAINING", value: "true" },
                                { name: "MANAGED_TAG", value: `kubernetes.io/cluster/${s.clusterName}` },
                                { name: "DELETE_LOCAL_DATA", value: "true" },
                                { name: "IGNORE_DAEMON_SETS", value: "true" },
                                { name: "POD_TERMINATION_GRACE_PERIOD", value: "-1" },
                                { name: "NODE_TERMINATION_GRACE_PERIOD", value: "120" },
                                { name: "EMIT_KUBERNETES_EVENTS", value: "true" },
                                { name: "JSON_LOGGING", value: "true" },
                            ],
                            resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
                            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 },
                        }],
                    },
                },
            },
        },
    ];
}
