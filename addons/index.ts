import { AddonSettings, KubeObject } from "./objects";
import { renderKubeletCsrApprover } from "./bootstrap";
import { renderKubeProxy } from "./kubeProxy";
import { renderCoreDns } from "./coredns";
import { renderWeave } from "./weave";
import { renderCloudController } from "./cloudController";
import { renderEbsCsiDriver, renderStorageClasses } from "./ebsCsi";
import { renderMetricsServer } from "./metricsServer";
import { renderClusterAutoscaler } from "./clusterAutoscaler";
import { renderNodeTerminationHandler } from "./nodeTerminationHandler";

export { AddonSettings, KubeObject } from "./objects";

/** One add-on: a name (the component's child groups use it) and its objects. */
export interface RenderedAddon {
    readonly name: string;
    readonly objects: KubeObject[];
}

/**
 * Every add-on kaws installs, in the order a new cluster needs them: networking (kube-proxy, weave), the
 * cloud controller that initializes nodes, DNS, storage, the rest. Nodes can join before any of them: the
 * control-plane nodes apply the bootstrap token and its RBAC themselves (controlPlane/nodeBootstrap.ts),
 * and create the node-critical add-ons where they are missing.
 */
export function renderAddons<S>(s: AddonSettings<S>): RenderedAddon[] {
    const addons: RenderedAddon[] = [
        ...renderNodeCriticalAddons(s),
        { name: "aws-cloud-controller-manager", objects: renderCloudController(s) },
        { name: "coredns", objects: renderCoreDns(s) },
        { name: "kubelet-csr-approver", objects: renderKubeletCsrApprover(s) },
        { name: "aws-ebs-csi-driver", objects: [...renderEbsCsiDriver(s), ...renderStorageClasses(s)] },
        { name: "metrics-server", objects: renderMetricsServer(s) },
        { name: "aws-node-termination-handler", objects: renderNodeTerminationHandler(s) },
    ];
    if (s.clusterAutoscaler) addons.push({ name: "cluster-autoscaler", objects: renderClusterAutoscaler(s) });
    return addons;
}

/**
 * What a node needs to become Ready: the service proxy (the pod network reaches the API through the
 * kubernetes Service) and the pod network. The control-plane nodes create these from their files where they
 * do not exist yet (controlPlane/node-bootstrap.sh), so every node is Ready without waiting for the add-ons
 * stage, which then adopts them (addons/program: upsertExistingObjects, enablePatchForce).
 */
export function renderNodeCriticalAddons<S>(s: AddonSettings<S>): RenderedAddon[] {
    return [
        { name: "kube-proxy", objects: renderKubeProxy(s) },
        { name: "weave-net", objects: renderWeave(s) },
    ];
}

/** File name of an object in the render folder: DIR/addons/<kind>-<name>.yaml (lower case, ":" as "-"). */
export function addonFileName(obj: KubeObject): string {
    return `${obj.kind}-${obj.metadata.name}`.toLowerCase().replace(/[^a-z0-9.-]/g, "-") + ".yaml";
}
