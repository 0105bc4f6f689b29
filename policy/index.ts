import * as path from "path";
import { PolicyPack, PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { PolicyInput, Rule, rules } from "./rules";

const dependencyUrns = (resource: PolicyResource): Record<string, string[]> =>
    Object.fromEntries(Object.entries(resource.propertyDependencies).map(([key, deps]) => [key, deps.map((d) => d.urn)]));

function policyOf(rule: Rule): ResourceValidationPolicy | StackValidationPolicy {
    const info = { name: rule.name, description: rule.description, enforcementLevel: "mandatory" as const };
    if (rule.kind === "resource") {
        return { ...info, validateResource: (args, report) => rule.check(args).forEach((message) => report(message)) };
    }
    return {
        ...info,
        validateStack: (args, report) => {
            const resources: PolicyInput[] = args.resources.map((r) => ({ type: r.type, urn: r.urn, name: r.name, props: r.props, propertyDependencies: dependencyUrns(r) }));
            rule.check(resources).forEach((f) => report(f.message, f.urn));
        },
    };
}

// The policy host loads this module through @pulumi/pulumi's cmd/run-policy-pack; anywhere else (a test, tsc)
// it must not start the analyzer server.
if (require.main && path.basename(path.dirname(require.main.filename)) === "run-policy-pack") {
    new PolicyPack("kaws", { enforcementLevel: "mandatory", policies: rules.map(policyOf) });
}
