import { expect } from "chai";
import { ConfigError, parseClusterConfig, skewProblem } from "../../plan/config";
import { planCluster } from "../../plan/cluster";
import { supportedReleases } from "../../plan/versions";
import { loadStackConfig } from "../../automation/stackConfig";
import { root } from "../harness";

// The kubelet rule of the Kubernetes version skew policy (https://kubernetes.io/releases/version-skew-policy/):
// kubelet must not be newer than kube-apiserver, and may be up to three minor versions older (kubelet < 1.25:
// two). The supported releases (1.36.4, 1.35.9) are one minor apart, so the "more than three minors older"
// and "newer patch than a control plane at an older patch" cases can only be shown with synthetic versions here.
describe("worker pool version skew (skewProblem)", () => {
    const allowed: [string, string][] = [
        ["1.36.4", "1.36.4"],
        ["1.36.3", "1.36.4"],
        ["1.35.9", "1.36.4"],
        ["1.33.0", "1.36.4"],
        ["1.35.10", "1.36.0"],
        ["1.22.5", "1.24.0"],
    ];
    for (const [pool, cp] of allowed) {
        it(`lets a ${pool} kubelet join a ${cp} control plane`, () => expect(skewProblem(pool, cp)).to.equal(undefined));
    }

    const refused: [string, string, string][] = [
        ["1.36.4", "1.36.3", 'is newer than kaws:kubernetesVersion "1.36.3"'],
        ["1.36.10", "1.36.9", 'is newer than kaws:kubernetesVersion "1.36.9"'],
        ["1.37.0", "1.36.4", 'is newer than kaws:kubernetesVersion "1.36.4"'],
        ["2.0.0", "1.36.4", 'is newer than kaws:kubernetesVersion "1.36.4"'],
        ["1.36.4", "2.0.0", 'is of another major version than kaws:kubernetesVersion "2.0.0"'],
        ["1.32.9", "1.36.4", 'is 4 minor versions older than kaws:kubernetesVersion "1.36.4", more than the 3 the Kubernetes version skew policy allows a kubelet'],
        ["1.30.0", "1.40.1", 'is 10 minor versions older than kaws:kubernetesVersion "1.40.1", more than the 3 the Kubernetes version skew policy allows a kubelet'],
        ["1.24.9", "1.27.0", 'is 3 minor versions older than kaws:kubernetesVersion "1.27.0", more than the 2 the Kubernetes version skew policy allows a kubelet'],
        ["v1.36.4", "1.36.4", "is not a version like 1.36.4"],
        ["1.36", "1.36.4", "is not a version like 1.36.4"],
    ];
    for (const [pool, cp, problem] of refused) {
        it(`refuses a ${pool} kubelet under a ${cp} control plane`, () => expect(skewProblem(pool, cp)).to.equal(problem));
    }

    it("of the supported releases, a pool may only lag or match the control plane", () => {
        const releases = Object.keys(supportedReleases);
        for (const cp of releases) {
            for (const pool of releases) {
                expect(skewProblem(pool, cp) === undefined, `${pool} under ${cp}`).to.equal(pool.localeCompare(cp, "en", { numeric: true }) <= 0);
            }
        }
    });
});

describe("worker pool Kubernetes version in the plan", () => {
    const withPools = (env: string, pools: unknown[]) => ({ ...loadStackConfig(root, env), "kaws:workerPools": JSON.stringify(pools) });

    it("carries each pool's effective version and pins: its own, else the cluster's", () => {
        const pools = JSON.parse(loadStackConfig(root, "prod")["kaws:workerPools"]);
        pools[1].kubernetesVersion = "1.35.9";
        const plan = planCluster(parseClusterConfig(withPools("prod", pools)));
        expect(plan.pins.kubernetes).to.equal("1.36.4");
        expect(plan.workerPools.map((p) => [p.config.name, p.kubernetesVersion, p.pins])).to.deep.equal([
            ["general", "1.36.4", supportedReleases["1.36.4"]],
            ["system", "1.35.9", supportedReleases["1.35.9"]],
        ]);
        expect(plan.etcd.version).to.equal(supportedReleases["1.36.4"].etcd);
    });

    it("a pool without the field has no kubernetesVersion in its config (no default is filled in)", () => {
        const config = parseClusterConfig(loadStackConfig(root, "dev"));
        expect(config.workerPools[0]).to.not.have.property("kubernetesVersion");
    });

    it("reports a version problem of every pool, each on its own line", () => {
        const pools = JSON.parse(loadStackConfig(root, "prod")["kaws:workerPools"]);
        pools[0].kubernetesVersion = "1.36.5";
        pools[1].kubernetesVersion = "1.31.0";
        expect(() => parseClusterConfig(withPools("prod", pools))).to.throw(ConfigError).that.satisfies((err: ConfigError) =>
            err.problems.length === 2
            && err.problems[0].startsWith('kaws:workerPools[0].kubernetesVersion: "1.36.5" is newer than')
            && err.problems[1].startsWith('kaws:workerPools[1].kubernetesVersion: "1.31.0" is 5 minor versions older than'));
    });
});
