import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { Evaluation, EvaluationError, RecordedResource } from "../../../automation/offline/engine";
import { placeholderArn } from "../../../automation/offline/placeholders";
import { addonsConfigFrom } from "../../../automation/driver";
import { addonsEnvironment } from "../../../automation/deployments/settings";
import { evaluate, ofType, root } from "../../harness";
import { fakeAddonSettings } from "../../fixtures/addonContract";

const program = "automation/deployments";
const input = { "kaws-deployments:organization": "acme", "kaws-deployments:repository": "acme/kaws" };
const settingsType = "pulumiservice:index:DeploymentSettings";

const stackOf = (r: RecordedResource) => `${r.inputs.project}/${r.inputs.stack}`;
const trustOf = (ev: Evaluation, env: string) => JSON.parse(ofType(ev, "aws:iam/role:Role").find((r) => r.name === `kaws-deploy-${env}`)!.inputs.assumeRolePolicy);

describe("Pulumi Deployments program (automation/deployments)", () => {
    let ev: Evaluation;
    let settings: Map<string, RecordedResource>;

    before(async function () {
        this.timeout(30000);
        ev = await evaluate("dev", input, program);
        settings = new Map(ofType(ev, settingsType).map((r) => [stackOf(r), r]));
    });

    it("gives both stacks of dev and prod deployment settings in the organization, from the repository", () => {
        expect([...settings.keys()].sort()).to.deep.equal(["kaws-addons/dev", "kaws-addons/prod", "kaws/dev", "kaws/prod"]);
        for (const s of settings.values()) {
            expect(s.inputs.organization).to.equal("acme");
            expect(s.inputs.vcs).to.include({ provider: "github", repository: "acme/kaws", deployCommits: true, previewPullRequests: true });
        }
    });

    it("publishes the policy/ folder as a pack and enforces it, preventative, on every stack of both projects", () => {
        const [pack] = ofType(ev, "pulumiservice:index:PolicyPack");
        const version = JSON.parse(fs.readFileSync(path.join(root, "policy", "package.json"), "utf8")).version;
        expect(pack.inputs).to.include({ organization: "acme", name: "kaws", sourcePath: path.join(root, "policy"), versionTag: version });
        const groups = ofType(ev, "pulumiservice:index:PolicyGroup");
        expect(groups).to.have.length(1);
        const group = groups[0].inputs;
        expect(group).to.include({ organizationName: "acme", mode: "preventative", entityType: "stacks" });
        expect(group.stacks.map((s: any) => `${s.routingProject}/${s.name}`).sort()).to.deep.equal([...settings.keys()].sort());
        expect(group.policyPacks).to.deep.equal([{ name: "kaws", versionTag: version }]);
        for (const s of settings.values()) expect(s.inputs.operationContext.preRunCommands.join("\n"), stackOf(s)).to.not.contain("policy-pack");
    });

    it("deploys dev from main and prod only from release", () => {
        expect(settings.get("kaws/dev")!.inputs.sourceContext.git.branch).to.equal("refs/heads/main");
        expect(settings.get("kaws-addons/dev")!.inputs.sourceContext.git.branch).to.equal("refs/heads/main");
        const prod = ofType(ev, settingsType).filter((r) => r.inputs.stack === "prod");
        expect(prod).to.have.length(2);
        for (const s of prod) {
            expect(s.inputs.sourceContext.git.branch, stackOf(s)).to.equal("refs/heads/release");
            expect(JSON.stringify(s.inputs), stackOf(s)).to.not.match(/\bmain\b/);
        }
    });

    it("runs the infra project from the root and the add-ons project from addons/program, with path filters to match", () => {
        for (const env of ["dev", "prod"]) {
            const infra = settings.get(`kaws/${env}`)!.inputs;
            const addons = settings.get(`kaws-addons/${env}`)!.inputs;
            expect(infra.sourceContext.git.repoDir).to.equal(".");
            expect(addons.sourceContext.git.repoDir).to.equal("addons/program");
            expect(infra.vcs.paths).to.deep.equal(["**", "!addons/program/**", "!docs/**", "!**/*.md"]);
            expect(addons.vcs.paths).to.deep.equal(["addons/**"]);
        }
    });

    it("installs with npm ci and assumes the environment's deploy role through OIDC", () => {
        for (const [stack, s] of settings) {
            const env = s.inputs.stack;
            const context = s.inputs.operationContext;
            expect(context.preRunCommands[0], stack).to.match(/&& npm ci$/);
            expect(context.options.skipInstallDependencies, stack).to.equal(true);
            expect(context.oidc.aws.roleARN, stack).to.match(new RegExp(`kaws-deploy-${env}`));
            expect(context.environmentVariables).to.deep.equal({ AWS_REGION: "eu-west-1", KAWS_ENVIRONMENT: env, PULUMI_NODEJS_TRANSPILE_ONLY: "true" });
        }
        expect(settings.get("kaws-addons/dev")!.inputs.operationContext.preRunCommands).to.include(
            "cd \"$(git rev-parse --show-toplevel)\" && pulumi -C addons/program config env add kaws/addons-dev --stack acme/kaws-addons/dev --yes");
    });

    it("registers Pulumi Cloud as an OIDC provider with the organization as audience", () => {
        const [provider] = ofType(ev, "aws:iam/openIdConnectProvider:OpenIdConnectProvider");
        expect(provider.inputs.url).to.equal("https://api.pulumi.com/oidc");
        expect(provider.inputs.clientIdLists).to.deep.equal(["acme", "aws:acme"]);
    });

    it("trusts only that provider, the organization's audience and the environment's own stacks and ESC environment", () => {
        const providerArn = placeholderArn("eu-west-1", "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "pulumi-oidc");
        for (const env of ["dev", "prod"]) {
            const trust = trustOf(ev, env);
            for (const statement of trust.Statement) {
                expect(statement).to.include({ Effect: "Allow", Action: "sts:AssumeRoleWithWebIdentity" });
                expect(statement.Principal).to.deep.equal({ Federated: providerArn });
            }
            const [deployments, esc] = trust.Statement;
            expect(deployments.Condition).to.deep.equal({
                StringEquals: { "api.pulumi.com/oidc:aud": "acme" },
                StringLike: { "api.pulumi.com/oidc:sub": [
                    `pulumi:deploy:org:acme:project:kaws:stack:${env}:operation:*:scope:write`,
                    `pulumi:deploy:org:acme:project:kaws-addons:stack:${env}:operation:*:scope:write`,
                ] },
            });
            expect(esc.Condition).to.deep.equal({ StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme", "api.pulumi.com/oidc:sub": `pulumi:environments:org:acme:env:kaws/aws-${env}` } });
        }
        expect(JSON.stringify(trustOf(ev, "dev"))).to.not.contain("prod");
    });

    it("runs the add-ons stack after each successful infra update, through a pulumi_deployments webhook", () => {
        const hooks = ofType(ev, "pulumiservice:index:Webhook");
        expect(hooks.map((h) => h.inputs.stackName).sort()).to.deep.equal(["dev", "prod"]);
        for (const hook of hooks) {
            expect(hook.inputs).to.include({ organizationName: "acme", projectName: "kaws", format: "pulumi_deployments", payloadUrl: `kaws-addons/${hook.inputs.stackName}`, active: true });
            expect(hook.inputs.filters).to.deep.equal(["update_succeeded"]);
        }
    });

    it("checks every stack for drift daily, without remediating", () => {
        const drift = ofType(ev, "pulumiservice:index:DriftSchedule");
        expect(drift.map(stackOf).sort()).to.deep.equal([...settings.keys()].sort());
        for (const d of drift) expect(d.inputs).to.include({ organization: "acme", scheduleCron: "0 5 * * *", autoRemediate: false });
    });

    it("creates the ESC environments: aws-login with the deploy role, and the add-ons mapping", async () => {
        const environments = ofType(ev, "pulumiservice:index:Environment");
        expect(environments.map((e) => `${e.inputs.project}/${e.inputs.name}`).sort()).to.deep.equal(["kaws/addons-dev", "kaws/addons-prod", "kaws/aws-dev", "kaws/aws-prod"]);
        const text = async (e: RecordedResource) => YAML.parse(await e.inputs.yaml.text);
        const aws = await text(environments.find((e) => e.inputs.name === "aws-prod")!);
        expect(aws.values.aws.login["fn::open::aws-login"].oidc.roleArn).to.contain("kaws-deploy-prod");
        expect(Object.keys(aws.values.environmentVariables)).to.deep.equal(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]);
        expect(await text(environments.find((e) => e.inputs.name === "addons-prod")!)).to.deep.equal(addonsEnvironment("prod"));
    });
});

describe("the add-ons ESC environment", () => {
    const outputs = {
        kubeconfig: { value: "apiVersion: v1\nkind: Config\n", secret: true },
        addonSettings: { value: fakeAddonSettings(), secret: false },
        addonSecrets: { value: { weavePassword: "fake-weave-password-0123456789" }, secret: true },
    };

    it("is what addons/program/esc-environment.example.yaml shows", () => {
        const example = YAML.parse(fs.readFileSync(path.join(root, "addons", "program", "esc-environment.example.yaml"), "utf8"));
        expect(example).to.deep.equal(addonsEnvironment("dev"));
    });

    for (const env of ["dev", "prod"] as const) {
        it(`${env}: maps the infra outputs to the keys addonsConfigFrom writes, JSON for structured ones, secret where the output is`, () => {
            const doc: any = addonsEnvironment(env);
            expect(doc.values.infra["fn::open::pulumi-stacks"].stacks).to.deep.equal({ [env]: { stack: `kaws/${env}` } });
            const driver = addonsConfigFrom(outputs);
            expect(Object.keys(doc.values.pulumiConfig).sort()).to.deep.equal(Object.keys(driver).sort());
            for (const [key, value] of Object.entries<any>(doc.values.pulumiConfig)) {
                const output = key.slice("kaws-addons:".length) as keyof typeof outputs;
                const reference = `\${infra.${env}.${output}}`;
                expect(value, key).to.deep.equal(typeof outputs[output].value === "object" ? { "fn::toJSON": reference } : reference);
                // ESC keeps a pulumi-stacks output's secretness, so the key is secret exactly when the driver makes it so.
                expect(outputs[output].secret, key).to.equal(driver[key].secret);
            }
        });
    }
});

describe("Pulumi Deployments program: bad input", () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
        ["no organization", { ...input, "kaws-deployments:organization": undefined }, /^kaws-deployments:organization is missing; accepted: a Pulumi organization name/],
        ["no repository", { ...input, "kaws-deployments:repository": undefined }, /^kaws-deployments:repository is missing; accepted: the GitHub repository as owner\/name/],
        ["a repository URL", { ...input, "kaws-deployments:repository": "https://github.com/acme/kaws" }, /^kaws-deployments:repository "https:\/\/github.com\/acme\/kaws" is not valid; accepted: the GitHub repository as owner\/name/],
        ["an organization with a wildcard", { ...input, "kaws-deployments:organization": "ac*" }, /^kaws-deployments:organization "ac\*" is not valid; accepted/],
    ];
    for (const [name, overrides, message] of cases) {
        it(`${name}: one line naming the key, before any resource`, async function () {
            this.timeout(30000);
            const err = await evaluate("dev", overrides, program).then(() => undefined, (e: unknown) => e);
            expect(err).to.be.instanceOf(EvaluationError);
            const { message: text, resources } = err as EvaluationError;
            expect(text).to.match(message);
            expect(text).to.not.contain("\n");
            expect(resources.filter((r) => r.custom)).to.deep.equal([]);
        });
    }
});
