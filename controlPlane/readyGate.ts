import { ClusterPlan, controlPlaneRole, nodeGroupName, podNetworkDaemonSet } from "../plan/cluster";
import { renderShellScript } from "../nodes/shellScript";
import { renderRetriedOneshot } from "../nodes/systemdUnits";
import { kubeAdminPath } from "./kubeAdmin";

export const readyGatePaths = {
    script: "/usr/local/sbin/kaws-ready-gate",
    unit: "/etc/systemd/system/kaws-ready-gate.service",
} as const;

/** The control-plane group's launch lifecycle hook a new node waits in until kaws-ready-gate completes it. */
export const readyGateHook = {
    name: "kaws-ready",
    /** A node boots, pulls its images and registers in 2-4 minutes; one not ready after 15 is abandoned (replaced). */
    heartbeatTimeoutSeconds: 900,
} as const;

/** Instance metadata service, for the instance id the lifecycle action names. */
const imds = "http://169.254.169.254";

/**
 * Completes the control-plane group's launch hook once this node is ready (local /readyz, registered at the
 * plan's kubelet release, Ready once the pod network exists): instance refresh gates node by node on it.
 */
export function renderReadyGateScript(plan: ClusterPlan): string {
    const [namespace, name] = [podNetworkDaemonSet.namespace, podNetworkDaemonSet.name];
    return renderShellScript("controlPlane/ready-gate.sh", {
        KAWS_KUBE_ADMIN: kubeAdminPath,
        KAWS_IMDS: imds,
        KAWS_REGION: plan.region,
        KAWS_GROUP: nodeGroupName(plan.clusterName, controlPlaneRole),
        KAWS_HOOK: readyGateHook.name,
        KAWS_KUBELET_VERSION: `v${plan.pins.kubernetes}`,
        KAWS_CNI_DAEMONSET: `${namespace}/${name}`,
    }, "kaws-ready-gate: completes the launch lifecycle hook once this control-plane node is ready.");
}

export function renderReadyGateUnit(): string {
    return renderRetriedOneshot({
        description: "Take this control-plane node into service (its launch lifecycle hook) once it is ready",
        after: "kubelet.service", execStart: readyGatePaths.script, retrySeconds: 30, waitsIndefinitely: true,
    });
}
