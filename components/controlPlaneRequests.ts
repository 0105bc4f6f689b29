import { AwsRequest } from "./awsRequests";
import { NodeRequestScope } from "./nodeRequests";
export function controlPlaneRequests(_s: NodeRequestScope): AwsRequest[] { return []; }
