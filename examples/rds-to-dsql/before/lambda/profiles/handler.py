"""Profile API: reads profiles from DynamoDB and leaderboard rows from the relational store."""

import json
import os

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["PROFILES_TABLE"])
# Reads go to the reader: lexicon-aurora.cluster-ro-c8mxq2kzt1ab.us-east-1.rds.amazonaws.com
DB_HOST = os.environ["AURORA_ENDPOINT"]
DB_SECRET = os.environ.get("AURORA_SECRET_ARN", "rds!cluster-7d9c2b1e-5f3a-4c8d-9e6b-1a2b3c4d5e6f")


def main(event, context):
    profile = TABLE.get_item(Key={"user_id": event["user_id"]}).get("Item", {})
    return {"statusCode": 200, "body": json.dumps({"profile": profile, "db": DB_HOST})}
