import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import * as dsql from 'aws-cdk-lib/aws-dsql';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';

export interface ApiStackProps extends cdk.StackProps {
  readonly vpc: ec2.IVpc;
  readonly cluster: dsql.CfnCluster;
}

export class ApiStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);

    const fnSecurityGroup = new ec2.SecurityGroup(this, 'ApiSecurityGroup', {
      vpc: props.vpc,
      allowAllOutbound: false,
    });
    // DSQL speaks the PostgreSQL protocol on 5432 (TLS, IAM tokens).
    fnSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(5432), 'Aurora DSQL');

    const fn = new lambda.Function(this, 'Api', {
      runtime: lambda.Runtime.NODEJS_20_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset('lambda/api'),
      vpc: props.vpc,
      securityGroups: [fnSecurityGroup],
      environment: {
        DSQL_ENDPOINT: `${props.cluster.attrIdentifier}.dsql.${this.region}.on.aws`,
      },
    });

    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dsql:DbConnect'],
        resources: [props.cluster.attrResourceArn],
      }),
    );
  }
}
