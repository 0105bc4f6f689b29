import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { NodeBootSpec, renderMarkControlPlaneScript, renderMarkControlPlaneUnit, renderNodeBootScript, renderNodeUserData } from "../../nodes/boot";
import { ecrCredentialProvider } from "../../plan/versions";
import { kubeletPaths } from "../../nodes/kubelet";
import { toolAvailable } from "../tools";
import { verifyUnits } from "../systemdVerify";

const base: NodeBootSpec = {
    role: "controlplane",
    bucket: "kaws-dev-assets-abc",
    region: "eu-west-1",
    kubernetesVersion: "1.36.4",
    criToolsVersion: "1.36.0",
    al2023Release: "2023.12.20261028.0",
    ecrCredentialProvider,
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
        expect(script).to.include(`/cloud-provider-aws/${ecrCredentialProvider.version}/`);
        expect(script).to.include("gpgcheck=1");
        // The IMDS API path is literally /latest/; no package, image or binary may be.
        expect(script.replace(/http:\/\/169\.254\.169\.254\/latest\//g, "")).to.not.match(/latest/i);
    });

    it("verifies every downloaded binary by sha256: curl output always goes through sha256sum before it is installed", () => {
        for (const spec of [base, worker]) {
            const script = renderNodeBootScript(spec);
            const downloads = script.match(/curl -fsSL[^\n]*-o "\$(\w+)"/g) ?? [];
            expect(downloads, "downloads").to.not.be.empty;
            for (const download of downloads) {
                const variable = download.match(/-o "\$(\w+)"/)![1];
                expect(script, variable).to.match(new RegExp(`sha256sum --check[^\\n]*|\\$${variable}\\s+\\$`));
                expect(script).to.include(`"$ecr_provider_sha256  $${variable}"`);
            }
            expect(script).to.include(ecrCredentialProvider.sha256.amd64).and.to.include(ecrCredentialProvider.sha256.arm64);
        }
        expect(() => renderNodeBootScript({ ...base, ecrCredentialProvider: { version: "v1.31.7", sha256: { amd64: "", arm64: "x" } } })).to.throw(/sha256\.amd64/);
    });

    describe("optional ECR credential provider (the boot's function run with curl stubbed)", () => {
        const runInstall = (served: string) => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-ecr-"));
            try {
                const script = renderNodeBootScript(worker);
                const fn = script.slice(script.indexOf("install_ecr_credential_provider() {"), script.indexOf("\n}\n", script.indexOf("install_ecr_credential_provider() {")) + 3)
                    .split(kubeletPaths.credentialProviderBinDir).join(`${dir}/bin`)
                    .split(kubeletPaths.credentialProviderDropIn).join(`${dir}/dropin.conf`);
                fs.mkdirSync(`${dir}/stub`);
                fs.writeFileSync(`${dir}/stub/curl`, `#!/bin/bash\nwhile [ "$1" != "-o" ]; do shift; done\nprintf '%s' "$KAWS_SERVED" > "$2"\n[ -n "$KAWS_SERVED" ]\n`, { mode: 0o755 });
                fs.writeFileSync(`${dir}/dropin.conf`, "[Service]\n");
                const served_sha = require("crypto").createHash("sha256").update(served === "right" ? "provider" : served).digest("hex");
                const program = `set -euo pipefail\narch=amd64\necr_provider_sha256=${served === "right" ? served_sha : "0".repeat(64)}\n${fn}\ninstall_ecr_credential_provider\necho kubelet-would-start\n`;
                const result = spawnSync("bash", ["-c", program], { encoding: "utf8", env: { PATH: `${dir}/stub:${process.env.PATH}`, KAWS_SERVED: served === "right" ? "provider" : served } });
                return { result, installed: fs.existsSync(`${dir}/bin/ecr-credential-provider`), dropIn: fs.existsSync(`${dir}/dropin.conf`) };
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        };

        it("installs a binary whose checksum matches and keeps the drop-in that enables it", () => {
            const { result, installed, dropIn } = runInstall("right");
            expect(result.stdout, result.stderr).to.include("kubelet-would-start");
            expect({ installed, dropIn }).to.deep.equal({ installed: true, dropIn: true });
        });

        it("on a checksum mismatch or a failed download: installs nothing, removes the drop-in, and the boot goes on", () => {
            for (const served of ["tampered", ""]) {
                const { result, installed, dropIn } = runInstall(served);
                expect(result.status, result.stderr).to.equal(0);
                expect(result.stdout).to.include("kubelet-would-start");
                expect(result.stderr).to.include("warning: ecr-credential-provider");
                expect({ installed, dropIn }).to.deep.equal({ installed: false, dropIn: false });
            }
        });
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
