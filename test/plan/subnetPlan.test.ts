import { expect } from "chai";
import { Netmask } from "netmask";
import { planSubnets } from "../../plan/subnetPlan";

function overlaps(a: string, b: string): boolean {
    const [x, y] = [new Netmask(a), new Netmask(b)];
    return x.contains(y.base) || y.contains(x.base);
}

describe("planSubnets", () => {
    it("gives a /16 private /19s from the bottom and public /22s from the last eighth", () => {
        expect(planSubnets("10.0.0.0/16", 3)).to.deep.equal({
            privateCidrs: ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"],
            publicCidrs: ["10.0.224.0/22", "10.0.228.0/22", "10.0.232.0/22"],
        });
    });

    it("keeps every subnet inside the VPC and disjoint, for every size and AZ count", () => {
        for (const vpc of ["10.0.0.0/16", "172.20.0.0/18", "192.168.16.0/20"]) {
            for (let azs = 1; azs <= 6; azs++) {
                const plan = planSubnets(vpc, azs);
                const all = [...plan.privateCidrs, ...plan.publicCidrs];
                expect(all).to.have.length(azs * 2);
                const range = new Netmask(vpc);
                for (const cidr of all) {
                    const net = new Netmask(cidr);
                    expect(range.contains(net.base) && range.contains(net.last), `${cidr} in ${vpc}`).to.equal(true);
                }
                for (let i = 0; i < all.length; i++) {
                    for (let j = i + 1; j < all.length; j++) expect(overlaps(all[i], all[j]), `${all[i]} ${all[j]}`).to.equal(false);
                }
            }
        }
    });

    it("never moves an existing subnet when AZs are added", () => {
        const three = planSubnets("10.16.0.0/16", 3);
        const six = planSubnets("10.16.0.0/16", 6);
        expect(six.privateCidrs.slice(0, 3)).to.deep.equal(three.privateCidrs);
        expect(six.publicCidrs.slice(0, 3)).to.deep.equal(three.publicCidrs);
    });

    it("refuses AZ counts and VPC sizes it has no room for", () => {
        expect(() => planSubnets("10.0.0.0/16", 7)).to.throw("azCount 7 does not fit the subnet plan; accepted: 1 to 6");
        expect(() => planSubnets("10.0.0.0/16", 0)).to.throw("azCount 0 does not fit");
        expect(() => planSubnets("10.0.0.0/23", 1)).to.throw("too small");
    });
});
