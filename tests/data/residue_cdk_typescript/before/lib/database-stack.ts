import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

export interface DatabaseStackProps extends cdk.StackProps {
  readonly vpc: ec2.IVpc;
}

export class DatabaseStack extends cdk.Stack {
  public readonly cluster: rds.DatabaseCluster;

  constructor(scope: Construct, id: string, props: DatabaseStackProps) {
    super(scope, id, props);

    const masterSecret = new secretsmanager.Secret(this, 'MasterSecret', {
      secretName: 'orders/aurora-master',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: 'orders_admin' }),
        generateStringKey: 'password',
        excludePunctuation: true,
      },
    });

    const parameterGroup = new rds.ParameterGroup(this, 'Params', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({
        version: rds.AuroraPostgresEngineVersion.VER_15_4,
      }),
      parameters: { log_min_duration_statement: '500' },
    });

    const subnetGroup = new rds.SubnetGroup(this, 'Subnets', {
      vpc: props.vpc,
      description: 'Orders database subnets',
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });

    const dbSecurityGroup = new ec2.SecurityGroup(this, 'DbSecurityGroup', {
      vpc: props.vpc,
      description: 'Orders database',
      allowAllOutbound: false,
    });

    this.cluster = new rds.DatabaseCluster(this, 'Orders', {
      clusterIdentifier: 'orders-aurora',
      engine: rds.DatabaseClusterEngine.auroraPostgres({
        version: rds.AuroraPostgresEngineVersion.VER_15_4,
      }),
      credentials: rds.Credentials.fromSecret(masterSecret),
      parameterGroup,
      subnetGroup,
      securityGroups: [dbSecurityGroup],
      vpc: props.vpc,
      writer: rds.ClusterInstance.serverlessV2('writer'),
      serverlessV2MinCapacity: 0.5,
      serverlessV2MaxCapacity: 4,
      storageEncrypted: true,
      deletionProtection: true,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });

    this.cluster.addProxy('Proxy', {
      secrets: [masterSecret],
      vpc: props.vpc,
      requireTLS: true,
      iamAuth: true,
    });

    new cloudwatch.Alarm(this, 'CpuAlarm', {
      metric: this.cluster.metricCPUUtilization(),
      threshold: 80,
      evaluationPeriods: 3,
    });

    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      zoneName: 'orders.internal',
    });
    new route53.CnameRecord(this, 'DbRecord', {
      zone,
      recordName: 'db',
      domainName: this.cluster.clusterEndpoint.hostname,
    });
  }
}
