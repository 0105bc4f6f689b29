import * as pulumi from "@pulumi/pulumi";
import { KawsDeployments } from "./kawsDeployments";
import { environmentFacts, environments, readDeploymentsInput } from "./settings";

// Wiring only: config -> the deployment wiring of every environment's two stacks -> the deploy role ARNs.
const config = new pulumi.Config("kaws-deployments");
const input = readDeploymentsInput((key) => config.get(key));
const deployments = new KawsDeployments("kaws", { input, environments: environments.map((env) => environmentFacts(env)) });

export const deployRoleArns = deployments.deployRoleArns;
