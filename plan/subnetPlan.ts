import { Netmask } from "netmask";

export interface SubnetPlan {
    /** One private subnet per AZ (all nodes): an eighth of the VPC each. */
    readonly privateCidrs: readonly string[];
    /** One public subnet per AZ (load balancers, NAT): a sixty-fourth of the VPC each. */
    readonly publicCidrs: readonly string[];
}

/** Most AZs the plan has room for: six private eighths, the seventh spare, the eighth split into publics. */
export const maxPlannedAzs = 6;

/**
 * Splits the VPC range into per-AZ subnets. The layout depends only on the VPC CIDR and the AZ index,
 * so adding an AZ later never moves an existing subnet.
 */
export function planSubnets(vpcCidr: string, azCount: number): SubnetPlan {
    const vpc = new Netmask(vpcCidr);
    if (azCount < 1 || azCount > maxPlannedAzs) {
        throw new Error(`azCount ${azCount} does not fit the subnet plan; accepted: 1 to ${maxPlannedAzs}`);
    }
    if (vpc.bitmask + 6 > 28) {
        throw new Error(`VPC ${vpcCidr} is too small for the subnet plan; accepted: a prefix of /22 or shorter`);
    }
    const firstPrivate = new Netmask(`${vpc.base}/${vpc.bitmask + 3}`);
    const publicBlock = firstPrivate.next(7);
    const firstPublic = new Netmask(`${publicBlock.base}/${vpc.bitmask + 6}`);
    const indexes = [...Array(azCount).keys()];
    return {
        privateCidrs: indexes.map((i) => firstPrivate.next(i).toString()),
        publicCidrs: indexes.map((i) => firstPublic.next(i).toString()),
    };
}
