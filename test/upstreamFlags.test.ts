import { expect } from "chai";
import * as YAML from "yaml";
import { nodeFilesOf, RenderedFile } from "../automation/offline/render";
import { kubeletPaths } from "../nodes/kubelet";
import { controlPlanePaths } from "../controlPlane/render";
import { evaluate } from "./harness";
import { configProblems, flagProblems, flagsOf, upstream } from "./upstream";

// Every flag and config field kaws renders for the control plane and kubelets, against the lists extracted
// from the Kubernetes source at the pinned tags (test/fixtures/upstream, scripts/extract-upstream.ts).

/** Deprecated flags kaws still sets, each with why (they still work: no --config file is given). */
const deprecatedInUse: Record<string, Record<string, string>> = {
    "kube-scheduler": {
        kubeconfig: "deprecated in favour of a KubeSchedulerConfiguration file; honoured while no --config is given",
        profiling: "deprecated likewise; CIS 1.4.1 checks --profiling=false",
    },
};

const binaries: Record<string, string> = {
    [controlPlanePaths.apiServerManifest]: "kube-apiserver",
    [controlPlanePaths.controllerManagerManifest]: "kube-controller-manager",
    [controlPlanePaths.schedulerManifest]: "kube-scheduler",
};

/** kubelet's command line: the unit's ExecStart plus the variables its drop-ins set. */
function kubeletFlags(files: RenderedFile[], role: string): string[] {
    const unit = files.find((f) => f.path === `${role}${kubeletPaths.unit}`)!.content;
    const exec = unit.slice(unit.indexOf("ExecStart=")).split("\n\n")[0].replace(/\\\n/g, " ").split(/\s+/);
    const dropIn = files.find((f) => f.path === `${role}${kubeletPaths.credentialProviderDropIn}`)?.content ?? "";
    const fromDropIn = [...dropIn.matchAll(/Environment="\w+=([^"]*)"/g)].flatMap((m) => m[1].split(/\s+/));
    return flagsOf([...exec, ...fromDropIn]);
}

describe("flags and component configs against upstream lists", function () {
    this.timeout(60000);
    for (const env of ["dev", "prod"]) {
        it(`${env}: every static-pod flag exists for its binary at the pinned tag, and none is deprecated without a reason`, async () => {
            const files = nodeFilesOf(await evaluate(env));
            const problems: string[] = [];
            for (const [path, binary] of Object.entries(binaries)) {
                const pod = YAML.parse(files.find((f) => f.path === `controlplane${path}`)!.content);
                const flags = flagsOf(pod.spec.containers[0].command);
                expect(flags.length, binary).to.be.greaterThan(5);
                problems.push(...flagProblems(binary, flags, deprecatedInUse[binary]));
            }
            expect(problems).to.deep.equal([]);
        });

        it(`${env}: every kubelet flag and config field exists upstream; flag-only settings are flags`, async () => {
            const files = nodeFilesOf(await evaluate(env));
            const roles = [...new Set(files.map((f) => f.path.split("/")[0]))].filter((r) => !r.startsWith("etcd-"));
            expect(roles).to.include("controlplane");
            for (const role of roles) {
                const flags = kubeletFlags(files, role);
                expect(flags, role).to.include.members(["image-credential-provider-config", "image-credential-provider-bin-dir"]);
                expect(flagProblems("kubelet", flags), role).to.deep.equal([]);
                expect(configProblems("kubelet", YAML.parse(files.find((f) => f.path === `${role}${kubeletPaths.config}`)!.content)), role).to.deep.equal([]);
            }
        });
    }

    it("controls: an unknown or removed flag, a deprecated flag and a config field written as a flag fail", () => {
        expect(flagProblems("kube-apiserver", ["etcd-servers", "insecure-port"])).to.deep.equal(["kube-apiserver --insecure-port: not a flag of kube-apiserver at kubernetes-1.36.3"]);
        expect(flagProblems("kube-scheduler", ["profiling"]).join()).to.contain("deprecated");
        expect(flagProblems("kube-controller-manager", ["root-ca-file", "service-account-private-key"])).to.have.length(1);
        expect(flagProblems("kubelet", ["imageCredentialProviderConfig"])).to.have.length(1);
        expect(upstream.kubeletConfig.fields).to.not.include("imageCredentialProviderConfig");
        expect(upstream.flags.kubelet.flagOnly).to.include("image-credential-provider-config");
    });
});
