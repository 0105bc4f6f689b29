import { expect } from "chai";
import { Evaluation } from "../../automation/offline/engine";
import { addonFilesOf } from "../../automation/offline/render";
import { placeholderArn } from "../../automation/offline/placeholders";
import { evaluate, ofType } from "../harness";
import * as YAML from "yaml";

// Every way a worker can go away reaches node-termination-handler first: EventBridge rules into an
// encrypted queue only they may write, a terminate lifecycle hook on every worker group, and the handler
// in queue mode reading that queue.

describe("TerminationEvents and the drain on every termination", function () {
    this.timeout(60_000);
    const stacks: Record<string, Evaluation> = {};
    before(async () => {
        for (const env of ["dev", "prod"]) stacks[env] = await evaluate(env);
    });

    for (const env of ["dev", "prod"]) {
        it(`${env}: an encrypted queue fed by rules for spot interruptions, rebalancing, state changes, scheduled changes and the worker groups' terminate actions`, () => {
            const ev = stacks[env];
            const [queue] = ofType(ev, "aws:sqs/queue:Queue");
            expect(queue.inputs.sqsManagedSseEnabled).to.equal(true);
            const region = String(ev.outputs.region.value);
            const queueArn = placeholderArn(region, queue.type, queue.name);
            const rules = ofType(ev, "aws:cloudwatch/eventRule:EventRule");
            const patterns = rules.map((r) => JSON.parse(r.inputs.eventPattern));
            expect(patterns.map((p) => p["detail-type"][0]).sort()).to.deep.equal([
                "AWS Health Event", "EC2 Instance Rebalance Recommendation", "EC2 Instance State-change Notification",
                "EC2 Instance-terminate Lifecycle Action", "EC2 Spot Instance Interruption Warning",
            ]);
            const workerGroups = ofType(ev, "aws:autoscaling/group:Group").map((g) => g.inputs.name as string).filter((n) => n.includes("-worker-"));
            const lifecycle = patterns.find((p) => p.source[0] === "aws.autoscaling");
            expect(lifecycle.detail.AutoScalingGroupName.sort()).to.deep.equal(workerGroups.sort());
            const targets = ofType(ev, "aws:cloudwatch/eventTarget:EventTarget");
            expect(targets).to.have.length(rules.length);
            expect(targets.every((t) => t.inputs.arn === queueArn), "every rule targets the queue").to.equal(true);
            const policy = JSON.parse(ofType(ev, "aws:sqs/queuePolicy:QueuePolicy")[0].inputs.policy);
            const allow = policy.Statement.find((s: any) => s.Effect === "Allow");
            expect(allow.Principal).to.deep.equal({ Service: "events.amazonaws.com" });
            expect(allow.Condition.ArnEquals["aws:SourceArn"].sort()).to.deep.equal(rules.map((r) => placeholderArn(region, r.type, r.name)).sort());
            expect(policy.Statement.find((s: any) => s.Effect === "Deny").Condition).to.deep.equal({ Bool: { "aws:SecureTransport": "false" } });
        });

        it(`${env}: every worker group waits on a terminate lifecycle hook; the handler reads the queue in queue mode`, () => {
            const ev = stacks[env];
            const groups = ofType(ev, "aws:autoscaling/group:Group").filter((g) => String(g.inputs.name).includes("-worker-"));
            // The control plane's launch hook (its ready gate) is not a drain hook.
            const hooks = ofType(ev, "aws:autoscaling/lifecycleHook:LifecycleHook").filter((h) => h.inputs.lifecycleTransition !== "autoscaling:EC2_INSTANCE_LAUNCHING");
            expect(hooks.map((h) => h.inputs.autoscalingGroupName).sort()).to.deep.equal(groups.map((g) => g.inputs.name).sort());
            for (const hook of hooks) {
                expect(hook.inputs).to.include({ lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING", defaultResult: "CONTINUE" });
                expect(hook.inputs.heartbeatTimeout, "longer than the handler's node grace period (120 s)").to.be.greaterThan(120);
            }
            const nth = addonFilesOf(ev).map((f) => YAML.parse(f.content)).find((o) => o.kind === "Deployment" && o.metadata.name === "aws-node-termination-handler");
            const env_ = Object.fromEntries(nth.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
            const [queue] = ofType(ev, "aws:sqs/queue:Queue");
            expect(env_.QUEUE_URL).to.equal(`https://sqs.${ev.outputs.region.value}.amazonaws.com/000000000000/${queue.inputs.name}`);
            expect(env_.ENABLE_SQS_TERMINATION_DRAINING).to.equal("true");
        });
    }
});
