import * as YAML from "yaml";
import { exampleAddonSettings } from "../fixtures/addonContract";
import { expect } from "chai";
import { AddonSettings, KubeObject, addonFileName, renderAddons } from "../../addons";
import { awsNodeNameRegex } from "../../addons/bootstrap";
import { clusterDnsIp } from "../../plan/cluster";
import { pinsFor } from "../../plan/versions";
import { validateKubernetesObject } from "../k8sSchema";

const settings = exampleAddonSettings;

const all = (s: AddonSettings = settings): KubeObject[] => renderAddons(s).flatMap((addon) => addon.objects);
const find = (objects: KubeObject[], kind: string, name: string): any => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name}`);
    return found;
};
const containersOf = (o: any): any[] => [...(o.spec?.template?.spec?.initContainers ?? []), ...(o.spec?.template?.spec?.containers ?? [])];
const envOf = (container: any, name: string): any => container.env.find((e: any) => e.name === name);

describe("addons renderers", () => {
    const objects = all();

    it("produces objects that validate against the Kubernetes 1.36 schemas", () => {
        const problems = objects.flatMap((o) => validateKubernetesObject(o).map((e) => `${o.kind}/${o.metadata.name}: ${e}`));
        expect(problems).to.deep.equal([]);
        expect(objects.length).to.be.greaterThan(50);
    });

    it("gives every object its own render file name", () => {
        const names = objects.map(addonFileName);
        expect(new Set(names).size).to.equal(names.length);
        expect(names).to.include("storageclass-gp3-encrypted.yaml");
    });

    it("pins every image to a version, never latest", () => {
        const images = objects.flatMap(containersOf).map((c) => c.image as string);
        expect(images.length).to.be.greaterThan(15);
        for (const image of images) expect(image, image).to.match(/^[a-z0-9.-]+\/[a-z0-9./-]+:v?\d+\.\d+\.\d+(-[a-z0-9.]+)?$/);
    });

    it("follows the Kubernetes minor for kube-proxy, CoreDNS, the cloud controller and the autoscaler", () => {
        for (const version of ["1.36.4", "1.35.9"]) {
            const pins = pinsFor(version);
            const images = all({ ...settings, kubernetesVersion: version }).flatMap(containersOf).map((c) => c.image);
            expect(images).to.include(`registry.k8s.io/kube-proxy:v${version}`);
            expect(images).to.include(`registry.k8s.io/coredns/coredns:${pins.coredns}`);
            expect(images).to.include(`registry.k8s.io/provider-aws/cloud-controller-manager:${pins.cloudControllerManager}`);
            expect(images).to.include(`registry.k8s.io/autoscaling/cluster-autoscaler:${pins.clusterAutoscaler}`);
        }
        expect(() => all({ ...settings, kubernetesVersion: "1.30.0" })).to.throw(/kubernetes version 1.30.0 is not supported/);
    });

    it("weave reads WEAVE_PASSWORD from the weave-passwd Secret, allocates from the pod CIDR, sets MTU and the nft backend", () => {
        const secret = find(objects, "Secret", "weave-passwd");
        expect(secret.stringData["weave-passwd"]).to.equal(settings.weavePassword);
        const weave = containersOf(find(objects, "DaemonSet", "weave-net")).find((c) => c.name === "weave");
        expect(weave.image).to.equal("docker.io/rajchaudhuri/weave-kube:2.9.0");
        expect(envOf(weave, "WEAVE_PASSWORD")).to.deep.equal({ name: "WEAVE_PASSWORD", valueFrom: { secretKeyRef: { name: "weave-passwd", key: "weave-passwd" } } });
        expect(envOf(weave, "IPALLOC_RANGE").value).to.equal(settings.podCidr);
        const mtu = Number(envOf(weave, "WEAVE_MTU").value);
        expect(mtu).to.be.within(1376, 9001 - 87);
        for (const c of containersOf(find(objects, "DaemonSet", "weave-net"))) expect(envOf(c, "IPTABLES_BACKEND").value, c.name).to.equal("nft");
    });

    it("makes gp3-encrypted the only default StorageClass: EBS CSI, gp3, encrypted with our key, WaitForFirstConsumer, expandable", () => {
        const classes = objects.filter((o) => o.kind === "StorageClass") as any[];
        const defaults = classes.filter((c) => c.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true");
        expect(defaults.map((c) => c.metadata.name)).to.deep.equal(["gp3-encrypted"]);
        const [gp3] = defaults;
        expect(gp3.provisioner).to.equal("ebs.csi.aws.com");
        expect(gp3.parameters).to.include({ type: "gp3", encrypted: "true", kmsKeyId: settings.kmsKeyArn });
        expect(gp3.volumeBindingMode).to.equal("WaitForFirstConsumer");
        expect(gp3.allowVolumeExpansion).to.equal(true);
        for (const c of classes) expect(c.parameters.kmsKeyId, c.metadata.name).to.equal(settings.kmsKeyArn);
        expect(find(objects, "CSIDriver", "ebs.csi.aws.com").spec.attachRequired).to.equal(true);
    });

    it("serves cluster DNS at the tenth service address for the cluster domain", () => {
        expect(clusterDnsIp("10.100.0.0/16")).to.equal("10.100.0.10");
        expect(clusterDnsIp("172.20.0.0/24")).to.equal("172.20.0.10");
        expect(find(objects, "Service", "kube-dns").spec.clusterIP).to.equal("10.100.0.10");
        expect(find(objects, "ConfigMap", "coredns").data.Corefile).to.contain("kubernetes cluster.example in-addr.arpa ip6.arpa");
        expect(find(objects, "Deployment", "coredns").spec.replicas).to.equal(2);
    });

    it("configures kube-proxy with the pod CIDR: workers through the API load balancer, control-plane nodes through their own API server", () => {
        const data = find(objects, "ConfigMap", "kube-proxy").data;
        const serverOf = (daemonSet: string) => {
            const ds = find(objects, "DaemonSet", daemonSet);
            const configKey = ds.spec.template.spec.containers[0].command.find((a: string) => a.startsWith("--config=")).split("/").pop();
            const config = YAML.parse(data[configKey]);
            expect(config.clusterCIDR).to.equal("10.32.0.0/12");
            const kubeconfig = YAML.parse(data[config.clientConnection.kubeconfig.split("/").pop()]);
            const terms = ds.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
            return { server: kubeconfig.clusters[0].cluster.server, role: terms[0].matchExpressions.find((e: any) => e.key === "kaws.io/role") };
        };
        expect(serverOf("kube-proxy")).to.deep.equal({ server: settings.nodeApiEndpoint, role: { key: "kaws.io/role", operator: "NotIn", values: ["control-plane"] } });
        expect(serverOf("kube-proxy-control-plane")).to.deep.equal({ server: "https://127.0.0.1:6443", role: { key: "kaws.io/role", operator: "In", values: ["control-plane"] } });
    });

    it("leaves the bootstrap token and the kubelet RBAC to the control-plane nodes (controlPlane/nodeBootstrap.ts): one owner", () => {
        expect(objects.filter((o: any) => o.type === "bootstrap.kubernetes.io/token")).to.deep.equal([]);
        const nodeRoles = ["system:node-bootstrapper", "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:kubelet-api-admin"];
        expect(objects.filter((o: any) => o.kind === "ClusterRoleBinding" && nodeRoles.includes(o.roleRef.name))).to.deep.equal([]);
    });

    it("runs metrics-server on control-plane nodes, the only ones kubelets admit on 10250", () => {
        const spec = find(objects, "Deployment", "metrics-server").spec.template.spec;
        expect(spec.nodeSelector).to.deep.equal({ "node-role.kubernetes.io/control-plane": "" });
        expect(spec.tolerations.map((t: any) => t.key)).to.include("node-role.kubernetes.io/control-plane");
    });

    it("approves kubelet serving certificates only for AWS node names inside the VPC", () => {
        const approver = containersOf(find(objects, "Deployment", "kubelet-csr-approver"))[0];
        expect(approver.image).to.equal("ghcr.io/postfinance/kubelet-csr-approver:v1.2.14");
        expect(envOf(approver, "PROVIDER_IP_PREFIXES").value).to.equal(settings.vpcCidr);
        const regex = new RegExp(envOf(approver, "PROVIDER_REGEX").value);
        expect(regex.test("ip-10-0-12-7.eu-west-1.compute.internal")).to.equal(true);
        expect(regex.test("ip-10-0-12-7.eu-west-2.compute.internal")).to.equal(false);
        expect(regex.test("attacker.example.com")).to.equal(false);
        expect(new RegExp(awsNodeNameRegex("us-east-1")).test("ip-10-0-12-7.ec2.internal")).to.equal(true);
    });

    it("runs the AWS cloud controller on the control plane without cloud routes", () => {
        const ccm = find(objects, "DaemonSet", "aws-cloud-controller-manager");
        const args = containersOf(ccm)[0].args;
        expect(args).to.include.members(["--cloud-provider=aws", "--configure-cloud-routes=false", "--cluster-name=kaws-test"]);
        expect(ccm.spec.template.spec.nodeSelector).to.have.property("node-role.kubernetes.io/control-plane");
    });

    it("runs what calls AWS with the control plane's instance role there, on the host network (IMDS hop limit 1)", () => {
        for (const [kind, name] of [["DaemonSet", "aws-cloud-controller-manager"], ["Deployment", "ebs-csi-controller"], ["Deployment", "cluster-autoscaler"], ["Deployment", "aws-node-termination-handler"]]) {
            const pod = find(objects, kind, name).spec.template.spec;
            expect(pod.hostNetwork, name).to.equal(true);
            expect(pod.nodeSelector, name).to.deep.equal({ "node-role.kubernetes.io/control-plane": "" });
            expect(pod.tolerations, name).to.deep.include({ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" });
        }
    });

    it("runs node-termination-handler in queue mode on the cluster's queue, draining only this cluster's instances", () => {
        const env = Object.fromEntries(containersOf(find(objects, "Deployment", "aws-node-termination-handler"))[0].env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
        expect(env).to.include({
            ENABLE_SQS_TERMINATION_DRAINING: "true", QUEUE_URL: settings.terminationQueueUrl, AWS_REGION: settings.region,
            CHECK_TAG_BEFORE_DRAINING: "true", MANAGED_TAG: "kubernetes.io/cluster/kaws-test",
        });
        expect(objects.filter((o: any) => o.metadata.name === "aws-node-termination-handler" && o.kind === "DaemonSet"), "no IMDS-mode DaemonSet beside it").to.deep.equal([]);
    });

    it("installs the cluster-autoscaler only when enabled, discovering ASGs by the cluster's tags", () => {
        const ca = containersOf(find(objects, "Deployment", "cluster-autoscaler"))[0];
        expect(ca.command).to.include("--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/kaws-test");
        expect(all({ ...settings, clusterAutoscaler: false }).filter((o) => o.metadata.name === "cluster-autoscaler")).to.deep.equal([]);
    });

    it("gives every container that must not run as root an explicit non-root uid (so the kubelet can check it)", () => {
        for (const o of objects.filter((x) => x.kind === "Deployment" || x.kind === "DaemonSet") as any[]) {
            const pod = o.spec.template.spec;
            for (const c of containersOf(o)) {
                const nonRoot = c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
                if (!nonRoot) continue;
                expect(c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser, `${o.metadata.name}/${c.name}`).to.be.a("number").greaterThan(0);
            }
        }
    });

    it("puts secret values only into Secret objects", () => {
        const text = JSON.stringify(objects.filter((o) => o.kind !== "Secret"));
        expect(text).not.to.contain(settings.weavePassword);
    });
});
