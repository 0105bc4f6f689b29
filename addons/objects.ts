import { nodeLabels } from "../plan/cluster";

/**
 * A Kubernetes object as plain data. `Secret` is the type of secret values inside it: plain strings for
 * the render command (redacted there), Pulumi outputs when the ClusterAddons component creates it.
 */
export interface KubeObject {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: {
        readonly name: string;
        readonly namespace?: string;
        readonly labels?: Record<string, string>;
        readonly annotations?: Record<string, string>;
    };
    readonly [field: string]: unknown;
}

/** What the add-ons need to know about the cluster: the infra stack's outputs, as plain values. */
export interface AddonSettings<Secret = string> {
    readonly clusterName: string;
    readonly region: string;
    /** Kubernetes patch release; selects every per-minor image pin. */
    readonly kubernetesVersion: string;
    readonly podCidr: string;
    readonly serviceCidr: string;
    readonly clusterDomain: string;
    readonly vpcCidr: string;
    /** https URL of the API by the nodes' name for it, plan.nodeApi (kube-proxy on workers: it cannot rely on the service it programs). */
    readonly nodeApiEndpoint: string;
    /** ARN of the cluster's KMS key; the default StorageClass encrypts volumes with it. */
    readonly kmsKeyArn: string;
    readonly weavePassword: Secret;
    readonly clusterAutoscaler: boolean;
    /** URL of the SQS queue node-termination-handler drains nodes from (queue mode). */
    readonly terminationQueueUrl: string;
}

export const systemNamespace = "kube-system";

/** Label and taint kaws control-plane nodes carry; add-ons that hold AWS permissions run there. */
export const controlPlaneRole = nodeLabels.controlPlaneRole;

export const controlPlaneScheduling = {
    nodeSelector: { [controlPlaneRole]: "" },
    tolerations: [
        { key: controlPlaneRole, operator: "Exists", effect: "NoSchedule" },
        { key: "node.cloudprovider.kubernetes.io/uninitialized", operator: "Exists", effect: "NoSchedule" },
    ],
};

/** DaemonSets that every node needs (networking, proxy, storage) tolerate every taint. */
export const everyNode = [{ operator: "Exists" }];

export interface DaemonSetOptions {
    /** Labels of the DaemonSet and its pods; the selector matches them unless `selector` is given. */
    readonly labels: Record<string, string>;
    readonly selector?: Record<string, string>;
    /** Nodes updated at once during a rollout (default 1). */
    readonly maxUnavailable?: number | string;
    readonly minReadySeconds?: number;
}

/** A kube-system DaemonSet of system-node-critical pods. */
export function systemDaemonSet(name: string, options: DaemonSetOptions, podSpec: Record<string, unknown>): KubeObject {
    return {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: { name, namespace: systemNamespace, labels: options.labels },
        spec: {
            ...(options.minReadySeconds === undefined ? {} : { minReadySeconds: options.minReadySeconds }),
            selector: { matchLabels: options.selector ?? options.labels },
            updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: options.maxUnavailable ?? 1 } },
            template: { metadata: { labels: options.labels }, spec: { priorityClassName: "system-node-critical", ...podSpec } },
        },
    };
}

export function labelsFor(app: string): Record<string, string> {
    return { "app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "kaws" };
}

export function serviceAccount(name: string, namespace = systemNamespace): KubeObject {
    return { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace, labels: labelsFor(name) } };
}

export interface PolicyRule {
    readonly apiGroups: string[];
    readonly resources: string[];
    readonly verbs: string[];
    readonly resourceNames?: string[];
}

export function clusterRole(name: string, rules: PolicyRule[], labels: Record<string, string> = {}): KubeObject {
    return { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name, labels }, rules };
}

export function role(name: string, rules: PolicyRule[], namespace = systemNamespace): KubeObject {
    return { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name, namespace }, rules };
}

export type Subject = { kind: "ServiceAccount"; name: string; namespace: string } | { kind: "Group" | "User"; name: string; apiGroup: "rbac.authorization.k8s.io" };

export function saSubject(name: string, namespace = systemNamespace): Subject {
    return { kind: "ServiceAccount", name, namespace };
}

export function userSubject(name: string): Subject {
    return { kind: "User", name, apiGroup: "rbac.authorization.k8s.io" };
}

export function groupSubject(name: string): Subject {
    return { kind: "Group", name, apiGroup: "rbac.authorization.k8s.io" };
}

export function clusterRoleBinding(name: string, clusterRoleName: string, subjects: Subject[]): KubeObject {
    return {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRoleName },
        subjects,
    };
}

export function roleBinding(name: string, roleName: string, subjects: Subject[], namespace = systemNamespace, roleKind: "Role" | "ClusterRole" = "Role"): KubeObject {
    return {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name, namespace },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: roleKind, name: roleName },
        subjects,
    };
}

/** Hardened defaults for containers that need no privileges (callers set the image's non-root uid). */
export const restrictedContainer = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};
