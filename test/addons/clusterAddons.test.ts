import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { evaluateStack, Evaluation, RecordedResource } from "../../automation/offline/engine";
import { root } from "../harness";
import { renderAddons, renderNodeCriticalAddons } from "../../addons";
import { addonsConfigFrom } from "../../automation/driver";
import { fakeAddonSettings } from "../fixtures/addonContract";

const addonsDir = path.join(root, "addons", "program");

/** The add-ons stack's config as the driver writes it from the infra stack's outputs (fake values). */
export const fakeAddonsConfig: Record<string, string> = Object.fromEntries(Object.entries(addonsConfigFrom({
    kubeconfig: { value: "apiVersion: v1\nkind: Config\n# fake-kubeconfig-secret\n", secret: true },
    addonSettings: { value: fakeAddonSettings({ nodeApiEndpoint: "https://control-plane.kaws-test.internal:6443" }), secret: false },
    addonSecrets: { value: { weavePassword: "fake-weave-password-0123456789abcdef" }, secret: true },
})).map(([key, { value }]) => [key, value]));
const fakeSecrets = JSON.parse(fakeAddonsConfig["kaws-addons:addonSecrets"]);

/** The value of a recorded input that must be a Pulumi secret (the engine's secret wrapper); fails on plain values. */
function secretValue(input: unknown): unknown {
    expect(input).to.be.an("object").with.property("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270");
    return (input as { value: unknown }).value;
}

describe("ClusterAddons through the add-ons program (addons/program)", () => {
    let evaluation: Evaluation;
    let kubernetesObjects: RecordedResource[];

    before(async function () {
        this.timeout(20000);
        evaluation = await evaluateStack({ root: addonsDir, stack: "dev", config: fakeAddonsConfig });
        kubernetesObjects = evaluation.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes");
    });

    it("disables the default kubernetes provider in the add-ons project", () => {
        const project = YAML.parse(fs.readFileSync(path.join(addonsDir, "Pulumi.yaml"), "utf8"));
        expect(project.name).to.equal("kaws-addons");
        expect(project.config["pulumi:disable-default-providers"].value).to.include("kubernetes");
    });

    it("builds one explicit kubernetes provider from the kubeconfig in config, and nothing uses another", () => {
        const providers = evaluation.resources.filter((r) => r.type === "pulumi:providers:kubernetes");
        expect(providers).to.have.length(1);
        expect(secretValue(providers[0].inputs.kubeconfig)).to.contain("fake-kubeconfig-secret");
        expect(kubernetesObjects.length).to.be.greaterThan(50);
        for (const r of kubernetesObjects) {
            expect(r.provider, `${r.type} ${r.name}`).to.match(new RegExp(`^${providers[0].urn.replace(/[$]/g, "\\$")}::`));
        }
    });

    it("adopts what the control-plane nodes created where missing (kube-proxy, the pod network): upsert, and force over their fields", () => {
        const provider = evaluation.resources.find((r) => r.type === "pulumi:providers:kubernetes")!;
        expect([String(provider.inputs.upsertExistingObjects), String(provider.inputs.enablePatchForce), String(provider.inputs.enableServerSideApply)]).to.deep.equal(["true", "true", "true"]);
        const settings = { ...JSON.parse(fakeAddonsConfig["kaws-addons:addonSettings"]), ...fakeSecrets };
        const seeded = renderNodeCriticalAddons(settings).flatMap((a) => a.objects).map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`);
        const managed = kubernetesObjects.map((r) => `${r.inputs.kind}/${r.inputs.metadata?.namespace ?? ""}/${r.inputs.metadata?.name}`);
        expect(seeded.length).to.be.greaterThan(5);
        expect(managed).to.include.members(seeded);
        expect(seeded.some((o) => o.startsWith("DaemonSet/kube-system/weave-net"))).to.equal(true);
    });

    it("creates every rendered object exactly once, under the ClusterAddons component", () => {
        const component = evaluation.resources.find((r) => r.type === "kaws:addons:ClusterAddons")!;
        expect(component.name).to.equal("kaws-test");
        const expected = renderAddons({
            clusterName: "kaws-test", region: "eu-west-1", kubernetesVersion: "1.36.4", podCidr: "10.32.0.0/12", serviceCidr: "10.96.0.0/12",
            clusterDomain: "cluster.local", vpcCidr: "10.0.0.0/16", nodeApiEndpoint: "x", kmsKeyArn: "k",
            weavePassword: "w", clusterAutoscaler: true, terminationQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/kaws-test-node-termination",
        }).flatMap((a) => a.objects);
        expect(kubernetesObjects).to.have.length(expected.length);
        for (const r of kubernetesObjects) expect(r.parent, r.name).to.equal(component.urn);
        const kinds = new Set(kubernetesObjects.map((r) => r.type));
        expect(kinds).to.include("kubernetes:storage.k8s.io/v1:StorageClass");
        expect(kinds).to.include("kubernetes:apps/v1:DaemonSet");
    });

    it("passes the secrets from config into the Secrets, and the KMS key into the default StorageClass", () => {
        const weave = kubernetesObjects.find((r) => r.type === "kubernetes:core/v1:Secret" && r.name === "kube-system/weave-passwd")!;
        expect((secretValue(weave.inputs.stringData) as any)["weave-passwd"]).to.equal(fakeSecrets.weavePassword);
        const gp3 = kubernetesObjects.find((r) => r.name === "gp3-encrypted")!;
        expect(gp3.inputs.parameters.kmsKeyId).to.equal(JSON.parse(fakeAddonsConfig["kaws-addons:addonSettings"]).kmsKeyArn);
    });

    it("reports the installed add-ons, and leaves the bootstrap token and its RBAC to the control-plane nodes (one owner)", () => {
        expect(evaluation.outputs.installedAddons.value).to.include.members(["weave-net", "coredns", "cluster-autoscaler"]);
        expect(kubernetesObjects.filter((r) => /bootstrap-token|kaws:kubelet-bootstrap|node-autoapprove|kubelet-api-admin/.test(r.name)).map((r) => r.name)).to.deep.equal([]);
    });
});
