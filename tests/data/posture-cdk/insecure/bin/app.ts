#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib';
import { DatabaseStack } from '../lib/database-stack';
import { DataStack } from '../lib/data-stack';

const app = new cdk.App();
new DatabaseStack(app, 'AppDatabase', { env: { region: 'us-east-1' } });
new DataStack(app, 'AppData', { env: { region: 'us-east-1' } });
