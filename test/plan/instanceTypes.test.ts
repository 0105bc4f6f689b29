import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import {
    commercialRegions, instanceArchitecture, instanceTypeDataSource, instanceTypeInfo, isKnownInstanceType,
    knownInstanceTypes, knownRegions, regionDataSource, regionPartition,
} from "../../plan/instanceTypes";

const root = path.resolve(__dirname, "../..");
const stackFiles = fs.readdirSync(root).filter((f) => /^Pulumi(\.[^.]+)?\.yaml$/.test(f)).sort();

/** Every instance type a committed Pulumi*.yaml names: `*InstanceType` values (or their `default`/`value`) and `instanceTypes` lists. */
function instanceTypesIn(node: unknown, found: Set<string>, key = ""): Set<string> {
    const bare = key.replace(/^[a-z]+:/, "");
    if (typeof node === "string" && /InstanceType$/.test(bare)) found.add(node);
    if (Array.isArray(node)) {
        for (const item of node) {
            if (bare === "instanceTypes" && typeof item === "string") found.add(item);
            else instanceTypesIn(item, found);
        }
    } else if (node && typeof node === "object") {
        for (const [k, v] of Object.entries(node)) {
            // Pulumi.yaml declares `etcdInstanceType: { type, default }`: the default is a type name too.
            const inherit = /InstanceType$/.test(bare) && (k === "default" || k === "value") ? key : k;
            instanceTypesIn(v, found, inherit);
        }
    }
    return found;
}

function regionsIn(file: string): string[] {
    const config = parse(fs.readFileSync(path.join(root, file), "utf8"))?.config ?? {};
    const region = config["aws:region"];
    return typeof region === "string" ? [region] : [];
}

describe("instance types and regions", () => {
    it("knows every instance type in the committed Pulumi*.yaml files, with specs", () => {
        expect(stackFiles).to.include.members(["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"]);
        const all = new Set<string>();
        for (const f of stackFiles) instanceTypesIn(parse(fs.readFileSync(path.join(root, f), "utf8")), all);
        // The files name at least these today; the walker must keep finding them.
        expect([...all]).to.include.members(["t4g.nano", "t4g.micro", "t4g.small", "m7i.large", "m7g.xlarge", "m7g.large", "m6g.large"]);
        const unknown = [...all].filter((t) => !instanceTypeInfo(t));
        expect(unknown, `instance types unknown to ${instanceTypeDataSource.source}`).to.deep.equal([]);
    });

    it("knows the region of every committed stack", () => {
        const regions = stackFiles.flatMap(regionsIn);
        expect(regions).to.not.be.empty;
        for (const r of regions) expect(knownRegions, r).to.include(r);
    });

    // Facts from the AWS documentation, Amazon EC2 Instance Types Guide:
    //   general purpose (M7i, M7g, T4g): https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html
    //   compute optimized (C7i):          https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html
    // m7i.large: 2 vCPUs, 8 GiB, Intel (x86_64); m7g.large: Graviton3 (arm64); t4g.small: 2 vCPUs, 2 GiB, Graviton2 (arm64);
    // c7i.xlarge: 4 vCPUs, 8 GiB, Intel (x86_64).
    it("reproduces well-known specifications", () => {
        expect(instanceTypeInfo("m7i.large")).to.deep.equal({ arch: "x86_64", vcpus: 2, memoryMiB: 8 * 1024 });
        expect(instanceTypeInfo("m7g.large")?.arch).to.equal("arm64");
        expect(instanceTypeInfo("t4g.small")).to.deep.equal({ arch: "arm64", vcpus: 2, memoryMiB: 2 * 1024 });
        expect(instanceTypeInfo("c7i.xlarge")).to.include({ arch: "x86_64", vcpus: 4 });
    });

    it("covers the current-generation families kaws users pick", () => {
        const families = ["t3", "t3a", "t4g", "m5", "m6i", "m6a", "m6g", "m7i", "m7a", "m7g", "m8g",
            "c5", "c6i", "c6g", "c7i", "c7g", "c8g", "r5", "r6i", "r6g", "r7i", "r7g", "r8g"];
        for (const f of families) {
            const size = f.startsWith("t") ? "medium" : "xlarge";
            const info = instanceTypeInfo(`${f}.${size}`);
            expect(info, `${f}.${size}`).to.not.equal(undefined);
            expect(info!.arch, f).to.equal(/g$/.test(f) ? "arm64" : "x86_64");
        }
    });

    it("rejects names and regions that do not exist", () => {
        expect(instanceTypeInfo("t3.superhuge")).to.equal(undefined);
        expect(isKnownInstanceType("t3.superhuge")).to.equal(false);
        for (const bogus of ["constructor", "__proto__", "toString", "", "m7i"]) {
            expect(instanceTypeInfo(bogus), bogus).to.equal(undefined);
            expect(isKnownInstanceType(bogus), bogus).to.equal(false);
        }
        expect(knownRegions).to.not.include("eu-west-9");
        expect(regionPartition("eu-west-9")).to.equal(undefined);
        expect(knownRegions).to.not.include("aws-global");
    });

    it("knows the main regions and their partitions", () => {
        expect(knownRegions).to.include.members(["eu-west-1", "us-east-1"]);
        expect(commercialRegions).to.include.members(["eu-west-1", "us-east-1"]);
        expect(regionPartition("eu-west-1")).to.equal("aws");
        expect(regionPartition("us-gov-west-1")).to.equal("aws-us-gov");
        expect(commercialRegions).to.not.include("us-gov-west-1");
        expect(regionDataSource.source).to.match(/@aws-sdk\/core \d+\.\d+\.\d+/);
    });

    it("keeps the data well-formed, dated and sourced", () => {
        expect(instanceTypeDataSource.retrieved).to.match(/^\d{4}-\d{2}-\d{2}$/);
        expect(instanceTypeDataSource.source).to.match(/kubernetes\/autoscaler .* [0-9a-f]{40}/);
        expect(regionDataSource.retrieved).to.match(/^\d{4}-\d{2}-\d{2}$/);
        expect(knownInstanceTypes.length).to.be.greaterThan(1000);
        for (const name of knownInstanceTypes) {
            expect(name).to.match(/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/);
            const info = instanceTypeInfo(name);
            if (!info) continue; // a name from @pulumi/aws's enum only
            expect(["x86_64", "arm64"], name).to.include(info.arch);
            expect(Number.isInteger(info.vcpus) && info.vcpus > 0, name).to.equal(true);
            expect(Number.isInteger(info.memoryMiB) && info.memoryMiB > 0, name).to.equal(true);
        }
        for (const r of knownRegions) expect(r).to.match(/^[a-z]+(-[a-z]+)+-\d+$/);
    });

    it("names the architecture from the data, and by the naming rule for types the data lacks", () => {
        expect(instanceArchitecture("m7i.large")).to.equal("x86_64");
        expect(instanceArchitecture("m7g.large")).to.equal("arm64");
        expect(instanceArchitecture("a1.large")).to.equal("arm64");
        expect(instanceArchitecture("t4g.small")).to.equal("arm64");
        // Not in the data: the rule still answers, as before.
        expect(instanceTypeInfo("m99g.large")).to.equal(undefined);
        expect(instanceArchitecture("m99g.large")).to.equal("arm64");
        expect(instanceArchitecture("m99i.large")).to.equal("x86_64");
        // The rule and the data agree on every type in the data today, so callers see no change; after a
        // regeneration the data wins, and a type listed here is one whose architecture the old rule got wrong.
        const rule = (t: string) => { const f = t.split(".")[0]; return f === "a1" || /^[a-z]+\d+g/.test(f) ? "arm64" : "x86_64"; };
        const disagree = knownInstanceTypes.filter((t) => instanceTypeInfo(t) && rule(t) !== instanceTypeInfo(t)!.arch);
        expect(disagree).to.deep.equal([]);
    });
});
