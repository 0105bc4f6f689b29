import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { addonSettingsForRender, renderEnvironment } from "../../../automation/offline/render";
import { addonsConfigFrom, addonsInputs } from "../../../automation/driver";
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

    it("the infra program exports every output the add-ons stage needs, secret ones as secrets", () => {
        const outputs = Object.fromEntries(Object.entries(plan.outputs).map(([key, value]) => [key, { value, secret: value === "[secret]" }]));
        const config = addonsConfigFrom(outputs);
        for (const key of addonsInputs.secret) expect(outputs[key].secret, key).to.equal(true);
        expect(config["kaws-addons:clusterAutoscaler"].value).to.equal("true");
        expect(config["kaws-addons:podCidr"].value).to.equal(plan.outputs.podCidr);
    });

    it("never writes secret values: Secrets carry [secret]", () => {
        const weave = documents.find((d) => d.file === "secret-weave-passwd.yaml")!.objects[0];
        expect(weave.stringData["weave-passwd"]).to.equal("[secret]");
        const token = documents.find((d) => d.file.startsWith("secret-bootstrap-token-"))!.objects[0];
        expect(token.stringData["token-secret"]).to.equal("[secret]");
    });
});

describe("addonSettingsForRender", () => {
    const config = parseClusterConfig(loadStackConfig(root, "dev"));

    it("prefers the program's outputs, redacts secret ones, and falls back to the stack configuration", () => {
        const settings = addonSettingsForRender({
            podCidr: { value: "10.64.0.0/12", secret: false },
            kmsKeyArn: { value: "arn:aws:kms:eu-west-1:1:key/x", secret: false },
            apiEndpoint: { value: "https://secret.example", secret: true },
        }, config);
        expect(settings.podCidr).to.equal("10.64.0.0/12");
        expect(settings.kmsKeyArn).to.equal("arn:aws:kms:eu-west-1:1:key/x");
        expect(settings.apiEndpoint).to.equal("[secret]");
        expect(settings.serviceCidr).to.equal(config.kubernetes.serviceCidr);
        expect(settings.kubernetesVersion).to.equal(config.kubernetes.version);
        expect(settings.weavePassword).to.equal("[secret]");
        expect(settings.clusterAutoscaler).to.equal(config.addons.clusterAutoscaler);
    });
});
