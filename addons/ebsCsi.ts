import { addonImages } from "../plan/versions";
import {
    AddonSettings, KubeObject, clusterRole, clusterRoleBinding, controlPlaneScheduling, everyNode, labelsFor, role, roleBinding, saSubject,
    serviceAccount, systemNamespace, systemDaemonSet,
} from "./objects";

export const ebsProvisioner = "ebs.csi.aws.com";
const controller = "ebs-csi-controller";
const controllerSa = "ebs-csi-controller-sa";
const node = "ebs-csi-node";
const nodeSa = "ebs-csi-node-sa";
const socketDir = "/var/lib/csi/sockets/pluginproxy/";

const sidecar = (containerName: string, image: string, args: string[]) => ({
    name: containerName,
    image,
    args: ["--csi-address=$(ADDRESS)", "--v=2", ...args],
    env: [{ name: "ADDRESS", value: `${socketDir}csi.sock` }],
    volumeMounts: [{ name: "socket-dir", mountPath: socketDir }],
    resources: { requests: { cpu: "10m", memory: "40Mi" }, limits: { memory: "256Mi" } },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
});

/**
 * The EBS CSI driver. Its controller runs on the control plane, whose instance role carries the EBS and
 * KMS permissions, on the host network: control-plane instances keep the IMDSv2 hop limit at 1, so only
 * host-network pods get instance credentials. One replica (leader-elected sidecars; two would collide on
 * the host's health port on a single-node control plane); it moves to another control-plane node when
 * its node goes. No snapshotter: the VolumeSnapshot CRDs are not installed.
 */
export function renderEbsCsiDriver<S>(s: AddonSettings<S>): KubeObject[] {
    const controllerLabels = { app: controller, ...labelsFor("aws-ebs-csi-driver") };
    const nodeLabels = { app: node, ...labelsFor("aws-ebs-csi-driver") };
    return [
        { apiVersion: "storage.k8s.io/v1", kind: "CSIDriver", metadata: { name: ebsProvisioner }, spec: { attachRequired: true, podInfoOnMount: false, fsGroupPolicy: "File" } },
        serviceAccount(controllerSa),
        serviceAccount(nodeSa),
        clusterRole("ebs-external-provisioner-role", [
            { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
            { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "list", "watch", "update"] },
            { apiGroups: ["storage.k8s.io"], resources: ["storageclasses", "csinodes", "volumeattachments"], verbs: ["get", "list", "watch"] },
            { apiGroups: [""], resources: ["events"], verbs: ["list", "watch", "create", "update", "patch"] },
            { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
        ]),
        clusterRole("ebs-external-attacher-role", [
            { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["get", "list", "watch", "patch"] },
            { apiGroups: ["storage.k8s.io"], resources: ["csinodes"], verbs: ["get", "list", "watch"] },
            { apiGroups: ["storage.k8s.io"], resources: ["volumeattachments"], verbs: ["get", "list", "watch", "patch"] },
            { apiGroups: ["storage.k8s.io"], resources: ["volumeattachments/status"], verbs: ["patch"] },
        ]),
        clusterRole("ebs-external-resizer-role", [
            { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["get", "list", "watch", "patch"] },
            { apiGroups: [""], resources: ["persistentvolumeclaims", "pods"], verbs: ["get", "list", "watch"] },
            { apiGroups: [""], resources: ["persistentvolumeclaims/status"], verbs: ["patch"] },
            { apiGroups: [""], resources: ["events"], verbs: ["list", "watch", "create", "update", "patch"] },
            { apiGroups: ["storage.k8s.io"], resources: ["volumeattributesclasses"], verbs: ["get", "list", "watch"] },
        ]),
        clusterRole("ebs-csi-node-role", [
            { apiGroups: ["storage.k8s.io"], resources: ["volumeattachments"], verbs: ["get", "list", "watch"] },
            { apiGroups: [""], resources: ["nodes"], verbs: ["get", "patch", "list", "watch"] },
            { apiGroups: ["storage.k8s.io"], resources: ["csinodes"], verbs: ["get"] },
        ]),
        clusterRoleBinding("ebs-csi-provisioner-binding", "ebs-external-provisioner-role", [saSubject(controllerSa)]),
        clusterRoleBinding("ebs-csi-attacher-binding", "ebs-external-attacher-role", [saSubject(controllerSa)]),
        clusterRoleBinding("ebs-csi-resizer-binding", "ebs-external-resizer-role", [saSubject(controllerSa)]),
        clusterRoleBinding("ebs-csi-node-binding", "ebs-csi-node-role", [saSubject(nodeSa)]),
        role("ebs-csi-leases-role", [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "watch", "list", "delete", "update", "create"] }]),
        roleBinding("ebs-csi-leases-rolebinding", "ebs-csi-leases-role", [saSubject(controllerSa)]),
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: controller, namespace: systemNamespace, labels: controllerLabels },
            spec: {
                replicas: 1,
                strategy: { type: "Recreate" },
                selector: { matchLabels: { app: controller } },
                template: {
                    metadata: { labels: controllerLabels },
                    spec: {
                        serviceAccountName: controllerSa,
                        priorityClassName: "system-cluster-critical",
                        ...controlPlaneScheduling,
                        hostNetwork: true,
                        dnsPolicy: "ClusterFirstWithHostNet",
                        securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
                        containers: [
                            {
                                name: "ebs-plugin",
                                image: addonImages.ebsCsiDriver,
                                // --k8s-tag-cluster-id tags every volume for this cluster (kubernetes.io/cluster/<name>): the IAM policy scopes on it.
                                args: ["controller", "--endpoint=$(CSI_ENDPOINT)", `--k8s-tag-cluster-id=${s.clusterName}`, "--batching=true", "--logging-format=text", "--v=2"],
                                env: [
                                    { name: "CSI_ENDPOINT", value: `unix://${socketDir}csi.sock` },
                                    { name: "CSI_NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                                    { name: "AWS_REGION", value: s.region },
                                ],
                                ports: [{ name: "healthz", containerPort: 9808, protocol: "TCP" }],
                                livenessProbe: { httpGet: { path: "/healthz", port: "healthz" }, initialDelaySeconds: 10, timeoutSeconds: 3, periodSeconds: 10, failureThreshold: 5 },
                                readinessProbe: { httpGet: { path: "/healthz", port: "healthz" }, initialDelaySeconds: 10, timeoutSeconds: 3, periodSeconds: 10, failureThreshold: 5 },
                                volumeMounts: [{ name: "socket-dir", mountPath: socketDir }],
                                resources: { requests: { cpu: "10m", memory: "40Mi" }, limits: { memory: "256Mi" } },
                                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
                            },
                            sidecar("csi-provisioner", addonImages.csiProvisioner, ["--feature-gates=Topology=true", "--extra-create-metadata", "--leader-election=true", "--default-fstype=ext4"]),
                            sidecar("csi-attacher", addonImages.csiAttacher, ["--leader-election=true"]),
                            sidecar("csi-resizer", addonImages.csiResizer, ["--leader-election=true", "--handle-volume-inuse-error=false"]),
                            {
                                name: "liveness-probe",
                                image: addonImages.csiLivenessProbe,
                                args: [`--csi-address=${socketDir}csi.sock`],
                                volumeMounts: [{ name: "socket-dir", mountPath: socketDir }],
                                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
                            },
                        ],
                        volumes: [{ name: "socket-dir", emptyDir: {} }],
                    },
                },
            },
        },
        systemDaemonSet(node, { labels: nodeLabels, selector: { app: node }, maxUnavailable: "10%" }, {
            serviceAccountName: nodeSa,
            nodeSelector: { "kubernetes.io/os": "linux" },
            tolerations: everyNode,
            terminationGracePeriodSeconds: 30,
            containers: [
                {
                    name: "ebs-plugin",
                    image: addonImages.ebsCsiDriver,
                    args: ["node", "--endpoint=$(CSI_ENDPOINT)", "--csi-mount-point-prefix=/var/lib/kubelet/plugins/kubernetes.io/csi/ebs.csi.aws.com/", "--logging-format=text", "--v=2"],
                    env: [
                        { name: "CSI_ENDPOINT", value: "unix:/csi/csi.sock" },
                        { name: "CSI_NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                    ],
                    ports: [{ name: "healthz", containerPort: 9808, protocol: "TCP" }],
                    livenessProbe: { httpGet: { path: "/healthz", port: "healthz" }, initialDelaySeconds: 10, timeoutSeconds: 3, periodSeconds: 10, failureThreshold: 5 },
                    lifecycle: { preStop: { exec: { command: ["/bin/aws-ebs-csi-driver", "pre-stop-hook"] } } },
                    securityContext: { privileged: true, readOnlyRootFilesystem: true },
                    resources: { requests: { cpu: "10m", memory: "40Mi" }, limits: { memory: "256Mi" } },
                    volumeMounts: [
                        { name: "kubelet-dir", mountPath: "/var/lib/kubelet", mountPropagation: "Bidirectional" },
                        { name: "plugin-dir", mountPath: "/csi" },
                        { name: "device-dir", mountPath: "/dev" },
                    ],
                },
                {
                    name: "node-driver-registrar",
                    image: addonImages.csiNodeDriverRegistrar,
                    args: ["--csi-address=$(ADDRESS)", "--kubelet-registration-path=$(DRIVER_REG_SOCK_PATH)", "--v=2"],
                    env: [
                        { name: "ADDRESS", value: "/csi/csi.sock" },
                        { name: "DRIVER_REG_SOCK_PATH", value: "/var/lib/kubelet/plugins/ebs.csi.aws.com/csi.sock" },
                    ],
                    livenessProbe: {
                        exec: { command: ["/csi-node-driver-registrar", "--kubelet-registration-path=$(DRIVER_REG_SOCK_PATH)", "--mode=kubelet-registration-probe"] },
                        initialDelaySeconds: 30, periodSeconds: 90, timeoutSeconds: 15,
                    },
                    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
                    volumeMounts: [
                        { name: "plugin-dir", mountPath: "/csi" },
                        { name: "registration-dir", mountPath: "/registration" },
                        { name: "probe-dir", mountPath: "/var/lib/kubelet/plugins/ebs.csi.aws.com/" },
                    ],
                },
                {
                    name: "liveness-probe",
                    image: addonImages.csiLivenessProbe,
                    args: ["--csi-address=/csi/csi.sock"],
                    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
                    volumeMounts: [{ name: "plugin-dir", mountPath: "/csi" }],
                },
            ],
            volumes: [
                { name: "kubelet-dir", hostPath: { path: "/var/lib/kubelet", type: "Directory" } },
                { name: "plugin-dir", hostPath: { path: "/var/lib/kubelet/plugins/ebs.csi.aws.com/", type: "DirectoryOrCreate" } },
                { name: "registration-dir", hostPath: { path: "/var/lib/kubelet/plugins_registry/", type: "Directory" } },
                { name: "device-dir", hostPath: { path: "/dev", type: "Directory" } },
                { name: "probe-dir", emptyDir: {} },
            ],
        }),
    ];
}

/**
 * StorageClasses: `gp3-encrypted` (the default) encrypts with the cluster's KMS key and binds where the
 * pod lands (an EBS volume lives in one AZ); `gp3-encrypted-retain` is the same with reclaimPolicy Retain,
 * for data that must outlive its claim (databases). The in-tree kubernetes.io/aws-ebs provisioner no longer exists.
 */
export function renderStorageClasses<S>(s: AddonSettings<S>): KubeObject[] {
    const storageClass = (name: string, reclaimPolicy: "Delete" | "Retain", isDefault: boolean): KubeObject => ({
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: { name, ...(isDefault ? { annotations: { "storageclass.kubernetes.io/is-default-class": "true" } } : {}) },
        provisioner: ebsProvisioner,
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
        reclaimPolicy,
        parameters: { "type": "gp3", "encrypted": "true", "kmsKeyId": s.kmsKeyArn, "csi.storage.k8s.io/fstype": "ext4" },
    });
    return [storageClass("gp3-encrypted", "Delete", true), storageClass("gp3-encrypted-retain", "Retain", false)];
}
