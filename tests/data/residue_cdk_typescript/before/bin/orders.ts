#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib';
import { NetworkStack } from '../lib/network-stack';
import { DatabaseStack } from '../lib/database-stack';
import { ApiStack } from '../lib/api-stack';

const app = new cdk.App();
const env = { account: '123456789012', region: 'eu-west-1' };

const network = new NetworkStack(app, 'OrdersNetwork', { env });
const database = new DatabaseStack(app, 'OrdersDatabase', { env, vpc: network.vpc });
new ApiStack(app, 'OrdersApi', { env, vpc: network.vpc, database: database.cluster });
