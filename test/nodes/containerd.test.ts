import { expect } from "chai";
import { spawnSync } from "child_process";
import { kubernetesSysctls, renderContainerdConfig, renderKernelModules, renderSysctls } from "../../nodes/containerd";
import { toolAvailable } from "../tools";

/** Parses TOML with Python's standard tomllib (3.11+), the kept parser on this machine. */
function parseToml(text: string): any {
    const run = spawnSync("python3", ["-c", "import json,sys,tomllib; print(json.dumps(tomllib.loads(sys.stdin.read())))"], { input: text, encoding: "utf8" });
    if (run.status !== 0) throw new Error(`TOML does not parse: ${run.stderr}`);
    return JSON.parse(run.stdout);
}

describe("render/containerd", () => {
    it("is valid TOML (schema version 3) with runc on the systemd cgroup driver and the pinned sandbox image", function () {
        if (!toolAvailable("python3", this, ["-c", "import tomllib"])) return;
        const config = parseToml(renderContainerdConfig("registry.k8s.io/pause:3.10.2"));
        expect(config.version).to.equal(3);
        expect(config.plugins["io.containerd.cri.v1.images"].pinned_images.sandbox).to.equal("registry.k8s.io/pause:3.10.2");
        const runtime = config.plugins["io.containerd.cri.v1.runtime"].containerd;
        expect(runtime.default_runtime_name).to.equal("runc");
        expect(runtime.runtimes.runc.options.SystemdCgroup).to.equal(true);
    });

    it("refuses an unpinned sandbox image", () => {
        expect(() => renderContainerdConfig("registry.k8s.io/pause:latest")).to.throw(/pinned/);
        expect(() => renderContainerdConfig("registry.k8s.io/pause")).to.throw(/pinned/);
    });

    it("sets the kernel values kubelet's protectKernelDefaults requires, and forwarding for pods", () => {
        const lines = new Map(renderSysctls().trim().split("\n").map((l) => l.split(" = ") as [string, string]));
        for (const [key, value] of Object.entries({ "vm.overcommit_memory": "1", "vm.panic_on_oom": "0", "kernel.panic": "10", "kernel.panic_on_oops": "1", "net.ipv4.ip_forward": "1" })) {
            expect(lines.get(key), key).to.equal(value);
        }
        expect(lines.size).to.equal(Object.keys(kubernetesSysctls).length);
        expect(renderKernelModules().split("\n")).to.include.members(["overlay", "br_netfilter"]);
    });
});
