import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as pulumiservice from "@pulumi/pulumiservice";
import * as YAML from "yaml";
import {
    DeploymentsInput, EnvironmentFacts, ProjectKind, addonsEnvironment, awsEnvironment, awsEscName, addonsEscName, deployPolicy,
    deployRoleName, deployTrustPolicy, driftCron, environmentBranches, escProject, oidcIssuer, policyGroupStacks, policyPackRelease, preRunCommands, projects,
} from "./settings";
import { programEnvironment } from "../stacks";

export interface KawsDeploymentsArgs {
    readonly input: DeploymentsInput;
    readonly environments: readonly EnvironmentFacts[];
}

/**
 * Pulumi Deployments for both stacks of every environment: the OIDC trust in AWS and a deploy role per
 * environment, deployment settings and a drift schedule per stack, the webhook that runs the add-ons stack
 * after each successful infra update, the ESC environments, and the kaws policy pack published with a
 * preventative policy group over every stack, so Pulumi Cloud enforces it on every preview and update
 * (Deployments, `pulumi up` and `kaws` alike).
 */
export class KawsDeployments extends pulumi.ComponentResource {
    readonly deployRoleArns: Record<string, pulumi.Output<string>> = {};

    constructor(name: string, args: KawsDeploymentsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:deployments:KawsDeployments", name, {}, opts);
        const { organization, repository } = args.input;
        const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const oidc = new aws.iam.OpenIdConnectProvider("pulumi-oidc", {
            url: oidcIssuer,
            clientIdLists: [organization, `aws:${organization}`],
        }, { parent: this });

        const pack = new pulumiservice.PolicyPack("kaws-policy", { organization, ...policyPackRelease() }, { parent: this });
        new pulumiservice.PolicyGroup("kaws-policy", {
            organizationName: organization,
            name: "kaws",
            entityType: "stacks",
            mode: "preventative",
            stacks: policyGroupStacks,
            policyPacks: [{ name: pack.name, versionTag: pack.versionTag }],
        }, { parent: this });

        for (const facts of args.environments) {
            const { env } = facts;
            const role = new aws.iam.Role(deployRoleName(env), {
                name: deployRoleName(env),
                description: `Pulumi Deployments and ESC of the kaws ${env} stacks`,
                assumeRolePolicy: oidc.arn.apply((arn) => JSON.stringify(deployTrustPolicy(arn, organization, env))),
                maxSessionDuration: 3600,
            }, { parent: this });
            new aws.iam.RolePolicy(`${deployRoleName(env)}-policy`, {
                role: role.id,
                policy: accountId.apply((account) => JSON.stringify(deployPolicy(facts, account))),
            }, { parent: this });
            this.deployRoleArns[env] = role.arn;

            const settings = (kind: ProjectKind) => {
                const { project, repoDir, paths } = projects[kind];
                const stack = { organization, project, stack: env };
                const deployment = new pulumiservice.DeploymentSettings(`${project}-${env}`, {
                    ...stack,
                    sourceContext: { git: { branch: `refs/heads/${environmentBranches[env]}`, repoDir } },
                    vcs: { provider: "github", repository, deployCommits: true, previewPullRequests: true, pullRequestTemplate: false, paths: [...paths] },
                    operationContext: {
                        preRunCommands: preRunCommands(organization, kind, env),
                        // The same transpile-only language host as the driver's stacks (automation/stacks.ts).
                        environmentVariables: { AWS_REGION: facts.region, KAWS_ENVIRONMENT: env, ...programEnvironment },
                        options: { skipInstallDependencies: true, skipIntermediateDeployments: true },
                        oidc: { aws: { roleARN: role.arn, sessionName: "kaws-${stack.name}-${deployment.id}", duration: "1h0m0s" } },
                    },
                }, { parent: this });
                new pulumiservice.DriftSchedule(`${project}-${env}-drift`, { ...stack, scheduleCron: driftCron, autoRemediate: false }, { parent: this, dependsOn: [deployment] });
                return deployment;
            };
            settings("infra");
            const addons = settings("addons");
            new pulumiservice.Webhook(`addons-after-infra-${env}`, {
                organizationName: organization,
                projectName: projects.infra.project,
                stackName: env,
                displayName: `kaws-addons ${env} after kaws ${env}`,
                payloadUrl: `${projects.addons.project}/${env}`,
                format: pulumiservice.WebhookFormat.PulumiDeployments,
                filters: [pulumiservice.WebhookFilters.UpdateSucceeded],
                active: true,
            }, { parent: this, dependsOn: [addons] });

            const environment = (escName: string, document: pulumi.Input<object>) => new pulumiservice.Environment(escName, {
                organization,
                project: escProject,
                name: escName,
                yaml: pulumi.output(document).apply((doc) => new pulumi.asset.StringAsset(YAML.stringify(doc))),
            }, { parent: this });
            environment(awsEscName(env), role.arn.apply((arn) => awsEnvironment(env, arn)));
            environment(addonsEscName(env), addonsEnvironment(env));
        }
        this.registerOutputs({ deployRoleArns: this.deployRoleArns });
    }
}
