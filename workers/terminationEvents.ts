import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ClusterPlan, nodeGroupName } from "../plan/cluster";

export interface TerminationEventsArgs {
    /** Cluster name and worker pools (the lifecycle rule matches their groups). */
    readonly plan: ClusterPlan;
}

/** What EventBridge forwards to the queue: every way an instance of a worker pool can go away. */
export function terminationEventPatterns(plan: ClusterPlan): Record<string, object> {
    const workerGroups = plan.workerPools.map((pool) => nodeGroupName(plan.clusterName, pool.role));
    return {
        "spot-interruption": { source: ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"] },
        "rebalance-recommendation": { source: ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"] },
        "instance-state-change": { source: ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], detail: { state: ["stopping", "stopped", "shutting-down", "terminated"] } },
        "scheduled-change": { source: ["aws.health"], "detail-type": ["AWS Health Event"], detail: { service: ["EC2"], eventTypeCategory: ["scheduledChange"] } },
        "terminate-lifecycle": { source: ["aws.autoscaling"], "detail-type": ["EC2 Instance-terminate Lifecycle Action"], detail: { AutoScalingGroupName: workerGroups } },
    };
}

/**
 * The queue node-termination-handler (queue mode) drains nodes from: EventBridge forwards spot interruptions,
 * rebalance recommendations, instance state changes, scheduled maintenance and the worker groups' terminate
 * lifecycle actions (instance refresh, scale-in, capacity rebalancing) to an SQS queue encrypted at rest
 * (SSE-SQS), which only those rules may write to, over TLS. Events of other clusters' instances are ignored by
 * the handler (it acts only on instances tagged for this cluster).
 */
export class TerminationEvents extends pulumi.ComponentResource {
    readonly queue: aws.sqs.Queue;
    readonly queueUrl: pulumi.Output<string>;
    readonly queueArn: pulumi.Output<string>;

    constructor(name: string, args: TerminationEventsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:workers:TerminationEvents", name, {}, opts);
        const { plan } = args;
        this.queue = new aws.sqs.Queue(`${name}-node-termination`, {
            name: `${plan.clusterName}-node-termination`,
            sqsManagedSseEnabled: true,
            // A notice older than the handler's drain window is of no use.
            messageRetentionSeconds: 300,
        }, { parent: this });
        const rules = Object.entries(terminationEventPatterns(plan)).map(([kind, pattern]) => {
            const rule = new aws.cloudwatch.EventRule(`${name}-${kind}`, {
                name: `${plan.clusterName}-${kind}`,
                description: `kaws ${plan.clusterName}: ${kind} to the node-termination queue`,
                eventPattern: JSON.stringify(pattern),
            }, { parent: this });
            new aws.cloudwatch.EventTarget(`${name}-${kind}`, { rule: rule.name, arn: this.queue.arn }, { parent: this });
            return rule;
        });
        new aws.sqs.QueuePolicy(`${name}-node-termination`, {
            queueUrl: this.queue.url,
            policy: pulumi.all([this.queue.arn, ...rules.map((r) => r.arn)]).apply(([queueArn, ...ruleArns]) => JSON.stringify(terminationQueuePolicy(queueArn, ruleArns))),
        }, { parent: this });
        this.queueUrl = this.queue.url;
        this.queueArn = this.queue.arn;
        this.registerOutputs({ queueUrl: this.queueUrl, queueArn: this.queueArn });
    }
}

/** Only these EventBridge rules may send to the queue, and nothing reaches it without TLS. */
export function terminationQueuePolicy(queueArn: string, ruleArns: readonly string[]): object {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "EventBridgeRules",
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: "sqs:SendMessage",
                Resource: queueArn,
                Condition: { ArnEquals: { "aws:SourceArn": [...ruleArns] } },
            },
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "sqs:*",
                Resource: queueArn,
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ],
    };
}
