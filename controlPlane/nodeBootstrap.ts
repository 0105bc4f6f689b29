import { renderManifest } from "../nodes/manifest";
import { renderRepeatingTimer, renderRetriedOneshot } from "../nodes/systemdUnits";
import { identities } from "../plan/cluster";
import { renderShellScript } from "../nodes/shellScript";
import { kubeAdminPath } from "./kubeAdmin";
import { controlPlanePaths } from "./render";

export const nodeBootstrapPaths = {
    script: "/usr/local/sbin/kaws-node-bootstrap",
    unit: "/etc/systemd/system/kaws-node-bootstrap.service",
    timer: "/etc/systemd/system/kaws-node-bootstrap.timer",
} as const;

/** Group the bootstrap token authenticates kubelets as, until they hold their own client certificate. */
export const bootstrapGroup = "system:bootstrappers:kaws:default-node-token";

/** Field manager of the control-plane nodes' server-side apply; one for all of them, so they never conflict. */
export const nodeBootstrapFieldManager = "kaws-control-plane";

/** Minutes between re-applies: how long a deleted bootstrap object stays missing. */
export const reapplyMinutes = 5;

export interface BootstrapToken {
    /** [a-z0-9]{6}; names the Secret. */
    readonly id: string;
    /** [a-z0-9]{16}. */
    readonly secret: string;
}

type KubeObject = Record<string, unknown> & { apiVersion: string; kind: string };

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

function clusterRoleBinding(name: string, clusterRole: string, subject: { kind: "Group" | "User"; name: string }): KubeObject {
    return {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
        subjects: [{ ...subject, apiGroup: "rbac.authorization.k8s.io" }],
    };
}

/**
 * TLS bootstrapping (as kubeadm's bootstrap-token phase sets it up): the bootstrap token Secret kubelets
 * join with, the bindings that let the token create CSRs and have the controller manager approve node
 * client certificates (the first one, then renewals), and the apiserver's kubelet client's binding. The
 * token has no expiration: the autoscaler adds nodes for the cluster's whole life; rotate it by
 * regenerating it in the infra stack. `data`, not `stringData`: server-side apply then owns exactly the
 * fields it sends.
 */
export function nodeBootstrapObjects(token: BootstrapToken): KubeObject[] {
    if (!/^[a-z0-9]{6}$/.test(token.id) || !/^[a-z0-9]{16}$/.test(token.secret)) throw new Error("nodeBootstrapObjects: a bootstrap token is [a-z0-9]{6}.[a-z0-9]{16}");
    const data: Record<string, string> = {
        "description": "kaws node bootstrap token",
        "token-id": token.id,
        "token-secret": token.secret,
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
        "auth-extra-groups": bootstrapGroup,
    };
    return [
        {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: `bootstrap-token-${token.id}`, namespace: "kube-system" },
            type: "bootstrap.kubernetes.io/token",
            data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, base64(value)])),
        },
        clusterRoleBinding("kaws:kubelet-bootstrap", "system:node-bootstrapper", { kind: "Group", name: bootstrapGroup }),
        clusterRoleBinding("kaws:node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient", { kind: "Group", name: bootstrapGroup }),
        clusterRoleBinding("kaws:node-autoapprove-certificate-rotation", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", { kind: "Group", name: "system:nodes" }),
        // The apiserver's kubelet client is deliberately not system:masters; this is all it may do on kubelets.
        clusterRoleBinding("kaws:apiserver-kubelet-api-admin", "system:kubelet-api-admin", { kind: "User", name: identities.apiServerKubeletClient }),
    ];
}

/** The objects as one multi-document YAML file (the node file kubectl applies). Holds the token: deliver it as a secret. */
export function renderNodeBootstrapObjects(token: BootstrapToken): string {
    return renderManifest(nodeBootstrapObjects(token));
}

export function renderNodeBootstrapScript(): string {
    return renderShellScript("controlPlane/node-bootstrap.sh", {
        KAWS_KUBE_ADMIN: kubeAdminPath,
        KAWS_OBJECTS: controlPlanePaths.nodeBootstrapObjects,
        KAWS_NODE_CRITICAL_ADDONS: controlPlanePaths.nodeCriticalAddons,
        KAWS_FIELD_MANAGER: nodeBootstrapFieldManager,
    }, "kaws-node-bootstrap: applies the bootstrap token and TLS-bootstrap RBAC, and creates missing node-critical add-ons, once the local API server answers.");
}

export function renderNodeBootstrapUnit(): string {
    return renderRetriedOneshot({
        description: "Apply the kaws bootstrap token and TLS-bootstrap RBAC, create missing node-critical add-ons",
        after: "kubelet.service", execStart: nodeBootstrapPaths.script, retrySeconds: 10,
    });
}

/** Re-runs the service every few minutes after it last finished (started at boot, beside the service). */
export function renderNodeBootstrapTimer(): string {
    return renderRepeatingTimer(`Re-apply the kaws bootstrap objects (and create missing node-critical add-ons) every ${reapplyMinutes} minutes`, `${reapplyMinutes}min`);
}
