#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib';
import { LexiconStack } from '../lib/lexicon-stack';

const app = new cdk.App();
new LexiconStack(app, 'LexiconStack', {
  env: { account: '123456789012', region: 'us-east-1' },
});
