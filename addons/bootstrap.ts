import { addonImages } from "../plan/versions";
import {
    AddonSettings, KubeObject, clusterRole, clusterRoleBinding, controlPlaneScheduling, labelsFor, restrictedContainer, saSubject, serviceAccount, systemNamespace,
} from "./objects";

/** AWS node names: ip-a-b-c-d.ec2.internal (us-east-1) or ip-a-b-c-d.<region>.compute.internal. */
export function awsNodeNameRegex(region: string): string {
    const domain = region === "us-east-1" ? "ec2\\.internal" : `${region.replace(/-/g, "\\-")}\\.compute\\.internal`;
    return `^ip-(\\d{1,3}-){3}\\d{1,3}\\.${domain}$`;
}

const approver = "kubelet-csr-approver";

/**
 * Kubelet serving certificates are not approved by the controller manager. postfinance/kubelet-csr-approver
 * approves a kubelet-serving CSR only for a node name matching the AWS naming scheme, with IPs inside
 * the VPC and DNS names that resolve to them.
 */
export function renderKubeletCsrApprover<S>(s: AddonSettings<S>): KubeObject[] {
    const labels = labelsFor(approver);
    return [
        serviceAccount(approver),
        clusterRole(approver, [
            { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create", "get", "update"] },
            { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests"], verbs: ["get", "list", "watch"] },
            { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/approval"], verbs: ["update"] },
            { apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: ["kubernetes.io/kubelet-serving"], verbs: ["approve"] },
            { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
        ]),
        clusterRoleBinding(approver, approver, [saSubject(approver)]),
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: approver, namespace: systemNamespace, labels },
            spec: {
                replicas: 1,
                selector: { matchLabels: labels },
                template: {
                    metadata: { labels },
                    spec: {
                        serviceAccountName: approver,
                        priorityClassName: "system-cluster-critical",
                        ...controlPlaneScheduling,
                        containers: [{
                            name: approver,
                            image: addonImages.kubeletCsrApprover,
                            args: ["-metrics-bind-address", ":8080", "-health-probe-bind-address", ":8081"],
                            env: [
                                { name: "PROVIDER_REGEX", value: awsNodeNameRegex(s.region) },
                                { name: "PROVIDER_IP_PREFIXES", value: s.vpcCidr },
                                { name: "MAX_EXPIRATION_SECONDS", value: String(367 * 24 * 3600) },
                            ],
                            livenessProbe: { httpGet: { path: "/healthz", port: 8081 } },
                            resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                            securityContext: { ...restrictedContainer, runAsUser: 65532, runAsGroup: 65532 },
                        }],
                    },
                },
            },
        },
    ];
}
