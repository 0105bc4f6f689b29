import { addonImages } from "../plan/versions";
import { AddonSettings, KubeObject, clusterRole, clusterRoleBinding, everyNode, labelsFor, saSubject, serviceAccount, systemDaemonSet } from "./objects";

const name = "aws-node-termination-handler";

/**
 * aws-node-termination-handler in IMDS mode: a DaemonSet (host network, so IMDSv2 answers with hop limit
 * 1) that cordons and drains a node on a spot interruption notice or a scheduled maintenance event. It
 * needs no AWS permissions. Queue mode (ASG lifecycle hooks via SQS/EventBridge) is not used: that would
 * cover scale-in and rebalance too, at the cost of an SQS queue and rules per cluster.
 */
export function renderNodeTerminationHandler<S>(_s: AddonSettings<S>): KubeObject[] {
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
        systemDaemonSet(name, { labels, maxUnavailable: "25%" }, {
            serviceAccountName: name,
            hostNetwork: true,
            dnsPolicy: "ClusterFirstWithHostNet",
            nodeSelector: { "kubernetes.io/os": "linux" },
            tolerations: everyNode,
            securityContext: { fsGroup: 1000 },
            containers: [{
                name,
                image: addonImages.nodeTerminationHandler,
                env: [
                    fromField("NODE_NAME", "spec.nodeName"),
                    fromField("POD_NAME", "metadata.name"),
                    fromField("NAMESPACE", "metadata.namespace"),
                    { name: "ENABLE_SPOT_INTERRUPTION_DRAINING", value: "true" },
                    { name: "ENABLE_SCHEDULED_EVENT_DRAINING", value: "true" },
                    { name: "ENABLE_REBALANCE_MONITORING", value: "false" },
                    { name: "DELETE_LOCAL_DATA", value: "true" },
                    { name: "IGNORE_DAEMON_SETS", value: "true" },
                    { name: "POD_TERMINATION_GRACE_PERIOD", value: "-1" },
                    { name: "NODE_TERMINATION_GRACE_PERIOD", value: "120" },
                    { name: "EMIT_KUBERNETES_EVENTS", value: "true" },
                    { name: "UPTIME_FROM_FILE", value: "/proc/uptime" },
                    { name: "JSON_LOGGING", value: "true" },
                ],
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 },
                volumeMounts: [{ name: "uptime", mountPath: "/proc/uptime", readOnly: true }],
            }],
            volumes: [{ name: "uptime", hostPath: { path: "/proc/uptime" } }],
        }),
    ];
}
