import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { bootPaths, NodeBootSpec, noRoleSteps, renderNodeBootScript, renderNodeUserData } from "../../nodes/boot";
import { controlPlaneBootSteps, renderMarkControlPlaneScript, renderMarkControlPlaneUnit } from "../../controlPlane/markControlPlane";
import { ecrCredentialProvider } from "../../plan/versions";
import { kubeletPaths } from "../../nodes/kubelet";
import { toolAvailable } from "../tools";
import { verifyUnits } from "../systemdVerify";
import { headerLines, withHeaderValues } from "../shellHeader";
import { controlPlanePaths } from "../../controlPlane/render";
import { runtimePaths } from "../../nodes/containerd";

const base: NodeBootSpec = {
    role: "controlplane",
    bucket: "kaws-dev-assets-abc",
    region: "eu-west-1",
    kubernetesVersion: "1.36.4",
    criToolsVersion: "1.36.0",
    al2023Release: "2023.12.20261028.0",
    ecrCredentialProvider,
    roleSteps: controlPlaneBootSteps,
};
const worker: NodeBootSpec = { ...base, role: "worker-general", roleSteps: noRoleSteps };

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

describe("nodes/boot", () => {
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
        // The commands and the repository file these values produce are checked by running the script (below).
        const script = renderNodeBootScript(base);
        expect(headerLines(script)).to.include.members([
            "KAWS_KUBERNETES_VERSION=1.36.4", "KAWS_CRI_TOOLS_VERSION=1.36.0", "KAWS_AL2023_RELEASE=2023.12.20261028.0",
            `KAWS_ECR_PROVIDER_VERSION=${ecrCredentialProvider.version}`,
        ]);
        expect(script).to.include('repo="https://pkgs.k8s.io/core:/stable:/v$minor/rpm/"');
        expect(script).to.include('"kubelet-$KAWS_KUBERNETES_VERSION" "kubectl-$KAWS_KUBERNETES_VERSION" "cri-tools-$KAWS_CRI_TOOLS_VERSION"');
        expect(script).to.include('--releasever="$KAWS_AL2023_RELEASE" containerd');
        expect(script).to.include("/cloud-provider-aws/$KAWS_ECR_PROVIDER_VERSION/");
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
                // The function reads its paths from the rendered header, pointed at the temporary directory here.
                const header = headerLines(withHeaderValues(script, {
                    KAWS_CREDENTIAL_PROVIDER_BIN_DIR: `${dir}/bin`, KAWS_CREDENTIAL_PROVIDER_DROP_IN: `${dir}/dropin.conf`,
                })).join("\n");
                expect(header).to.include(`KAWS_ECR_PROVIDER_VERSION=${ecrCredentialProvider.version}`);
                const fn = script.slice(script.indexOf("install_ecr_credential_provider() {"), script.indexOf("\n}\n", script.indexOf("install_ecr_credential_provider() {")) + 3);
                expect(fn).to.include("$KAWS_CREDENTIAL_PROVIDER_BIN_DIR").and.to.include("$KAWS_CREDENTIAL_PROVIDER_DROP_IN");
                fs.mkdirSync(`${dir}/stub`);
                fs.writeFileSync(`${dir}/stub/curl`, `#!/bin/bash\nwhile [ "$1" != "-o" ]; do shift; done\nprintf '%s' "$KAWS_SERVED" > "$2"\n[ -n "$KAWS_SERVED" ]\n`, { mode: 0o755 });
                fs.writeFileSync(`${dir}/dropin.conf`, "[Service]\n");
                const served_sha = require("crypto").createHash("sha256").update(served === "right" ? "provider" : served).digest("hex");
                const program = `set -euo pipefail\n${header}\narch=amd64\necr_provider_sha256=${served === "right" ? served_sha : "0".repeat(64)}\n${fn}\ninstall_ecr_credential_provider\necho kubelet-would-start\n`;
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

    it("only the control plane starts the node-bootstrap, mark-control-plane and ready-gate units (and keeps an audit log directory): its own boot steps", () => {
        // What each role then does is checked by running the script (below).
        expect(headerLines(renderNodeBootScript(base))).to.include("KAWS_START_AFTER_KUBELET='kaws-api-record.service kaws-api-record.timer kaws-node-bootstrap.service kaws-node-bootstrap.timer kaws-mark-control-plane.service kaws-ready-gate.service'");
        expect(headerLines(renderNodeBootScript(worker))).to.include("KAWS_START_AFTER_KUBELET=''");
        expect(headerLines(renderNodeBootScript(worker))).to.include(`KAWS_PRIVATE_DIRS=${kubeletPaths.staticPods}`);
        expect(() => renderNodeBootScript({ ...worker, roleSteps: { privateDirs: ["/a b"], startAfterKubelet: [] } })).to.throw(/role step "\/a b"/);
    });

    it("refuses unpinned or malformed versions with the offending value", () => {
        expect(() => renderNodeBootScript({ ...base, kubernetesVersion: "1.36" })).to.throw(/kubernetesVersion "1.36"/);
        expect(() => renderNodeBootScript({ ...base, al2023Release: "latest" })).to.throw(/al2023Release "latest"/);
        expect(() => renderNodeBootScript({ ...base, role: "etcd-0" })).to.throw(/role "etcd-0"/);
    });

    /**
     * Runs the rendered boot script for real, its header's paths pointed at a temporary directory, with stubs
     * for what reaches outside the host (curl to IMDS and artifacts.k8s.io, dnf, hostnamectl, systemctl,
     * sysctl and the fetch script). Every stub appends to one event log, so order is checked too.
     */
    describe("a full boot (run with stubs, paths in a temporary directory)", () => {
        const provider = "provider-binary";
        const providerSha256 = require("crypto").createHash("sha256").update(provider).digest("hex") as string;
        const arch = process.arch === "arm64" ? "arm64" : "amd64";
        const stubs: Record<string, string> = {
            curl: `case "$*" in
  *api/token*) echo token ;;
  *meta-data/local-hostname*) echo ip-10-16-0-5.eu-west-1.compute.internal ;;
  *meta-data/local-ipv4*) echo 10.16.0.5 ;;
  *artifacts.k8s.io/*)
    event "download \${*: -1}"
    while [ "$#" -gt 0 ]; do if [ "$1" = -o ]; then printf '%s' "${provider}" > "$2"; fi; shift; done ;;
  *) exit 22 ;;
esac`,
            dnf: `event "dnf $*"`,
            hostnamectl: `event "hostnamectl $*"`,
            systemctl: `event "systemctl $*"`,
            sysctl: `event "sysctl $*"`,
            fetch: `event fetch`,
        };

        const boot = (spec: NodeBootSpec, overrides: Record<string, string> = {}) => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-node-boot-"));
            try {
                const event = `event() { echo "$*" >> "${dir}/events"; }\n`;
                fs.mkdirSync(`${dir}/stubs`);
                for (const [name, body] of Object.entries({ ...stubs, ...overrides })) fs.writeFileSync(`${dir}/stubs/${name}`, `#!/bin/bash\n${event}${body}\n`, { mode: 0o755 });
                const script = withHeaderValues(renderNodeBootScript({ ...spec, ecrCredentialProvider: { version: "v1.31.7", sha256: { amd64: providerSha256, arm64: providerSha256 } } }), {
                    KAWS_NODE_ENV: `${dir}/etc/kaws/node.env`,
                    KAWS_KUBERNETES_REPO_FILE: `${dir}/kubernetes.repo`,
                    KAWS_FETCH_FILES: `${dir}/stubs/fetch`,
                    KAWS_CREDENTIAL_PROVIDER_BIN_DIR: `${dir}/libexec/kubelet-credential-providers`,
                    KAWS_CREDENTIAL_PROVIDER_DROP_IN: `${dir}/10-credential-provider.conf`,
                    KAWS_PRIVATE_DIRS: [`${dir}/etc/kubernetes/manifests`, ...(spec.roleSteps.privateDirs.length > 0 ? [`${dir}/log/kubernetes/audit`] : [])].join(" "),
                    KAWS_SYSCTLS: `${dir}/sysctl.conf`,
                });
                fs.writeFileSync(`${dir}/boot.sh`, script);
                const result = spawnSync("bash", [`${dir}/boot.sh`], { encoding: "utf8", timeout: 20_000, env: { PATH: `${dir}/stubs:${process.env.PATH}` } });
                const read = (file: string) => (fs.existsSync(`${dir}/${file}`) ? fs.readFileSync(`${dir}/${file}`, "utf8") : undefined);
                const mode = (file: string) => (fs.existsSync(`${dir}/${file}`) ? fs.statSync(`${dir}/${file}`).mode & 0o777 : undefined);
                return {
                    result, dir,
                    events: (read("events") ?? "").split("\n").filter(Boolean).map((e) => e.split(dir).join("<dir>")),
                    nodeEnv: read("etc/kaws/node.env"),
                    repo: read("kubernetes.repo"),
                    provider: read("libexec/kubelet-credential-providers/ecr-credential-provider"),
                    modes: {
                        provider: mode("libexec/kubelet-credential-providers/ecr-credential-provider"),
                        staticPods: mode("etc/kubernetes/manifests"),
                        auditLog: mode("log/kubernetes/audit"),
                    },
                };
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        };

        it("renders the real node paths into the header the run above overrides", () => {
            expect(headerLines(renderNodeBootScript(base))).to.include.members([
                `KAWS_NODE_ENV=${bootPaths.nodeEnv}`, `KAWS_KUBERNETES_REPO_FILE=${bootPaths.kubernetesRepo}`, `KAWS_FETCH_FILES=${bootPaths.fetchFiles}`,
                `KAWS_CREDENTIAL_PROVIDER_BIN_DIR=${kubeletPaths.credentialProviderBinDir}`, `KAWS_CREDENTIAL_PROVIDER_DROP_IN=${kubeletPaths.credentialProviderDropIn}`,
                `KAWS_PRIVATE_DIRS='${kubeletPaths.staticPods} ${controlPlanePaths.auditLogDir}'`, `KAWS_SYSCTLS=${runtimePaths.sysctls}`,
            ]);
        });

        const expectedEvents = (controlPlane: boolean) => [
            "hostnamectl set-hostname ip-10-16-0-5.eu-west-1.compute.internal",
            "dnf install -y --releasever=2023.12.20261028.0 containerd runc iptables-nft conntrack-tools",
            "dnf install -y --disableexcludes=kubernetes kubelet-1.36.4 kubectl-1.36.4 cri-tools-1.36.0",
            "fetch",
            `download https://artifacts.k8s.io/binaries/cloud-provider-aws/v1.31.7/linux/${arch}/ecr-credential-provider-linux-${arch}`,
            "systemctl restart systemd-modules-load.service",
            "sysctl --load <dir>/sysctl.conf",
            "systemctl daemon-reload",
            "systemctl enable --now containerd.service",
            "systemctl enable --now kubelet.service",
            ...(controlPlane ? ["kaws-api-record.service", "kaws-api-record.timer", "kaws-node-bootstrap.service", "kaws-node-bootstrap.timer", "kaws-mark-control-plane.service", "kaws-ready-gate.service"]
                .map((unit) => (unit.endsWith(".timer") ? `systemctl enable --now --no-block ${unit}` : `systemctl start --no-block ${unit}`)) : []),
        ];

        it("retries a package install while the subnet cannot reach the internet yet, and gives up with the command named", () => {
            const failingFirst = (times: number) => `n=$(cat "$(dirname "$0")/dnf-calls" 2>/dev/null || echo 0); echo $((n + 1)) > "$(dirname "$0")/dnf-calls"
if [ "$n" -lt ${times} ]; then event "dnf failed"; exit 1; fi
event "dnf $*"`;
            const sleep = `event "sleep $*"`;
            const r = boot(base, { dnf: failingFirst(2), sleep });
            expect(r.result.status, r.result.stderr).to.equal(0);
            expect(r.events.slice(r.events.indexOf("dnf failed"), r.events.indexOf("dnf failed") + 5)).to.deep.equal([
                "dnf failed", "sleep 5", "dnf failed", "sleep 10",
                "dnf install -y --releasever=2023.12.20261028.0 containerd runc iptables-nft conntrack-tools",
            ]);
            const never = boot(base, { dnf: failingFirst(100), sleep });
            expect(never.result.status).to.not.equal(0);
            expect(never.events.filter((e) => e === "dnf failed")).to.have.length(12);
            expect(never.result.stderr).to.include("kaws-boot: gave up after 12 attempts: dnf install");
            expect(never.events.some((e) => e.startsWith("systemctl enable")), "no kubelet without its packages").to.equal(false);
        });

        it("control plane: pinned packages from the minor's repository, the verified provider, private dirs, then kubelet and the mark unit", () => {
            const r = boot(base);
            expect(r.result.status, r.result.stderr).to.equal(0);
            expect(r.events).to.deep.equal(expectedEvents(true));
            expect(r.nodeEnv).to.equal("KAWS_NODE_IP=10.16.0.5\n");
            expect(r.repo).to.equal(`[kubernetes]
name=Kubernetes v1.36
baseurl=https://pkgs.k8s.io/core:/stable:/v1.36/rpm/
enabled=1
gpgcheck=1
repo_gpgcheck=1
gpgkey=https://pkgs.k8s.io/core:/stable:/v1.36/rpm/repodata/repomd.xml.key
exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni
`);
            expect(r.provider).to.equal(provider);
            expect(r.modes).to.deep.equal({ provider: 0o755, staticPods: 0o700, auditLog: 0o700 });
        });

        it("worker: the same boot without the audit log directory and without the mark-control-plane unit", () => {
            const r = boot(worker);
            expect(r.result.status, r.result.stderr).to.equal(0);
            expect(r.events).to.deep.equal(expectedEvents(false));
            expect(r.events.join("\n")).to.not.include("kaws-mark-control-plane");
            expect(r.modes).to.deep.equal({ provider: 0o755, staticPods: 0o700, auditLog: undefined });
        });
    });
});
