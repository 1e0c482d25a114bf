import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import * as dsql from 'aws-cdk-lib/aws-dsql';

export class DatabaseStack extends cdk.Stack {
  public readonly cluster: dsql.CfnCluster;

  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);

    // DSQL is serverless: no subnets, parameter groups or security groups to manage.
    this.cluster = new dsql.CfnCluster(this, 'Orders', {
      deletionProtectionEnabled: true,
      tags: [{ key: 'Name', value: 'orders' }],
    });
    this.cluster.applyRemovalPolicy(cdk.RemovalPolicy.RETAIN);
  }
}
