import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import * as dsql from 'aws-cdk-lib/aws-dsql';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';

// The word-game backend: profiles, vocabulary and game sessions live in DynamoDB;
// the relational data (leaderboards, billing) moves from Aurora PostgreSQL to Aurora DSQL.
export class LexiconStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);

    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2 });

    const profiles = new dynamodb.Table(this, 'Profiles', {
      tableName: 'lexicon-profiles',
      partitionKey: { name: 'user_id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
    const vocabulary = new dynamodb.Table(this, 'Vocabulary', {
      tableName: 'lexicon-vocabulary',
      partitionKey: { name: 'word', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
    const sessions = new dynamodb.Table(this, 'GameSessions', {
      tableName: 'lexicon-game-sessions',
      partitionKey: { name: 'session_id', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'turn', type: dynamodb.AttributeType.NUMBER },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });

    const ledger = new dsql.CfnCluster(this, 'Ledger', { deletionProtectionEnabled: true });

    // TODO: delete lexicon-aurora once the DSQL cutover is signed off.
    const aurora = new rds.DatabaseCluster(this, 'LexiconAurora', {
      clusterIdentifier: 'lexicon-aurora',
      engine: rds.DatabaseClusterEngine.auroraPostgres({
        version: rds.AuroraPostgresEngineVersion.VER_15_4,
      }),
      writer: rds.ClusterInstance.serverlessV2('writer'),
      vpc,
      storageEncrypted: true,
      deletionProtection: true,
      backup: { retention: cdk.Duration.days(7) },
    });

    const profilesFn = new lambda.Function(this, 'ProfilesFn', {
      runtime: lambda.Runtime.PYTHON_3_12,
      handler: 'handler.main',
      code: lambda.Code.fromAsset('lambda/profiles'),
      vpc,
      environment: {
        PROFILES_TABLE: profiles.tableName,
        VOCABULARY_TABLE: vocabulary.tableName,
        SESSIONS_TABLE: sessions.tableName,
        DSQL_ENDPOINT: `${ledger.attrIdentifier}.dsql.${this.region}.on.aws`,
        AURORA_ENDPOINT: aurora.clusterEndpoint.hostname,
      },
    });
    aurora.connections.allowDefaultPortFrom(profilesFn);
  }
}
