import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export interface PrivateZoneArgs {
    /** Zone name, internalDomain(cluster): <cluster>.internal. */
    readonly domain: string;
    readonly vpcId: pulumi.Input<string>;
}

/**
 * The cluster's private Route53 zone, resolvable only inside its VPC. Components add their own records
 * (etcd-<i>.<cluster>.internal) and the control-plane nodes keep control-plane.<cluster>.internal; it lives
 * on its own so they do not depend on each other for it.
 */
export class PrivateZone extends pulumi.ComponentResource {
    readonly zone: aws.route53.Zone;
    readonly zoneId: pulumi.Output<string>;

    constructor(name: string, args: PrivateZoneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:network:PrivateZone", name, {}, opts);
        this.zone = new aws.route53.Zone(`${name}-internal`, {
            name: args.domain,
            comment: `kaws private names of ${args.domain}`,
            vpcs: [{ vpcId: args.vpcId }],
            // The control-plane nodes write a record set of their own (controlPlane/api-record.sh) that no stack
            // holds; without this the zone could not be deleted while it exists.
            forceDestroy: true,
        }, { parent: this });
        this.zoneId = this.zone.id;
        this.registerOutputs({ zoneId: this.zoneId });
    }
}
