import { pinsFor } from "../plan/versions";
import {
    AddonSettings, KubeObject, clusterRole, clusterRoleBinding, controlPlaneScheduling, labelsFor, roleBinding, saSubject, serviceAccount, systemDaemonSet,
} from "./objects";

const name = "aws-cloud-controller-manager";
const serviceAccountName = "cloud-controller-manager";

/**
 * The AWS cloud-controller-manager on every control-plane node (leader-elected), with host networking so
 * it reaches IMDS and the local API server (127.0.0.1:6443) before pod networking and kube-proxy exist:
 * it is what removes the "uninitialized" taint from new nodes. Routes are weave's job, not the VPC's.
 */
export function renderCloudController<S>(s: AddonSettings<S>): KubeObject[] {
    const labels = labelsFor(name);
    return [
        serviceAccount(serviceAccountName),
        clusterRole("system:cloud-controller-manager", [
            { apiGroups: [""], resources: ["events"], verbs: ["create", "patch", "update"] },
            { apiGroups: [""], resources: ["nodes"], verbs: ["*"] },
            { apiGroups: [""], resources: ["nodes/status"], verbs: ["patch"] },
            { apiGroups: [""], resources: ["services"], verbs: ["list", "patch", "update", "watch"] },
            { apiGroups: [""], resources: ["services/status"], verbs: ["list", "patch", "update", "watch"] },
            { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["create", "get"] },
            { apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] },
            { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["get", "list", "update", "watch"] },
            { apiGroups: [""], resources: ["endpoints"], verbs: ["create", "get", "list", "watch", "update"] },
            { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
            { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create", "get", "list", "watch", "update"] },
        ]),
        clusterRoleBinding("system:cloud-controller-manager", "system:cloud-controller-manager", [saSubject(serviceAccountName)]),
        roleBinding("cloud-controller-manager:apiserver-authentication-reader", "extension-apiserver-authentication-reader", [saSubject(serviceAccountName)]),
        systemDaemonSet(name, { labels }, {
            serviceAccountName,
            hostNetwork: true,
            ...controlPlaneScheduling,
            // It must run before pod networking makes its node Ready.
            tolerations: [...controlPlaneScheduling.tolerations, { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoSchedule" }],
            containers: [{
                name,
                image: `registry.k8s.io/provider-aws/cloud-controller-manager:${pinsFor(s.kubernetesVersion).cloudControllerManager}`,
                args: [
                    "--cloud-provider=aws",
                    `--cluster-name=${s.clusterName}`,
                    "--configure-cloud-routes=false",
                    "--use-service-account-credentials=true",
                    "--leader-elect=true",
                    "--v=2",
                ],
                env: [
                    { name: "KUBERNETES_SERVICE_HOST", value: "127.0.0.1" },
                    { name: "KUBERNETES_SERVICE_PORT", value: "6443" },
                    { name: "AWS_REGION", value: s.region },
                ],
                resources: { requests: { cpu: "200m", memory: "128Mi" } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
            }],
        }),
    ];
}
