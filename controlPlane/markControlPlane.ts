import * as path from "path";
import { RoleBootSteps } from "../nodes/boot";
import { renderShellScript } from "../nodes/shellScript";
import { renderRetriedOneshot } from "../nodes/systemdUnits";
import { kubeAdminPath } from "./kubeAdmin";
import { controlPlanePaths } from "./render";
import { nodeBootstrapPaths } from "./nodeBootstrap";
import { readyGatePaths } from "./readyGate";
import { apiRecordPaths } from "./apiRecord";

export const markControlPlanePaths = {
    script: "/usr/local/sbin/kaws-mark-control-plane",
    unit: "/etc/systemd/system/kaws-mark-control-plane.service",
} as const;

/**
 * What the control plane adds to the generic node boot: its audit log directory, and once kubelet runs (it
 * starts the API server's static pod) the nodes' API record with its timer, the bootstrap objects' apply with
 * its timer, the labeller and the ready gate (which takes the node into service).
 */
export const controlPlaneBootSteps: RoleBootSteps = {
    privateDirs: [controlPlanePaths.auditLogDir],
    startAfterKubelet: [apiRecordPaths.unit, apiRecordPaths.timer, nodeBootstrapPaths.unit, nodeBootstrapPaths.timer, markControlPlanePaths.unit, readyGatePaths.unit]
        .map((unit) => path.basename(unit)),
};

/**
 * Labels this control-plane node node-role.kubernetes.io/control-plane once it has registered: kubelets may
 * not set that label on themselves (NodeRestriction). Like kubeadm's mark-control-plane phase, it uses a
 * throwaway client certificate signed with the cluster CA key the node already holds, valid one day, kept
 * in a private temporary directory and deleted afterwards.
 */
export function renderMarkControlPlaneScript(): string {
    return renderShellScript("controlPlane/mark-control-plane.sh", {
        KAWS_KUBE_ADMIN: kubeAdminPath,
    }, "kaws-mark-control-plane: labels this node as a control-plane node once it has registered.");
}

export function renderMarkControlPlaneUnit(): string {
    return renderRetriedOneshot({
        description: "Label this node as a kaws control-plane node once it has registered",
        after: "kubelet.service", execStart: markControlPlanePaths.script, retrySeconds: 30,
    });
}

