import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { addonSettingsForRender, renderEnvironment } from "../../../automation/offline/render";
import { addonsConfigFrom } from "../../../automation/driver";
import { evaluate } from "../../harness";
import { loadStackConfig } from "../../../automation/stackConfig";
import { parseClusterConfig } from "../../../plan/config";
import { root } from "../../harness";
import { validateKubernetesObject } from "../../k8sSchema";

describe("kaws render: DIR/addons", function () {
    this.timeout(30000);
    let outDir: string;
    let plan: { outputs: Record<string, unknown> };
    let documents: { file: string; objects: any[] }[];

    before(async () => {
        outDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kaws-addons-")), "prod");
        await renderEnvironment(root, "prod", outDir);
        plan = JSON.parse(fs.readFileSync(path.join(outDir, "plan.json"), "utf8"));
        documents = fs.readdirSync(path.join(outDir, "addons")).map((file) => ({
            file,
            objects: YAML.parseAllDocuments(fs.readFileSync(path.join(outDir, "addons", file), "utf8")).map((d) => d.toJS()),
        }));
    });

    it("writes one schema-valid object per file, named <kind>-<name>.yaml", () => {
        expect(documents.length).to.be.greaterThan(50);
        for (const { file, objects } of documents) {
            expect(objects, file).to.have.length(1);
            const [obj] = objects;
            expect(file).to.equal(`${obj.kind}-${obj.metadata.name}`.toLowerCase().replace(/[^a-z0-9.-]/g, "-") + ".yaml");
            expect(validateKubernetesObject(obj), file).to.deep.equal([]);
        }
    });

    it("feeds the add-ons from the evaluated program: the KMS key in the default StorageClass, the autoscaler in prod", () => {
        const gp3 = documents.find((d) => d.file === "storageclass-gp3-encrypted.yaml")!.objects[0];
        const kmsKeyArn = plan.outputs.kmsKeyArn;
        expect(kmsKeyArn).to.be.a("string").and.match(/^arn:aws:kms:/);
        expect(gp3.parameters.kmsKeyId).to.equal(kmsKeyArn);
        expect(documents.map((d) => d.file)).to.include("deployment-cluster-autoscaler.yaml");
    });

    it("the infra program exports the whole add-ons contract the driver copies, secret parts as secrets", async () => {
        const outputs = (await evaluate("prod")).outputs;
        const config = addonsConfigFrom(outputs);
        expect(Object.keys(config).sort()).to.deep.equal(["kaws-addons:addonSecrets", "kaws-addons:addonSettings", "kaws-addons:kubeconfig"]);
        expect({ settings: outputs.addonSettings.secret, secrets: outputs.addonSecrets.secret, kubeconfig: outputs.kubeconfig.secret }).to.deep.equal({ settings: false, secrets: true, kubeconfig: true });
        expect(config["kaws-addons:addonSecrets"].secret && config["kaws-addons:kubeconfig"].secret).to.equal(true);
        const settings = JSON.parse(config["kaws-addons:addonSettings"].value);
        const stack = parseClusterConfig(loadStackConfig(root, "prod"));
        expect(settings).to.include({ clusterAutoscaler: stack.addons.clusterAutoscaler, podCidr: stack.kubernetes.podCidr, vpcCidr: stack.network.vpcCidr });
        expect(settings.kmsKeyArn).to.equal(outputs.kmsKeyArn.value);
        expect(plan.outputs.addonSecrets, "plan.json redacts the secrets").to.equal("[secret]");
    });

    it("never writes secret values: Secrets carry [secret]", () => {
        const weave = documents.find((d) => d.file === "secret-weave-passwd.yaml")!.objects[0];
        expect(weave.stringData["weave-passwd"]).to.equal("[secret]");
    });
});

describe("addonSettingsForRender", () => {
    it("reads the program's addonSettings output, writes the secret settings as [secret], and refuses an incomplete contract", async () => {
        const outputs = (await evaluate("dev")).outputs;
        const settings = addonSettingsForRender(outputs);
        expect(settings).to.deep.include(outputs.addonSettings.value as object);
        expect(settings.weavePassword).to.equal("[secret]");
        const { podCidr: _p, ...partial } = outputs.addonSettings.value as Record<string, unknown>;
        expect(() => addonSettingsForRender({ ...outputs, addonSettings: { value: partial, secret: false } })).to.throw(/podCidr \(a string\) is missing or wrong/);
        expect(() => addonSettingsForRender({})).to.throw(/addonSettings output: it is not an object/);
    });
});
