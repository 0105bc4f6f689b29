import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { NodeBootSpec, renderMarkControlPlaneScript, renderMarkControlPlaneUnit, renderNodeBootScript, renderNodeUserData } from "../../components/render/nodeBoot";
import { toolAvailable } from "../tools";
import { verifyUnits } from "../systemdVerify";

const base: NodeBootSpec = {
    role: "controlplane",
    bucket: "kaws-dev-assets-abc",
    region: "eu-west-1",
    kubernetesVersion: "1.36.4",
    criToolsVersion: "1.36.0",
    al2023Release: "2023.12.20261028.0",
    ecrCredentialProviderVersion: "v1.36.1",
};
const worker: NodeBootSpec = { ...base, role: "worker-general" };

function withTempFile<T>(name: string, content: string, use: (file: string) => T): T {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-boot-"));
    try {
        const file = path.join(dir, name);
        fs.writeFileSync(file, content);
        return use(file);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Every script in a user data document, by path. */
function userDataScripts(userData: string): Record<string, string> {
    const doc = parse(userData.replace(/^#cloud-config\n/, ""));
    return Object.fromEntries(doc.write_files.map((f: { path: string; content: string }) => [f.path, f.content]));
}

describe("render/nodeBoot", () => {
    it("every rendered script passes shellcheck (boot for both node kinds, fetch, mark-control-plane)", function () {
        if (!toolAvailable("shellcheck", this, ["--version"])) return;
        const scripts: [string, string][] = [
            ...Object.entries(userDataScripts(renderNodeUserData(base))).map(([p, s]): [string, string] => [`controlplane ${p}`, s]),
            ...Object.entries(userDataScripts(renderNodeUserData(worker))).map(([p, s]): [string, string] => [`worker ${p}`, s]),
            ["mark-control-plane", renderMarkControlPlaneScript()],
        ];
        expect(scripts).to.have.length(5);
        for (const [name, script] of scripts) {
            const result = withTempFile("script.sh", script, (file) => spawnSync("shellcheck", ["-s", "bash", "-S", "style", file], { encoding: "utf8" }));
            expect(result.status, `${name}:\n${result.stdout}`).to.equal(0);
        }
    });

    it("shellcheck catches a broken script, so the check above can fail", function () {
        if (!toolAvailable("shellcheck", this, ["--version"])) return;
        const result = withTempFile("bad.sh", "#!/bin/bash\nrm -rf $dir/*\n", (file) => spawnSync("shellcheck", ["-s", "bash", file], { encoding: "utf8" }));
        expect(result.status).to.not.equal(0);
    });

    it("user data for both node kinds passes cloud-init schema", function () {
        if (!toolAvailable("cloud-init", this, ["--version"])) return;
        for (const spec of [base, worker]) {
            const result = withTempFile("user-data", renderNodeUserData(spec), (file) => spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" }));
            expect(result.status, result.stdout + result.stderr).to.equal(0);
        }
    });

    it("installs exact package versions from the minor's pkgs.k8s.io repository and the pinned AL2023 release; never latest", () => {
        const script = renderNodeBootScript(base);
        expect(script).to.include("baseurl=https://pkgs.k8s.io/core:/stable:/v1.36/rpm/");
        expect(script).to.include("kubelet-1.36.4 kubectl-1.36.4 cri-tools-1.36.0");
        expect(script).to.include("--releasever=2023.12.20261028.0 containerd");
        expect(script).to.include("/cloud-provider-aws/v1.36.1/");
        expect(script).to.include("gpgcheck=1");
        // The IMDS API path is literally /latest/; no package, image or binary may be.
        expect(script.replace(/http:\/\/169\.254\.169\.254\/latest\//g, "")).to.not.match(/latest/i);
    });

    it("the mark-control-plane unit passes systemd-analyze verify", function () {
        if (!toolAvailable("systemd-analyze", this, ["--version"])) return;
        expect(verifyUnits({ "kaws-mark-control-plane.service": renderMarkControlPlaneUnit() })).to.deep.equal([]);
    });

    it("only the control plane starts the mark-control-plane unit", () => {
        expect(renderNodeBootScript(base)).to.include("kaws-mark-control-plane.service");
        expect(renderNodeBootScript(worker)).to.not.include("kaws-mark-control-plane");
    });

    it("refuses unpinned or malformed versions with the offending value", () => {
        expect(() => renderNodeBootScript({ ...base, kubernetesVersion: "1.36" })).to.throw(/kubernetesVersion "1.36"/);
        expect(() => renderNodeBootScript({ ...base, al2023Release: "latest" })).to.throw(/al2023Release "latest"/);
        expect(() => renderNodeBootScript({ ...base, role: "etcd-0" })).to.throw(/role "etcd-0"/);
    });
});
