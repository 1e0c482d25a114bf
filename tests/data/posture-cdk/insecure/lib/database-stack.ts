import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';

const BACKUP_DAYS = 1;

export class DatabaseStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);

    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2 });
    const key = new kms.Key(this, 'DbKey', { enableKeyRotation: true });

    // The application's Lambda functions run in this group.
    const appSg = new ec2.SecurityGroup(this, 'AppSg', {
      vpc,
      securityGroupName: 'app-lambda',
    });

    // Reporting: a standalone PostgreSQL 15 instance.
    const reporting = new rds.DatabaseInstance(this, 'Reporting', {
      instanceIdentifier: 'app-pg',
      engine: rds.DatabaseInstanceEngine.postgres({
        version: rds.PostgresEngineVersion.VER_14_12,
      }),
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.MEDIUM),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      backupRetention: cdk.Duration.days(BACKUP_DAYS),
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    reporting.connections.allowDefaultPortFrom(appSg, 'the application');
    reporting.connections.allowDefaultPortFromAnyIpv4('office access');

    // The application's database: Aurora PostgreSQL Serverless v2, a writer and a reader.
    const cluster = new rds.DatabaseCluster(this, 'AppCluster', {
      clusterIdentifier: 'app-aurora',
      engine: rds.DatabaseClusterEngine.auroraPostgres({
        version: rds.AuroraPostgresEngineVersion.VER_15_4,
      }),
      writer: rds.ClusterInstance.serverlessV2('writer'),
      serverlessV2MaxCapacity: 16,
      vpc,
      storageEncrypted: true,
      storageEncryptionKey: key,
      backup: { retention: cdk.Duration.days(14) },
      deletionProtection: true,
    });
    cluster.connections.allowDefaultPortFrom(appSg);
    cluster.addRotationSingleUser();

    new rds.DatabaseProxy(this, 'AppProxy', {
      proxyTarget: rds.ProxyTarget.fromCluster(cluster),
      secrets: [cluster.secret!],
      vpc,
      requireTLS: false,
      idleClientTimeout: cdk.Duration.minutes(10),
    });
  }
}
