import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { listEnvironments, loadStackConfig } from "../../automation/stackConfig";
import { root } from "../harness";

describe("stack configuration loader", () => {
    it("finds the committed environments", () => {
        expect(listEnvironments(root)).to.include.members(["dev", "prod"]);
    });

    it("applies Pulumi.yaml defaults and lets the stack file override them", () => {
        const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
        const dev = loadStackConfig(root, "dev");
        expect(dev["kaws:vpcCidr"]).to.equal(project.config.vpcCidr.default);
        expect(dev["kaws:azCount"]).to.equal("1");
        expect(project.config.azCount.default).to.not.equal(1);
        expect(JSON.parse(dev["kaws:workerPools"])[0].instanceTypes).to.deep.equal(YAML.parse(fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")).config["kaws:workerPools"][0].instanceTypes);
        expect(dev["aws:region"]).to.be.a("string");
    });

    it("describes every schema key with a type (or a structured value) and a description", () => {
        const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
        for (const [key, spec] of Object.entries<any>(project.config)) {
            if (key.includes(":")) continue;
            expect(spec.description, `${key} description`).to.be.a("string").and.have.length.greaterThan(10);
            expect(spec.type !== undefined || spec.value !== undefined, `${key} type or value`).to.equal(true);
        }
    });

    it("documents every schema key in the README configuration table", () => {
        const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
        const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
        for (const key of Object.keys(project.config).filter((k) => !k.includes(":"))) {
            expect(readme, `README row for ${key}`).to.match(new RegExp(`^\\| \`${key}\` \\|`, "m"));
        }
    });

    it("refuses an unknown environment and encrypted values it cannot read offline", () => {
        expect(() => loadStackConfig(root, "staging")).to.throw('unknown environment "staging"; accepted: dev | prod');
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-stack-"));
        try {
            fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
            fs.writeFileSync(path.join(dir, "Pulumi.qa.yaml"), "config:\n  kaws:token:\n    secure: AAABAJ\n");
            expect(() => loadStackConfig(dir, "qa")).to.throw("kaws:token in Pulumi.qa.yaml is encrypted");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
