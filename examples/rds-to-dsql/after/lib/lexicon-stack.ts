import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import * as dsql from 'aws-cdk-lib/aws-dsql';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';

// The word-game backend: profiles, vocabulary and game sessions live in DynamoDB;
// the relational data (leaderboards, billing) lives in Aurora DSQL.
export class LexiconStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);

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

    const profilesFn = new lambda.Function(this, 'ProfilesFn', {
      runtime: lambda.Runtime.PYTHON_3_12,
      handler: 'handler.main',
      code: lambda.Code.fromAsset('lambda/profiles'),
      environment: {
        PROFILES_TABLE: profiles.tableName,
        VOCABULARY_TABLE: vocabulary.tableName,
        SESSIONS_TABLE: sessions.tableName,
        DSQL_ENDPOINT: `${ledger.attrIdentifier}.dsql.${this.region}.on.aws`,
      },
    });
    profilesFn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dsql:DbConnect'],
        resources: [ledger.attrResourceArn],
      }),
    );
  }
}
